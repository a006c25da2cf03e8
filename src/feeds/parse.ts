import { decodeHTML } from 'entities';
import Parser from 'rss-parser';
import { parseFeedDate } from './dates.js';
import { looksLikeJson, parseJsonFeed } from './jsonfeed.js';

/** What the parse step hands on: plain strings, no parser objects. */
export interface RawFeed {
  format: 'rss' | 'atom' | 'rdf' | 'json';
  title?: string;
  /** True when the title is markup (RSS, Atom html/xhtml), false for Atom type="text". */
  titleIsHtml: boolean;
  link?: string;
  /** Where the feed says it lives (atom:link rel="self"), as written. */
  selfLink?: string;
  /** xml:base of the root and channel/feed, in order, each relative to the one before. */
  bases: string[];
  ttlMinutes?: number;
  items: RawItem[];
  /** Posts left out past the per-feed cap. */
  dropped: number;
}

export interface RawItem {
  title?: string;
  titleIsHtml: boolean;
  link?: string;
  guid?: string;
  /** False when the guid says isPermaLink="false". */
  guidIsLink: boolean;
  /** xml:base of the entry, then of its link, relative to the feed's. */
  bases: string[];
  contentBases: string[];
  date?: string;
  author?: string;
  /** HTML (text content already escaped). */
  html?: string;
  /** The post's own tags. */
  categories?: string[];
  /** Pictures the feed names for the post (media:thumbnail/content/group, itunes:image, image enclosures), best first. */
  images?: Array<{ url: string; alt?: string; width?: number; height?: number }>;
  /** Attachments: RSS <enclosure>, Atom link rel="enclosure", media:content that is audio or video. */
  enclosures?: Array<{ url: string; type?: string; length?: number }>;
}

export type ParseOutcome = { kind: 'feed'; feed: RawFeed } | { kind: 'rejected'; reason: string };

/** Bytes that can never be a feed, told apart before decoding. */
export function rejectBytes(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return 'empty body';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'not a feed: gzip bytes';
  return undefined;
}

type Node = unknown;
type Attrs = Record<string, string | undefined>;

const ATOM_NAMESPACES = ['http://www.w3.org/2005/Atom', 'http://purl.org/atom/ns#'];
const RSS1_NAMESPACES = ['http://purl.org/rss/1.0/', 'http://my.netscape.com/rdf/simple/0.9/'];
const RSS2_NAMESPACES = ['http://backend.userland.com/rss2', 'http://blogs.law.harvard.edu/tech/rss'];

const ITEM_FIELDS: Parser.CustomFieldItem<Record<string, unknown>>[] = [
  ['$', 'xmlAttrs', { keepArray: true }],
  ['link', 'linkNodes', { keepArray: true }],
  ['atom:link', 'atomLinkNodes', { keepArray: true }],
  ['title', 'titleNode', { keepArray: true }],
  ['dc:title', 'dcTitleNodes', { keepArray: true }],
  ['media:title', 'mediaTitleNodes', { keepArray: true }],
  ['itunes:title', 'itunesTitleNodes', { keepArray: true }],
  ['enclosure', 'enclosureNodes', { keepArray: true }],
  ['media:thumbnail', 'mediaThumbnailNodes', { keepArray: true }],
  ['media:content', 'mediaContentNodes', { keepArray: true }],
  ['media:group', 'mediaGroupNodes', { keepArray: true }],
  ['media:description', 'mediaDescriptionNodes', { keepArray: true }],
  ['itunes:image', 'itunesImageNodes', { keepArray: true }],
  ['dcterms:created', 'dctermsCreatedNodes', { keepArray: true }],
  ['dcterms:issued', 'dctermsIssuedNodes', { keepArray: true }],
  ['dcterms:modified', 'dctermsModifiedNodes', { keepArray: true }],
  ['guid', 'guidNodes', { keepArray: true }],
  ['id', 'idNodes', { keepArray: true }],
  ['content', 'contentNodes', { keepArray: true }],
  ['summary', 'summaryNodes', { keepArray: true }],
  ['description', 'descriptionNodes', { keepArray: true }],
  ['content:encoded', 'encodedNodes', { keepArray: true }],
  ['author', 'authorNodes', { keepArray: true }],
  ['dc:creator', 'creatorNodes', { keepArray: true }],
  ['published', 'publishedNodes', { keepArray: true }],
  ['updated', 'updatedNodes', { keepArray: true }],
  ['issued', 'issuedNodes', { keepArray: true }],
  ['modified', 'modifiedNodes', { keepArray: true }],
  ['created', 'createdNodes', { keepArray: true }],
  ['dc:date', 'dcDateNodes', { keepArray: true }],
  ['pubDate', 'pubDateNodes', { keepArray: true }],
  ['category', 'categoryNodes', { keepArray: true }],
  ['dc:subject', 'subjectNodes', { keepArray: true }],
];
const FEED_FIELDS: Parser.CustomFieldItem<Record<string, unknown>>[] = [
  ['$', 'xmlAttrs', { keepArray: true }],
  ['title', 'titleNode', { keepArray: true }],
  ['dc:title', 'dcTitleNodes', { keepArray: true }],
  ['link', 'linkNodes', { keepArray: true }],
  ['atom:link', 'atomLinkNodes', { keepArray: true }],
  ['ttl', 'ttlNodes', { keepArray: true }],
  ['author', 'authorNodes', { keepArray: true }],
];
const customFields = { item: ITEM_FIELDS as string[], feed: FEED_FIELDS as string[] };

