import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { addFeedAt, type AddOutcome } from '../../src/feeds/add.js';
import { refreshFeed } from '../../src/feeds/refresh.js';
import { editFeed, listFeeds } from '../../src/feeds/store.js';
import { isProblem } from '../../src/problem.js';
import { addCategory } from '../../src/feeds/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { fixture } from './fixtures.js';
import { startServer, type TestServer } from './server.js';

const config = loadConfig({
  BASE_URL: 'https://digest.example.org',
  FETCH_TIMEOUT_MS: '5000',
  FETCH_MAX_BYTES: '20000',
  FETCH_ALLOW_PRIVATE: '127.0.0.1',
});

const RSS =
  '<?xml version="1.0"?><rss version="2.0"><channel><title>R</title><link>http://example.com/</link><item><guid>1</guid><title>One</title></item></channel></rss>';
const ATOM =
  '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>A</title><entry><id>urn:1</id><title>One</title></entry></feed>';
const page = (head: string, body = '<p>Hello</p>') =>
  `<!DOCTYPE html><html><head><title>Site</title>${head}</head><body>${body}</body></html>`;

type Route = { type: string; body: string | Buffer; headers?: Record<string, string> } | { status: number; location?: string };

/** Two sites: `site` has pages of every shape; `bare`'s routes are set per test. */
const siteRoutes = new Map<string, Route>();
const bareRoutes = new Map<string, Route>();
let site: TestServer;
let bare: TestServer;
let database: TestDatabase;

function serve(routes: Map<string, Route>) {
  return startServer((req, res) => {
    const route = routes.get(req.url ?? '');
    if (route === undefined) return void res.writeHead(404).end();
    if ('status' in route) return void res.writeHead(route.status, route.location ? { location: route.location } : {}).end();
    res.writeHead(200, { 'content-type': route.type, ...route.headers }).end(route.body);
  });
}

before(async () => {
  const html = 'text/html; charset=utf-8';
  siteRoutes.set('/feed.xml', { type: 'application/rss+xml', body: RSS });
  siteRoutes.set('/atom.xml', { type: 'application/atom+xml', body: ATOM });
  siteRoutes.set('/sub/feed.json', { type: 'application/feed+json', body: fixture('json/version-1.1.json') });
  siteRoutes.set('/blog/', {
    type: html,
    body: page(
      '<link rel="stylesheet" href="s.css"><LINK REL="Alternate" TYPE="application/rss+xml" HREF="../feed.xml" title="Posts &amp; notes">',
    ),
  });
  siteRoutes.set('/based', {
    type: html,
    body: page('<base href="/sub/"><link rel="alternate" type="application/feed+json" href="feed.json">'),
  });
  siteRoutes.set('/several', {
    type: html,
    body: page(`<link rel="alternate" type="application/rss+xml" href="/feed.xml" title="RSS">
      <link rel="alternate" type="application/atom+xml" href="/atom.xml" title="Atom">
      <link rel="alternate" type="application/rss+xml" href="/feed.xml" title="RSS again">
      <link rel="alternate" type="text/html" hreflang="fr" href="/fr/">
      <link rel="alternate" type="application/json" href="/wp-json/wp/v2/pages/2">
      <link rel="alternate" type="application/json" href="/feed.json" title="JSON Feed 1.0 style">`),
  });
  siteRoutes.set('/old-blog', { status: 301, location: '/blog/' });
  siteRoutes.set('/big', {
    type: html,
    body: page('<link rel="alternate" type="application/atom+xml" href="atom.xml">', `<p>${'word '.repeat(40_000)}</p>`),
  });
  siteRoutes.set('/linked', {
    type: html,
    body: page(''),
    headers: {
      link: '<https://cdn.example.org/style.css>; rel=preload; as=style, </atom.xml>; rel="alternate"; type="application/atom+xml"; title="Via, header"',
    },
  });
  siteRoutes.set('/list.opml', { type: 'text/x-opml', body: fixture('subscriptions.opml') });
  siteRoutes.set('/foaf.rdf', {
    type: 'application/rdf+xml',
    body: '<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:foaf="http://xmlns.com/foaf/0.1/" xmlns:rss="http://purl.org/rss/1.0/"><foaf:Group><foaf:member><foaf:Agent><foaf:name>Ann</foaf:name><foaf:weblog><foaf:Document rdf:about="http://ann.example/"><rdfs:seeAlso xmlns:rdfs="http://www.w3.org/2000/01/rdf-schema#"><rss:channel rdf:about="http://ann.example/rss"/></rdfs:seeAlso></foaf:Document></foaf:weblog></foaf:Agent></foaf:member></foaf:Group></rdf:RDF>',
  });
  siteRoutes.set('/catalog.xml', { type: 'text/xml', body: '<?xml version="1.0"?><catalog><book/></catalog>' });
  site = await serve(siteRoutes);
  bare = await serve(bareRoutes);
  database = await createTestDatabase();
  await addCategory(database.db, { name: 'news' });
});
after(async () => {
  await site.close();
  await bare.close();
  await database.close();
});

