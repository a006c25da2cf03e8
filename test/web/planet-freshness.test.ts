import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { refreshFeed } from '../../src/feeds/refresh.js';
import { addCategory, addFeed } from '../../src/feeds/store.js';
import { isProblem } from '../../src/problem.js';
import { startServer, type TestServer } from '../feeds/server.js';
import { startWeb, type WebHarness } from './harness.js';

/** The feed the test server serves; the test adds a post to it. */
const posts = [{ guid: 'first', title: 'The first post' }];
const rss = () =>
  `<?xml version="1.0"?><rss version="2.0"><channel><title>Fresh feed</title><link>https://fresh.example/</link>${posts
    .map(
      (p, i) =>
        `<item><guid>https://fresh.example/${p.guid}</guid><title>${p.title}</title><link>https://fresh.example/${p.guid}</link><pubDate>${new Date(Date.UTC(2026, 0, 1 + i)).toUTCString()}</pubDate><description>Body</description></item>`,
    )
    .join('')}</channel></rss>`;

let web: WebHarness;
let feeds: TestServer;
before(async () => {
  // A cache window far longer than the test: only the content version can refresh a page.
  web = await startWeb({ env: { PLANET_CACHE_SECONDS: '3600', FETCH_ALLOW_PRIVATE: '127.0.0.1' } });
  feeds = await startServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/rss+xml' });
    res.end(rss());
  });
});
after(async () => {
  await feeds.close();
  await web.close();
});

async function fetchTheFeed(): Promise<void> {
  const feed = await web.database.db.selectFrom('feeds').selectAll().executeTakeFirstOrThrow();
  const outcome = await refreshFeed(web.database.db, web.config, feed);
  assert.equal(outcome.status, 'ok', outcome.message);
}

test('a fetch that brings a post shows it on the next request within the cache window; unchanged pages answer 304', async () => {
  assert.ok(!isProblem(await addCategory(web.database.db, { name: 'fresh', title: 'Fresh' })));
  assert.ok(!isProblem(await addFeed(web.database.db, { url: feeds.url('/feed.xml'), categoryName: 'fresh' })));
  await fetchTheFeed();

  const paths = ['/', '/c/fresh', '/feed.atom', '/feed.json', '/c/fresh/feed.json'];
  const etags = new Map<string, string>();
  for (const path of paths) {
    const first = await fetch(`${web.baseUrl}${path}`);
    assert.match(await first.text(), /The first post/, path);
    etags.set(path, first.headers.get('etag')!);
  }

  // Fetched again with nothing new: the pages stay, and so does each client's copy.
  await fetchTheFeed();
  for (const path of paths) {
    const again = await fetch(`${web.baseUrl}${path}`, { headers: { 'if-none-match': etags.get(path)! } });
    assert.equal(again.status, 304, path);
  }

  posts.push({ guid: 'second', title: 'A second post, just fetched' });
  await fetchTheFeed();
  for (const path of paths) {
    const fresh = await fetch(`${web.baseUrl}${path}`, { headers: { 'if-none-match': etags.get(path)! } });
    assert.equal(fresh.status, 200, path);
    assert.match(await fresh.text(), /A second post, just fetched/, path);
    const etag = fresh.headers.get('etag')!;
    assert.notEqual(etag, etags.get(path), path);
    assert.equal((await fetch(`${web.baseUrl}${path}`, { headers: { 'if-none-match': etag } })).status, 304, path);
  }
});

test('a new edition shows in the archive on the next request within the cache window', async () => {
  const { db } = web.database;
  const before = await fetch(`${web.baseUrl}/editions`);
  assert.doesNotMatch(await before.text(), /edition-list/);
  const category = await db.selectFrom('categories').select('id').executeTakeFirstOrThrow();
  const items = await db.selectFrom('items').select('id').execute();
  await db
    .insertInto('editions')
    .values({ key: 'F'.repeat(43), category_ids: [category.id], item_ids: items.map((i) => i.id) })
    .execute();
  const after = await fetch(`${web.baseUrl}/editions`, { headers: { 'if-none-match': before.headers.get('etag')! } });
  assert.equal(after.status, 200);
  assert.match(await after.text(), /href="\/editions\/F{43}"/);
});
