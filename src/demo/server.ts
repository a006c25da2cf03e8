import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { demoFeeds, type DemoFeed } from './content.js';

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function postDate(anchor: Date, ageHours: number): Date {
  return new Date(anchor.getTime() - ageHours * 3600_000);
}

export function renderDemoFeed(feed: DemoFeed, anchor: Date): string {
  const link = (index: number) => `${feed.siteUrl}${anchor.getFullYear()}/post-${index + 1}`;
  if (feed.format === 'atom') {
    const entries = feed.posts.map(
      (post, index) => `  <entry>
    <id>tag:demo,2014:${feed.slug}:${index + 1}</id>
    <title>${escapeXml(post.title)}</title>
    <link rel="alternate" href="${link(index)}"/>
    <author><name>${escapeXml(post.author)}</name></author>
    <updated>${postDate(anchor, post.ageHours).toISOString()}</updated>
    <content type="html">${escapeXml(post.html)}</content>
  </entry>`,
    );
    return `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>${escapeXml(feed.title)}</title>
  <link rel="alternate" href="${feed.siteUrl}"/>
  <id>${feed.siteUrl}</id>
  <updated>${anchor.toISOString()}</updated>
${entries.join('\n')}
</feed>
`;
  }
  const items = feed.posts.map(
    (post, index) => `    <item>
      <title>${escapeXml(post.title)}</title>
      <link>${link(index)}</link>
      <guid isPermaLink="true">${link(index)}</guid>
      <dc:creator>${escapeXml(post.author)}</dc:creator>
      <pubDate>${postDate(anchor, post.ageHours).toUTCString()}</pubDate>
      <description>${escapeXml(post.html)}</description>
    </item>`,
  );
  return `<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>${escapeXml(feed.title)}</title>
    <link>${feed.siteUrl}</link>
    <description>${escapeXml(feed.title)}</description>
${items.join('\n')}
  </channel>
</rss>
`;
}

export interface DemoFeedServer {
  origin: string;
  urlOf(feed: DemoFeed): string;
  close(): Promise<void>;
}

/** Serves the demo feeds on 127.0.0.1 with ETags, so a second run costs only 304s. */
export async function startDemoFeedServer(anchor: Date): Promise<DemoFeedServer> {
  let origin = '';
  const server: Server = createServer((request, response) => {
    const feed = demoFeeds.find((f) => request.url === `/${f.slug}.xml`);
    if (feed === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const body = renderDemoFeed(feed, anchor);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 16)}"`;
    if (request.headers['if-none-match'] === etag) {
      response.writeHead(304, { etag }).end();
      return;
    }
    const type = feed.format === 'atom' ? 'application/atom+xml' : 'application/rss+xml';
    response.writeHead(200, { 'content-type': `${type}; charset=utf-8`, etag }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    urlOf: (feed) => `${origin}/${feed.slug}.xml`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
