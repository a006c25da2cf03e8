import type { RiverPost } from './river.js';

/** What the Atom and JSON Feed documents of one river (the site, or one category) say. */
export interface OutFeed {
  title: string;
  description: string;
  /** The river page this feed follows (absolute). */
  homeUrl: string;
  atomUrl: string;
  jsonUrl: string;
  /** Our site's address, to mint ids for posts whose own id is not a URI. */
  baseUrl: string;
  posts: RiverPost[];
}

/**
 * A post's id in our feeds: its own (the source's guid) when that is an absolute URI,
 * as a planet passes entries on; else one of ours. Unique within a document: a guid
 * met twice (two sources using the same one) falls back to ours.
 */
function entryIds(feed: OutFeed): string[] {
  const seen = new Set<string>();
  return feed.posts.map((post) => {
    const own = /^[a-z][a-z0-9+.-]*:\S+$/i.test(post.guid) ? post.guid : undefined;
    const id = own !== undefined && !seen.has(own) ? own : `${feed.baseUrl}/#post-${post.id}`;
    seen.add(id);
    return id;
  });
}

/** RFC 3339 in whole seconds, as feeds carry dates (and readers, ours included, keep them). */
function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function updatedOf(post: RiverPost): Date {
  return post.updatedAt !== null && post.updatedAt > post.date ? post.updatedAt : post.date;
}

/** The newest change among the posts: the feed's `updated`, and Last-Modified. */
export function newestChange(posts: RiverPost[]): Date {
  let newest = new Date(0);
  for (const post of posts) {
    const updated = updatedOf(post);
    if (updated > newest) newest = updated;
  }
  return newest;
}

const XML_FORBIDDEN =
  // eslint-disable-next-line no-control-regex -- the control characters XML 1.0 forbids are what this matches
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** Characters XML 1.0 forbids (controls, lone surrogates, U+FFFE/F) dropped, the five specials escaped. */
function xml(text: string): string {
  return text.replace(XML_FORBIDDEN, '').replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Atom 1.0 (RFC 4287). */
export function writeAtom(feed: OutFeed): string {
  const ids = entryIds(feed);
  const out: string[] = [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<feed xmlns="http://www.w3.org/2005/Atom">',
    `  <id>${xml(feed.homeUrl)}</id>`,
    `  <title>${xml(feed.title)}</title>`,
    ...(feed.description ? [`  <subtitle>${xml(feed.description)}</subtitle>`] : []),
    `  <updated>${rfc3339(newestChange(feed.posts))}</updated>`,
    `  <link rel="self" type="application/atom+xml" href="${xml(feed.atomUrl)}"/>`,
    `  <link rel="alternate" type="text/html" href="${xml(feed.homeUrl)}"/>`,
    `  <link rel="alternate" type="application/feed+json" href="${xml(feed.jsonUrl)}"/>`,
    '  <generator uri="https://github.com/feed-digest">feed-digest</generator>',
  ];
  feed.posts.forEach((post, index) => {
    out.push(
      '  <entry>',
      `    <id>${xml(ids[index]!)}</id>`,
      `    <title type="text">${xml(post.title)}</title>`,
      ...(post.url ? [`    <link rel="alternate" type="text/html" href="${xml(post.url)}"/>`] : []),
      `    <published>${rfc3339(post.date)}</published>`,
      `    <updated>${rfc3339(updatedOf(post))}</updated>`,
      ...(post.author ? [`    <author><name>${xml(post.author)}</name></author>`] : []),
      `    <category term="${xml(post.category.name)}" label="${xml(post.category.title)}"/>`,
      ...(post.category.display === 'full' && post.contentHtml
        ? [`    <content type="html">${xml(post.contentHtml)}</content>`]
        : post.category.display === 'excerpt' && post.excerpt
          ? [`    <summary type="text">${xml(post.excerpt)}</summary>`]
          : []),
      '    <source>',
      `      <id>${xml(post.source.feedUrl)}</id>`,
      `      <title>${xml(post.source.title)}</title>`,
      ...(post.source.siteUrl ? [`      <link rel="alternate" type="text/html" href="${xml(post.source.siteUrl)}"/>`] : []),
      `      <link rel="self" href="${xml(post.source.feedUrl)}"/>`,
      // Atom wants an author for every entry: a post without one is credited to its source.
      ...(post.author ? [] : [`      <author><name>${xml(post.source.title)}</name></author>`]),
      '    </source>',
      '  </entry>',
    );
  });
  out.push('</feed>', '');
  return out.join('\n');
}

/** JSON Feed 1.1 (https://jsonfeed.org/version/1.1); the source goes in a `_source` extension. */
export function writeJsonFeed(feed: OutFeed): string {
  const ids = entryIds(feed);
  return (
    JSON.stringify(
      {
        version: 'https://jsonfeed.org/version/1.1',
        title: feed.title,
        home_page_url: feed.homeUrl,
        feed_url: feed.jsonUrl,
        ...(feed.description ? { description: feed.description } : {}),
        items: feed.posts.map((post, index) => ({
          id: ids[index],
          ...(post.url ? { url: post.url } : {}),
          title: post.title,
          ...(post.category.display === 'full' && post.contentHtml
            ? { content_html: post.contentHtml }
            : post.category.display === 'excerpt' && post.excerpt
              ? { content_text: post.excerpt, summary: post.excerpt }
              : { content_text: post.title }),
          ...(post.imageUrl ? { image: post.imageUrl } : {}),
          date_published: rfc3339(post.date),
          date_modified: rfc3339(updatedOf(post)),
          ...(post.author ? { authors: [{ name: post.author }] } : {}),
          tags: [post.category.title],
          _source: { title: post.source.title, home_page_url: post.source.siteUrl, feed_url: post.source.feedUrl },
        })),
      },
      null,
      2,
    ) + '\n'
  );
}
