import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, beforeEach, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { openServer } from '../../src/db/connect.js';
import type { Feed } from '../../src/db/schema.js';
import { fetchFeed } from '../../src/feeds/fetch.js';
import { claimLeaseMs, refreshFeed, refreshFeeds } from '../../src/feeds/refresh.js';
import { readFeed } from '../../src/feeds/pipeline.js';
import { isProblem } from '../../src/problem.js';
import {
  addCategory,
  addFeed,
  enableFeed,
  listCategories,
  listFeeds,
  prepareChanged,
  removeCategory,
  removeFeed,
  storeItems,
} from '../../src/feeds/store.js';
import { createTestDatabase, serverUrl, type TestDatabase } from '../helpers/db.js';
import { startServer, type TestServer } from './server.js';

const backend = serverUrl ? 'Postgres server' : 'PGlite';
const config = {
  ...loadConfig({
    BASE_URL: 'https://digest.example.org',
    FETCH_TIMEOUT_MS: '1500',
    FETCH_MAX_BYTES: '20000',
    FETCH_INTERVAL_MINUTES: '60',
    FETCH_ALLOW_PRIVATE: '127.0.0.1',
  }),
};

/** Feed bodies by path, changed by tests; the server answers 304 when the ETag matches. */
const bodies = new Map<string, string>();
const HOUR = 3_600_000;

function rss(items: Array<{ guid: string; title: string; link?: string; date?: Date; body?: string }>, extra = ''): string {
  return `<?xml version="1.0"?><rss version="2.0"><channel><title>Test feed</title><link>http://example.com/</link>${extra}${items
    .map(
      (i) =>
        `<item><guid>${i.guid}</guid><title>${i.title}</title><link>${i.link ?? `http://example.com/${i.guid}`}</link>${i.date ? `<pubDate>${i.date.toUTCString()}</pubDate>` : ''}<description>${i.body ?? 'Body'}</description></item>`,
    )
    .join('')}</channel></rss>`;
}

let server: TestServer;
let database: TestDatabase;
before(async () => {
  server = await startServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/gone') return void res.writeHead(410).end();
    if (path === '/missing') return void res.writeHead(404).end();
    if (path === '/busy') return void res.writeHead(429, { 'retry-after': '7200' }).end();
    if (path === '/moved') return void res.writeHead(301, { location: '/feed/moved-here' }).end();
    if (path === '/temporary') return void res.writeHead(302, { location: '/feed/temp-target' }).end();
    if (path === '/loop') return void res.writeHead(302, { location: '/loop' }).end();
    if (path === '/html')
      return void res.writeHead(200, { 'content-type': 'text/html' }).end('<!DOCTYPE html><html><body>hi</body></html>');
    if (path === '/gzip')
      return void res
        .writeHead(200, { 'content-type': 'application/rss+xml', 'content-encoding': 'gzip' })
        .end(gzipSync(rss([{ guid: 'g', title: 'Zipped' }])));
    if (path === '/gzip-raw')
      return void res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(gzipSync(rss([{ guid: 'g', title: 'Zipped' }])));
    if (path === '/huge') {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.write('<rss version="2.0"><channel>');
      for (let i = 0; i < 100; i++) res.write(`<item><title>${'x'.repeat(1000)}</title></item>`);
      return void res.end('</channel></rss>');
    }
    if (path === '/located') {
      return void res
        .writeHead(200, { 'content-type': 'application/rss+xml', 'content-location': 'http://example.org/blog/feed' })
        .end(
          '<rss version="2.0"><channel><title>Located</title><item><guid>l1</guid><title>L</title><link>posts/1</link></item></channel></rss>',
        );
    }
    if (path.startsWith('/slow/')) {
      // Slow enough that two refreshes running together overlap on every feed.
      return void setTimeout(
        () => res.writeHead(200, { 'content-type': 'application/rss+xml' }).end(rss([{ guid: path, title: 'Slow' }])),
        50,
      );
    }
    if (path === '/trickle') {
      res.writeHead(200, { 'content-type': 'text/xml' });
      const timer = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(timer));
      return;
    }
    const body = bodies.get(path.replace(/^\/feed\/(moved-here|temp-target)$/, '/feed/a'));
    if (body === undefined) return void res.writeHead(404).end();
    const etag = `"${Buffer.from(body).length}-${body.length % 97}"`;
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304, { etag }).end();
    res
      .writeHead(200, {
        'content-type': 'application/rss+xml; charset=utf-8',
        etag,
        'cache-control': path === '/feed/cached' ? 'max-age=10800' : 'no-cache',
      })
      .end(body);
  });
  database = await createTestDatabase();
  await addCategory(database.db, { name: 'news', title: 'News' });
});
after(async () => {
  await server.close();
  await database.close();
});
beforeEach(() => bodies.clear());

