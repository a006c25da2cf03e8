import { decodeHTML } from 'entities';

/** Bytes that can never be a feed, told apart before decoding. */
export function rejectBytes(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return 'empty body';
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) return 'not a feed: gzip bytes';
  return undefined;
}

/** The first element of the document, past the prolog. */
export function rootTag(text: string): { name: string; tag: string } | undefined {
  const match = text.match(/^(?:\s|<\?[\s\S]*?\?>|<!--[\s\S]*?-->|<!DOCTYPE(?:[^>[]|\[[\s\S]*?\])*>)*<([A-Za-z_][\w.:-]*)([^>]*)>/i);
  return match ? { name: match[1]!, tag: match[0].slice(match[0].lastIndexOf('<')) } : undefined;
}

/** An attribute of a start tag as rootTag returns it, entities decoded. */
export function attribute(tag: string, name: string): string | undefined {
  const match = tag.match(new RegExp(`\\s${name.replace(':', '\\:')}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`));
  return match ? decodeHTML(match[1] ?? match[2] ?? '') : undefined;
}

/** Text that is not an RSS, Atom or RDF document, told apart by its root element before any repair. */
export function rejectText(text: string): string | undefined {
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
