import type Parser from 'rss-parser';
import { attribute, rootTag } from './detect.js';
import { enclosuresOf, imagesOf } from './media.js';
import type { RawFeed, RawItem } from './model.js';
import { attrsOf, first, htmlOf, linkCandidates, nonEmpty, textOf, type Attrs, type Node } from './nodes.js';

/** What rss-parser returns, with the custom fields xml.ts asks for. */
export type ParsedFeed = Parser.Output<Record<string, unknown>> & Record<string, unknown>;

function isHtmlTitle(node: Node, format: RawFeed['format']): boolean {
  const type = attrsOf(node).type?.toLowerCase();
  if (format !== 'atom') return true;
  return type !== undefined && type !== 'text' && type !== 'text/plain';
}

function selfLink(...nodeLists: unknown[]): string | undefined {
  return nonEmpty(nodeLists.flatMap(linkCandidates).find((link) => link.rel === 'self')?.href);
}

function bestLink(nodes: unknown): { href?: string; base?: string } {
  const candidates = linkCandidates(nodes);
  const alternates = candidates.filter((link) => link.rel === 'alternate');
  // A "related" link points elsewhere (RFC 4287 §4.2.7.2): never the post's own.
  const chosen =
    alternates.find((link) => !link.type || /html/.test(link.type)) ??
    alternates[0] ??
    candidates.find((link) => !['self', 'enclosure', 'related', 'via', 'replies', 'edit', 'license'].includes(link.rel));
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
  const name =
    author.match(/^\S+@\S+\s*\((.+)\)$/)?.[1] ??
    author.match(/^(.+?)\s*\((?:mailto:)?\S+@\S+\)$/)?.[1] ??
    author.match(/^(.+?)\s*<\S+@\S+>$/)?.[1];
  return nonEmpty(name?.replace(/^["']|["']$/g, '')) ?? author;
}

/** RSS <category> and dc:subject text, Atom category term (or label). */
function categoriesOf(item: Record<string, unknown>): string[] {
  const nodes = [item.categoryNodes, item.subjectNodes].flatMap((list): Node[] => (Array.isArray(list) ? list : []));
  const names = nodes.map((node) => nonEmpty(attrsOf(node).term ?? attrsOf(node).label ?? textOf(node)));
  return [...new Set(names.filter((name): name is string => name !== undefined))];
}

const DATE_FIELDS = [
  'publishedNodes',
  'pubDateNodes',
  'dcDateNodes',
  'issuedNodes',
  'createdNodes',
  'dctermsIssuedNodes',
  'dctermsCreatedNodes',
  'updatedNodes',
  'modifiedNodes',
  'dctermsModifiedNodes',
];

function toRawItem(item: Record<string, unknown>, format: RawFeed['format']): RawItem {
  const attrs = (item.xmlAttrs ?? {}) as Attrs;
  const titleNode = first(item.titleNode) ?? first(item.dcTitleNodes);
  // A video or podcast item may have only an itunes:title or media:title, plain text unless type="html".
  const mediaTitleNode = titleNode === undefined ? (first(item.itunesTitleNodes) ?? first(item.mediaTitleNodes)) : undefined;
  const guidNode = first(item.guidNodes) ?? first(item.idNodes);
  const link =
    format === 'atom' ? bestLink(item.linkNodes) : { href: nonEmpty(textOf(first(item.linkNodes))) ?? bestLink(item.atomLinkNodes).href };
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

/** rss-parser's nodes to the RawFeed every later step reads. */
export function toRawFeed(parsed: ParsedFeed, xml: string, maxItems: number): RawFeed {
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
    items: items
      .slice(0, maxItems)
      .map((item) => withFeedAuthor(toRawItem(item, format), format === 'atom' ? authorOf(parsed) : undefined)),
    dropped: Math.max(0, items.length - maxItems),
  };
}
