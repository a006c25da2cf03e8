import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { exportOpml, importOpml } from '../../src/feeds/opml.js';
import { listFeeds } from '../../src/feeds/store.js';
import { createTestDatabase, serverUrl, type TestDatabase } from '../helpers/db.js';
import { fixture } from './fixtures.js';

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
});
after(() => database.close());

test(`OPML import: folders and category attributes become categories (${serverUrl ? 'Postgres server' : 'PGlite'})`, async () => {
  const result = await importOpml(database.db, fixture('subscriptions.opml').toString('utf8'));
  assert.ok(!('problem' in result));
  assert.deepEqual(result.categoriesAdded.sort(), ['imported', 'think-time', 'web-design']);
  assert.equal(result.feedsAdded, 4);
  assert.deepEqual(
    result.skipped.map((s) => s.url),
    ['ftp://example.com/x'],
  );
  const feeds = await listFeeds(database.db);
  assert.deepEqual(
    feeds.map((f) => [f.category, f.url]),
    [
      ['imported', 'https://example.com/loose.xml'],
      ['think-time', 'https://planet.linux.org.au/rss20.xml'],
      ['think-time', 'https://seths.blog/feed/'],
      ['web-design', 'https://alistapart.com/main/feed/'],
    ],
  );
  const again = await importOpml(database.db, fixture('subscriptions.opml').toString('utf8'));
  assert.equal('feedsAdded' in again && again.feedsAdded, 0, 'importing twice adds nothing');
});

test('OPML export round-trips through import', async () => {
  const xml = await exportOpml(database.db);
  assert.match(xml, /<opml version="2.0">/);
  assert.match(xml, /xmlUrl="https:\/\/seths.blog\/feed\/"/);
  const fresh = await createTestDatabase();
  try {
    const result = await importOpml(fresh.db, xml);
    assert.equal('feedsAdded' in result && result.feedsAdded, 4);
    assert.deepEqual(
      (await listFeeds(fresh.db)).map((f) => f.category),
      ['imported', 'think-time', 'think-time', 'web-design'],
    );
  } finally {
    await fresh.close();
  }
});

test('a file that is not OPML is a problem, not an exception', async () => {
  assert.ok('problem' in (await importOpml(database.db, '<rss version="2.0"><channel/></rss>')));
  assert.ok('problem' in (await importOpml(database.db, 'not xml <<<')));
});
