import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { isMailable } from '../digest/cursor.js';
import type { Category, CategoryDisplay, Feed, FeedUpdate } from '../db/schema.js';
import type { Problem } from '../problem.js';
import { prepareItem, type NormalizedItem, type PreparedItem } from './normalize.js';

const CATEGORY_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export async function addCategory(db: Db, input: { name: string; title?: string; description?: string }): Promise<Category | Problem> {
  const name = input.name.trim().toLowerCase();
  if (!CATEGORY_NAME.test(name))
    return { problem: `category name "${input.name}" must be lower-case letters, digits, - or _ (at most 63)` };
  const category = await db
    .insertInto('categories')
    .values({ name, title: input.title?.trim() || name, description: input.description?.trim() ?? '' })
    .onConflict((oc) => oc.column('name').doNothing())
    .returningAll()
    .executeTakeFirst();
  return category ?? { problem: `category ${name} already exists` };
}

/** What `categories edit` can change; unset fields stay as they are. */
export interface CategoryChanges {
  title?: string;
  description?: string;
  public?: boolean;
  display?: CategoryDisplay;
  sourceCap?: number;
  thumbnails?: boolean;
}

export const CATEGORY_DISPLAYS: readonly CategoryDisplay[] = ['titles', 'excerpt', 'full'];

export async function editCategory(db: Db, name: string, changes: CategoryChanges): Promise<Category | Problem> {
  if (changes.display !== undefined && !CATEGORY_DISPLAYS.includes(changes.display)) {
    return { problem: `display must be one of ${CATEGORY_DISPLAYS.join(', ')} (got ${changes.display})` };
  }
  if (changes.sourceCap !== undefined && !(Number.isInteger(changes.sourceCap) && changes.sourceCap >= 1 && changes.sourceCap <= 100)) {
    return { problem: `source cap must be a whole number from 1 to 100 (got ${changes.sourceCap})` };
  }
  if (changes.title !== undefined && changes.title.trim() === '') return { problem: 'a title cannot be empty' };
  const set = {
    ...(changes.title !== undefined ? { title: changes.title.trim() } : {}),
    ...(changes.description !== undefined ? { description: changes.description.trim() } : {}),
    ...(changes.public !== undefined ? { public: changes.public } : {}),
    ...(changes.display !== undefined ? { display: changes.display } : {}),
    ...(changes.sourceCap !== undefined ? { source_cap: changes.sourceCap } : {}),
    ...(changes.thumbnails !== undefined ? { thumbnails: changes.thumbnails } : {}),
  };
  if (Object.keys(set).length === 0) return { problem: 'nothing to change: give at least one option (see categories edit --help)' };
  const category = await db.updateTable('categories').set(set).where('name', '=', name).returningAll().executeTakeFirst();
  if (category === undefined) return { problem: `no category ${name}` };
  await db.updateTable('feeds').set(bumpPlanetVersion).where('category_id', '=', category.id).execute();
  return category;
}

export interface CategoryListing extends Category {
  feeds: number;
}

export async function listCategories(db: Db): Promise<CategoryListing[]> {
  return db
    .selectFrom('categories as c')
    .selectAll('c')
    .select((eb) => eb.selectFrom('feeds').whereRef('feeds.category_id', '=', 'c.id').select(eb.fn.countAll<number>().as('n')).as('feeds'))
    .orderBy('c.name')
    .execute() as Promise<CategoryListing[]>;
}

export async function removeCategory(db: Db, name: string): Promise<{ removed: true } | Problem> {
  const category = await db.selectFrom('categories').select('id').where('name', '=', name).executeTakeFirst();
  if (category === undefined) return { problem: `no category ${name}` };
  const used = await db
    .selectFrom('feeds')
    .select(db.fn.countAll<number>().as('n'))
    .where('category_id', '=', category.id)
    .executeTakeFirstOrThrow();
  if (used.n > 0) return { problem: `category ${name} still has ${used.n} feed${used.n === 1 ? '' : 's'}: remove or move them first` };
  await db.deleteFrom('categories').where('id', '=', category.id).execute();
  return { removed: true };
}

function feedUrlProblem(url: string): Problem | undefined {
  try {
    const parsed = new URL(url);
    return ['http:', 'https:'].includes(parsed.protocol) ? undefined : { problem: `feed URL must be http or https: ${url}` };
  } catch {
    return { problem: `not a URL: ${url}` };
  }
}

/**
 * Points the feeds whose URL matches `pattern` (a POSIX regular expression) at `url` and
 * makes them due now, so they stay the same feeds with the same posts (the demo's server
 * gets a new port each run). Returns how many moved.
 */
export async function moveFeeds(db: Db, pattern: string, url: string): Promise<number> {
  const moved = await db
    .updateTable('feeds')
    .set({ url, next_fetch_at: new Date() })
    .where(sql<boolean>`url ~ ${pattern}`)
    .executeTakeFirst();
  return Number(moved.numUpdatedRows);
}