async function feedFor(path: string): Promise<Feed> {
  const added = await addFeed(database.db, { url: server.url(path), categoryName: 'news' });
  assert.ok(!isProblem(added), isProblem(added) ? added.problem : '');
  return added;
}

async function reload(feed: Feed): Promise<Feed> {
  return database.db.selectFrom('feeds').selectAll().where('id', '=', feed.id).executeTakeFirstOrThrow();
}

async function itemsOf(feed: Feed) {
  return database.db.selectFrom('items').selectAll().where('feed_id', '=', feed.id).orderBy('id').execute();
}

test(`fetch: 200 with ETag, then 304 costs nothing (${backend})`, async () => {
  bodies.set('/feed/etag', rss([{ guid: '1', title: 'One' }]));
  const first = await fetchFeed(config, server.url('/feed/etag'), { etag: null, lastModified: null });
  assert.equal(first.kind, 'ok');
  assert.equal(server.requests.at(-1)?.headers['user-agent'], 'feed-digest/0.1 (+https://digest.example.org)');
  const second = await fetchFeed(config, server.url('/feed/etag'), { etag: first.kind === 'ok' ? first.etag : null, lastModified: null });
  assert.equal(second.kind, 'not_modified');
});

test('fetch: errors are values with reasons', async () => {
  const cases: Array<[string, RegExp]> = [
    ['/missing', /^HTTP 404/],
    ['/gone', /^HTTP 410/],
    ['/busy', /^HTTP 429/],
    ['/loop', /more than 5 redirects/],
    ['/huge', /larger than 20000 bytes/],
    ['/trickle', /timed out after 1500 ms/],
  ];
  for (const [path, reason] of cases) {
    const result = await fetchFeed(config, server.url(path), { etag: null, lastModified: null });
    assert.equal(result.kind, 'error', path);
    assert.match(result.kind === 'error' ? result.reason : '', reason, path);
  }
  const closed = await startServer(() => undefined);
  await closed.close();
  const refused = await fetchFeed(config, closed.url('/feed'), { etag: null, lastModified: null });
  assert.match(refused.kind === 'error' ? refused.reason : '', /ECONNREFUSED/);
});

test('fetch: Content-Encoding gzip is undone; a temporary redirect is followed but not reported as a move', async () => {
  const zipped = await fetchFeed(config, server.url('/gzip'), { etag: null, lastModified: null });
  assert.ok(zipped.kind === 'ok' && Buffer.from(zipped.bytes).toString().includes('Zipped'));
  bodies.set('/feed/a', rss([{ guid: '1', title: 'One' }]));
  const temp = await fetchFeed(config, server.url('/temporary'), { etag: null, lastModified: null });
  assert.ok(temp.kind === 'ok' && temp.permanentRedirect === undefined && temp.finalUrl.endsWith('/feed/temp-target'));
});