async function add(url: string, pick?: number): Promise<AddOutcome> {
  return addFeedAt(database.db, config, { url, categoryName: 'news', pick });
}

async function added(url: string, pick?: number) {
  const outcome = await add(url, pick);
  assert.ok(!isProblem(outcome) && outcome.kind === 'added', JSON.stringify(outcome));
  return outcome;
}

async function removeAll(): Promise<void> {
  await database.db.deleteFrom('feeds').execute();
}

test('a feed address is added as it is, with no site', async () => {
  const outcome = await added(site.url('/feed.xml'));
  assert.equal(outcome.feed.url, site.url('/feed.xml'));
  assert.equal(outcome.feed.site_url, null);
  assert.equal(outcome.via, undefined);
  await removeAll();
});

test('a page\'s <link rel="alternate"> with a relative href (any case) is found and added, the page kept as its site', async () => {
  const outcome = await added(site.url('/blog/'));
  assert.equal(outcome.feed.url, site.url('/feed.xml'));
  assert.equal(outcome.feed.site_url, site.url('/blog/'));
  assert.equal(outcome.via?.title, 'Posts & notes');
  const [listed] = await listFeeds(database.db);
  assert.equal(listed?.site_url, site.url('/blog/'));
  // The feed names another home (http://example.com/): the page it was found on stays its site.
  assert.equal((await refreshFeed(database.db, config, outcome.feed)).status, 'ok');
  assert.equal((await listFeeds(database.db))[0]?.site_url, site.url('/blog/'));
  await removeAll();
});

test('<base href> decides what relative feed links resolve against; JSON Feed links count', async () => {
  const outcome = await added(site.url('/based'));
  assert.equal(outcome.feed.url, site.url('/sub/feed.json'));
  assert.equal(outcome.via?.format, 'json');
  await removeAll();
});

test('a page that names several feeds lists them (each once) and adds the one picked', async () => {
  const outcome = await add(site.url('/several'));
  assert.ok(!isProblem(outcome) && outcome.kind === 'choose');
  assert.deepEqual(
    outcome.candidates.map((c) => [c.url, c.format, c.title]),
    [
      [site.url('/feed.xml'), 'rss', 'RSS'],
      [site.url('/atom.xml'), 'atom', 'Atom'],
      [site.url('/feed.json'), 'json', 'JSON Feed 1.0 style'],
    ],
  );
  assert.equal((await listFeeds(database.db)).length, 0);
  assert.match(((await add(site.url('/several'), 4)) as { problem: string }).problem, /--pick must be 1 to 3/);
  const picked = await added(site.url('/several'), 2);
  assert.equal(picked.feed.url, site.url('/atom.xml'));
  await removeAll();
});

test('a redirected page: its links resolve against where it ended up', async () => {
  const outcome = await added(site.url('/old-blog'));
  assert.equal(outcome.feed.url, site.url('/feed.xml'));
  assert.equal(outcome.feed.site_url, site.url('/blog/'));
  await removeAll();
});

