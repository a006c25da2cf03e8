import type { RawItem } from './model.js';
import { attrsOf, first, linkCandidates, nonEmpty, numberOf, textOf, type Attrs, type Node } from './nodes.js';

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

export function imagesOf(item: Record<string, unknown>): RawItem['images'] {
  const alt = nonEmpty(textOf(first(item.mediaDescriptionNodes)));
  const fromAttrs = (attrs: Attrs, url = attrs.url) =>
    url ? [{ url, alt, width: numberOf(attrs.width), height: numberOf(attrs.height) }] : [];
  const enclosures = linkCandidates(item.linkNodes).filter((link) => link.rel === 'enclosure');
  return [
    ...mediaNodes(item, 'mediaThumbnailNodes').flatMap((node) => fromAttrs(attrsOf(node))),
    ...mediaNodes(item, 'mediaContentNodes')
      .filter((node) => mediaKind(attrsOf(node)) === 'image')
      .flatMap((node) => fromAttrs(attrsOf(node))),
    ...(Array.isArray(item.enclosureNodes) ? item.enclosureNodes : [])
      .map(attrsOf)
      .filter((attrs) => /^image\//i.test(attrs.type ?? ''))
      .flatMap((attrs) => fromAttrs(attrs)),
    ...enclosures.filter((link) => /^image\//i.test(link.type ?? '')).flatMap((link) => fromAttrs({}, link.href)),
    ...(Array.isArray(item.itunesImageNodes) ? item.itunesImageNodes : []).flatMap((node) =>
      fromAttrs({}, attrsOf(node).href ?? textOf(node)),
    ),
  ];
}

export function enclosuresOf(item: Record<string, unknown>): RawItem['enclosures'] {
  const rss: Attrs[] = (Array.isArray(item.enclosureNodes) ? item.enclosureNodes : []).map(attrsOf);
  const atom: Attrs[] = (Array.isArray(item.linkNodes) ? item.linkNodes : [])
    .map(attrsOf)
    .filter((attrs) => attrs.rel === 'enclosure')
    .map((attrs) => ({ url: attrs.href, type: attrs.type, length: attrs.length }));
  const media: Attrs[] = mediaNodes(item, 'mediaContentNodes')
    .map(attrsOf)
    .filter((attrs) => mediaKind(attrs) === 'audio' || mediaKind(attrs) === 'video')
    .map((attrs) => ({ ...attrs, length: attrs.fileSize }));
  return [...rss, ...atom, ...media]
    .filter((attrs): attrs is Attrs & { url: string } => nonEmpty(attrs.url) !== undefined && !/^image\//i.test(attrs.type ?? ''))
    .map((attrs) => ({ url: attrs.url.trim(), type: nonEmpty(attrs.type), length: numberOf(attrs.length) }));
}