/** Titles for category names, in title order, for pages and mails. */
export async function categoryTitles(db: Db, names: string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const rows = await db.selectFrom('categories').select('title').where('name', 'in', names).orderBy('title').execute();
  return rows.map((r) => r.title);
}

export async function addFeed(
  db: Db,
  input: { url: string; categoryName: string; title?: string; siteUrl?: string },
): Promise<Feed | Problem> {
  const url = input.url.trim();
  const bad = feedUrlProblem(url);
  if (bad !== undefined) return bad;
  const category = await db.selectFrom('categories').select('id').where('name', '=', input.categoryName).executeTakeFirst();
  if (category === undefined) return { problem: `no category ${input.categoryName}` };
  const feed = await db
    .insertInto('feeds')
    .values({ url, category_id: category.id, title: input.title ?? null, site_url: input.siteUrl ?? null })
    .onConflict((oc) => oc.column('url').doNothing())
    .returningAll()
    .executeTakeFirst();
  return feed ?? { problem: `feed ${url} is already added` };
}

export interface FeedListing extends Feed {
  category: string;
  items: number;
}

export async function listFeeds(db: Db): Promise<FeedListing[]> {
  return db
    .selectFrom('feeds as f')
    .innerJoin('categories as c', 'c.id', 'f.category_id')
    .selectAll('f')
    .select('c.name as category')
    .select((eb) => eb.selectFrom('items').whereRef('items.feed_id', '=', 'f.id').select(eb.fn.countAll<number>().as('n')).as('items'))
    .orderBy('c.name')
    .orderBy('f.url')
    .execute() as Promise<FeedListing[]>;
}