test('refresh: baseline stores old posts unmailable, recent ones mailable; 304 next time', async () => {
  const now = new Date();
  bodies.set(
    '/feed/base',
    rss(
      [
        { guid: 'old', title: 'Old', date: new Date(now.getTime() - 72 * HOUR) },
        { guid: 'new', title: 'New', date: new Date(now.getTime() - 2 * HOUR) },
        { guid: 'undated', title: 'Undated' },
      ],
      '<ttl>180</ttl>',
    ),
  );
  const feed = await feedFor('/feed/base');
  const outcome = await refreshFeed(database.db, config, feed, now);
  assert.equal(outcome.status, 'ok');
  assert.equal(outcome.message, 'ingested with 3 posts');
  const items = await itemsOf(feed);
  assert.deepEqual(
    items.map((i) => [i.guid, i.mailable]),
    [
      ['old', false],
      ['new', true],
      ['undated', false],
    ],
  );
  assert.equal(items[2]?.published_at?.getTime(), now.getTime(), 'no date: first seen');
  const row = await reload(feed);
  assert.equal(row.title, 'Test feed');
  assert.equal(row.last_status, 'ok');
  assert.ok(row.etag);
  assert.equal(row.next_fetch_at.getTime(), now.getTime() + 3 * HOUR, 'ttl of 3 hours beats the hourly default');

  const again = await refreshFeed(database.db, config, row, now);
  assert.equal(again.status, 'not_modified');
  assert.equal((await reload(feed)).last_status, 'not_modified');
});

test('refresh: an edited post updates its row and is not mailed again; a new guid with a known link is the same post', async () => {
  const now = new Date();
  bodies.set('/feed/edit', rss([{ guid: 'p1', title: 'Post', date: now }]));
  const feed = await feedFor('/feed/edit');
  await refreshFeed(database.db, config, feed, now);
  const [before] = await itemsOf(feed);
  bodies.set(
    '/feed/edit',
    rss([
      { guid: 'p1', title: 'Post (edited)', date: now, body: 'Changed' },
      { guid: 'p1-new-guid', title: 'Post again', link: 'http://example.com/p1', date: now },
      { guid: 'p2', title: 'Second', date: now },
    ]),
  );
  const outcome = await refreshFeed(database.db, config, await reload(feed), new Date(now.getTime() + 1000));
  assert.equal(outcome.newItems, 1);
  const items = await itemsOf(feed);
  assert.deepEqual(
    items.map((i) => i.guid),
    ['p1', 'p2'],
  );
  assert.equal(items[0]?.title, 'Post (edited)');
  assert.equal(items[0]?.created_xid, before?.created_xid);
  assert.equal(items[0]?.first_seen_at.getTime(), before?.first_seen_at.getTime());
  assert.ok(items[0]?.updated_at);
});

test('prepareChanged: a post whose feed content is unchanged is neither sanitized nor written again', async () => {
  const feed = await feedFor('/feed/store-direct');
  const now = new Date();
  const store = async (body: string) => {
    const read = await readFeed(
      Buffer.from(
        rss([
          { guid: 's1', title: 'Same', body },
          { guid: 's2', title: 'Other' },
        ]),
      ),
      undefined,
      feed.url,
      { maxItems: 10, now },
    );
    assert.ok(read.kind === 'read');
    const changed = await prepareChanged(database.db, feed.id, read.items);
    return { unchanged: changed.unchanged, ...(await storeItems(database.db, feed.id, changed.items, { baseline: false, now })) };
  };
  assert.deepEqual(await store('&lt;b&gt;Hello&lt;/b&gt;'), { unchanged: 0, inserted: 2, updated: 0 });
  // A marker in the stored HTML shows whether a post was prepared and written again.
  await database.db.updateTable('items').set({ content_html: 'kept' }).where('feed_id', '=', feed.id).execute();
  assert.deepEqual(await store('&lt;b&gt;Hello&lt;/b&gt;'), { unchanged: 2, inserted: 0, updated: 0 });
  assert.deepEqual(
    (await itemsOf(feed)).map((i) => i.content_html),
    ['kept', 'kept'],
  );
  assert.deepEqual(await store('&lt;b&gt;Hello again&lt;/b&gt;&lt;script&gt;x()&lt;/script&gt;'), {
    unchanged: 1,
    inserted: 0,
    updated: 1,
  });
  assert.deepEqual(
    (await itemsOf(feed)).map((i) => i.content_html),
    ['<b>Hello again</b>', 'kept'],
  );
});

