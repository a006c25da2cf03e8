import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { sql } from 'kysely';
import { recordConsent } from '../../src/subscribers/consent.js';
import { subscribersCsv } from '../../src/subscribers/export.js';
import { purgeUnconfirmed } from '../../src/subscribers/purge.js';
import { addSubscriber, countSubscribersByStatus } from '../../src/subscribers/store.js';
import { createTestDatabase, serverUrl, type TestDatabase } from '../helpers/db.js';
import { seedCategory } from '../helpers/seed.js';

let database: TestDatabase;
before(async () => {
  database = await createTestDatabase();
  await seedCategory(database.db, 'thinktime', 'Thinktime');
  await seedCategory(database.db, 'tech', 'Tech');
});
after(() => database.close());

async function add(email: string, status: 'pending' | 'active', daysAgo: number) {
  const added = await addSubscriber(database.db, { email, categoryNames: ['thinktime'], status });
  assert.ok('id' in added);
  await database.db
    .updateTable('subscribers')
    .set({
      created_at: sql`now() - make_interval(days => ${daysAgo})`,
      confirmation_sent_at: sql`now() - make_interval(days => ${daysAgo})`,
    } as never)
    .where('id', '=', added.id)
    .execute();
  await recordConsent(database.db, added.id, 'signup', { channel: 'web', ip: '192.0.2.1', userAgent: 'test' });
  return added.id;
}

test(`unconfirmed sign-ups older than 7 days are purged with their consent records (${serverUrl ? 'Postgres server' : 'PGlite'})`, async () => {
  const old = await add('old-pending@example.org', 'pending', 8);
  const recent = await add('recent-pending@example.org', 'pending', 6);
  const oldActive = await add('old-active@example.org', 'active', 30);
  assert.equal(await purgeUnconfirmed(database.db), 1);
  const left = await database.db.selectFrom('subscribers').select('id').orderBy('id').execute();
  assert.deepEqual(
    left.map((r) => r.id),
    [recent, oldActive],
  );
  const consents = await database.db.selectFrom('consents').select('subscriber_id').where('subscriber_id', '=', old).execute();
  assert.deepEqual(consents, []);
  assert.equal(await purgeUnconfirmed(database.db), 0, 'a second purge finds nothing');
  assert.equal(await purgeUnconfirmed(database.db, new Date(Date.now() + 2 * 86400_000)), 1, 'the recent one, two days on');
});

test('status counts and the CSV export', async () => {
  const added = await addSubscriber(database.db, { email: '=cmd@example.org', categoryNames: ['tech', 'thinktime'] });
  assert.ok('id' in added);
  const counts = await countSubscribersByStatus(database.db);
  assert.deepEqual(counts, { pending: 0, active: 2, paused: 0, unsubscribed: 0, bounced: 0 });

  const csv = await text(Readable.from(subscribersCsv(database.db, 1)));
  const lines = csv.split('\r\n');
  assert.equal(lines[0], 'id,email,status,categories,timezone,delivery_hour,frequency,weekly_day,created_at,confirmed_at,unsubscribed_at');
  assert.equal(lines.length, 4, 'header, two subscribers, and the final line break');
  assert.match(lines[1]!, /^\d+,old-active@example\.org,active,thinktime,UTC,7,daily,1,\d{4}-\d\d-\d\dT[\d:.]+Z,\d{4}-/);
  assert.match(lines[2]!, /^\d+,'=cmd@example\.org,active,tech thinktime,/, 'a formula-looking cell is defused');
});
