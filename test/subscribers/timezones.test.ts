import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { sendDueDigests } from '../../src/jobs/send.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/transport.js';
import { isProblem } from '../../src/problem.js';
import { addSubscriber, listSubscribers } from '../../src/subscribers/store.js';
import { seedAudience, testConfig } from '../delivery/support.js';
import { createTestDatabase, serverUrl, type TestDatabase } from '../helpers/db.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';

/** Issue 11, item 10: a zone Intl accepts and the database rejects must not stop anyone's digest. */
const backend = serverUrl ? 'Postgres server' : 'PGlite';
let database: TestDatabase;
let sink: SmtpSink;
let mailer: Mailer;
const config = testConfig();

before(async () => {
  database = await createTestDatabase();
  sink = await startSmtpSink();
  mailer = createSmtpMailer(sink.url, 1);
});
after(async () => {
  await mailer.close();
  await sink.close();
  await database.close();
});

test('Intl accepts zones the database does not know', () => {
  // The premise of the bug: checking with Intl alone lets these through.
  for (const zone of ['US/Pacific-New', 'Canada/East-Saskatchewan'])
    assert.doesNotThrow(() => new Intl.DateTimeFormat('en', { timeZone: zone }));
});

test(`a subscriber stored with a zone the database rejects is skipped and reported; the others get their digests (${backend})`, async () => {
  const { db } = database;
  const good = await seedAudience(db, 2);
  // As an older version stored it: straight into the table.
  const bad = await seedAudience(db, 1, { timezone: 'US/Pacific-New' });
  const badId = (await db.selectFrom('subscribers').select('id').where('email', '=', bad.emails[0]!).executeTakeFirstOrThrow()).id;

  const summary = await sendDueDigests(db, config, mailer);
  assert.equal(summary.delivered.sent, 2);
  assert.deepEqual(summary.planned.unknownTimeZones, [{ subscriberId: badId, timezone: 'US/Pacific-New' }]);
  assert.deepEqual(sink.received.map((m) => m.envelopeTo[0]).sort(), [...good.emails].sort());

  const listed = await listSubscribers(db);
  assert.equal(listed.find((s) => s.id === badId)?.next_digest_at, null);
  assert.ok(listed.filter((s) => s.id !== badId).every((s) => s.next_digest_at instanceof Date));
  await sql`UPDATE subscribers SET status = 'paused'`.execute(db);
});

test(`adding a subscriber checks the zone against the database (${backend})`, async () => {
  const { db } = database;
  await db.insertInto('categories').values({ name: 'zones', title: 'Zones' }).execute();
  for (const zone of ['Mars/Olympus', 'US/Pacific-New', 'Canada/East-Saskatchewan']) {
    const added = await addSubscriber(db, { email: `z${zone.length}@example.org`, categoryNames: ['zones'], timezone: zone });
    assert.ok(isProblem(added), `${zone} refused`);
    assert.match(added.problem, /unknown time zone/);
  }
  assert.ok(!isProblem(await addSubscriber(db, { email: 'berlin@example.org', categoryNames: ['zones'], timezone: 'Europe/Berlin' })));
});
