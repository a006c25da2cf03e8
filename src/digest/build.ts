import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/connect.js';
import type { Enclosure, CategoryDisplay } from '../db/schema.js';
import type { Digest, DigestCategory, DigestSource } from './model.js';

type Identity = Pick<Digest, 'editionId' | 'editionKey' | 'timeZone' | 'date'> & { categoryIds: number[] };
type Content = Omit<Digest, keyof Identity>;

/** An edition's every post grouped by category, then by source, newest first within a source: the web edition. */
export async function buildDigest(db: Db, editionId: number): Promise<Digest> {
  return digestOf(db, await editionIdentity(db, editionId), editionItems(editionId), false);
}

/**
 * What an email can show of an edition: each source's newest posts up to its
 * category's cap, and every source's full count. An edition of 1,000 feeds holds
 * tens of thousands of posts; loading them all to show 60 cost over 100 MB per edition.
 */
export async function buildDigestHead(db: Db, editionId: number): Promise<Digest> {
  return digestOf(db, await editionIdentity(db, editionId), editionItems(editionId), true);
}

/**
 * buildDigestHead for a run of editions: editions that differ only in their readers'
 * time zone hold the same posts, so their posts are read once (a big edition's query
 * costs a tenth of a second, and there is one edition per zone).
 */
export function digestHeadReader(db: Db): (editionId: number) => Promise<Digest> {
  const contents = new Map<string, Promise<Content>>();
  return async (editionId) => {
    const identity = await editionIdentity(db, editionId);
    let content = contents.get(identity.contentKey);
    if (content === undefined) {
      content = digestContent(db, identity.categoryIds, editionItems(editionId), true);
      contents.set(identity.contentKey, content);
    }
    const { categoryIds: _, contentKey: __, ...rest } = identity;
    return { ...rest, ...(await content) };
  };
}

/** The edition named by its (unguessable) content key, as on its web page. */
export async function buildDigestByKey(db: Db, key: string): Promise<Digest | undefined> {
  const edition = await db.selectFrom('editions').select('id').where('key', '=', key).executeTakeFirst();
  return edition === undefined ? undefined : buildDigest(db, edition.id);
}

/** The head of a digest that was never planned (a preview). */
export async function buildDigestHeadOfItems(db: Db, itemIds: number[], identity: Identity): Promise<Digest> {
  // One array parameter, not one per post: Postgres allows 65,535 parameters.
  return digestOf(db, identity, sql<boolean>`i.id = ANY(${itemIds}::bigint[])`, true);
}

async function editionIdentity(db: Db, editionId: number): Promise<Identity & { contentKey: string }> {
  const edition = await db
    .selectFrom('editions')
    .select([
      'id',
      'key',
      'time_zone',
      'category_ids',
      'created_at',
      sql<string>`md5(category_ids::text || ':' || item_ids::text)`.as('content_key'),
    ])
    .where('id', '=', editionId)
    .executeTakeFirstOrThrow();
  return {
    editionId: edition.id,
    editionKey: edition.key,
    timeZone: edition.time_zone,
    date: edition.created_at,
    categoryIds: edition.category_ids,
    contentKey: edition.content_key,
  };
}

function editionItems(editionId: number): RawBuilder<boolean> {
  return sql<boolean>`i.id IN (SELECT unnest(item_ids) FROM editions WHERE id = ${editionId})`;
}

async function digestOf(db: Db, identity: Identity, items: RawBuilder<boolean>, head: boolean): Promise<Digest> {
  const { categoryIds, editionId, editionKey, timeZone, date } = identity;
  return { editionId, editionKey, timeZone, date, ...(await digestContent(db, categoryIds, items, head)) };
}

async function digestContent(db: Db, categoryIds: number[], items: RawBuilder<boolean>, head: boolean): Promise<Content> {
  const [rows, chosen] = await Promise.all([
    digestRows(db, items, head),
    db
      .selectFrom('categories')
      .select('title')
      .where('id', 'in', categoryIds.length > 0 ? categoryIds : [-1])
      .orderBy('title')
      .execute(),
  ]);
  return { chosenCategories: chosen.map((c) => c.title), ...groupRows(rows) };
}

interface DigestRow {
  id: number;
  title: string;
  url: string | null;
  author: string | null;
  excerpt: string;
  content_html: string | null;
  image_url: string | null;
  image_alt: string | null;
  enclosures: Enclosure[];
  date: Date;
  /** The post's place in its source, newest first (1-based), and the source's post count. */
  rank: number;
  source_count: number;
  feed_id: number;
  feed_title: string | null;
  feed_url: string;
  site_url: string | null;
  category_name: string;
  category_title: string;
  display: CategoryDisplay;
  source_cap: number;
  thumbnails: boolean;
}

/**
 * Digest order: category, source, then newest first. With `head`, only each source's
 * newest `source_cap` posts. The full post is read only where the category shows it.
 */
async function digestRows(db: Db, items: RawBuilder<boolean>, head: boolean): Promise<DigestRow[]> {
  const { rows } = await sql<DigestRow>`
    SELECT p.id, p.title, p.url, p.author, p.excerpt,
           CASE WHEN c.display = 'full' THEN p.content_html END AS content_html,
           p.image_url, p.image_alt, p.enclosures, p.date, p.rank::int AS rank, p.source_count::int AS source_count,
           f.id AS feed_id, f.title AS feed_title, f.url AS feed_url, f.site_url,
           c.name AS category_name, c.title AS category_title, c.display, c.source_cap, c.thumbnails
    FROM (
      SELECT i.*, coalesce(i.published_at, i.first_seen_at) AS date,
             row_number() OVER (PARTITION BY i.feed_id ORDER BY coalesce(i.published_at, i.first_seen_at) DESC, i.id) AS rank,
             count(*) OVER (PARTITION BY i.feed_id) AS source_count
      FROM items i WHERE ${items}
    ) p
    JOIN feeds f ON f.id = p.feed_id
    JOIN categories c ON c.id = f.category_id
    WHERE ${head ? sql`p.rank <= c.source_cap` : sql`true`}
    ORDER BY c.title, c.name, f.title, f.id, p.rank`.execute(db);
  return rows;
}

/** Groups rows in digest order. */
function groupRows(rows: DigestRow[]): Pick<Digest, 'categories' | 'postCount'> {
  const categories = new Map<string, DigestCategory>();
  const sources = new Map<number, DigestSource>();
  for (const row of rows) {
    let category = categories.get(row.category_name);
    if (category === undefined) {
      category = {
        name: row.category_name,
        title: row.category_title,
        display: row.display,
        sourceCap: row.source_cap,
        thumbnails: row.thumbnails,
        sources: [],
        postCount: 0,
      };
      categories.set(row.category_name, category);
    }
    let source = sources.get(row.feed_id);
    if (source === undefined) {
      source = {
        feedId: row.feed_id,
        title: row.feed_title ?? new URL(row.feed_url).hostname,
        siteUrl: row.site_url,
        posts: [],
        postCount: row.source_count,
      };
      sources.set(row.feed_id, source);
      category.sources.push(source);
      category.postCount += row.source_count;
    }
    source.posts.push({
      id: row.id,
      title: row.title,
      url: row.url,
      author: row.author,
      date: new Date(row.date),
      excerpt: row.excerpt,
      contentHtml: row.content_html,
      image: row.thumbnails && row.image_url ? { url: row.image_url, alt: row.image_alt ?? '' } : null,
      enclosures: row.enclosures ?? [],
    });
  }
  const list = [...categories.values()];
  return { categories: list, postCount: list.reduce((total, c) => total + c.postCount, 0) };
}
