import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { ingestFeed } from '../../src/feeds/pipeline.js';
import { refreshFeed } from '../../src/feeds/refresh.js';
import { addCategory, addFeed } from '../../src/feeds/store.js';
import { isProblem } from '../../src/problem.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { fixture, ingested, ingestFixture, NOW } from './fixtures.js';
import { startServer, type TestServer } from './server.js';

test('JSON Feed 1.1: titles as text, content sanitized, authors, dates, image, attachments and tags', async () => {
  const feed = await ingested('json/version-1.1.json', 'application/feed+json', 'https://example.org/feed.json');
  assert.equal(feed.info.title, 'Notes & <em>links</em>');
  assert.equal(feed.info.siteUrl, 'https://example.org/');
  const [first, second] = feed.items;
  assert.equal(first?.guid, 'https://example.org/2024/first');
  assert.equal(first?.url, 'https://example.org/2024/first');
  assert.equal(first?.title, 'First <post>');
  assert.equal(first?.author, 'Ann, Bo');
  assert.equal(first?.publishedAt?.toISOString(), '2024-05-30T08:00:00.000Z');
  assert.match(first.contentHtml, /<a href="https:\/\/example.org\/about"[^>]*>about<\/a>/);
  assert.doesNotMatch(first.contentHtml, /script|onerror|alert/);
  assert.equal(first?.image?.url, 'https://example.org/pic.jpg');
  assert.deepEqual(first?.enclosures, [{ url: 'https://example.org/show.mp3', type: 'audio/mpeg', length: 1234 }]);
  assert.deepEqual(first?.categories, ['Rust', 'web']);

  assert.equal(second?.guid, 'tag:example.org,2024:second');
  assert.equal(second?.url, 'https://elsewhere.example.net/story');
  assert.equal(second?.author, 'Feed Author');
  assert.equal(second?.publishedAt?.toISOString(), '2024-05-31T08:00:00.000Z');
  assert.equal(second?.contentHtml, '<p>Line one<br />line two</p>\n<p>Second &lt;paragraph&gt; &amp; more</p>');
  // http pictures are never put in mail; the banner stands in.
  assert.equal(second?.image?.url, 'https://example.org/banner2.jpg');
  // A post without a title is named by its first line or sentence (as the digest names Mastodon posts).
  assert.equal(second?.title, 'Line one');
});

test('JSON Feed 1.0: the single author, numeric ids, relative URLs and a summary as content', async () => {
  const feed = await ingested('json/version-1.0.json', 'application/json', 'https://example.com/blog/feed.json');
  assert.deepEqual(
    feed.items.map((item) => [item.guid, item.url, item.author]),
    [
      ['42', 'https://example.com/blog/42', 'Cy'],
      ['43', 'https://example.com/blog/post-43', 'Feed Writer'],
    ],
  );
  assert.equal(feed.items[1]?.title, 'Only a summary, no title');
  // The whole text became the title: the excerpt does not say it twice.
  assert.equal(feed.items[1]?.excerpt, '');
});

test('a partial JSON Feed keeps what it can: identity from the link or a hash, no untrusted dates, wrong types ignored', async () => {
  const feed = await ingested('json/partial.json');
  assert.equal(feed.info.title, undefined);
  const titles = feed.items.map((item) => item.title);
  assert.deepEqual(titles, ['No id, has url', 'No id, no url', 'Untitled', 'Duplicate one']);
  assert.equal(feed.items[0]?.guid, 'https://example.net/a');
  assert.match(feed.items[1]!.guid, /^sha256:/);
  // "yesterday-ish" cannot be read, and 2999 is far in the future: neither is trusted.
  assert.equal(feed.items[0]?.publishedAt, null);
  assert.equal(feed.items[1]?.publishedAt, null);
  assert.equal(feed.items[2]?.url, null);
  assert.equal(feed.items[2]?.author, null);
  assert.deepEqual(feed.items[2]?.categories, []);
  assert.deepEqual(feed.items[2]?.enclosures, []);
});

