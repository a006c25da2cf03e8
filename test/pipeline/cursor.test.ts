import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import pg from 'pg';
import { planDeliveries } from '../../src/digest/plan.js';
import { addSubscriber } from '../../src/subscribers/store.js';
import { createTestDatabase, serverUrl, type TestDatabase } from '../helpers/db.js';
import { seedCategory, seedFeed, seedItem } from '../helpers/seed.js';

/**
 * "New since the last digest" with other transactions running: needs a second
 * session, so a Postgres server (TEST_DATABASE_URL).
 */
const skip =
  serverUrl === undefined ? 'concurrent-transaction tests skipped: set TEST_DATABASE_URL to run them on a Postgres server' : false;
if (skip) console.log(skip);

let database: TestDatabase;
let other: pg.Client;
before(async () => {
  if (skip) return;
  database = await createTestDatabase();
  other = new pg.Client({ connectionString: database.env.DATABASE_URL });
  await other.connect();
});
after(async () => {
  if (skip) return;
  await other.end();
  await database.close();
});

async function editionItems(subscriberEmail: string): Promise<string[]> {
  const rows = await database.db
    .selectFrom('deliveries as d')
    .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
    .innerJoin('editions as e', 'e.id', 'd.edition_id')
    .select('e.item_ids')
    .where('s.email_normalized', '=', subscriberEmail)
    .orderBy('d.id', 'desc')
    .execute();
  const ids = rows[0]?.item_ids.map(Number) ?? [];
  if (ids.length === 0) return [];
  const items = await database.db.selectFrom('items').select('title').where('id', 'in', ids).orderBy('id').execute();
  return items.map((i) => i.title);
}

test('a long transaction elsewhere does not hold back posts committed after it began', { skip }, async () => {
  const { db } = database;
  const category = await seedCategory(db, 'thinktime');
  const feed = await seedFeed(db, category, 'Planet');
  assert.ok('id' in (await addSubscriber(db, { email: 'long@example.org', categoryNames: ['thinktime'] })));
  await other.query('BEGIN');
  await other.query('SELECT pg_current_xact_id()'); // holds the server's xmin back from here on
  try {
    await seedItem(db, feed, { title: 'Committed while another transaction is open' });
    const planned = await planDeliveries(db);
    assert.equal(planned.pending, 1);
    assert.deepEqual(await editionItems('long@example.org'), ['Committed while another transaction is open']);
  } finally {
    await other.query('ROLLBACK');
  }
});

test('a post committed after planning read the posts is in the next digest, not lost', { skip }, async () => {
  const { db } = database;
  const feed = (await db.selectFrom('feeds').select('id').executeTakeFirstOrThrow()).id;
  await other.query('BEGIN');
  await other.query(
    `INSERT INTO items (feed_id, guid, title, content_hash) VALUES ($1, 'late-commit', 'Inserted before planning, committed after', 'h')`,
    [feed],
  );
  await seedItem(db, feed, { title: 'Committed before planning' });
  const tomorrow = new Date(Date.now() + 24 * 3600_000);
  await planDeliveries(db, tomorrow);
  assert.deepEqual(await editionItems('long@example.org'), ['Committed before planning']);
  await other.query('COMMIT');
  await planDeliveries(db, new Date(tomorrow.getTime() + 24 * 3600_000));
  assert.deepEqual(await editionItems('long@example.org'), ['Inserted before planning, committed after']);
});