const strictParser = new Parser({ defaultRSS: 2, customFields });

// sax without strict mode shouts names in capitals; rss-parser looks them up in their usual case.
const CAMEL_NAMES = new Map(
  ['pubDate', 'lastBuildDate', 'managingEditor', 'webMaster', 'skipHours', 'skipDays', 'textInput', 'rdf:RDF', 'isPermaLink']
    .map((name) => [name.toLowerCase(), name]),
);
const restoreCase = (name: string): string => CAMEL_NAMES.get(name.toLowerCase()) ?? name.toLowerCase();
// A new one each time: xml2js never answers on a truncated document, and its listeners would linger.
const lenientParser = () => new Parser({
  defaultRSS: 2,
  customFields,
  xml2js: { strict: false, tagNameProcessors: [restoreCase], attrNameProcessors: [restoreCase] },
});

/** The first element of the document, past the prolog. */
function rootTag(text: string): { name: string; tag: string } | undefined {
  const match = text.match(/^(?:\s|<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE(?:[^>[]|\[[\s\S]*?\])*>)*<([A-Za-z_][\w.:-]*)([^>]*)>/i);
  return match ? { name: match[1]!, tag: match[0].slice(match[0].lastIndexOf('<')) } : undefined;
}

function attribute(tag: string, name: string): string | undefined {
  const match = tag.match(new RegExp(`\\s${name.replace(':', '\\:')}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`));
  return match ? decodeHTML(match[1] ?? match[2] ?? '') : undefined;
}

function prefixBoundTo(text: string, namespaces: string[]): string | undefined {
  for (const match of text.matchAll(/xmlns:([\w.-]+)\s*=\s*["']([^"']*)["']/g)) {
    if (namespaces.includes(match[2]!)) return match[1];
  }
  return undefined;
}

function rejectText(text: string): string | undefined {
  const start = text.trimStart();
  if (start === '') return 'empty body';
  const markup = start.replace(/^[^<]*/, '');
  if (/^<!DOCTYPE\s+html/i.test(markup)) return 'not a feed: HTML page';
  const root = rootTag(markup);
  if (root === undefined) return markup.startsWith('<') ? 'not well-formed XML: no root element' : 'not a feed: no XML markup';
  const local = root.name.replace(/^.*:/, '').toLowerCase();
  if (local === 'html') return 'not a feed: HTML page';
  if (local === 'opml') return 'not a feed: OPML';
  const known = ['rss', 'feed', 'entry'].includes(local) || /^[\w-]+:RDF$/i.test(root.name);
  if (local === 'channel') return 'not a feed: CDF channel';
  if (!known) return `not a feed: XML document <${root.name}>`;
  return undefined;
}

/** CDATA sections hold markup as text: the repairs below must leave them alone. */
function outsideCdata(text: string, repair: (part: string) => string): string {
  return text
    .split(/(<!\[CDATA\[[\s\S]*?\]\]>)/)
    .map((part, i) => (i % 2 === 1 ? part : repair(part)))
    .join('');
}

function characterReference(name: string): string {
  const decoded = decodeHTML(`&${name};`);
  if (decoded === `&${name};`) return `&amp;${name};`; // unknown (a DTD's, now dropped): shown as written
  return [...decoded].map((char) => `&#x${char.codePointAt(0)!.toString(16)};`).join('');
}

const XHTML_CONSTRUCT = /<((?:[\w-]+:)?(?:title|subtitle|tagline|summary|content|rights|copyright|info))(\s[^>]*?type\s*=\s*["'](?:xhtml|application\/xhtml\+xml)["'][^>]*)>([\s\S]*?)<\/\1\s*>/g;

/**
 * What a forgiving reader accepts and the strict XML parser does not. Each repair touches
 * only markup that would otherwise fail or be misread.
 */
export function repairXml(text: string): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  let xml = text.replace(/\ufeff/g, '').replace(/[\x00-\x08\x0b\x0c\x0e-\x1f]/g, '');
  xml = xml.replace(/^[^<]+/, '');
  xml = xml.replace(/^((?:\s|<\?[\s\S]*?\?>|<!--[\s\S]*?-->)*)<!DOCTYPE(?:[^>[]|\[[\s\S]*?\])*>/i, '$1');
  // xml2js flattens mixed content (text order is lost), so XHTML constructs travel as HTML text.
  xml = xml.replace(XHTML_CONSTRUCT, (_all, name: string, attrs: string, inner: string) =>
    `<${name}${attrs.replace(/type\s*=\s*["'][^"']*["']/, 'type="html"')}><![CDATA[${inner.replace(/]]>/g, ']]]]><![CDATA[>')}]]></${name}>`);
  xml = outsideCdata(xml, (part) =>
    part
      // XML's own five are skipped by the pattern: feeds of escaped HTML hold thousands.
      .replace(/&(?!(?:amp|lt|gt|quot|apos);)([A-Za-z][A-Za-z0-9]*);/g, (_all, name: string) => characterReference(name))
      .replace(/&(?!#\d+;|#x[0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)/g, '&amp;'));
  const root = rootTag(xml);
  if (root === undefined) return xml;
  const [prefix] = root.name.includes(':') ? root.name.split(':') : [];
  if (prefix !== undefined && prefix === prefixBoundTo(root.tag, [...ATOM_NAMESPACES, ...RSS2_NAMESPACES])) xml = unprefix(xml, prefix);
  const rss1Prefix = prefixBoundTo(root.tag, RSS1_NAMESPACES);
  if (rss1Prefix !== undefined) xml = unprefix(xml, rss1Prefix);
  if (/^(?:[\w-]+:)?rss$/i.test(root.name)) xml = rssElementCase(xml);
  if (/^(?:[\w-]+:)?(?:feed|entry)$/.test(root.name)) xml = repairAtom(xml);
  if (/^(?:[\w-]+:)?entry$/.test(root.name)) xml = `<feed>${xml.replace(/^<\?xml[^>]*>/, '')}</feed>`;
  return xml;
}

const RSS_ELEMENTS = new Map(['channel', 'item', 'title', 'link', 'description', 'guid', 'pubDate'].map((name) => [name.toLowerCase(), name]));

/** iTunes reads RSS element names without regard to case, so podcast feeds written for it may say <TiTlE>. */
function rssElementCase(xml: string): string {
  return outsideCdata(xml, (part) =>
    part.replace(/<(\/?)(channel|item|title|link|description|guid|pubdate)(?=[\s>/])/gi, (_all, slash: string, name: string) => `<${slash}${RSS_ELEMENTS.get(name.toLowerCase())}`));
}

function unprefix(xml: string, prefix: string): string {
  return xml.replace(new RegExp(`<(/?)${prefix}:`, 'g'), '<$1');
}

/** rss-parser throws on an Atom <link> without attributes and on a date it cannot read. */
function repairAtom(xml: string): string {
  return xml
    .replace(/<link\s*>\s*([^<]*?)\s*<\/link>/g, (_all, href: string) => `<link href="${href}"/>`)
    .replace(/<link\s*\/>/g, '')
    .replace(/<(published|updated|issued|modified|created)(\s[^>]*)?>([^<]*)<\/\1>/g, (all, name: string, _attrs, value: string) => {
      if (!Number.isNaN(new Date(value).getTime())) return all;
      const date = parseFeedDate(value);
      return date ? `<${name}>${date.toISOString()}</${name}>` : '';
    });
}

/** rss-parser's TypeError for a well-formed <rss> or <rdf:RDF> without a channel: a feed with no posts. */
function isMissingChannel(error: Error): boolean {
  return error instanceof TypeError && /reading '0'|reading 'channel'/.test(error.message);
}

function emptyFeed(xml: string): RawFeed {
  return { format: /rdf$/i.test(rootTag(xml)?.name ?? '') ? 'rdf' : 'rss', titleIsHtml: true, bases: [], items: [], dropped: 0 };
}

function describeError(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/Feed not recognized/.test(message)) return 'not a feed: neither RSS nor Atom';
  if (error instanceof RangeError) return 'not well-formed XML: nested too deeply';
  const line = message.match(/Line: (\d+)/)?.[1];
  const first = message.split('\n')[0]!.replace(/\.$/, '');
  return `not well-formed XML: ${first}${line ? ` (line ${line})` : ''}`;
}

type ParsedFeed = Parser.Output<Record<string, unknown>> & Record<string, unknown>;

/** xml2js parses synchronously: a promise still pending after the current turn never settles. */
function unanswered(): Promise<Error> {
  return new Promise((resolve) => setImmediate(() => resolve(new Error('document ends before its root element is closed'))));
}

async function parseWith(parser: Parser<Record<string, unknown>, Record<string, unknown>>, xml: string): Promise<ParsedFeed | Error> {
  try {
    return await Promise.race([parser.parseString(xml) as Promise<ParsedFeed>, unanswered()]);
  } catch (error) {
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** Closing tags for a document cut short; sax (not strict) closes whatever is open inside them. */
function closeTruncated(xml: string): string {
  const root = rootTag(xml)?.name ?? 'rss';
  return /rss$/.test(root) ? `${xml}</channel></${root}>` : `${xml}</${root}>`;
}

/**
 * Text to a RawFeed: rejects what is not a feed with a reason, repairs what a forgiving
 * reader accepts, parses strictly, then leniently (sax without strict mode) as a last try.
 */
export async function parseFeed(text: string, maxItems: number): Promise<ParseOutcome> {
  if (looksLikeJson(text)) return parseJsonFeed(text, maxItems);
  const rejected = rejectText(text);
  if (rejected !== undefined) return { kind: 'rejected', reason: rejected };
  const xml = repairXml(text);
  let parsed = await parseWith(strictParser, xml);
  if (parsed instanceof Error && !isMissingChannel(parsed)) {
    let lenient = await parseWith(lenientParser(), xml);
    if (lenient instanceof Error) lenient = await parseWith(lenientParser(), closeTruncated(xml));
    if (!(lenient instanceof Error)) parsed = lenient;
  }
  if (parsed instanceof Error && isMissingChannel(parsed)) return { kind: 'feed', feed: emptyFeed(xml) };
  if (parsed instanceof Error) return { kind: 'rejected', reason: describeError(parsed) };
  return { kind: 'feed', feed: toRawFeed(parsed, xml, maxItems) };
}

// ---- from xml2js nodes to strings

function attrsOf(node: Node): Attrs {
  return (typeof node === 'object' && node !== null && '$' in node ? (node as { $: Attrs }).$ : undefined) ?? {};
}

/** Atom 0.3 mode="base64", or an Atom 1.0 media type that is neither text nor XML (RFC 4287 4.1.3.3). */
function isBase64(attrs: Attrs | undefined): boolean {
  const type = attrs?.type?.toLowerCase();
  if (attrs?.mode === 'base64') return true;
  return type !== undefined && type.includes('/') && !type.startsWith('text/') && !/[/+]xml$/.test(type);
}

/** The text of a node; for mixed content, all descendant text. */
function textOf(node: Node): string | undefined {
  if (typeof node === 'string') return node;
  if (typeof node !== 'object' || node === null) return undefined;
  const record = node as Record<string, unknown>;
  if (isBase64(record.$ as Attrs | undefined) && typeof record._ === 'string') {
    return Buffer.from(record._, 'base64').toString('utf8');
  }
  const parts: string[] = typeof record._ === 'string' ? [record._] : [];
  for (const [key, value] of Object.entries(record)) {
    if (key === '$' || key === '_') continue;
    for (const child of Array.isArray(value) ? value : [value]) {
      const text = textOf(child);
      if (text) parts.push(text);
    }
  }
  return parts.length > 0 ? parts.join(parts.length > 1 && typeof record._ === 'string' ? '' : ' ') : undefined;
}

function first(nodes: unknown): Node {
  return Array.isArray(nodes) ? nodes[0] : undefined;
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

const escapeHtml = (text: string): string => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** An Atom text construct (or RSS element) as HTML. */
function htmlOf(node: Node): string | undefined {
  const text = textOf(node);
  if (text === undefined) return undefined;
  const type = attrsOf(node).type?.toLowerCase();
  return type === 'text' || type === 'text/plain' ? escapeHtml(text) : text;
}

function isHtmlTitle(node: Node, format: RawFeed['format']): boolean {
  const type = attrsOf(node).type?.toLowerCase();
  if (format !== 'atom') return true;
  return type !== undefined && type !== 'text' && type !== 'text/plain';
}

function linkCandidates(nodes: unknown): Array<{ href?: string; rel: string; type?: string; base?: string }> {
  if (!Array.isArray(nodes)) return [];
  return nodes.map((node) => {
    const attrs = attrsOf(node);
    return { href: attrs.href ?? (typeof node === 'string' ? node : textOf(node)), rel: attrs.rel ?? 'alternate', type: attrs.type, base: attrs['xml:base'] };
  }).filter((link) => nonEmpty(link.href) !== undefined);
}

function selfLink(...nodeLists: unknown[]): string | undefined {
  return nonEmpty(nodeLists.flatMap(linkCandidates).find((link) => link.rel === 'self')?.href);
}

function bestLink(nodes: unknown): { href?: string; base?: string } {
  const candidates = linkCandidates(nodes);
  const alternates = candidates.filter((link) => link.rel === 'alternate');
  // A "related" link points elsewhere (RFC 4287 §4.2.7.2): never the post's own.
  const chosen = alternates.find((link) => !link.type || /html/.test(link.type)) ?? alternates[0]
    ?? candidates.find((link) => !['self', 'enclosure', 'related', 'via', 'replies', 'edit', 'license'].includes(link.rel));
  return chosen ? { href: nonEmpty(chosen.href), base: chosen.base } : {};
}

function authorOf(item: Record<string, unknown>): string | undefined {
  const node = first(item.authorNodes) ?? first(item.creatorNodes);
  const name = typeof node === 'object' && node !== null && 'name' in node ? textOf(first(node.name)) : textOf(node);
  return readableAuthor(nonEmpty(name));
}

/**
 * RSS <author> is "email (Name)"; feeds also write "Name (mailto:email)" and
 * "Name <email>". The name is what people read; a bare address stays as it is.
 */
export function readableAuthor(author: string | undefined): string | undefined {
  if (author === undefined) return undefined;
  const name = author.match(/^\S+@\S+\s*\((.+)\)$/)?.[1]
    ?? author.match(/^(.+?)\s*\((?:mailto:)?\S+@\S+\)$/)?.[1]
    ?? author.match(/^(.+?)\s*<\S+@\S+>$/)?.[1];
  return nonEmpty(name?.replace(/^["']|["']$/g, '')) ?? author;
}

function numberOf(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}

/** media:content and media:thumbnail, at the item's level and inside its media:group(s). */
function mediaNodes(item: Record<string, unknown>, field: 'mediaContentNodes' | 'mediaThumbnailNodes'): Node[] {
  const groups = Array.isArray(item.mediaGroupNodes) ? item.mediaGroupNodes : [];
  const prefixed = field === 'mediaContentNodes' ? 'media:content' : 'media:thumbnail';
  return [
    ...(Array.isArray(item[field]) ? (item[field] as Node[]) : []),
    ...groups.flatMap((group) => {
      const children = typeof group === 'object' && group !== null ? (group as Record<string, unknown>)[prefixed] : undefined;
      return Array.isArray(children) ? (children as Node[]) : [];
    }),
  ];
}

function mediaKind(attrs: Attrs): 'image' | 'audio' | 'video' | undefined {
  const medium = attrs.medium?.toLowerCase() ?? attrs.type?.toLowerCase().split('/')[0];
  return medium === 'image' || medium === 'audio' || medium === 'video' ? medium : undefined;
}

function imagesOf(item: Record<string, unknown>): RawItem['images'] {
  const alt = nonEmpty(textOf(first(item.mediaDescriptionNodes)));
  const fromAttrs = (attrs: Attrs, url = attrs.url) => (url ? [{ url, alt, width: numberOf(attrs.width), height: numberOf(attrs.height) }] : []);
  const enclosures = linkCandidates(item.linkNodes).filter((link) => link.rel === 'enclosure');
  return [
    ...mediaNodes(item, 'mediaThumbnailNodes').flatMap((node) => fromAttrs(attrsOf(node))),
    ...mediaNodes(item, 'mediaContentNodes').filter((node) => mediaKind(attrsOf(node)) === 'image').flatMap((node) => fromAttrs(attrsOf(node))),
    ...(Array.isArray(item.enclosureNodes) ? item.enclosureNodes : []).map(attrsOf).filter((attrs) => /^image\//i.test(attrs.type ?? '')).flatMap((attrs) => fromAttrs(attrs)),
    ...enclosures.filter((link) => /^image\//i.test(link.type ?? '')).flatMap((link) => fromAttrs({}, link.href)),
    ...(Array.isArray(item.itunesImageNodes) ? item.itunesImageNodes : []).flatMap((node) => fromAttrs({}, attrsOf(node).href ?? textOf(node))),
  ];
}

function enclosuresOf(item: Record<string, unknown>): RawItem['enclosures'] {
  const rss: Attrs[] = (Array.isArray(item.enclosureNodes) ? item.enclosureNodes : []).map(attrsOf);
  const atom: Attrs[] = (Array.isArray(item.linkNodes) ? item.linkNodes : []).map(attrsOf).filter((attrs) => attrs.rel === 'enclosure')
    .map((attrs) => ({ url: attrs.href, type: attrs.type, length: attrs.length }));
  const media: Attrs[] = mediaNodes(item, 'mediaContentNodes').map(attrsOf).filter((attrs) => mediaKind(attrs) === 'audio' || mediaKind(attrs) === 'video')
    .map((attrs) => ({ ...attrs, length: attrs.fileSize }));
  return [...rss, ...atom, ...media]
    .filter((attrs): attrs is Attrs & { url: string } => nonEmpty(attrs.url) !== undefined && !/^image\//i.test(attrs.type ?? ''))
    .map((attrs) => ({ url: attrs.url.trim(), type: nonEmpty(attrs.type), length: numberOf(attrs.length) }));
}

/** RSS <category> and dc:subject text, Atom category term (or label). */
function categoriesOf(item: Record<string, unknown>): string[] {
  const nodes = [item.categoryNodes, item.subjectNodes].flatMap((list): Node[] => (Array.isArray(list) ? list : []));
  const names = nodes.map((node) => nonEmpty(attrsOf(node).term ?? attrsOf(node).label ?? textOf(node)));
  return [...new Set(names.filter((name): name is string => name !== undefined))];
}

const DATE_FIELDS = ['publishedNodes', 'pubDateNodes', 'dcDateNodes', 'issuedNodes', 'createdNodes', 'dctermsIssuedNodes', 'dctermsCreatedNodes', 'updatedNodes', 'modifiedNodes', 'dctermsModifiedNodes'];

function toRawItem(item: Record<string, unknown>, format: RawFeed['format']): RawItem {
  const attrs = (item.xmlAttrs ?? {}) as Attrs;
  const titleNode = first(item.titleNode) ?? first(item.dcTitleNodes);
  // A video or podcast item may have only an itunes:title or media:title, plain text unless type="html".
  const mediaTitleNode = titleNode === undefined ? first(item.itunesTitleNodes) ?? first(item.mediaTitleNodes) : undefined;
  const guidNode = first(item.guidNodes) ?? first(item.idNodes);
  const link = format === 'atom' ? bestLink(item.linkNodes) : { href: nonEmpty(textOf(first(item.linkNodes))) ?? bestLink(item.atomLinkNodes).href };
  const contentNode = first(item.contentNodes) ?? first(item.encodedNodes) ?? first(item.descriptionNodes) ?? first(item.summaryNodes);
  const dateNode = DATE_FIELDS.map((field) => first(item[field])).find((node) => nonEmpty(textOf(node)) !== undefined);
  const base = attrs['xml:base'];
  const contentBase = attrsOf(contentNode)['xml:base'];
  return {
    title: nonEmpty(textOf(titleNode ?? mediaTitleNode)),
    titleIsHtml: mediaTitleNode === undefined ? isHtmlTitle(titleNode, format) : attrsOf(mediaTitleNode).type?.toLowerCase() === 'html',
    link: link.href,
    guid: nonEmpty(textOf(guidNode)) ?? nonEmpty(attrs['rdf:about']),
    guidIsLink: attrsOf(guidNode).isPermaLink?.toLowerCase() !== 'false',
    bases: [base, link.base].filter((value): value is string => value !== undefined),
    contentBases: [base, contentBase].filter((value): value is string => value !== undefined),
    date: nonEmpty(textOf(dateNode)),
    author: authorOf(item),
    html: htmlOf(contentNode),
    categories: categoriesOf(item),
    images: imagesOf(item),
    enclosures: enclosuresOf(item),
  };
}

/** An Atom entry without an author has the feed's (RFC 4287 §4.2.1). */
function withFeedAuthor(item: RawItem, feedAuthor: string | undefined): RawItem {
  return item.author === undefined && feedAuthor !== undefined ? { ...item, author: feedAuthor } : item;
}

function toRawFeed(parsed: ParsedFeed, xml: string, maxItems: number): RawFeed {
  const root = rootTag(xml);
  const format: RawFeed['format'] = /feed$/.test(root?.name ?? '') ? 'atom' : /rdf$/i.test(root?.name ?? '') ? 'rdf' : 'rss';
  const titleNode = first(parsed.titleNode) ?? first(parsed.dcTitleNodes);
  const rootBase = root ? attribute(root.tag, 'xml:base') : undefined;
  const channelBase = format === 'atom' ? undefined : ((parsed.xmlAttrs ?? {}) as Attrs)['xml:base'];
  const link = format === 'atom' ? bestLink(parsed.linkNodes).href : nonEmpty(textOf(first(parsed.linkNodes)));
  const ttl = Number(nonEmpty(textOf(first(parsed.ttlNodes))));
  const items = (parsed.items ?? []) as Record<string, unknown>[];
  return {
    format,
    title: nonEmpty(textOf(titleNode)),
    titleIsHtml: isHtmlTitle(titleNode, format),
    link,
    selfLink: selfLink(parsed.linkNodes, parsed.atomLinkNodes),
    bases: [rootBase, channelBase].filter((value): value is string => value !== undefined),
    ttlMinutes: Number.isFinite(ttl) && ttl > 0 ? ttl : undefined,
    items: items.slice(0, maxItems).map((item) => withFeedAuthor(toRawItem(item, format), format === 'atom' ? authorOf(parsed) : undefined)),
    dropped: Math.max(0, items.length - maxItems),
  };
}
