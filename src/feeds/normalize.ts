import { createHash } from 'node:crypto';
import { decodeHTML } from 'entities';
import type { Enclosure } from '../db/schema.js';
import { htmlText } from './html-text.js';
import { parseFeedDate } from './dates.js';
import type { RawFeed, RawItem } from './parse.js';
import { isTrackingPixel, resolveUrl, sanitizeContent } from './sanitize.js';

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
  /** The post's own tags. */
  categories: string[];
  /** The feed's own picture for the post (absolute https, no tracker), if it names one. */
  image: PostImage | null;
  enclosures: Enclosure[];
}

export interface PostImage {
  url: string;
  alt: string;
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
const PREPARATION_VERSION = 'prepared-3';
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
  return feed.bases.some(usableBase) ? base : (resolveUrl(feed.link, undefined) ?? base);
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
  const plain = isHtml
    ? decodeHTML(text.replace(/<!--[\s\S]*?(?:-->|$)|<(script|style)\b[\s\S]*?(?:<\/\1\s*>|$)/gi, '').replace(/<[^>]*>/g, ' '))
    : text;
  const collapsed = plain.replace(/\s+/g, ' ').trim();
  return collapsed === '' ? undefined : collapsed;
}

/** Links we can put in a digest; a tag: or urn: id is an identity, not a link. */
function linkOf(item: RawItem, base: string | undefined): string | null {
  const link = resolveUrl(item.link, base);
  if (link !== undefined) return link;
  // An empty link falls back to a guid that is itself a URL (RSS isPermaLink).
  return item.guidIsLink ? (resolveUrl(item.guid, undefined) ?? null) : null;
}

function hash(...parts: Array<string | null | undefined>): string {
  return createHash('sha256')
    .update(parts.map((part) => part ?? '').join('\u0000'))
    .digest('hex');
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
  const seenLinks = new Map<string, string>();
  const items: NormalizedItem[] = [];
  for (const raw of feed.items) {
    const url = linkOf(raw, resolveBase(base, raw.bases));
    const title = plainText(raw.title, raw.titleIsHtml);
    // Without a guid, two posts may share a link (a daily page, a podcast's site) and
    // still differ: the link names a post only together with its title and date.
    const guid = raw.guid ?? (url === null ? `sha256:${hash(title, raw.date, raw.html)}` : linkIdentity(url, title, raw.date, seenLinks));
    if (seen.has(guid)) continue;
    seen.add(guid);
    const html = raw.html ?? '';
    const contentBase = resolveBase(base, raw.contentBases);
    const categories = raw.categories ?? [];
    const itemBase = resolveBase(base, raw.bases);
    items.push({
      guid,
      url,
      title,
      author: plainText(raw.author, true) ?? null,
      publishedAt: trustedDate(raw.date, now),
      html,
      contentBase,
      contentHash: hash(
        PREPARATION_VERSION,
        title,
        url,
        html,
        contentBase,
        JSON.stringify([raw.images ?? [], raw.enclosures ?? [], categories]),
      ),
      categories,
      image: feedImage(raw, itemBase),
      enclosures: (raw.enclosures ?? []).flatMap((e) => {
        const enclosureUrl = resolveUrl(e.url, itemBase);
        return enclosureUrl === undefined ? [] : [{ url: enclosureUrl, type: e.type ?? null, length: e.length ?? null }];
      }),
    });
  }
  return items;
}

/**
 * The identity of a guid-less post with a link: the link, unless an earlier post of
 * this fetch had the same link with another title or date; then the link with them.
 */
function linkIdentity(url: string, title: string | undefined, date: string | undefined, seenLinks: Map<string, string>): string {
  const signature = `${title ?? ''}\u0000${date ?? ''}`;
  const earlier = seenLinks.get(url);
  if (earlier === undefined) {
    seenLinks.set(url, signature);
    return url;
  }
  return earlier === signature ? url : `${url}#sha256:${hash(title, date)}`;
}

/** Pictures go into emails: absolute https only, never a tracker. */
function usableImage(
  url: string | undefined,
  base: string | undefined,
  attrs: Record<string, string | undefined> = {},
): string | undefined {
  const absolute = resolveUrl(url, base, ['https:']);
  return absolute === undefined || isTrackingPixel({ ...attrs, src: absolute }) ? undefined : absolute;
}

function feedImage(raw: RawItem, base: string | undefined): PostImage | null {
  for (const image of raw.images ?? []) {
    const url = usableImage(image.url, base, { width: image.width?.toString(), height: image.height?.toString() });
    if (url !== undefined) return { url, alt: plainText(image.alt, true) ?? '' };
  }
  return null;
}