test('a page larger than FETCH_MAX_BYTES is cut there, and the feed in its head still found', async () => {
  const outcome = await added(site.url('/big'));
  assert.equal(outcome.feed.url, site.url('/atom.xml'));
  await removeAll();
});

test('the HTTP Link header names a feed', async () => {
  const outcome = await added(site.url('/linked'));
  assert.equal(outcome.feed.url, site.url('/atom.xml'));
  assert.equal(outcome.via?.source, 'header');
  assert.equal(outcome.via?.title, 'Via, header');
  await removeAll();
});

test('a page naming no feed: common paths are tried, and without any the answer says where it looked', async () => {
  bareRoutes.set('/', { type: 'text/html', body: page('') });
  const none = await add(bare.url('/'));
  assert.ok(isProblem(none));
  assert.match(none.problem, /^no feed found on .*\/feed .*\/rss\.xml .*\/feed\.json/);
  assert.equal((await listFeeds(database.db)).length, 0);
  bareRoutes.set('/index.xml', { type: 'application/rss+xml', body: RSS });
  const probed = await added(bare.url('/'));
  assert.equal(probed.feed.url, bare.url('/index.xml'));
  assert.equal(probed.via?.source, 'path');
  await removeAll();
});

test('OPML and FOAF rolls are refused with a pointer to feeds import, never stored', async () => {
  for (const [path, kind] of [
    ['/list.opml', 'OPML'],
    ['/foaf.rdf', 'FOAF'],
  ]) {
    const outcome = await add(site.url(path!));
    assert.ok(isProblem(outcome), path);
    assert.match(outcome.problem, new RegExp(`list of feeds \\(${kind}\\).*feeds import`));
  }
  const other = await add(site.url('/catalog.xml'));
  assert.ok(isProblem(other));
  assert.match(other.problem, /not a feed \(not a feed: XML document <catalog>\)/);
  assert.equal((await listFeeds(database.db)).length, 0);
});

test('an address that cannot be fetched now is added, with a note', async () => {
  const outcome = await added(site.url('/not-yet'));
  assert.match(outcome.note ?? '', /HTTP 404/);
  await removeAll();
});

test('feeds edit changes title, category, URL and enabled in place, keeping posts', async () => {
  const { feed } = await added(site.url('/feed.xml'));
  await addCategory(database.db, { name: 'other' });
  await database.db
    .insertInto('items')
    .values({ feed_id: feed.id, guid: 'g', title: 'T', content_html: '', excerpt: '', content_hash: 'h' })
    .execute();
  await database.db.updateTable('feeds').set({ etag: '"v1"' }).where('id', '=', feed.id).execute();
  const edited = await editFeed(database.db, String(feed.id), {
    title: 'Renamed',
    categoryName: 'other',
    url: site.url('/atom.xml'),
    enabled: false,
  });
  assert.ok(!isProblem(edited));
  assert.equal(edited.id, feed.id);
  assert.equal(edited.title, 'Renamed');
  assert.equal(edited.url, site.url('/atom.xml'));
  assert.equal(edited.etag, null);
  assert.ok(edited.disabled_at !== null);
  const [listed] = await listFeeds(database.db);
  assert.deepEqual([listed?.category, Number(listed?.items)], ['other', 1]);
  const enabled = await editFeed(database.db, site.url('/atom.xml'), { enabled: true });
  assert.ok(!isProblem(enabled) && enabled.disabled_at === null);
  const { feed: second } = await added(site.url('/feed.xml'));
  assert.match(
    ((await editFeed(database.db, String(second.id), { url: site.url('/atom.xml') })) as { problem: string }).problem,
    /already added/,
  );
  assert.match(((await editFeed(database.db, '999999', { title: 'x' })) as { problem: string }).problem, /no feed 999999/);
  assert.match(
    ((await editFeed(database.db, String(second.id), { categoryName: 'nope' })) as { problem: string }).problem,
    /no category nope/,
  );
  await removeAll();
});
