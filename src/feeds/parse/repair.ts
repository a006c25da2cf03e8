import { decodeHTML } from 'entities';
import { parseFeedDate } from '../dates.js';
import { rootTag } from './detect.js';

const ATOM_NAMESPACES = ['http://www.w3.org/2005/Atom', 'http://purl.org/atom/ns#'];
const RSS1_NAMESPACES = ['http://purl.org/rss/1.0/', 'http://my.netscape.com/rdf/simple/0.9/'];
const RSS2_NAMESPACES = ['http://backend.userland.com/rss2', 'http://blogs.law.harvard.edu/tech/rss'];

function prefixBoundTo(text: string, namespaces: string[]): string | undefined {
  for (const match of text.matchAll(/xmlns:([\w.-]+)\s*=\s*["']([^"']*)["']/g)) {
    if (namespaces.includes(match[2]!)) return match[1];
  }
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

const XHTML_CONSTRUCT =
  /<((?:[\w-]+:)?(?:title|subtitle|tagline|summary|content|rights|copyright|info))(\s[^>]*?type\s*=\s*["'](?:xhtml|application\/xhtml\+xml)["'][^>]*)>([\s\S]*?)<\/\1\s*>/g;

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
  xml = xml.replace(
    XHTML_CONSTRUCT,
    (_all, name: string, attrs: string, inner: string) =>
      `<${name}${attrs.replace(/type\s*=\s*["'][^"']*["']/, 'type="html"')}><![CDATA[${inner.replace(/]]>/g, ']]]]><![CDATA[>')}]]></${name}>`,
  );
  xml = outsideCdata(xml, (part) =>
    part
      // XML's own five are skipped by the pattern: feeds of escaped HTML hold thousands.
      .replace(/&(?!(?:amp|lt|gt|quot|apos);)([A-Za-z][A-Za-z0-9]*);/g, (_all, name: string) => characterReference(name))
      .replace(/&(?!#\d+;|#x[0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)/g, '&amp;'),
  );
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

const RSS_ELEMENTS = new Map(
  ['channel', 'item', 'title', 'link', 'description', 'guid', 'pubDate'].map((name) => [name.toLowerCase(), name]),
);

/** iTunes reads RSS element names without regard to case, so podcast feeds written for it may say <TiTlE>. */
function rssElementCase(xml: string): string {
  return outsideCdata(xml, (part) =>
    part.replace(
      /<(\/?)(channel|item|title|link|description|guid|pubdate)(?=[\s>/])/gi,
      (_all, slash: string, name: string) => `<${slash}${RSS_ELEMENTS.get(name.toLowerCase())}`,
    ),
  );
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

/** Closing tags for a document cut short; sax (not strict) closes whatever is open inside them. */
export function closeTruncated(xml: string): string {
  const root = rootTag(xml)?.name ?? 'rss';
  return /rss$/.test(root) ? `${xml}</channel></${root}>` : `${xml}</${root}>`;
}
