import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { FeedStatus } from '../db/schema.js';
import { hostnameOf } from './river.js';

export interface PublicSource {
  id: number;
  title: string;
  feedUrl: string;
  siteUrl: string | null;
  category: { name: string; title: string };
  lastPostAt: Date | null;
  postsLast30Days: number;
  lastFetchedAt: Date | null;
  lastStatus: FeedStatus | null;
  lastError: string | null;
  disabled: boolean;
}

/** The visible feeds of public categories (of one, when given), by category and title. */
export async function listPublicSources(db: Db, categoryId?: number): Promise<PublicSource[]> {
  let query = db
    .selectFrom('feeds as f')
    .innerJoin('categories as c', 'c.id', 'f.category_id')
    .select([
      'f.id',
      'f.title',
      'f.url',
      'f.site_url',
      'f.last_fetched_at',
      'f.last_status',
      'f.last_error',
      'f.disabled_at',
      'c.name as category_name',
      'c.title as category_title',
      sql<Date | null>`(select max(coalesce(i.published_at, i.first_seen_at)) from items i where i.feed_id = f.id)`.as('last_post_at'),
      sql<string>`(select count(*) from items i where i.feed_id = f.id and coalesce(i.published_at, i.first_seen_at) > now() - interval '30 days')`.as(
        'posts_30',
      ),
    ])
    .where('c.public', '=', true)
    .where('f.hidden', '=', false);
  if (categoryId !== undefined) query = query.where('c.id', '=', categoryId);
  const rows = await query
    .orderBy('c.title')
    .orderBy(sql`lower(coalesce(f.title, f.url))`)
    .execute();
  return rows.map((row) => ({
    id: row.id,
    title: row.title ?? hostnameOf(row.url),
    feedUrl: row.url,
    siteUrl: row.site_url,
    category: { name: row.category_name, title: row.category_title },
    lastPostAt: row.last_post_at === null ? null : new Date(row.last_post_at),
    postsLast30Days: Number(row.posts_30),
    lastFetchedAt: row.last_fetched_at === null ? null : new Date(row.last_fetched_at),
    lastStatus: row.last_status,
    lastError: row.last_error,
    disabled: row.disabled_at !== null,
  }));
}