/** By URL or id. */
export async function removeFeed(db: Db, urlOrId: string): Promise<boolean> {
  const result = await db.deleteFrom('feeds').where(feedKey(urlOrId)).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function enableFeed(db: Db, urlOrId: string): Promise<boolean> {
  const result = await db
    .updateTable('feeds')
    .set({ disabled_at: null, disabled_reason: null, consecutive_failures: 0, next_fetch_at: new Date() })
    .where(feedKey(urlOrId))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** A hidden feed is still fetched and mailed, but left out of the public river, feeds and sources. */
export async function setFeedHidden(db: Db, urlOrId: string, hidden: boolean): Promise<boolean> {
  const result = await db
    .updateTable('feeds')
    .set({ hidden, ...bumpPlanetVersion })
    .where(feedKey(urlOrId))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export interface FeedEdit {
  title?: string;
  categoryName?: string;
  url?: string;
  enabled?: boolean;
}

/**
 * Changes a feed in place: same row and id, so its posts, filter rules and fetch history
 * stay. A new URL drops the old validators and is fetched on the next run.
 */
export async function editFeed(db: Db, urlOrId: string, edit: FeedEdit): Promise<Feed | Problem> {
  const update: FeedUpdate = {};
  if (edit.title !== undefined) update.title = edit.title.trim() || null;
  if (edit.categoryName !== undefined) {
    const category = await db.selectFrom('categories').select('id').where('name', '=', edit.categoryName).executeTakeFirst();
    if (category === undefined) return { problem: `no category ${edit.categoryName}` };
    update.category_id = category.id;
  }
  if (edit.url !== undefined) {
    const url = edit.url.trim();
    const bad = feedUrlProblem(url);
    if (bad !== undefined) return bad;
    const taken = await db
      .selectFrom('feeds')
      .select('id')
      .where('url', '=', url)
      .where(sql<boolean>`not (${feedKey(urlOrId)})`)
      .executeTakeFirst();
    if (taken !== undefined) return { problem: `feed ${url} is already added (id ${taken.id})` };
    Object.assign(update, { url, etag: null, last_modified: null, next_fetch_at: new Date() });
  }
  if (edit.enabled === true)
    Object.assign(update, { disabled_at: null, disabled_reason: null, consecutive_failures: 0, next_fetch_at: new Date() });
  if (edit.enabled === false) Object.assign(update, { disabled_at: new Date(), disabled_reason: 'disabled by the operator' });
  if (Object.keys(update).length === 0) return { problem: 'nothing to change: give --title, --category, --url, --enable or --disable' };
  const feed = await db
    .updateTable('feeds')
    .set({ ...update, ...bumpPlanetVersion })
    .where(feedKey(urlOrId))
    .returningAll()
    .executeTakeFirst();
  return feed ?? { problem: `no feed ${urlOrId}` };
}

/**
 * Set with every change to what the public planet shows of a feed: the web server keeps
 * its cached pages while the sum over feeds stays the same (see planet/river.ts).
 */
export const bumpPlanetVersion = { planet_version: sql<string>`planet_version + 1` };

export function feedKey(urlOrId: string) {
  return /^\d+$/.test(urlOrId) ? sql<boolean>`id = ${Number(urlOrId)}` : sql<boolean>`url = ${urlOrId}`;
}

export interface StoreOutcome {
  inserted: number;
  updated: number;
}

/** Posts read per query when looking up what is stored. */
const BATCH = 250;

function batches<T>(items: T[]): T[][] {
  return Array.from({ length: Math.ceil(items.length / BATCH) }, (_, i) => items.slice(i * BATCH, (i + 1) * BATCH));
}

/**
 * The posts of one batch as the store knows them. A guid that changed while the link stayed
 * is the same post: it gets the stored guid, so that the upsert finds it instead of
 * inserting (and mailing) it again. `storedHash` is the content hash stored under each guid.
 */
async function resolveKnown(
  db: Db,
  feedId: number,
  items: NormalizedItem[],
): Promise<{ items: NormalizedItem[]; storedHash: Map<string, string> }> {
  const urls = items.map((item) => item.url).filter((url): url is string => url !== null);
  const known = await db
    .selectFrom('items')
    .select(['guid', 'url', 'content_hash'])
    .where('feed_id', '=', feedId)
    .where((eb) =>
      eb.or([
        eb(
          'guid',
          'in',
          items.map((item) => item.guid),
        ),
        ...(urls.length > 0 ? [eb('url', 'in', urls)] : []),
      ]),
    )
    .execute();
  const storedHash = new Map(known.map((row) => [row.guid, row.content_hash]));
  const guidByUrl = new Map(known.filter((row) => row.url !== null).map((row) => [row.url!, row.guid]));
  const seen = new Set<string>();
  const resolved = items.flatMap((item) => {
    const stored = !storedHash.has(item.guid) && item.url !== null ? guidByUrl.get(item.url) : undefined;
    const guid = stored ?? item.guid;
    if (seen.has(guid)) return [];
    seen.add(guid);
    return [stored === undefined ? item : { ...item, guid }];
  });
  return { items: resolved, storedHash };
}

/**
 * The posts worth storing, prepared: those that are new, or whose content hash differs
 * from the stored one. Sanitizing is the costly part of a fetch, and most posts of a feed
 * that changed are the same as last time. Runs outside the storing transaction so that
 * this work holds no transaction open; a post stored meanwhile by another process is
 * still caught by the upsert's conflict rule.
 */
export async function prepareChanged(
  db: Db,
  feedId: number,
  items: NormalizedItem[],
): Promise<{ items: PreparedItem[]; unchanged: number }> {
  const prepared: PreparedItem[] = [];
  let unchanged = 0;
  for (const batch of batches(items)) {
    const known = await resolveKnown(db, feedId, batch);
    for (const item of known.items) {
      if (known.storedHash.get(item.guid) === item.contentHash) unchanged++;
      else prepared.push(prepareItem(item));
    }
  }
  return { items: prepared, unchanged };
}

/**
 * Inserts new posts in multi-row batches. A post already stored is updated only when its
 * content hash changed, and never becomes mailable again: mailable, created_xid and
 * first_seen_at are left as they are. On a baseline (the feed's first successful fetch)
 * old posts are not mailable (see src/digest/cursor.ts).
 */
export async function storeItems(
  db: Db,
  feedId: number,
  items: PreparedItem[],
  options: { baseline: boolean; now: Date },
): Promise<StoreOutcome> {
  const outcome: StoreOutcome = { inserted: 0, updated: 0 };
  for (const batch of batches(items)) {
    const rows = await db
      .insertInto('items')
      .values(
        batch.map((item) => ({
          feed_id: feedId,
          guid: item.guid,
          url: item.url,
          title: item.title,
          author: item.author,
          content_html: item.contentHtml,
          excerpt: item.excerpt,
          content_hash: item.contentHash,
          image_url: item.image?.url ?? null,
          image_alt: item.image?.alt ?? null,
          enclosures: JSON.stringify(item.enclosures),
          published_at: item.publishedAt ?? options.now,
          first_seen_at: options.now,
          mailable: isMailable(item.publishedAt, options),
          categories: item.categories,
          filtered_by: item.filteredBy ?? null,
        })),
      )
      .onConflict((oc) =>
        oc
          .columns(['feed_id', 'guid'])
          .doUpdateSet((eb) => ({
            url: eb.ref('excluded.url'),
            title: eb.ref('excluded.title'),
            author: eb.ref('excluded.author'),
            content_html: eb.ref('excluded.content_html'),
            excerpt: eb.ref('excluded.excerpt'),
            content_hash: eb.ref('excluded.content_hash'),
            categories: eb.ref('excluded.categories'),
            image_url: eb.ref('excluded.image_url'),
            image_alt: eb.ref('excluded.image_alt'),
            enclosures: eb.ref('excluded.enclosures'),
            filtered_by: eb.ref('excluded.filtered_by'),
            updated_at: options.now,
          }))
          .whereRef('items.content_hash', '!=', 'excluded.content_hash'),
      )
      // xmax is 0 on a row this statement inserted, set on one it updated.
      .returning(sql<boolean>`(xmax = 0)`.as('inserted'))
      .execute();
    for (const row of rows) {
      if (row.inserted) outcome.inserted++;
      else outcome.updated++;
    }
  }
  // In this transaction: a reader sees the new version only together with the posts.
  if (outcome.inserted + outcome.updated > 0) await db.updateTable('feeds').set(bumpPlanetVersion).where('id', '=', feedId).execute();
  return outcome;
}
