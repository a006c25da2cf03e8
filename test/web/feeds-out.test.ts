import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { parseStringPromise } from 'xml2js';
import { ingestFeed } from '../../src/feeds/pipeline.js';
import { loadRiver, type RiverPost } from '../../src/planet/river.js';
import { startWeb, type WebHarness } from './harness.js';
import { seedPlanet } from './planet-fixture.js';

let web: WebHarness;
let expected: RiverPost[];
before(async () => {
  web = await startWeb({ env: { PLANET_CACHE_SECONDS: '0' } });
  await seedPlanet(web.database.db);
  expected = (await loadRiver(web.database.db, { limit: 50 })).posts;
});
after(() => web.close());

/** RFC 3339 date-time, as Atom (RFC 4287 §3.3) and JSON Feed require. */
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
/** Feeds carry whole seconds. */
const inSeconds = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');
const isAbsolute = (iri: string) => /^[a-z][a-z0-9+.-]*:/i.test(iri);

/** What xml2js (default options) makes of our Atom: each child element an array, attributes in `$`. */
interface AtomLink {
  $: { href: string; rel?: string };
}
interface AtomPerson {
  name?: string[];
}
interface AtomEntry {
  id: [string];
  title: [unknown];
  updated: [string];
  published: [string];
  author?: AtomPerson[];
  source?: Array<{ title?: unknown[]; id?: string[]; author?: AtomPerson[] }>;
  link?: AtomLink[];
  content?: unknown[];
}
interface AtomFeed {
  $: { xmlns: string };
  id: [string];
  title: [unknown];
  updated: [string];
  link: AtomLink[];
  entry: AtomEntry[];
}

async function parseAtom(xml: string): Promise<AtomFeed> {
  return ((await parseStringPromise(xml)) as { feed: AtomFeed }).feed;
}

/** The JSON Feed 1.1 fields these tests read, as the spec types them. */
interface JsonFeed {
  version: string;
  title: string;
  feed_url: string;
  home_page_url: string;
  items: Array<{
    id: string;
    title: string;
    url: string;
    content_html?: string;
    content_text?: string;
    date_published: string;
    date_modified: string;
    authors?: Array<{ name: string }>;
    _source: { title: string };
  }>;
}

async function get(path: string) {
  const response = await fetch(`${web.baseUrl}${path}`);
  assert.equal(response.status, 200, path);
  return { type: response.headers.get('content-type') ?? '', body: new Uint8Array(await response.arrayBuffer()) };
}

test('our Atom feed parses back through our own ingestion with every title, link, date and author', async () => {
  const { type, body } = await get('/feed.atom');
  assert.match(type, /^application\/atom\+xml/);
  const outcome = await ingestFeed(body, type, `${web.baseUrl}/feed.atom`, { maxItems: 500, now: new Date() });
  assert.equal(outcome.kind, 'ingested');
  if (outcome.kind !== 'ingested') return;
  assert.equal(expected.length, 49);
  assert.equal(outcome.items.length, expected.length);
  assert.ok(!outcome.items.some((item) => /Staff only|Hidden/.test(item.title)));
  outcome.items.forEach((item, index) => {
    const post = expected[index]!;
    assert.equal(item.title, post.title);
    assert.equal(item.url, post.url);
    assert.equal(item.publishedAt?.toISOString(), inSeconds(post.date).replace('Z', '.000Z'));
    assert.equal(item.author, post.author, `author of ${post.title}`);
  });
  // Full posts keep their markup; excerpts come as text.
  assert.match(outcome.items[0]!.contentHtml, /<table>/);
});

