import { Builder, parseStringPromise } from 'xml2js';
import type { Db } from '../db/connect.js';
import { isProblem } from '../problem.js';
import { addCategory, addFeed, listCategories, listFeeds } from './store.js';

interface Outline {
  $?: Record<string, string | undefined>;
  outline?: Outline[];
}

export interface OpmlImport {
  categoriesAdded: string[];
  feedsAdded: number;
  skipped: Array<{ url: string; reason: string }>;
}

/** "Tech News" -> "tech-news": category names are lower-case slugs. */
function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .normalize('NFKD')
      .replace(/[^\w-]+/g, '-')
      .replace(/^[-_]+|[-_]+$/g, '')
      .slice(0, 63) || 'imported'
  );
}

interface FoundFeed {
  url: string;
  title?: string;
  category: { name: string; title: string };
}

/** Feeds from an outline tree: a folder outline is the category, else the category attribute, else the fallback. */
function collect(outlines: Outline[], folder: { name: string; title: string }, found: FoundFeed[]): void {
  for (const outline of outlines) {
    const attrs = outline.$ ?? {};
    const url = attrs.xmlUrl ?? attrs.xmlurl;
    const label = attrs.title ?? attrs.text;
    if (url) {
      const tag = attrs.category?.split(',')[0]?.trim().replace(/^\//, '').split('/').pop();
      found.push({ url: url.trim(), title: label, category: tag ? { name: slug(tag), title: tag } : folder });
    }
    if (outline.outline) collect(outline.outline, label && !url ? { name: slug(label), title: label } : folder, found);
  }
}

/** `refusal` names what is wrong with a feed's address (see feedAddressProblem); such feeds are skipped. */
export async function importOpml(
  db: Db,
  xml: string,
  fallbackCategory = 'imported',
  refusal: (url: string) => Promise<string | undefined> = async () => undefined,
): Promise<OpmlImport | { problem: string }> {
  let document: { opml?: { body?: Array<{ outline?: Outline[] }> } };
  try {
    document = (await parseStringPromise(xml)) as typeof document;
  } catch (error) {
    return { problem: `not an OPML file: ${(error instanceof Error ? error.message : String(error)).split('\n')[0]}` };
  }
  const body = document.opml?.body?.[0];
  if (body === undefined) return { problem: 'not an OPML file: no <opml><body>' };
  const found: FoundFeed[] = [];
  collect(body.outline ?? [], { name: slug(fallbackCategory), title: fallbackCategory }, found);

  const existing = new Set((await listCategories(db)).map((c) => c.name));
  const result: OpmlImport = { categoriesAdded: [], feedsAdded: 0, skipped: [] };
  for (const feed of found) {
    const refused = await refusal(feed.url);
    if (refused !== undefined) {
      result.skipped.push({ url: feed.url, reason: refused });
      continue;
    }
    if (!existing.has(feed.category.name)) {
      const added = await addCategory(db, { name: feed.category.name, title: feed.category.title });
      if (!isProblem(added)) result.categoriesAdded.push(added.name);
      existing.add(feed.category.name);
    }
    const added = await addFeed(db, { url: feed.url, categoryName: feed.category.name, title: feed.title });
    if (isProblem(added)) result.skipped.push({ url: feed.url, reason: added.problem });
    else result.feedsAdded++;
  }
  return result;
}

/** One OPML folder: a category and its feeds. */
export interface OpmlFolder {
  name: string;
  title: string;
  feeds: Array<{ url: string; title: string; siteUrl: string | null }>;
}

/** OPML 2.0, one folder outline per category. */
export function buildOpml(title: string, folders: OpmlFolder[]): string {
  const outline = folders.map((folder) => ({
    $: { text: folder.title, title: folder.title },
    outline: folder.feeds.map((feed) => ({
      $: {
        type: 'rss',
        text: feed.title,
        title: feed.title,
        xmlUrl: feed.url,
        ...(feed.siteUrl ? { htmlUrl: feed.siteUrl } : {}),
        category: folder.name,
      },
    })),
  }));
  return new Builder({ xmldec: { version: '1.0', encoding: 'UTF-8' } }).buildObject({
    opml: { $: { version: '2.0' }, head: { title }, body: { outline } },
  });
}

/** All feeds as OPML 2.0, one folder outline per category. */
export async function exportOpml(db: Db, title = 'feed-digest subscriptions'): Promise<string> {
  const [categories, feeds] = await Promise.all([listCategories(db), listFeeds(db)]);
  return buildOpml(
    title,
    categories.map((category) => ({
      name: category.name,
      title: category.title,
      feeds: feeds
        .filter((feed) => feed.category_id === category.id)
        .map((feed) => ({ url: feed.url, title: feed.title ?? feed.url, siteUrl: feed.site_url })),
    })),
  );
}
