import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { fetchFeed } from '../../src/feeds/fetch.js';
import { refreshFeed } from '../../src/feeds/refresh.js';
import { addCategory, addFeed } from '../../src/feeds/store.js';
import { isProblem } from '../../src/problem.js';
import { feedAddressProblem } from '../../src/feeds/address.js';
import { createTestDatabase, serverUrl, type TestDatabase } from '../helpers/db.js';
import { startServer, type TestServer } from './server.js';

/**
 * Issue 11, item 15. The "public" feed server is on 127.0.0.1, allowed by the setting as
 * an operator would allow one internal host; the "internal" one listens on 127.0.0.2, an
 * address nobody allowed. Every test also shows the internal server got no request.
 */
const backend = serverUrl ? 'Postgres server' : 'PGlite';
const config = loadConfig({ BASE_URL: 'https://digest.example.org', FETCH_TIMEOUT_MS: '3000', FETCH_ALLOW_PRIVATE: '127.0.0.1' });
const SECRET_FEED =
  '<rss version="2.0"><channel><title>Internal admin</title><item><guid>s</guid><title>root password</title></item></channel></rss>';

let internal: Server;
let internalPort: number;
const internalRequests: string[] = [];
let feeds: TestServer;
let database: TestDatabase;

function internalUrl(path: string): string {
  return `http://127.0.0.2:${internalPort}${path}`;
}

before(async () => {
  internal = createServer((req, res) => {
    internalRequests.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(SECRET_FEED);
  });
  await new Promise<void>((resolve) => internal.listen(0, '127.0.0.2', resolve));
  internalPort = (internal.address() as { port: number }).port;
  feeds = await startServer((req, res) => {
    const targets: Record<string, string> = {
      '/to-internal': internalUrl('/admin.xml'),
      '/to-metadata': 'http://169.254.169.254/latest/meta-data/',
      '/to-ipv6-loopback': `http://[::1]:${internalPort}/feed`,
      '/to-mapped': `http://[::ffff:127.0.0.2]:${internalPort}/feed`,
      '/to-data': `data:application/rss+xml,${encodeURIComponent(SECRET_FEED)}`,
      '/to-file': 'file:///etc/passwd',
      '/hop-then-internal': '/to-internal',
    };
    const target = targets[req.url ?? ''];
    if (target !== undefined) return void res.writeHead(301, { location: target }).end();
    res.writeHead(200, { 'content-type': 'application/rss+xml' }).end('<rss version="2.0"><channel><title>Fine</title></channel></rss>');
  });
  database = await createTestDatabase();
});

after(async () => {
  await feeds.close();
  await new Promise((resolve) => internal.close(resolve));
  await database.close();
});

const none = { etag: null, lastModified: null };

test('a redirect to an internal address, data:, file: or a name that resolves inside is refused at that hop', async () => {
  for (const path of ['/to-internal', '/to-metadata', '/to-ipv6-loopback', '/to-mapped', '/to-data', '/to-file', '/hop-then-internal']) {
    const result = await fetchFeed(config, feeds.url(path), none);
    assert.equal(result.kind, 'error', path);
    assert.match(result.kind === 'error' ? result.reason : '', /refused/, path);
    assert.equal(result.kind === 'error' ? result.permanentRedirect : 'x', undefined, `${path}: no move to store`);
  }
  // Only the lookup made at connect time can see where a name points.
  const named = await fetchFeed({ ...config, fetchAllowPrivate: [] }, feeds.url('/fine').replace('127.0.0.1', 'localhost'), none);
  assert.equal(named.kind, 'error');
  assert.match(named.kind === 'error' ? named.reason : '', /localhost resolves to 127\.0\.0\.1, an internal address/);
  assert.equal(feeds.requests.filter((r) => r.url === '/fine').length, 0);
  assert.deepEqual(internalRequests, []);
});

test('the first URL is checked too; FETCH_ALLOW_PRIVATE=true lets everything through', async () => {
  const direct = await fetchFeed(config, internalUrl('/admin.xml'), none);
  assert.equal(direct.kind, 'error');
  assert.match(direct.kind === 'error' ? direct.reason : '', /127\.0\.0\.2 is an internal address/);
  assert.deepEqual(internalRequests, []);

  const opened = await fetchFeed({ ...config, fetchAllowPrivate: true }, feeds.url('/to-internal'), none);
  assert.equal(opened.kind, 'ok', 'the opt-in works, so the refusals above are the check, not the network');
  assert.deepEqual(internalRequests, ['/admin.xml']);
  internalRequests.length = 0;
});

test(`a feed that moves to an internal address keeps its URL and stores nothing from there (${backend})`, async () => {
  const { db } = database;
  assert.ok(!isProblem(await addCategory(db, { name: 'redirects' })));
  const feed = await addFeed(db, { url: feeds.url('/to-internal'), categoryName: 'redirects' });
  assert.ok(!isProblem(feed));
  const outcome = await refreshFeed(db, config, feed);
  assert.equal(outcome.status, 'error');
  const stored = await db.selectFrom('feeds').selectAll().where('id', '=', feed.id).executeTakeFirstOrThrow();
  assert.equal(stored.url, feeds.url('/to-internal'));
  assert.match(stored.last_error ?? '', /refused/);
  assert.equal((await db.selectFrom('items').select('id').where('feed_id', '=', feed.id).execute()).length, 0);
  assert.deepEqual(internalRequests, []);
});

test('feeds add checks the address the name resolves to', async () => {
  const strict = { ...config, fetchAllowPrivate: false };
  assert.match((await feedAddressProblem(strict, 'http://localhost/feed')) ?? '', /internal address/);
  assert.match((await feedAddressProblem(strict, 'http://[fd00::1]/feed')) ?? '', /internal address/);
  assert.match((await feedAddressProblem(strict, 'http://10.0.0.8/feed')) ?? '', /internal address/);
  for (const nat64 of ['http://[64:ff9b::7f00:1]/', 'http://[64:ff9b::10.1.2.3]/', 'http://[64:ff9b::a9fe:a9fe]/']) {
    assert.match((await feedAddressProblem(strict, nat64)) ?? '', /internal address/, nat64);
  }
  assert.equal(await feedAddressProblem(strict, 'http://[64:ff9b::5db8:d70e]/feed'), undefined, 'NAT64 of a public address');
  assert.match((await feedAddressProblem(strict, 'ftp://example.org/feed')) ?? '', /only http and https/);
  assert.equal(await feedAddressProblem(strict, 'http://93.184.215.14/feed'), undefined);
  assert.equal(await feedAddressProblem({ ...config, fetchAllowPrivate: true }, 'http://localhost/feed'), undefined);
});