/** The first real picture of the sanitized post: sanitizing has already dropped trackers and made URLs absolute. */
function contentImage(html: string): PostImage | null {
  for (const match of html.matchAll(/<img\b[^>]*>/gi)) {
    const attr = (name: string) => match[0].match(new RegExp(`\\s${name}="([^"]*)"`, 'i'))?.[1];
    const url = usableImage(decodeHTML(attr('src') ?? ''), undefined, { width: attr('width'), height: attr('height') });
    const small = Number(attr('width')) > 0 && Number(attr('width')) < 48;
    if (url !== undefined && !small) return { url, alt: decodeHTML(attr('alt') ?? '') };
  }
  return null;
}

function cutAtWord(text: string, length: number): string {
  if (text.length <= length) return text;
  const cut = text.slice(0, length + 1);
  const space = cut.lastIndexOf(' ');
  return `${(space > length * 0.6 ? cut.slice(0, space) : cut.slice(0, length)).replace(/[\s,;:.!?-]+$/, '')}…`;
}

/**
 * How much of a post's HTML to read for its excerpt: the start first, which nearly
 * always holds enough text, then more for a post whose start is mostly markup. A cut
 * may split a tag or an entity at the end of the text read, so the text must run well
 * past the excerpt for the cut never to show.
 */
const EXCERPT_READS = [EXCERPT_LENGTH * 8, 20_000];
const CUT_MARGIN = 100;

const ENDS_SENTENCE = /[.!?:;…"'”’)]$/;

/** The post's text on one line, with a sentence break where a paragraph or list item ended. */
function flowingText(html: string): string {
  const blocks = htmlText(html)
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  return (
    blocks
      .map((block, i) => (i < blocks.length - 1 && !ENDS_SENTENCE.test(block) ? `${block}.` : block))
      .join(' ')
      // Every run of whitespace to one space: a single space already is one (most of them).
      .replace(/\s{2,}|[^\S ]/g, ' ')
      .trim()
  );
}

/** Leading text a reader has already seen: the post's title again, or an "Author: …"/"By …" line. */
function withoutRepeats(text: string, title: string | undefined, author: string | null): string {
  let rest = text;
  if (title && rest.toLowerCase().startsWith(title.toLowerCase())) rest = rest.slice(title.length).replace(/^[\s.:–—-]+/, '');
  if (author) {
    const escaped = author.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    rest = rest.replace(new RegExp(`^(?:Author:|Posted by|By)\\s*${escaped}[\\s.,:;–—-]*`, 'i'), '');
  }
  rest = rest.replace(/^Author:\s*[^.]{1,60}?\.\s+/i, '');
  return rest;
}

export function excerptOf(html: string, title?: string, author: string | null = null): string {
  if (html === '') return '';
  let text = '';
  // Cut here, not with html-to-text's limit, which warns on the console each time.
  for (const length of EXCERPT_READS) {
    text = withoutRepeats(flowingText(html.slice(0, length)), title, author);
    if (html.length <= length || text.length > EXCERPT_LENGTH + CUT_MARGIN) break;
  }
  return cutAtWord(text, EXCERPT_LENGTH);
}

/**
 * A title for a post that has none (Mastodon, micro-blogs): its first sentence when
 * short, else its first words. The excerpt then starts after it.
 */
function titleFromText(html: string): { title: string; rest: string } | undefined {
  const text = flowingText(html.slice(0, EXCERPT_READS[0]));
  if (text === '') return undefined;
  const sentence = /^(.{8,100}?[.!?…])(?:\s|$)/.exec(text)?.[1];
  if (sentence !== undefined) return { title: sentence.replace(/\.$/, ''), rest: text.slice(sentence.length).trim() };
  const title = cutAtWord(text, 80);
  return { title, rest: title.endsWith('…') ? `…${text.slice(title.length - 1).trim()}` : '' };
}

/** The stored post: sanitized HTML (the costly part of ingesting), excerpt and a title. */
export function prepareItem(item: NormalizedItem): PreparedItem {
  const contentHtml = sanitizeContent(item.html, item.contentBase);
  const derived = item.title === undefined ? titleFromText(contentHtml) : undefined;
  const title = item.title ?? derived?.title ?? item.url ?? 'Untitled';
  const excerpt = derived === undefined ? excerptOf(contentHtml, title, item.author) : cutAtWord(derived.rest, EXCERPT_LENGTH);
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
    image: item.image ?? contentImage(contentHtml),
    enclosures: item.enclosures,
  };
}
