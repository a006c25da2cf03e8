import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ingestFeed } from '../../src/feeds/pipeline.js';
import { storeItems } from '../../src/feeds/store.js';
import { projectRoot } from '../../src/paths.js';
import { FormClient, startWeb, type WebHarness } from './harness.js';
import { seedPlanet } from './planet-fixture.js';

let web: WebHarness;
before(async () => {
  web = await startWeb({ env: { PLANET_PAGE_SIZE: '10', SITE_TIMEZONE: 'Australia/Sydney', PLANET_CACHE_SECONDS: '0' } });
  await seedPlanet(web.database.db);
});
after(() => web.close());

const titlesOn = (html: string) => [...html.matchAll(/<h3 class="post-title">(?:<a [^>]*>)?([^<]+)/g)].map((m) => m[1]!);
const olderLink = (html: string) => /href="([^"]+)" rel="next">Older posts/.exec(html)?.[1]?.replace(/&amp;/g, '&');

test('the river pages through every public post once, newest first, without private or hidden ones', async () => {
  const client = new FormClient(web.baseUrl);
  const seen: string[] = [];
  let path: string | undefined = '/';
  let pages = 0;
  while (path !== undefined) {
    const page = await client.get(path);
    assert.equal(page.status, 200, path);
    seen.push(...titlesOn(page.body));
    path = olderLink(page.body);
    pages += 1;
  }
  assert.equal(seen.length, 49);
  assert.equal(new Set(seen).size, 49);
  assert.equal(pages, 5);
  assert.equal(seen[0], 'Blueprints implemented in Nova during Juno');
  assert.equal(seen.at(-1), 'Thinktime essay 45');
  assert.ok(!seen.some((title) => /Staff only|Hidden/.test(title)));
});

test('each post shows as its category says: full, excerpt or title, with source, author, time and category', async () => {
  const { body } = await new FormClient(web.baseUrl).get('/');
  const post = (title: string) => {
    const start = body.indexOf(`>${title}<`);
    return body.slice(body.lastIndexOf('<article', start), body.indexOf('</article>', start));
  };
  const full = post('Blueprints implemented in Nova during Juno');
  assert.match(full, /<table>/);
  assert.match(full, /<h4>Ongoing behind the scenes work<\/h4>/, "a post's own h2 sits below the post title");
  assert.match(full, /href="https:\/\/planet-linux-australia\.example\/">Planet Linux Australia<\/a>/);
  assert.match(full, /Michael Still/);
  assert.match(full, /Categories: <a href="\/c\/thinktime">Thinktime<\/a>/);
  assert.match(full, /<time datetime="[^"]+Z">\d\d:\d\d GMT\+1[01]<\/time>/, 'times in SITE_TIMEZONE');
  assert.match(
    post('The wide picture'),
    /<img loading="lazy" decoding="async" referrerpolicy="no-referrer" src="https:\/\/images\.example\/huge\.png"/,
  );
  const excerpt = post('Responsive tables, again');
  assert.match(excerpt, /A short excerpt of Responsive tables/);
  assert.doesNotMatch(excerpt, /The body of/);
  const titleOnly = post('Nova 2014.2 released');
  assert.doesNotMatch(titleOnly, /excerpt|The body of/);
  assert.match(body, /<h2 class="day-heading" id="day-\d{4}-\d\d-\d\d">\w+day, \d+ \w+ \d{4}<\/h2>/);
});

test('a category page shows only its posts; a private or unknown category is not found', async () => {
  const client = new FormClient(web.baseUrl);
  const tech = await client.get('/c/tech');
  assert.equal(tech.status, 200);
  assert.deepEqual(titlesOn(tech.body), ['Responsive tables, again']);
  assert.match(
    tech.body,
    /<link rel="alternate" type="application\/atom\+xml" title="Tech &amp; Code \(Atom\)" href="\/c\/tech\/feed\.atom">/,
  );
  for (const path of ['/c/staff', '/c/nope', '/c/staff/feed.atom', '/c/staff/feed.json', '/c/staff/opml', '/?before=garbage']) {
    assert.equal((await client.get(path)).status, 404, path);
  }
});

test('pages and feeds answer conditional requests with 304', async () => {
  for (const path of ['/', '/c/thinktime', '/feed.atom', '/feed.json', '/sources', '/opml', '/editions']) {
    const first = await fetch(`${web.baseUrl}${path}`);
    const etag = first.headers.get('etag');
    assert.ok(etag, path);
    assert.equal((await fetch(`${web.baseUrl}${path}`, { headers: { 'if-none-match': etag } })).status, 304, path);
    assert.equal((await fetch(`${web.baseUrl}${path}`, { headers: { 'if-none-match': '"other"' } })).status, 200, path);
    const lastModified = first.headers.get('last-modified');
    if (lastModified !== null)
      assert.equal((await fetch(`${web.baseUrl}${path}`, { headers: { 'if-modified-since': lastModified } })).status, 304, path);
  }
});

test('sources list each visible feed with its last post, fetch status in words and 30-day count; OPML lists them', async () => {
  const client = new FormClient(web.baseUrl);
  const sources = await client.get('/sources');
  assert.match(sources.body, /Planet Linux Australia/);
  assert.match(sources.body, /Fetched 3 hours ago/);
  assert.match(sources.body, /23 posts in the last 30 days/);
  assert.doesNotMatch(sources.body, /Staff notes|Hidden feed/);
  const opml = await client.get('/opml');
  assert.match(opml.headers.get('content-type') ?? '', /opml/);
  assert.match(opml.body, /xmlUrl="https:\/\/a-list-apart\.example\/feed\.xml"/);
  assert.doesNotMatch(opml.body, /staff-notes|hidden-feed/);
  const one = await client.get('/c/tech/opml');
  assert.match(one.body, /a-list-apart/);
  assert.doesNotMatch(one.body, /planet-linux/);
});

