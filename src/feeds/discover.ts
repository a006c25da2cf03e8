import { Parser as HtmlParser } from 'htmlparser2';
import type { Config } from '../config/config.js';
import { decodeFeed } from './decode.js';
import { documentBase, fetchFeed } from './fetch.js';
import { readFeed } from './pipeline.js';

/**
 * What `feeds add` makes of an address: a feed, a web page that names its feeds, a list
 * of feeds (OPML, a FOAF roll) that belongs in `feeds import`, or something else. Every
 * request goes through fetchFeed, with its limits and redirect rules.
 */
export interface FeedCandidate {
  url: string;
  /** rss, atom, rdf, json, or feed when only a common path told. */
  format: string;
  title?: string;
  /** Where it was found: a <link> of the page, its Link header, or a common path. */
  source: 'link' | 'header' | 'path';
}

export type Discovery =
  | { kind: 'feed'; url: string }
  | { kind: 'page'; pageUrl: string; candidates: FeedCandidate[] }
  | { kind: 'feed-list'; reason: string }
  | { kind: 'not-a-feed'; reason: string }
  | { kind: 'unreachable'; reason: string };

/** Tried in order on the page's origin when the page names no feed. */
export const COMMON_PATHS = ['/feed', '/rss.xml', '/atom.xml', '/index.xml', '/feed.json', '/feed.xml', '/rss', '/atom'];

const FEED_TYPES = new Map([
  ['application/rss+xml', 'rss'],
  ['application/atom+xml', 'atom'],
  ['application/rdf+xml', 'rdf'],
  ['application/feed+json', 'json'],
  ['application/x.atom+xml', 'atom'],
]);

