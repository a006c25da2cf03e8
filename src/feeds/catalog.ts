import { sql } from 'kysely';
import type { Db } from '../db/connect.js';

export interface CatalogFeed {
  title: string;
  siteUrl: string | null;
}

export interface CatalogCategory {
  name: string;
  title: string;
  description: string;
  feeds: CatalogFeed[];
  postsLastWeek: number;
}

/**
 * What the sign-up and preferences pages show about each category: its visible feeds
 * and how many posts it had in the last week.
 */
export async function loadCatalog(db: Db): Promise<CatalogCategory[]> {
  const categories = await db.selectFrom('categories').select(['id', 'name', 'title', 'description']).orderBy('title').execute();
  const feeds = await db
    .selectFrom('feeds')
    .select(['category_id', 'title', 'url', 'site_url'])
    .where('disabled_at', 'is', null)
    .where('hidden', '=', false)
    .orderBy(sql`lower(coalesce(title, url))`)
    .execute();
  const counts = await db
    .selectFrom('items')
    .innerJoin('feeds', 'feeds.id', 'items.feed_id')
    .select(['feeds.category_id', (eb) => eb.fn.countAll<number>().as('posts')])
    .where(sql<Date>`coalesce(items.published_at, items.first_seen_at)`, '>', sql<Date>`now() - interval '7 days'`)
    .where('items.filtered_by', 'is', null)
    .groupBy('feeds.category_id')
    .execute();
  const postsBy = new Map(counts.map((c) => [c.category_id, Number(c.posts)]));
  return categories.map((category) => ({
    name: category.name,
    title: category.title,
    description: category.description,
    feeds: feeds
      .filter((feed) => feed.category_id === category.id)
      .map((feed) => ({ title: feed.title ?? new URL(feed.url).hostname, siteUrl: feed.site_url })),
    postsLastWeek: postsBy.get(category.id) ?? 0,
  }));
}
