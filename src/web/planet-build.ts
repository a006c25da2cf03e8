import type { Db } from '../db/connect.js';
import { buildOpml } from '../feeds/opml.js';
import { buildDigestByKey } from '../digest/build.js';
import { listPublicEditions, type ArchivedEdition } from '../planet/archive.js';
import { newestChange, writeAtom, writeJsonFeed, type OutFeed } from '../planet/feeds-out.js';
import {
  findPublicCategory,
  listPublicCategories,
  loadRiver,
  type PublicCategory,
  type RiverCursor,
  type RiverPage,
} from '../planet/river.js';
import { listPublicSources } from '../planet/sources.js';
import { serverLinker } from './links.js';
import { editionView, editionsView, riverView, sourcesView, type PlanetSite } from './planet-pages.js';
import { renderPage } from './views.js';

/** A built page or document, before any caching or writing to disk. */
export interface Built {
  body: string;
  type: string;
  lastModified: Date;
}

export const HTML = 'text/html; charset=utf-8';
export const ATOM = 'application/atom+xml; charset=utf-8';
export const JSON_FEED = 'application/feed+json; charset=utf-8';
export const OPML = 'text/x-opml; charset=utf-8';

/** Posts in each feed we publish. */
export const FEED_POSTS = 50;

export interface PlanetBuildOptions {
  pageSize: number;
  /** BASE_URL: feeds carry absolute links. */
  baseUrl: string;
}

/** The category named, when it is public; undefined name means the whole river. */
async function resolveCategory(db: Db, name: string | undefined): Promise<PublicCategory | undefined | 'missing'> {
  if (name === undefined) return undefined;
  return (await findPublicCategory(db, name)) ?? 'missing';
}

export interface RiverBuilt extends Built {
  page: RiverPage;
}

export async function buildRiver(
  db: Db,
  site: PlanetSite,
  options: PlanetBuildOptions,
  request: { category?: string; before?: RiverCursor; pageNumber: number; lastPage?: boolean },
): Promise<RiverBuilt | undefined> {
  const category = await resolveCategory(db, request.category);
  if (category === 'missing') return undefined;
  const [categories, page] = await Promise.all([
    listPublicCategories(db),
    loadRiver(db, { categoryId: category?.id, before: request.before, limit: options.pageSize }),
  ]);
  if (request.before !== undefined && page.posts.length === 0) return undefined;
  const shown = request.lastPage ? { ...page, older: undefined } : page;
  const view = riverView(site, { categories, category, page: shown, pageNumber: request.pageNumber });
  return { body: renderPage(site, 'river', view), type: HTML, lastModified: newestChange(page.posts), page };
}

export async function buildFeed(
  db: Db,
  site: PlanetSite,
  options: PlanetBuildOptions,
  format: 'atom' | 'json',
  categoryName?: string,
): Promise<Built | undefined> {
  const category = await resolveCategory(db, categoryName);
  if (category === 'missing') return undefined;
  const { posts } = await loadRiver(db, { categoryId: category?.id, limit: FEED_POSTS });
  // Feeds link to the server's pages by absolute URL, wherever they are served from.
  const absolute = serverLinker(options.baseUrl);
  const feed: OutFeed = {
    title: category === undefined ? site.siteName : `${category.title} · ${site.siteName}`,
    description: category?.description ?? '',
    homeUrl: absolute.river(category?.name),
    atomUrl: absolute.feed('atom', category?.name),
    jsonUrl: absolute.feed('json', category?.name),
    baseUrl: options.baseUrl,
    posts,
  };
  return format === 'atom'
    ? { body: writeAtom(feed), type: ATOM, lastModified: newestChange(posts) }
    : { body: writeJsonFeed(feed), type: JSON_FEED, lastModified: newestChange(posts) };
}

export async function buildSources(db: Db, site: PlanetSite, now: Date): Promise<Built> {
  const sources = await listPublicSources(db);
  const lastModified = sources.reduce(
    (newest, s) => (s.lastFetchedAt !== null && s.lastFetchedAt > newest ? s.lastFetchedAt : newest),
    new Date(0),
  );
  return { body: renderPage(site, 'sources', sourcesView(site, sources, now)), type: HTML, lastModified };
}

export async function buildPublicOpml(db: Db, site: PlanetSite, categoryName?: string): Promise<Built | undefined> {
  const category = await resolveCategory(db, categoryName);
  if (category === 'missing') return undefined;
  const sources = await listPublicSources(db, category?.id);
  const folders: Parameters<typeof buildOpml>[1] = [];
  for (const source of sources) {
    if (folders.at(-1)?.name !== source.category.name)
      folders.push({ name: source.category.name, title: source.category.title, feeds: [] });
    folders.at(-1)!.feeds.push({ url: source.feedUrl, title: source.title, siteUrl: source.siteUrl });
  }
  const title = category === undefined ? `${site.siteName}: sources` : `${site.siteName}: ${category.title}`;
  return { body: buildOpml(title, folders), type: OPML, lastModified: new Date(0) };
}

/** Editions shown on one archive page. */
const EDITIONS_PER_PAGE = 100;

export interface EditionsBuilt extends Built {
  editions: ArchivedEdition[];
  /** The id the next older archive page starts below, when there is one. */
  olderId: number | undefined;
}

/** One archive page: editions older than `beforeId`, the newest when undefined; `pageNumber` names it in the export. */
export async function buildEditions(
  db: Db,
  site: PlanetSite,
  request: { beforeId?: number; pageNumber: number },
): Promise<EditionsBuilt | undefined> {
  const { editions, olderId } = await listPublicEditions(db, { beforeId: request.beforeId, limit: EDITIONS_PER_PAGE });
  if (request.beforeId !== undefined && editions.length === 0) return undefined;
  const olderHref = olderId === undefined ? undefined : site.links.olderEditions(olderId, request.pageNumber + 1);
  const lastModified = editions[0]?.createdAt ?? new Date(0);
  const body = renderPage(site, 'editions', editionsView(site, editions, olderHref));
  return { body, type: HTML, lastModified, editions, olderId };
}

/** An edition's web page, by its key. */
export async function buildEdition(db: Db, site: PlanetSite, key: string, locale: string): Promise<Built | undefined> {
  const digest = await buildDigestByKey(db, key);
  if (digest === undefined) return undefined;
  return { body: renderPage(site, 'edition', editionView(digest, locale)), type: HTML, lastModified: digest.date };
}
