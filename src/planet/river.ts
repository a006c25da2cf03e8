import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { CategoryDisplay } from '../db/schema.js';

/** Where a river page starts: posts strictly older than this (date, then id). */
export interface RiverCursor {
  date: Date;
  id: number;
}

export interface PublicCategory {
  id: number;
  name: string;
  title: string;
  description: string;
  display: CategoryDisplay;
}

export interface RiverPost {
  id: number;
  guid: string;
  title: string;
  url: string | null;
  author: string | null;
  contentHtml: string;
  excerpt: string;
  imageUrl: string | null;
  imageAlt: string | null;
  /** Published, else first seen: the date the river sorts by. */
  date: Date;
  updatedAt: Date | null;
  source: { title: string; siteUrl: string | null; feedUrl: string };
  category: { name: string; title: string; display: CategoryDisplay };
}

export interface RiverPage {
  posts: RiverPost[];
  /** The cursor of the next older page, when there is one. */
  older: RiverCursor | undefined;
}

const postDate = sql<Date>`coalesce(i.published_at, i.first_seen_at)`;

/** Public categories, by title: the river's sections. */
export async function listPublicCategories(db: Db): Promise<PublicCategory[]> {
  return db
    .selectFrom('categories')
    .select(['id', 'name', 'title', 'description', 'display'])
    .where('public', '=', true)
    .orderBy('title')
    .execute();
}

export async function findPublicCategory(db: Db, name: string): Promise<PublicCategory | undefined> {
  return db
    .selectFrom('categories')
    .select(['id', 'name', 'title', 'description', 'display'])
    .where('public', '=', true)
    .where('name', '=', name)
    .executeTakeFirst();
}

/**
 * One page of the public river, newest first: posts of visible feeds in public
 * categories (of one category when given), older than `before`.
 */
export async function loadRiver(db: Db, options: { categoryId?: number; before?: RiverCursor; limit: number }): Promise<RiverPage> {
  let query = db
    .selectFrom('items as i')
    .innerJoin('feeds as f', 'f.id', 'i.feed_id')
    .innerJoin('categories as c', 'c.id', 'f.category_id')
    .select([
      'i.id',
      'i.guid',
      'i.title',
      'i.url',
      'i.author',
      'i.content_html',
      'i.excerpt',
      'i.image_url',
      'i.image_alt',
      'i.updated_at',
      postDate.as('date'),
      'f.title as feed_title',
      'f.url as feed_url',
      'f.site_url',
      'c.name as category_name',
      'c.title as category_title',
      'c.display',
    ])
    .where('c.public', '=', true)
    .where('f.hidden', '=', false);
  if (options.categoryId !== undefined) query = query.where('c.id', '=', options.categoryId);
  if (options.before !== undefined) {
    query = query.where(sql<boolean>`(${postDate}, i.id) < (${options.before.date}, ${options.before.id})`);
  }
  const rows = await query
    .orderBy(postDate, 'desc')
    .orderBy('i.id', 'desc')
    .limit(options.limit + 1)
    .execute();
  const posts = rows.slice(0, options.limit).map((row): RiverPost => ({
    id: row.id,
    guid: row.guid,
    title: row.title,
    url: row.url,
    author: row.author,
    contentHtml: row.content_html,
    excerpt: row.excerpt,
    imageUrl: row.image_url,
    imageAlt: row.image_alt,
    date: new Date(row.date),
    updatedAt: row.updated_at === null ? null : new Date(row.updated_at),
    source: { title: row.feed_title ?? hostnameOf(row.feed_url), siteUrl: row.site_url, feedUrl: row.feed_url },
    category: { name: row.category_name, title: row.category_title, display: row.display },
  }));
  const last = posts.at(-1);
  return { posts, older: rows.length > options.limit && last !== undefined ? { date: last.date, id: last.id } : undefined };
}

/**
 * What the planet's pages show, as one value that changes whenever a post comes or
 * changes, a feed is hidden, moved, added or removed, or an edition is made: the sum of
 * the feeds' planet versions, bumped in the writing transaction (feeds/store.ts), their
 * count, and the newest edition. One pass over the feeds table (a few thousand rows at
 * most) and one index lookup.
 */
export async function planetVersion(db: Db): Promise<string> {
  const row = await db
    .selectFrom('feeds')
    .select([
      sql<string>`coalesce(sum(planet_version), 0)`.as('bumps'),
      sql<string>`count(*)`.as('feeds'),
      sql<string | null>`(select max(id) from editions)`.as('edition'),
    ])
    .executeTakeFirstOrThrow();
  return `${row.bumps}.${row.feeds}.${row.edition ?? 0}`;
}

export function hostnameOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return url;
  }
}

/** `?before=` values: the cursor as milliseconds and id, e.g. 1733011200000.4182. */
export function formatCursor(cursor: RiverCursor): string {
  return `${cursor.date.getTime()}.${cursor.id}`;
}

export function parseCursor(value: string | undefined): RiverCursor | undefined | 'invalid' {
  if (value === undefined) return undefined;
  const match = /^(-?\d{1,15})\.(\d{1,10})$/.exec(value);
  if (match === null) return 'invalid';
  return { date: new Date(Number(match[1])), id: Number(match[2]) };
}
