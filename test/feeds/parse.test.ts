import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { test } from 'node:test';
import { ingestFeed } from '../../src/feeds/pipeline.js';
import { fixture, ingested, ingestFixture, NOW } from './fixtures.js';

test('leading whitespace and a BOM before <?xml are accepted', async () => {
  assert.equal((await ingested('forgiving/leading-whitespace-bom.xml')).items.length, 1);
});

test('HTML named entities without a DTD, and bare ampersands, are read as a browser would', async () => {
  const feed = await ingested('forgiving/html-entities.xml');
  assert.equal(feed.info.title, 'Caf\u00e9 \u2014 news\u00a0today'.replace(/\s+/g, ' '));
  assert.equal(feed.items[0]?.title, 'Fish & chips \u2026 \u00a9 &undefinedentity;');
  assert.equal(feed.items[0]?.url, 'http://example.com/a?x=1&y=2');
  assert.match(feed.items[0].contentHtml, /Tom &amp; Jerry &amp; friends/);
});

test('a stray U+FEFF inside the document is dropped', async () => {
  const feed = await ingested('forgiving/stray-feff.xml');
  assert.equal(feed.info.title, 'Stray mark');
  assert.equal(feed.items[0]?.title, 'Zerowidth');
});

test('an RSS root without a version is RSS 2.0', async () => {
  assert.equal((await ingested('forgiving/rss-no-version.xml')).items[0]?.title, 'Item');
});

test('RSS element names in the wrong case are read (as iTunes does); media:title stands in for a missing title', async () => {
  const feed = await ingested('forgiving/element-case.xml');
  assert.equal(feed.info.title, 'Podcast');
  assert.deepEqual(
    feed.items.map((item) => [item.title, item.url]),
    [
      ['Episode 1', 'http://example.com/1'],
      ['Episode 2 & more', 'http://example.com/2'],
    ],
  );
});

test('Atom with a namespace prefix on every element still gives its entries', async () => {
  const feed = await ingested('forgiving/prefixed-atom.xml');
  assert.deepEqual(
    feed.items.map((item) => item.title),
    ['First', 'Second'],
  );
});

test('XHTML titles, Atom links without attributes and unreadable dates do not lose the feed', async () => {
  const feed = await ingested('forgiving/atom-quirks.xml');
  assert.equal(feed.info.title, 'An XHTML title');
  assert.equal(feed.info.siteUrl, 'http://example.com/');
  assert.equal(feed.items[0]?.title, 'Entry one');
  assert.equal(feed.items[0]?.publishedAt?.toISOString(), '2003-06-10T04:00:00.000Z');
  assert.equal(feed.items[1]?.url, 'http://example.com/2');
  assert.equal(feed.items[1]?.publishedAt, null);
});

test('a document cut short still gives the posts before the cut', async () => {
  const feed = await ingested('forgiving/unclosed.xml');
  assert.equal(feed.items[0]?.title, 'Complete');
});

const nonFeeds: Array<[string, RegExp]> = [
  ['nonfeeds/page.html', /^not a feed: HTML page$/],
  ['json/no-version.json', /^not a feed: JSON without a JSON Feed version$/],
  ['nonfeeds/subscriptions.opml', /^not a feed: OPML$/],
  ['nonfeeds/plain.xml', /^not a feed: XML document <catalog>$/],
  ['nonfeeds/empty.xml', /^empty body$/],
];
for (const [name, reason] of nonFeeds) {
  test(`${name} is rejected with a clear reason`, async () => {
    const outcome = await ingestFixture(name);
    assert.equal(outcome.kind, 'rejected');
    assert.match(outcome.kind === 'rejected' ? outcome.reason : '', reason);
  });
}

test('gzip bytes without a Content-Encoding header are not a feed', async () => {
  const outcome = await ingestFeed(gzipSync(fixture('forgiving/rss-no-version.xml')), 'text/xml', 'http://example.com/', {
    maxItems: 10,
    now: NOW,
  });
  assert.deepEqual(outcome, { kind: 'rejected', reason: 'not a feed: gzip bytes' });
});

test('billion laughs: DTD entities are never expanded', async () => {
  const feed = await ingested('safety/billion-laughs.xml');
  assert.ok(feed.items[0]!.title.length < 100, feed.items[0]!.title);
  assert.doesNotMatch(feed.items[0]!.title, /lollol/);
});

test('XXE: external entities are never read', async () => {
  const feed = await ingested('safety/xxe.xml');
  assert.doesNotMatch(JSON.stringify(feed), /root:/);
});

test('50,000 nested elements are rejected, not a crash', async () => {
  const xml = `<rss version="2.0"><channel><title>Deep</title><item><description>${'<x>'.repeat(50_000)}${'</x>'.repeat(50_000)}</description></item></channel></rss>`;
  const outcome = await ingestFeed(Buffer.from(xml), undefined, 'http://example.com/', { maxItems: 10, now: NOW });
  // The whole feed is refused with a reason (it used to pass with any outcome at all).
  assert.equal(outcome.kind, 'rejected');
  assert.match(outcome.kind === 'rejected' ? outcome.reason : '', /nested too deeply/);
  // And the parser is still fine for the next feed.
  const next = await ingestFeed(
    Buffer.from('<rss version="2.0"><channel><title>Flat</title><item><title>One</title></item></channel></rss>'),
    undefined,
    'http://example.com/',
    { maxItems: 10, now: NOW },
  );
  assert.equal(next.kind === 'ingested' && next.items.length, 1);
});

test('posts past the per-feed cap are dropped', async () => {
  const items = Array.from({ length: 30 }, (_, i) => `<item><title>Post ${i}</title><link>http://example.com/${i}</link></item>`).join('');
  const outcome = await ingestFeed(
    Buffer.from(`<rss version="2.0"><channel><title>Many</title>${items}</channel></rss>`),
    undefined,
    'http://example.com/',
    { maxItems: 10, now: NOW },
  );
  assert.equal(outcome.kind === 'ingested' && outcome.items.length, 10);
  assert.equal(outcome.kind === 'ingested' && outcome.dropped, 20);
});

test("a post's own tags are read: RSS category and dc:subject, Atom category term (label without one), each once", async () => {
  const rss =
    '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>T</title><item><guid>1</guid><title>A</title><category domain="x">Rust</category><category>Web</category><dc:subject>Rust</dc:subject></item></channel></rss>';
  const atom =
    '<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><entry><id>urn:1</id><title>A</title><category term="rust" label="Rust"/><category label="Only a label"/><category/></entry></feed>';
  const categories = async (xml: string) => {
    const outcome = await ingestFeed(Buffer.from(xml), 'application/xml', 'http://example.com/feed', { maxItems: 10, now: NOW });
    assert.equal(outcome.kind, 'ingested');
    return outcome.kind === 'ingested' ? outcome.items[0]?.categories : undefined;
  };
  assert.deepEqual(await categories(rss), ['Rust', 'Web']);
  assert.deepEqual(await categories(atom), ['rust', 'Only a label']);
});
