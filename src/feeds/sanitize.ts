import sanitizeHtml from 'sanitize-html';

/** Hosts whose images only count readers (feed analytics beacons). */
const BEACON_HOSTS = new Set([
  'feeds.feedburner.com',
  'feedproxy.google.com',
  'pixel.wp.com',
  'stats.wordpress.com',
  'feeds.wordpress.com',
  'www.google-analytics.com',
  'google-analytics.com',
  'pixel.quantserve.com',
  'pi.feedsportal.com',
  'rss.feedsportal.com',
  'ad.doubleclick.net',
  'www.assoc-amazon.com',
  'feeds.feedblitz.com',
  'pixel.mathtag.com',
  'b.scorecardresearch.com',
  'sb.scorecardresearch.com',
  'counter.theconversation.com',
]);

const ALLOWED_TAGS = [
  ...sanitizeHtml.defaults.allowedTags.filter((tag) => tag !== 'style'),
  'img',
  'h1',
  'h2',
  'del',
  'ins',
  'sup',
  'sub',
  'picture',
  'video',
  'audio',
  'source',
];

/** Absolute http(s) or mailto URL against the base, or undefined when it is anything else. */
export function resolveUrl(href: string | undefined, base: string | undefined, schemes = ['http:', 'https:']): string | undefined {
  const trimmed = href?.trim();
  if (!trimmed) return undefined;
  try {
    const url = base === undefined ? new URL(trimmed) : new URL(trimmed, base);
    return schemes.includes(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/** An image that only counts readers: 1×1 (or 0×0), or from a known beacon host. */
export function isTrackingPixel(attribs: Record<string, string | undefined>): boolean {
  if (!attribs.src) return true;
  const tiny = (value: string | undefined) => value !== undefined && /^\s*[01](px)?\s*$/.test(value);
  if (tiny(attribs.width) && tiny(attribs.height)) return true;
  try {
    return BEACON_HOSTS.has(new URL(attribs.src).hostname);
  } catch {
    return true;
  }
}

function withUrl(tagName: string, attribs: Record<string, string>, name: string, url: string | undefined) {
  const { [name]: _old, ...rest } = attribs;
  return { tagName, attribs: url === undefined ? rest : { ...rest, [name]: url } };
}

/**
 * Post HTML as it may go into an email: an allowlist (no script, style, frames, objects,
 * forms, event handlers), links absolute and only http(s)/mailto with rel=noopener
 * noreferrer, images only absolute http(s), tracking pixels removed. Relative URLs are
 * resolved here, in the same HTML parse, against the post's base.
 */
export function sanitizeContent(html: string, base: string | undefined): string {
  return sanitizeHtml(html, {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: {
      a: ['href', 'title', 'rel'],
      img: ['src', 'alt', 'title', 'width', 'height'],
      video: ['src', 'poster', 'controls', 'width', 'height'],
      audio: ['src', 'controls'],
      source: ['src', 'type'],
      td: ['colspan', 'rowspan'],
      th: ['colspan', 'rowspan'],
      ol: ['start'],
    },
    allowedSchemes: ['http', 'https', 'mailto'],
    allowedSchemesByTag: { img: ['http', 'https'], video: ['http', 'https'], audio: ['http', 'https'], source: ['http', 'https'] },
    allowProtocolRelative: false,
    transformTags: {
      a: (tagName, attribs) => {
        const link = withUrl(tagName, attribs, 'href', resolveUrl(attribs.href, base, ['http:', 'https:', 'mailto:']));
        return { tagName, attribs: { ...link.attribs, rel: 'noopener noreferrer' } };
      },
      img: (tagName, attribs) => withUrl(tagName, attribs, 'src', resolveUrl(attribs.src, base)),
      video: (tagName, attribs) => {
        const video = withUrl(tagName, attribs, 'src', resolveUrl(attribs.src, base));
        return withUrl(tagName, video.attribs, 'poster', resolveUrl(attribs.poster, base));
      },
      audio: (tagName, attribs) => withUrl(tagName, attribs, 'src', resolveUrl(attribs.src, base)),
      source: (tagName, attribs) => withUrl(tagName, attribs, 'src', resolveUrl(attribs.src, base)),
    },
    exclusiveFilter: (frame) => frame.tag === 'img' && isTrackingPixel(frame.attribs),
  });
}