test('schedule: 429 Retry-After, backoff, 301 moves the URL, 410 disables, 10 failures disable, enableFeed', async () => {
  const now = new Date();
  const busy = await feedFor('/busy');
  await refreshFeed(database.db, config, busy, now);
  const busyRow = await reload(busy);
  assert.equal(busyRow.consecutive_failures, 1);
  assert.equal(busyRow.next_fetch_at.getTime(), now.getTime() + 2 * HOUR, 'Retry-After 7200 s beats the 1 h interval');

  const missing = await feedFor('/missing');
  let row = missing;
  const waits: number[] = [];
  for (let i = 0; i < 10; i++) {
    await refreshFeed(database.db, config, row, now);
    row = await reload(missing);
    waits.push((row.next_fetch_at.getTime() - now.getTime()) / HOUR);
  }
  assert.deepEqual(waits.slice(0, 6), [1, 2, 4, 8, 16, 24]);
  assert.ok(row.disabled_at);
  assert.match(row.disabled_reason ?? '', /10 failures in a row, last: HTTP 404/);
  assert.equal(row.last_error, 'HTTP 404 Not Found');
  assert.ok(await enableFeed(database.db, missing.url));
  row = await reload(missing);
  assert.equal(row.disabled_at, null);
  assert.equal(row.consecutive_failures, 0);

  const gone = await feedFor('/gone');
  await refreshFeed(database.db, config, gone, now);
  assert.match((await reload(gone)).disabled_reason ?? '', /410/);

  bodies.set('/feed/a', rss([{ guid: '1', title: 'One' }]));
  const moved = await feedFor('/moved');
  await refreshFeed(database.db, config, moved, now);
  assert.equal((await reload(moved)).url, server.url('/feed/moved-here'));

  bodies.set('/feed/cached', rss([{ guid: '1', title: 'One' }]));
  const cached = await feedFor('/feed/cached');
  await refreshFeed(database.db, config, cached, now);
  assert.equal((await reload(cached)).next_fetch_at.getTime(), now.getTime() + 3 * HOUR, 'Cache-Control max-age');
});

test('refresh: relative links resolve against the Content-Location the server gives', async () => {
  const feed = await feedFor('/located');
  assert.equal((await refreshFeed(database.db, config, feed)).status, 'ok');
  assert.deepEqual(
    (await itemsOf(feed)).map((item) => item.url),
    ['http://example.org/blog/posts/1'],
  );
});

test('refresh: non-feeds, gzip bytes without a header and timeouts are recorded as errors', async () => {
  for (const [path, reason] of [
    ['/html', 'rejected: not a feed: HTML page'],
    ['/gzip-raw', 'rejected: not a feed: gzip bytes'],
    ['/trickle', 'timed out after 1500 ms'],
  ]) {
    const feed = await feedFor(path!);
    const outcome = await refreshFeed(database.db, config, feed);
    assert.equal(outcome.status, 'error');
    assert.equal((await reload(feed)).last_error, reason);
  }
});