const broken: Array<[string, string]> = [
  ['json/not-object.json', 'not a feed: JSON that is not an object'],
  ['json/items-not-array.json', 'JSON Feed without an items array'],
  ['json/no-version.json', 'not a feed: JSON without a JSON Feed version'],
];
for (const [file, reason] of broken) {
  test(`${file} is rejected: ${reason}`, async () => {
    assert.deepEqual(await ingestFixture(file), { kind: 'rejected', reason });
  });
}

test('a JSON document cut short is rejected as not well-formed JSON', async () => {
  const outcome = await ingestFixture('json/truncated.json');
  assert.equal(outcome.kind, 'rejected');
  assert.match(outcome.kind === 'rejected' ? outcome.reason : '', /^not well-formed JSON: /);
});

test('a JSON Feed with more posts than the cap keeps the first ones and counts the rest', async () => {
  const items = Array.from({ length: 30 }, (_, i) => ({ id: `p${i}`, title: `Post ${i}`, content_text: 'x'.repeat(1000) }));
  const bytes = Buffer.from(JSON.stringify({ version: 'https://jsonfeed.org/version/1.1', title: 'Big', items }));
  const outcome = await ingestFeed(bytes, 'application/feed+json', 'https://example.org/feed.json', { maxItems: 10, now: NOW });
  assert.equal(outcome.kind, 'ingested');
  if (outcome.kind !== 'ingested') return;
  assert.equal(outcome.items.length, 10);
  assert.equal(outcome.dropped, 20);
});

let server: TestServer;
let database: TestDatabase;
before(async () => {
  const big = JSON.stringify({
    version: 'https://jsonfeed.org/version/1.1',
    title: 'Huge',
    items: [{ id: '1', content_text: 'y'.repeat(50_000) }],
  });
  server = await startServer((req, res) => {
    if (req.url === '/feed.json')
      return void res.writeHead(200, { 'content-type': 'application/feed+json' }).end(fixture('json/version-1.1.json'));
    if (req.url === '/huge.json') return void res.writeHead(200, { 'content-type': 'application/feed+json' }).end(big);
    res.writeHead(404).end();
  });
  database = await createTestDatabase();
  await addCategory(database.db, { name: 'json' });
});
after(async () => {
  await server.close();
  await database.close();
});

test('a JSON Feed served over HTTP is stored with its picture, attachments and tags', async () => {
  const config = loadConfig({ BASE_URL: 'https://digest.example.org', FETCH_MAX_BYTES: '20000', FETCH_ALLOW_PRIVATE: '127.0.0.1' });
  const feed = await addFeed(database.db, { url: server.url('/feed.json'), categoryName: 'json' });
  assert.ok(!isProblem(feed));
  const outcome = await refreshFeed(database.db, config, feed, NOW);
  assert.equal(outcome.status, 'ok', outcome.message);
  const rows = await database.db
    .selectFrom('items')
    .select(['guid', 'image_url', 'enclosures', 'categories'])
    .where('feed_id', '=', feed.id)
    .orderBy('guid')
    .execute();
  assert.deepEqual(rows, [
    {
      guid: 'https://example.org/2024/first',
      image_url: 'https://example.org/pic.jpg',
      enclosures: [{ url: 'https://example.org/show.mp3', type: 'audio/mpeg', length: 1234 }],
      categories: ['Rust', 'web'],
    },
    { guid: 'tag:example.org,2024:second', image_url: 'https://example.org/banner2.jpg', enclosures: [], categories: [] },
  ]);
  const stored = await database.db.selectFrom('feeds').select(['title', 'site_url']).where('id', '=', feed.id).executeTakeFirstOrThrow();
  assert.deepEqual(stored, { title: 'Notes & <em>links</em>', site_url: 'https://example.org/' });
});

test('a JSON Feed larger than FETCH_MAX_BYTES is refused like any other feed', async () => {
  const config = loadConfig({ BASE_URL: 'https://digest.example.org', FETCH_MAX_BYTES: '20000', FETCH_ALLOW_PRIVATE: '127.0.0.1' });
  const feed = await addFeed(database.db, { url: server.url('/huge.json'), categoryName: 'json' });
  assert.ok(!isProblem(feed));
  const outcome = await refreshFeed(database.db, config, feed, NOW);
  assert.equal(outcome.status, 'error');
  assert.match(outcome.message, /larger than 20000 bytes/);
});
