import Parser from 'rss-parser';
import { rootTag } from './detect.js';
import { toRawFeed, type ParsedFeed } from './map.js';
import type { Problem } from '../../problem.js';
import type { RawFeed } from './model.js';
import { closeTruncated } from './repair.js';

/** What rss-parser keeps of each item and of the channel: every node, as xml2js gives it, for map.ts to read. */
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
  ['pubDate', 'lastBuildDate', 'managingEditor', 'webMaster', 'skipHours', 'skipDays', 'textInput', 'rdf:RDF', 'isPermaLink'].map(
    (name) => [name.toLowerCase(), name],
  ),
);
const restoreCase = (name: string): string => CAMEL_NAMES.get(name.toLowerCase()) ?? name.toLowerCase();
// A new one each time: xml2js never answers on a truncated document, and its listeners would linger.
const lenientParser = () =>
  new Parser({
    defaultRSS: 2,
    customFields,
    xml2js: { strict: false, tagNameProcessors: [restoreCase], attrNameProcessors: [restoreCase] },
  });

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

/**
 * Repaired XML to a RawFeed: parsed strictly, then leniently (sax without strict mode) as a
 * last try, the second time with the tags of a document cut short closed.
 */
export async function parseXmlFeed(xml: string, maxItems: number): Promise<RawFeed | Problem> {
  let parsed = await parseWith(strictParser, xml);
  if (parsed instanceof Error && !isMissingChannel(parsed)) {
    let lenient = await parseWith(lenientParser(), xml);
    if (lenient instanceof Error) lenient = await parseWith(lenientParser(), closeTruncated(xml));
    if (!(lenient instanceof Error)) parsed = lenient;
  }
  if (parsed instanceof Error && isMissingChannel(parsed)) return emptyFeed(xml);
  if (parsed instanceof Error) return { problem: describeError(parsed) };
  return toRawFeed(parsed, xml, maxItems);
}