function resolve(href: string | undefined, base: string): string | undefined {
  if (href === undefined || href.trim() === '') return undefined;
  try {
    const url = new URL(href.trim(), base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * JSON Feed 1.0 pages said type="application/json"; so does WordPress for its REST API on
 * every page (/wp-json/...). Only a link that calls itself a feed counts.
 */
function formatOf(type: string | undefined, href: string, title: string | undefined): string | undefined {
  const mime = (type ?? '').split(';')[0]!.trim().toLowerCase();
  if (mime === 'application/json') return /feed/i.test(`${href} ${title ?? ''}`) && !/wp-json/i.test(href) ? 'json' : undefined;
  return FEED_TYPES.get(mime);
}

const hasRel = (rel: string | undefined, wanted: string): boolean => (rel ?? '').toLowerCase().split(/\s+/).includes(wanted);

/** The page's <link rel="alternate"> feeds, resolved against its <base href> (the first one counts, as in browsers). */
export function feedLinksInHtml(html: string, pageUrl: string): FeedCandidate[] {
  let base: string | undefined;
  const links: Array<{ href: string; format: string; title?: string }> = [];
  const parser = new HtmlParser(
    {
      onopentag(name, attrs) {
        if (name === 'base' && base === undefined && attrs.href !== undefined) base = resolve(attrs.href, pageUrl);
        if (name !== 'link' || !hasRel(attrs.rel, 'alternate') || hasRel(attrs.rel, 'stylesheet')) return;
        const format = attrs.href === undefined ? undefined : formatOf(attrs.type, attrs.href, attrs.title);
        if (format !== undefined && attrs.href !== undefined)
          links.push({ href: attrs.href, format, title: attrs.title?.trim() || undefined });
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.end(html);
  return links.flatMap((link) => {
    const url = resolve(link.href, base ?? pageUrl);
    return url === undefined ? [] : [{ url, format: link.format, title: link.title, source: 'link' as const }];
  });
}

/** Feeds in an RFC 8288 Link header: `<url>; rel="alternate"; type="application/rss+xml"; title="..."`. */
export function feedLinksInHeader(header: string | undefined, pageUrl: string): FeedCandidate[] {
  if (header === undefined) return [];
  const found: FeedCandidate[] = [];
  // Each link is <target> followed by ;-separated parameters; commas inside quotes are not separators.
  for (const match of header.matchAll(/<([^>]*)>((?:\s*;\s*[\w*-]+\s*(?:=\s*(?:"(?:[^"\\]|\\.)*"|[^;,]*))?)*)/g)) {
    const params = new Map<string, string>();
    for (const param of match[2]!.matchAll(/;\s*([\w*-]+)\s*(?:=\s*(?:"((?:[^"\\]|\\.)*)"|([^;,]*)))?/g)) {
      params.set(param[1]!.toLowerCase(), (param[2] ?? param[3] ?? '').trim());
    }
    const format = formatOf(params.get('type'), match[1]!, params.get('title'));
    const url = resolve(match[1], pageUrl);
    if (hasRel(params.get('rel'), 'alternate') && format !== undefined && url !== undefined) {
      found.push({ url, format, title: params.get('title') || undefined, source: 'header' });
    }
  }
  return found;
}

/** OPML, or a FOAF roll (RDF of foaf:Agents with rss:channel links): documents that list feeds. */
export function feedListKind(text: string): string | undefined {
  const head = text.slice(0, 4000);
  if (/<opml[\s>]/i.test(head)) return 'OPML';
  // A roll names channels but has no posts; an RSS 1.0 feed may use FOAF for its authors.
  if (/<rdf:RDF[\s>]/.test(head) && /<foaf:(?:Agent|Person|Group)[\s>]/.test(text) && !/<(?:\w+:)?item[\s>/]/.test(text)) return 'FOAF';
  return undefined;
}

function uniqueByUrl(candidates: FeedCandidate[]): FeedCandidate[] {
  const seen = new Set<string>();
  return candidates.filter((candidate) => !seen.has(candidate.url) && seen.add(candidate.url));
}

const NO_VALIDATORS = { etag: null, lastModified: null };

async function probeCommonPaths(config: Config, pageUrl: string, now: Date): Promise<FeedCandidate | undefined> {
  for (const path of COMMON_PATHS) {
    const url = new URL(path, pageUrl).href;
    const fetched = await fetchFeed(config, url, NO_VALIDATORS, now);
    if (fetched.kind !== 'ok') continue;
    const read = await readFeed(fetched.bytes, fetched.contentType, fetched.finalUrl, { maxItems: config.fetchMaxItems, now });
    if (read.kind === 'read') return { url: fetched.finalUrl, format: 'feed', title: read.info.title, source: 'path' };
  }
  return undefined;
}

function isHtml(contentType: string | undefined, reason: string): boolean {
  return /html/i.test(contentType ?? '') || reason === 'not a feed: HTML page';
}

export async function discoverFeeds(config: Config, url: string, now = new Date()): Promise<Discovery> {
  // A page larger than the cap is cut there: its feeds are named in its head.
  const fetched = await fetchFeed(config, url, NO_VALIDATORS, now, { cutAtMaxBytes: true });
  if (fetched.kind === 'error') return { kind: 'unreachable', reason: fetched.reason };
  if (fetched.kind === 'not_modified') return { kind: 'unreachable', reason: 'HTTP 304 to an unconditional request' };
  const pageUrl = documentBase(fetched.finalUrl, fetched.contentLocation);
  const text = decodeFeed(fetched.bytes, fetched.contentType).text;
  const list = feedListKind(text);
  if (list !== undefined)
    return { kind: 'feed-list', reason: `${url} is a list of feeds (${list}), not a feed: save it and use \`feeds import FILE\`` };
  const read = await readFeed(fetched.bytes, fetched.contentType, pageUrl, { maxItems: config.fetchMaxItems, now });
  if (read.kind === 'read') return { kind: 'feed', url };
  if (!isHtml(fetched.contentType, read.reason)) return { kind: 'not-a-feed', reason: read.reason };
  const named = uniqueByUrl([...feedLinksInHtml(text, pageUrl), ...feedLinksInHeader(fetched.link, pageUrl)]);
  if (named.length > 0) return { kind: 'page', pageUrl, candidates: named };
  const probed = await probeCommonPaths(config, pageUrl, now);
  return { kind: 'page', pageUrl, candidates: probed === undefined ? [] : [probed] };
}
