import { createHash } from 'node:crypto';
import { decodeHTML } from 'entities';
import { compile } from 'html-to-text';
import type { Enclosure } from '../db/schema.js';
import { parseFeedDate } from './dates.js';
import type { RawFeed, RawItem } from './parse.js';
import { resolveUrl, sanitizeContent } from './sanitize.js';

export interface FeedInfo {
  title?: string;
  siteUrl?: string;
  ttlMinutes?: number;
}

/** A post with identity, absolute link, trusted date and plain title; content not yet sanitized. */
export interface NormalizedItem {
  guid: string;
  url: string | null;
  title: string | undefined;
  author: string | null;
  /** Null when the feed gave no date we trust: the store uses the first-seen time. */
  publishedAt: Date | null;
  html: string;
  /** What relative URLs inside the content resolve against. */
  contentBase: string | undefined;
  /** Of the post as the feed gave it: unchanged, the stored post need not be sanitized again. */
  contentHash: string;
  categories: string[];
  imageUrl: string | null;
  enclosures: Enclosure[];
}

/** What the store keeps. */
export interface PreparedItem extends Omit<NormalizedItem, 'html' | 'contentBase' | 'title'> {
  title: string;
  contentHtml: string;
  excerpt: string;
  /** Set by the feed's filter rules (see rules.ts). */
  filteredBy?: string | null;
}

const EXCERPT_LENGTH = 300;
/**
 * Part of every content hash: change it when sanitizing or excerpts change, so that stored
 * posts are prepared again on their feed's next fetch rather than kept as they were.
 */
const PREPARATION_VERSION = 'prepared-2';
/** Clock skew we forgive; later than this a date is a lie (or a scheduled post) and is ignored. */
const FUTURE_TOLERANCE_MS = 24 * 60 * 60 * 1000;

const usableBase = (base: string): boolean => base.trim() !== '' && !base.trim().startsWith('#');

/**
 * What the channel's own links resolve against: its xml:base chain when it has one; else
 * where the feed says it lives (atom:link rel="self"), else the document's URL.
 */
function channelBase(feed: RawFeed, documentUrl: string): string | undefined {
  if (feed.bases.some(usableBase)) return resolveBase(documentUrl, feed.bases);
  return resolveUrl(feed.selfLink, documentUrl) ?? documentUrl;
}

/**
 * What the posts' relative links resolve against: the channel's xml:base chain when it has
 * one; else its site link when absolute (feeds served through a proxy or copied elsewhere
 * still point at their site), else the channel's base.
 */
function feedBase(feed: RawFeed, documentUrl: string): string | undefined {
  const base = channelBase(feed, documentUrl);
  return feed.bases.some(usableBase) ? base : resolveUrl(feed.link, undefined) ?? base;
}

/** Each base resolves against the one before; an unusable base (empty, fragment-only, broken) is skipped. */
export function resolveBase(start: string | undefined, bases: string[]): string | undefined {
  let base = start;
  for (const next of bases) {
    if (!usableBase(next)) continue;
    try {
      base = new URL(next.trim(), base).href;
    } catch {
      // Relative xml:base without an absolute one above it: keep what we have.
    }
  }
  return base;
}

function plainText(text: string | undefined, isHtml: boolean): string | undefined {
  if (text === undefined) return undefined;
  const plain = isHtml ? decodeHTML(text.replace(/<!--[\s\S]*?(?:-->|$)|<(script|style)\b[\s\S]*?(?:<\/\1\s*>|$)/gi, '').replace(/<[^>]*>/g, ' ')) : text;
  const collapsed = plain.replace(/\s+/g, ' ').trim();
  return collapsed === '' ? undefined : collapsed;
}

/** Links we can put in a digest; a tag: or urn: id is an identity, not a link. */
function linkOf(item: RawItem, base: string | undefined): string | null {
  const link = resolveUrl(item.link, base);
  if (link !== undefined) return link;
  // An empty link falls back to a guid that is itself a URL (RSS isPermaLink).
  return item.guidIsLink ? resolveUrl(item.guid, undefined) ?? null : null;
}

function hash(...parts: Array<string | null | undefined>): string {
  return createHash('sha256').update(parts.map((part) => part ?? '').join('\u0000')).digest('hex');
}

function trustedDate(raw: string | undefined, now: Date): Date | null {
  const date = parseFeedDate(raw);
  if (date === undefined || date.getTime() > now.getTime() + FUTURE_TOLERANCE_MS) return null;
  return date;
}

