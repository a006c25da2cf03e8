import type { Db } from '../../src/db/connect.js';

/** Rows written straight into the tables, for tests of the stages after fetching. */
export async function seedCategory(db: Db, name: string, title = name): Promise<number> {
  const row = await db.insertInto('categories').values({ name, title }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function seedFeed(db: Db, categoryId: number, title: string): Promise<number> {
  const row = await db
    .insertInto('feeds')
    .values({
      category_id: categoryId,
      url: `https://${title.toLowerCase().replace(/\W+/g, '-')}.example/feed`,
      title,
      site_url: `https://${title.toLowerCase().replace(/\W+/g, '-')}.example/`,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

let counter = 0;
let lastPublished = 0;
export async function seedItem(
  db: Db,
  feedId: number,
  fields: { title?: string; mailable?: boolean; excerpt?: string } = {},
): Promise<number> {
  counter += 1;
  // Strictly increasing, so "newest first" never depends on two inserts sharing a millisecond.
  lastPublished = Math.max(Date.now(), lastPublished + 1);
  const row = await db
    .insertInto('items')
    .values({
      feed_id: feedId,
      guid: `item-${counter}`,
      url: `https://example.org/posts/${counter}`,
      title: fields.title ?? `Post number ${counter}`,
      author: 'Ada Lovelace',
      content_html: '<p>Body</p>',
      excerpt: fields.excerpt ?? `Excerpt of post ${counter}, about engines & notes.`,
      content_hash: `hash-${counter}`,
      published_at: new Date(lastPublished),
      mailable: fields.mailable ?? true,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}