test('the archive lists public editions by date and links to each; editions with a private category are left out', async () => {
  const { db } = web.database;
  const ids = Object.fromEntries((await db.selectFrom('categories').select(['name', 'id']).execute()).map((c) => [c.name, c.id]));
  const items = await db.selectFrom('items').select('id').limit(3).execute();
  await db
    .insertInto('editions')
    .values([
      { key: 'A'.repeat(43), category_ids: [ids.thinktime!], item_ids: items.map((i) => i.id) },
      { key: 'B'.repeat(43), category_ids: [ids.thinktime!, ids.staff!], item_ids: items.map((i) => i.id) },
    ])
    .execute();
  const archive = await new FormClient(web.baseUrl).get('/editions');
  assert.match(archive.body, new RegExp(`href="/editions/${'A'.repeat(43)}"`));
  assert.match(archive.body, /3 posts · Thinktime/);
  assert.doesNotMatch(archive.body, /BBBBBBBB/);
});

test('the Content-Security-Policy lets posts show https pictures and nothing else new', async () => {
  const response = await fetch(`${web.baseUrl}/`);
  const csp = response.headers.get('content-security-policy') ?? '';
  assert.match(csp, /img-src 'self' https:/);
  assert.match(csp, /script-src 'self'(;|$)/);
  assert.match(csp, /default-src 'none'/);
});

test('the sign-up form is at /subscribe, linked from every planet page', async () => {
  const client = new FormClient(web.baseUrl);
  for (const path of ['/', '/c/thinktime', '/sources', '/editions']) {
    assert.match((await client.get(path)).body, /<a class="nav-button" href="\/subscribe"[^>]*>Get this by email<\/a>/, path);
  }
  assert.match((await client.get('/subscribe')).body, /name="_csrf"/);
});

test('PLANET_PUBLIC=false: no river, feeds, sources or archive; / is the sign-up form', async () => {
  const closed = await startWeb({ env: { PLANET_PUBLIC: 'false' } });
  try {
    await seedPlanet(closed.database.db);
    const client = new FormClient(closed.baseUrl);
    for (const path of ['/c/thinktime', '/feed.atom', '/feed.json', '/c/thinktime/feed.atom', '/sources', '/opml', '/editions']) {
      assert.equal((await client.get(path)).status, 404, path);
    }
    const home = await client.get('/');
    assert.equal(home.status, 200);
    assert.match(home.body, /name="_csrf"/);
    assert.doesNotMatch(home.body, /Blueprints|rel="alternate"|Get this by email/);
    assert.equal((await client.get('/subscribe')).status, 200);
  } finally {
    await closed.close();
  }
});

test('a hostile post, through the real ingestion, shows nothing executable and no tracking pixel on the river', async () => {
  const { db } = web.database;
  const bytes = await readFile(path.join(projectRoot, 'test/fixtures/feeds/sanitize.xml'));
  const outcome = await ingestFeed(bytes, 'application/rss+xml', 'https://nasty.example/feed.xml', { maxItems: 10, now: new Date() });
  assert.equal(outcome.kind, 'ingested');
  if (outcome.kind !== 'ingested') return;
  const thinktime = await db.selectFrom('categories').select('id').where('name', '=', 'thinktime').executeTakeFirstOrThrow();
  const feed = await db
    .insertInto('feeds')
    .values({ category_id: thinktime.id, url: 'https://nasty.example/feed.xml', title: 'Nasty' })
    .returning('id')
    .executeTakeFirstOrThrow();
  await storeItems(db, feed.id, outcome.items, { baseline: false, now: new Date() });
  const { body } = await new FormClient(web.baseUrl).get('/c/thinktime');
  const post = body.slice(body.indexOf('<article', body.indexOf('Nasty')) - 2000, body.indexOf('</article>', body.indexOf('Nasty')));
  assert.match(post, /Hi /);
  for (const bad of [/<script/i, /\son\w+=/i, /javascript:/i, /data:/i, /<iframe|<object|<embed|<form|<svg/i, /t\.gif|feedburner/])
    assert.doesNotMatch(post, bad);
  for (const path of ['/feed.atom', '/feed.json']) {
    const feedBody = (await new FormClient(web.baseUrl).get(path)).body;
    assert.doesNotMatch(feedBody, /&lt;script|<script|javascript:|onerror/i, path);
  }
});

test('pages go gzipped to clients that take gzip, with an ETag of their own', async () => {
  const plain = await fetch(`${web.baseUrl}/`, { headers: { 'accept-encoding': 'identity' } });
  const zipped = await fetch(`${web.baseUrl}/`, { headers: { 'accept-encoding': 'gzip, deflate, br' } });
  assert.equal(plain.headers.get('content-encoding'), null);
  assert.equal(zipped.headers.get('content-encoding'), 'gzip');
  assert.equal(zipped.headers.get('vary'), 'accept-encoding');
  assert.notEqual(plain.headers.get('etag'), zipped.headers.get('etag'));
  assert.equal(await zipped.text(), await plain.text());
  const again = await fetch(`${web.baseUrl}/`, { headers: { 'accept-encoding': 'gzip', 'if-none-match': zipped.headers.get('etag')! } });
  assert.equal(again.status, 304);
});