test('our Atom feeds follow RFC 4287: required elements, unique ids, RFC 3339 dates, an author for every entry', async () => {
  for (const path of ['/feed.atom', '/c/thinktime/feed.atom', '/c/tech/feed.atom']) {
    const xml = Buffer.from((await get(path)).body).toString('utf8');
    const feed = await parseAtom(xml);
    assert.equal(feed.$.xmlns, 'http://www.w3.org/2005/Atom');
    for (const element of ['id', 'title', 'updated'] as const) assert.equal(feed[element]?.length, 1, `${path}: feed ${element}`);
    assert.match(feed.updated[0], RFC3339);
    assert.ok(isAbsolute(feed.id[0]));
    const links = feed.link.map((link) => link.$);
    assert.ok(
      links.some((link) => link.rel === 'self' && link.href === `${web.baseUrl}${path}`),
      `${path}: self link, absolute`,
    );
    const ids = new Set<string>();
    for (const entry of feed.entry) {
      for (const element of ['id', 'title', 'updated'] as const) assert.equal(entry[element]?.length, 1, `${path}: entry ${element}`);
      const id = entry.id[0];
      assert.ok(isAbsolute(id), `${id} is an IRI`);
      assert.ok(!ids.has(id), `${path}: ${id} twice`);
      ids.add(id);
      assert.match(entry.updated[0], RFC3339);
      assert.match(entry.published[0], RFC3339);
      const source = entry.source?.[0];
      assert.ok(source?.title?.[0] && source.id?.[0], 'the source is named');
      assert.ok(entry.author?.[0]?.name?.[0] || source.author?.[0]?.name?.[0], `${path}: ${id} has an author`);
      for (const link of entry.link ?? []) assert.ok(isAbsolute(link.$.href));
      // Either content or a link to it (RFC 4287 §4.1.2).
      assert.ok(entry.content !== undefined || entry.link?.some((link) => link.$.rel === 'alternate'));
    }
  }
});

test('our JSON Feeds follow JSON Feed 1.1: version, title, items with unique ids, content, RFC 3339 dates, absolute URLs', async () => {
  for (const path of ['/feed.json', '/c/thinktime/feed.json', '/c/releases/feed.json']) {
    const { type, body } = await get(path);
    assert.match(type, /^application\/feed\+json/);
    const feed = JSON.parse(Buffer.from(body).toString('utf8')) as JsonFeed;
    assert.equal(feed.version, 'https://jsonfeed.org/version/1.1');
    assert.equal(typeof feed.title, 'string');
    assert.equal(feed.feed_url, `${web.baseUrl}${path}`);
    assert.ok(isAbsolute(feed.home_page_url));
    assert.ok(Array.isArray(feed.items) && feed.items.length > 0);
    const ids = new Set<string>();
    for (const item of feed.items) {
      assert.equal(typeof item.id, 'string');
      assert.ok(!ids.has(item.id), `${path}: ${item.id} twice`);
      ids.add(item.id);
      assert.ok(typeof item.content_html === 'string' || typeof item.content_text === 'string', 'content_html or content_text');
      assert.match(item.date_published, RFC3339);
      assert.match(item.date_modified, RFC3339);
      assert.ok(isAbsolute(item.url));
      assert.equal(typeof item._source.title, 'string');
      for (const author of item.authors ?? []) assert.equal(typeof author.name, 'string');
    }
  }
  const whole = JSON.parse(Buffer.from((await get('/feed.json')).body).toString('utf8')) as JsonFeed;
  whole.items.forEach((item, index) => {
    const post = expected[index]!;
    assert.deepEqual(
      [item.title, item.url, item.date_published, item.authors?.[0]?.name ?? null],
      [post.title, post.url, inSeconds(post.date), post.author],
    );
  });
});

test('ids stay unique when two sources use the same guid', async () => {
  const { db } = web.database;
  const feeds = await db.selectFrom('feeds').select('id').where('title', 'in', ['Planet Linux Australia', 'Seth Godin']).execute();
  for (const feed of feeds) {
    await db
      .insertInto('items')
      .values({
        feed_id: feed.id,
        guid: 'https://shared.example/same-guid',
        url: `https://shared.example/${feed.id}`,
        title: `Shared guid ${feed.id}`,
        author: 'Someone',
        content_html: '<p>x</p>',
        excerpt: 'x',
        content_hash: `shared-${feed.id}`,
        published_at: new Date(),
      })
      .execute();
  }
  const feed = await parseAtom(Buffer.from((await get('/feed.atom')).body).toString('utf8'));
  const ids = feed.entry.map((entry) => entry.id[0]);
  assert.equal(new Set(ids).size, ids.length);
  assert.ok(ids.includes('https://shared.example/same-guid'));
});
