import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFeedDate } from '../../src/feeds/dates.js';
import { documentBase } from '../../src/feeds/fetch.js';
import { excerptOf } from '../../src/feeds/normalize.js';
import { ingestFeed } from '../../src/feeds/pipeline.js';
import { ingested, NOW } from './fixtures.js';

const dates: Array<[string, string | undefined]> = [
  ['Wed, 02 Oct 2002 13:00:00 GMT', '2002-10-02T13:00:00.000Z'],
  ['Wed, 02 Oct 2002 15:00:00 +0200', '2002-10-02T13:00:00.000Z'],
  ['2 Oct 2002 08:00 EST', '2002-10-02T13:00:00.000Z'],
  ['Wed, 02 Oct 02 13:00:00 GMT', '2002-10-02T13:00:00.000Z'],
  ['Wednesday, 02-Oct-2002 13:00:00 UT', '2002-10-02T13:00:00.000Z'],
  ['2002-10-02T13:00:00Z', '2002-10-02T13:00:00.000Z'],
  ['2002-10-02T15:00:00.123+02:00', '2002-10-02T13:00:00.000Z'],
  ['2002-10-02T13:00:00', '2002-10-02T13:00:00.000Z'],
  ['2023-06-29 00:30:00 UTC', '2023-06-29T00:30:00.000Z'],
  ['20021002T130000Z', '2002-10-02T13:00:00.000Z'],
  ['2002-10-02', '2002-10-02T00:00:00.000Z'],
  ['someday', undefined],
  ['', undefined],
];
for (const [raw, expected] of dates) {
  test(`date "${raw}"`, () => {
    const parsed = parseFeedDate(raw);
    assert.equal(parsed?.toISOString().replace(/\.\d{3}Z$/, '.000Z'), expected);
  });
}

function feedWithDates(...pubDates: string[]): Buffer {
  const items = pubDates
    .map((date, i) => `<item><title>P${i}</title><link>http://example.com/${i}</link><pubDate>${date}</pubDate></item>`)
    .join('');
  return Buffer.from(`<rss version="2.0"><channel><title>Dates</title>${items}</channel></rss>`);
}

test('dates far in the future are not trusted; missing dates stay unknown (the store uses first-seen)', async () => {
  const outcome = await ingestFeed(
    feedWithDates('Mon, 01 Jan 2035 00:00:00 GMT', 'garbage', 'Sat, 01 Jun 2024 11:00:00 GMT'),
    undefined,
    'http://example.com/',
    { maxItems: 10, now: NOW },
  );
  assert.equal(outcome.kind, 'ingested');
  if (outcome.kind !== 'ingested') return;
  assert.deepEqual(
    outcome.items.map((item) => item.publishedAt?.toISOString() ?? null),
    [null, null, '2024-06-01T11:00:00.000Z'],
  );
});

test('xml:base on feed, entry and content resolve links and content URLs', async () => {
  const feed = await ingested('links/xml-base.xml');
  assert.equal(feed.info.siteUrl, 'http://example.org/blog/');
  assert.equal(feed.items[0]?.url, 'http://example.org/blog/2024/post-1.html');
  assert.match(feed.items[0].contentHtml, /src="http:\/\/cdn\.example\.org\/media\/pic\.png"/);
  assert.match(feed.items[0].contentHtml, /href="http:\/\/cdn\.example\.org\/about"/);
});

test('relative RSS links resolve against the feed URL; an empty link falls back to a permalink guid', async () => {
  const feed = await ingested('links/rss-relative.xml', undefined, 'https://example.com/blog/feed.xml');
  assert.equal(feed.info.siteUrl, 'https://example.com/');
  assert.equal(feed.items[0]?.url, 'https://example.com/posts/1');
  assert.match(feed.items[0].contentHtml, /href="https:\/\/example\.com\/posts\/1#more"/);
  assert.match(feed.items[0].contentHtml, /src="https:\/\/example\.com\/blog\/img\/a\.png"/);
  assert.equal(feed.items[1]?.url, 'https://example.com/posts/2');
  assert.equal(feed.items[2]?.url, null);
});

test('relative links of a feed served from elsewhere resolve against where it says it lives (atom:link self)', async () => {
  const feed = await ingested('links/relative-with-self.xml', undefined, 'http://mirror.example.net/feeds/news.xml');
  assert.equal(feed.info.siteUrl, 'https://www.example.com/news');
  assert.equal(feed.items[0]?.url, 'https://www.example.com/news/1');
  assert.match(feed.items[0].contentHtml, /href="https:\/\/www\.example\.com\/news\/1#more"/);
});

test('Content-Location is the document base when it is http(s), never another scheme', () => {
  assert.equal(documentBase('http://a.example/feed.xml', 'http://b.example/blog/'), 'http://b.example/blog/');
  assert.equal(documentBase('http://a.example/x/feed.xml', '/y/feed'), 'http://a.example/y/feed');
  assert.equal(documentBase('http://a.example/feed.xml', "javascript:alert('x')"), 'http://a.example/feed.xml');
  assert.equal(documentBase('http://a.example/feed.xml', undefined), 'http://a.example/feed.xml');
});

test('a tag: link is an identity, not a link: the post has no link rather than a non-web one', async () => {
  const xml =
    '<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><title>E</title><link href="tag:example.org,2024:1"/><id>tag:example.org,2024:1</id></entry></feed>';
  const outcome = await ingestFeed(Buffer.from(xml), undefined, 'http://example.com/', { maxItems: 10, now: NOW });
  assert.ok(outcome.kind === 'ingested');
  assert.equal(outcome.items[0]?.url, null);
  assert.equal(outcome.items[0]?.guid, 'tag:example.org,2024:1');
});

test('identity: guid, else link, else a hash; a duplicate guid in one feed is one post', async () => {
  const feed = await ingested('links/duplicates.xml');
  assert.deepEqual(
    feed.items.map((item) => item.title),
    ['First copy', 'No guid', 'Neither'],
  );
  assert.equal(feed.items[0]?.guid, 'same');
  assert.equal(feed.items[1]?.guid, 'http://example.com/2');
  assert.match(feed.items[2]!.guid, /^sha256:[0-9a-f]{64}$/);
  assert.equal(feed.items[2]?.title, 'Neither');
});

test('excerpt is plain text of about 300 characters cut at a word', () => {
  const html = `<p>${'word '.repeat(100)}</p>`;
  const excerpt = excerptOf(html);
  assert.ok(excerpt.length <= 301 && excerpt.length > 250, String(excerpt.length));
  assert.match(excerpt, /word…$/);
  assert.equal(excerptOf('<p>Short <b>and</b> &amp; sweet</p>'), 'Short and & sweet');
});

test('nothing executable survives sanitizing; tracking pixels go; links get rel=noopener', async () => {
  const feed = await ingested('sanitize.xml');
  const item = feed.items[0]!;
  assert.doesNotMatch(item.title, /<script/);
  assert.equal(item.url, null, 'a javascript: link is no link');
  const html = item.contentHtml;
  for (const bad of [
    /<script/i,
    /<style/i,
    /onclick|onerror|onload/i,
    /javascript:/i,
    /data:/i,
    /<iframe|<object|<embed|<form|<input|<svg/i,
    /style=/i,
    /t\.gif/,
    /feedburner/,
  ]) {
    assert.doesNotMatch(html, bad);
  }
  assert.match(html, /<img src="http:\/\/example\.com\/pic\.png" \/>/);
  assert.match(html, /<a href="http:\/\/example\.com\/ok" rel="noopener noreferrer">ok<\/a>/);
});
