import type { Db } from '../db/connect.js';
import type { Digest, DigestCategory, DigestSource } from './model.js';

/** An edition's posts grouped by category, then by source, newest first within a source. */
export async function buildDigest(db: Db, editionId: number): Promise<Digest> {
  const edition = await db
    .selectFrom('editions')
    .select(['id', 'key', 'item_ids'])
    .where('id', '=', editionId)
    .executeTakeFirstOrThrow();
  return buildDigestOfItems(db, edition.item_ids.map(Number), { editionId: edition.id, editionKey: edition.key });
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
  const rows =
    itemIds.length === 0
      ? []
      : await db
          .selectFrom('items as i')
          .innerJoin('feeds as f', 'f.id', 'i.feed_id')
          .innerJoin('categories as c', 'c.id', 'f.category_id')
          .select([
            'i.id', 'i.title', 'i.url', 'i.author', 'i.excerpt', 'i.published_at', 'i.first_seen_at',
            'f.id as feed_id', 'f.title as feed_title', 'f.url as feed_url', 'f.site_url',
            'c.name as category_name', 'c.title as category_title',
          ])
          .where('i.id', 'in', itemIds)
          .orderBy('c.title')
          .orderBy('f.title')
          .orderBy('f.id')
          .execute();

  const categories = new Map<string, DigestCategory>();
  const sources = new Map<number, DigestSource>();
  for (const row of rows) {
    let category = categories.get(row.category_name);
    if (category === undefined) {
      category = { name: row.category_name, title: row.category_title, sources: [] };
      categories.set(row.category_name, category);
    }
    let source = sources.get(row.feed_id);
    if (source === undefined) {
      source = { title: row.feed_title ?? new URL(row.feed_url).hostname, siteUrl: row.site_url, posts: [] };
      sources.set(row.feed_id, source);
      category.sources.push(source);
    }
    source.posts.push({
      id: row.id,
      title: row.title,
      url: row.url,
      author: row.author,
      date: row.published_at ?? row.first_seen_at,
      excerpt: row.excerpt,
    });
  }
  for (const source of sources.values()) source.posts.sort((a, b) => b.date.getTime() - a.date.getTime());
  return { ...identity, categories: [...categories.values()], postCount: rows.length };
}