test(
  'refreshFeeds onlyDue: two processes refreshing at once fetch each due feed exactly once',
  {
    skip: serverUrl ? false : 'needs a Postgres server (TEST_DATABASE_URL): PGlite serves one process',
  },
  async () => {
    await database.db.deleteFrom('feeds').execute();
    const paths = Array.from({ length: 24 }, (_, i) => `/slow/${i}`);
    for (const path of paths) await feedFor(path);
    const other = openServer(database.env.DATABASE_URL!, 4);
    const fetchedBefore = server.requests.length;
    try {
      const small = { ...config, fetchConcurrency: 3, fetchPerHost: 3 };
      const [one, two] = await Promise.all([
        refreshFeeds(database.db, small, { onlyDue: true }),
        refreshFeeds(other.db, small, { onlyDue: true }),
      ]);
      assert.equal(one.ok + two.ok, paths.length);
      assert.ok(one.ok > 0 && two.ok > 0, `both processes share the work (${one.ok} and ${two.ok})`);
    } finally {
      await other.close();
    }
    const counts = new Map<string, number>();
    for (const req of server.requests.slice(fetchedBefore)) counts.set(req.url!, (counts.get(req.url!) ?? 0) + 1);
    assert.deepEqual([...counts.keys()].sort(), [...paths].sort());
    assert.ok(
      [...counts.values()].every((n) => n === 1),
      JSON.stringify(Object.fromEntries(counts)),
    );
    const rows = await database.db.selectFrom('feeds').select(['last_status', 'next_fetch_at']).execute();
    assert.ok(
      rows.every((row) => row.last_status === 'ok' && row.next_fetch_at.getTime() > Date.now() + 0.9 * HOUR),
      'the refresh replaced the claim with the real next fetch',
    );
  },
);

test('refreshFeeds onlyDue: a claim left by a process that died expires and the feed is due again', async () => {
  await database.db.deleteFrom('feeds').execute();
  const feed = await feedFor('/slow/abandoned');
  const now = new Date();
  await database.db
    .updateTable('feeds')
    .set({ next_fetch_at: new Date(now.getTime() + claimLeaseMs(config)) })
    .where('id', '=', feed.id)
    .execute();
  assert.equal((await refreshFeeds(database.db, config, { onlyDue: true, now })).feeds, 0, 'claimed: not due');
  const afterLease = new Date(now.getTime() + claimLeaseMs(config) + 1000);
  assert.equal((await refreshFeeds(database.db, config, { onlyDue: true, now: afterLease })).ok, 1);
});

test('refreshFeeds: one broken feed never stops the others; onlyDue skips feeds not due', async () => {
  await database.db.deleteFrom('feeds').execute();
  for (let i = 0; i < 6; i++) {
    bodies.set(`/feed/many${i}`, rss([{ guid: `m${i}`, title: `Many ${i}` }]));
    await feedFor(`/feed/many${i}`);
  }
  await feedFor('/missing');
  const summary = await refreshFeeds(database.db, { ...config, fetchConcurrency: 3, fetchPerHost: 2 }, {});
  assert.deepEqual(
    { ...summary, errors: summary.errors.map((e) => e.error) },
    { feeds: 7, ok: 6, notModified: 0, failed: 1, newItems: 6, errors: ['HTTP 404 Not Found'] },
  );
  const due = await refreshFeeds(database.db, config, { onlyDue: true });
  assert.equal(due.feeds, 0);
  const listing = await listFeeds(database.db);
  assert.equal(listing.length, 7);
  assert.ok(listing.every((feed) => feed.category === 'news'));
  assert.equal(listing.filter((feed) => feed.items === 1).length, 6);
});

test('categories and feeds: problems are values', async () => {
  assert.ok(isProblem(await addCategory(database.db, { name: 'Bad Name!' })));
  assert.ok(isProblem(await addCategory(database.db, { name: 'news' })));
  assert.ok(isProblem(await addFeed(database.db, { url: 'ftp://example.com/x', categoryName: 'news' })));
  assert.ok(isProblem(await addFeed(database.db, { url: 'http://example.com/x', categoryName: 'nope' })));
  assert.match(((await removeCategory(database.db, 'news')) as { problem: string }).problem, /still has/);
  const categories = await listCategories(database.db);
  assert.equal(categories.find((c) => c.name === 'news')?.feeds, 7);
  for (const feed of await listFeeds(database.db)) assert.ok(await removeFeed(database.db, feed.url));
  assert.deepEqual(await removeCategory(database.db, 'news'), { removed: true });
});