export function feedInfo(feed: RawFeed, documentUrl: string): FeedInfo {
  return {
    title: plainText(feed.title, feed.titleIsHtml),
    siteUrl: resolveUrl(feed.link, channelBase(feed, documentUrl)),
    ttlMinutes: feed.ttlMinutes,
  };
}

/**
 * Identity, absolute links, dates and titles for each post. Identity is the guid, else the
 * link, else a hash of title and date; a second post with an identity already seen in this
 * feed is the same post (the first wins).
 */
export function normalizeItems(feed: RawFeed, documentUrl: string, now: Date): NormalizedItem[] {
  const base = feedBase(feed, documentUrl);
  const seen = new Set<string>();
  const items: NormalizedItem[] = [];
  for (const raw of feed.items) {
    const url = linkOf(raw, resolveBase(base, raw.bases));
    const title = plainText(raw.title, raw.titleIsHtml);
    const guid = raw.guid ?? url ?? `sha256:${hash(title, raw.date, raw.html)}`;
    if (seen.has(guid)) continue;
    seen.add(guid);
    const html = raw.html ?? '';
    const contentBase = resolveBase(base, raw.contentBases);
    const categories = raw.categories ?? [];
    const imageUrl = raw.imageUrl ?? null;
    const enclosures = raw.enclosures ?? [];
    // Only when present, so that the hash of a post without them stays what it was.
    const extras = categories.length + enclosures.length > 0 || imageUrl !== null ? JSON.stringify([categories, imageUrl, enclosures]) : undefined;
    items.push({
      guid,
      url,
      title,
      author: plainText(raw.author, true) ?? null,
      publishedAt: trustedDate(raw.date, now),
      html,
      contentBase,
      contentHash: hash(PREPARATION_VERSION, title, url, html, contentBase, ...(extras === undefined ? [] : [extras])),
      categories,
      imageUrl,
      enclosures,
    });
  }
  return items;
}

function cutAtWord(text: string, length: number): string {
  if (text.length <= length) return text;
  const cut = text.slice(0, length + 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > length * 0.6 ? cut.slice(0, space) : cut.slice(0, length)).replace(/[\s,;:.!?-]+$/, '')}…`;
}

// Compiled once: html-to-text's convert() rebuilds its selector tables on every call (4x slower).
const htmlToText = compile({
  wordwrap: false,
  selectors: [
    { selector: 'a', options: { ignoreHref: true } },
    { selector: 'img', format: 'skip' },
    { selector: 'h1', options: { uppercase: false } },
    { selector: 'h2', options: { uppercase: false } },
    { selector: 'h3', options: { uppercase: false } },
    { selector: 'table', format: 'dataTable' },
    { selector: 'blockquote', format: 'block' },
  ],
});

/**
 * How much of a post's HTML to read for its excerpt: the start first, which nearly
 * always holds enough text, then more for a post whose start is mostly markup. A cut
 * may split a tag or an entity at the end of the text read, so the text must run well
 * past the excerpt for the cut never to show.
 */
const EXCERPT_READS = [EXCERPT_LENGTH * 8, 20_000];
const CUT_MARGIN = 100;

export function excerptOf(html: string): string {
  if (html === '') return '';
  let text = '';
  // Cut here, not with html-to-text's limit, which warns on the console each time.
  for (const length of EXCERPT_READS) {
    text = htmlToText(html.slice(0, length)).replace(/\s+/g, ' ').trim();
    if (html.length <= length || text.length > EXCERPT_LENGTH + CUT_MARGIN) break;
  }
  return cutAtWord(text, EXCERPT_LENGTH);
}

/** The stored post: sanitized HTML (the costly part of ingesting), excerpt and a title. */
export function prepareItem(item: NormalizedItem): PreparedItem {
  const contentHtml = sanitizeContent(item.html, item.contentBase);
  const excerpt = excerptOf(contentHtml);
  const title = item.title ?? (excerpt ? cutAtWord(excerpt.replace(/…$/, ''), 80) : item.url ?? 'Untitled');
  return {
    guid: item.guid,
    url: item.url,
    title,
    author: item.author,
    publishedAt: item.publishedAt,
    contentHtml,
    excerpt,
    contentHash: item.contentHash,
    categories: item.categories,
    imageUrl: item.imageUrl,
    enclosures: item.enclosures,
  };
}
