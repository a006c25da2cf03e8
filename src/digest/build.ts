import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/connect.js';
import type { Digest, DigestCategory, DigestSource } from './model.js';

/** An edition's posts grouped by category, then by source, newest first within a source. */
export async function buildDigest(db: Db, editionId: number): Promise<Digest> {
  const edition = await editionIdentity(db, editionId);
  return digestOf(db, editionItems(editionId), edition);
}

/**
 * The first `limit` posts of an edition in digest order, with every category's full
 * count: all an email shows (the rest are "N more posts" on the web page). An edition
 * of 1,000 feeds holds tens of thousands of posts; loading them all to show 60 cost
 * over 100 MB of memory per edition.
 */
export async function buildDigestHead(db: Db, editionId: number, limit: number): Promise<Digest> {
  const edition = await editionIdentity(db, editionId);
  const items = editionItems(editionId);
  const [rows, counts] = await Promise.all([digestRows(db, items, limit), categoryCounts(db, items)]);
  return { ...edition, ...groupRows(rows, counts) };
}

/** The edition named by its (unguessable) content key, as on its web page. */
export async function buildDigestByKey(db: Db, key: string): Promise<Digest | undefined> {
  const edition = await db.selectFrom('editions').select('id').where('key', '=', key).executeTakeFirst();
  return edition === undefined ? undefined : buildDigest(db, edition.id);
}

export async function buildDigestOfItems(
  db: Db,
  itemIds: number[],
  identity: Pick<Digest, 'editionId' | 'editionKey'>,
): Promise<Digest> {
  // One array parameter, not one per post: Postgres allows 65,535 parameters.
  return digestOf(db, sql<boolean>`i.id = ANY(${itemIds}::bigint[])`, identity);
}

async function editionIdentity(db: Db, editionId: number): Promise<Pick<Digest, 'editionId' | 'editionKey'>> {
  const edition = await db.selectFrom('editions').select(['id', 'key']).where('id', '=', editionId).executeTakeFirstOrThrow();
  return { editionId: edition.id, editionKey: edition.key };
}

function editionItems(editionId: number): RawBuilder<boolean> {
  return sql<boolean>`i.id IN (SELECT unnest(item_ids) FROM editions WHERE id = ${editionId})`;
}

async function digestOf(db: Db, items: RawBuilder<boolean>, identity: Pick<Digest, 'editionId' | 'editionKey'>): Promise<Digest> {
  return { ...identity, ...groupRows(await digestRows(db, items)) };
}

/** Digest order: category, source, then newest first. */
function digestRows(db: Db, items: RawBuilder<boolean>, limit?: number) {
  return db
    .selectFrom('items as i')
    .innerJoin('feeds as f', 'f.id', 'i.feed_id')
    .innerJoin('categories as c', 'c.id', 'f.category_id')
    .select([
      'i.id', 'i.title', 'i.url', 'i.author', 'i.excerpt', 'i.published_at', 'i.first_seen_at',
      'f.id as feed_id', 'f.title as feed_title', 'f.url as feed_url', 'f.site_url',
      'c.name as category_name', 'c.title as category_title',
    ])
    .where(items)
    .orderBy('c.title')
    .orderBy('c.name')
    .orderBy('f.title')
    .orderBy('f.id')
    .orderBy(sql`coalesce(i.published_at, i.first_seen_at)`, 'desc')
    .orderBy('i.id')
    .$if(limit !== undefined, (query) => query.limit(limit!))
    .execute();
}

interface CategoryCount {
  name: string;
  title: string;
  n: number;
}

/** Every category of the edition in digest order, with its number of posts. */
async function categoryCounts(db: Db, items: RawBuilder<boolean>): Promise<CategoryCount[]> {
  const rows = await db
    .selectFrom('items as i')
    .innerJoin('feeds as f', 'f.id', 'i.feed_id')
    .innerJoin('categories as c', 'c.id', 'f.category_id')
    .select(['c.name', 'c.title', db.fn.countAll<number>().as('n')])
    .where(items)
    .groupBy(['c.name', 'c.title'])
    .orderBy('c.title')
    .orderBy('c.name')
    .execute();
  return rows.map((row) => ({ ...row, n: Number(row.n) }));
}

/**
 * Groups rows in digest order. With `counts` (the rows are only the head), every
 * category is listed with its full count, even one none of whose posts made the head.
 */
function groupRows(rows: Awaited<ReturnType<typeof digestRows>>, counts?: CategoryCount[]): Pick<Digest, 'categories' | 'postCount'> {
  const categories = new Map<string, DigestCategory>(
    (counts ?? []).map((c) => [c.name, { name: c.name, title: c.title, sources: [], postCount: c.n }]),
  );
  const sources = new Map<number, DigestSource>();
  for (const row of rows) {
    let category = categories.get(row.category_name);
    if (category === undefined) {
      category = { name: row.category_name, title: row.category_title, sources: [], postCount: 0 };
      categories.set(row.category_name, category);
    }
    let source = sources.get(row.feed_id);
    if (source === undefined) {
      source = { title: row.feed_title ?? new URL(row.feed_url).hostname, siteUrl: row.site_url, posts: [] };
      sources.set(row.feed_id, source);
      category.sources.push(source);
    }
    if (counts === undefined) category.postCount += 1;
    source.posts.push({
      id: row.id,
      title: row.title,
      url: row.url,
      author: row.author,
      date: row.published_at ?? row.first_seen_at,
      excerpt: row.excerpt,
    });
  }
  const list = [...categories.values()];
  return { categories: list, postCount: list.reduce((total, c) => total + c.postCount, 0) };
}
