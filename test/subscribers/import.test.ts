import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { pacer } from '../../src/mail/deliver.js';
import { createSmtpMailer } from '../../src/mail/transport.js';
import { subscribersCsv } from '../../src/subscribers/export.js';
import { importSubscribers, sendImportConfirmations, unmailedPendingIds, type ImportOptions } from '../../src/subscribers/import.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedCategory } from '../helpers/seed.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';

const SECRET = 'import-test-secret-'.padEnd(48, 'z');
const config = {
  ...loadConfig({ SECRET, SITE_NAME: 'Planet Digest', MAIL_FROM: 'Planet Digest <digest@digest.example>', SEND_RATE_LIMIT: '50' }),
  secret: SECRET,
};
const NOW = new Date('2026-06-01T12:00:00Z');

let database: TestDatabase;
let sink: SmtpSink;
before(async () => {
  database = await createTestDatabase();
  await seedCategory(database.db, 'thinktime');
  await seedCategory(database.db, 'releases');
  sink = await startSmtpSink();
});
after(async () => {
  await sink.close();
  await database.close();
});

const options = (overrides: Partial<ImportOptions> = {}): ImportOptions => ({
  confirmed: false,
  defaultTimezone: 'UTC',
  defaultDeliveryHour: 7,
  file: 'test.csv',
  now: NOW,
  ...overrides,
});
const run = (csv: string, overrides: Partial<ImportOptions> = {}) =>
  importSubscribers(database.db, Readable.from([csv]), options(overrides));

async function tableSnapshot() {
  const subscribers = await database.db.selectFrom('subscribers').selectAll().orderBy('id').execute();
  const links = await database.db.selectFrom('subscriber_categories').selectAll().orderBy('subscriber_id').orderBy('category_id').execute();
  const consents = await database.db
    .selectFrom('consents')
    .select(['subscriber_id', 'action', 'channel', 'choices'])
    .orderBy('id')
    .execute();
  return { subscribers, links, consents };
}

async function clear(): Promise<void> {
  await database.db.deleteFrom('subscribers').execute();
}

test('10,000 confirmed rows go in, with their categories and consent records; a rerun changes nothing', { timeout: 300_000 }, async () => {
  const lines = ['email,categories,timezone,hour,frequency,weekly_day,consent_source,consent_date'];
  for (let i = 0; i < 10_000; i++) {
    lines.push(
      `user${i}@example.org,${i % 2 ? 'thinktime releases' : 'releases'},${i % 3 ? 'Europe/London' : 'Australia/Melbourne'},${i % 24},${i % 5 ? 'daily' : 'weekly'},${i % 5 ? '' : 'fri'},old-list signup form,2025-0${1 + (i % 9)}-15`,
    );
  }
  const csv = `${lines.join('\r\n')}\r\n`;
  const report = await run(csv, { confirmed: true });
  assert.deepEqual(
    { ...report, pendingIds: report.pendingIds.length },
    { rows: 10_000, added: 10_000, existing: 0, rejected: [], pendingIds: 0 },
  );
  const counts = await database.db
    .selectFrom('subscribers')
    .select(['status', (eb) => eb.fn.countAll<string>().as('n')])
    .groupBy('status')
    .execute();
  assert.deepEqual(
    counts.map((c) => [c.status, Number(c.n)]),
    [['active', 10_000]],
  );
  const one = await database.db
    .selectFrom('subscribers')
    .selectAll()
    .where('email_normalized', '=', 'user5@example.org')
    .executeTakeFirstOrThrow();
  assert.deepEqual(
    [one.timezone, one.delivery_hour, one.frequency, one.weekly_day, one.confirmed_at?.toISOString()],
    ['Europe/London', 5, 'weekly', 5, '2025-06-15T00:00:00.000Z'],
  );
  assert.ok(one.items_cursor !== null);
  const links = await database.db
    .selectFrom('subscriber_categories')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  assert.equal(Number(links.n), 15_000);
  const consent = await database.db
    .selectFrom('consents')
    .select(['action', 'channel', 'choices'])
    .where('subscriber_id', '=', one.id)
    .executeTakeFirstOrThrow();
  assert.equal(consent.action, 'confirm');
  assert.equal(consent.channel, 'import');
  assert.deepEqual(consent.choices, {
    categories: ['thinktime', 'releases'],
    timezone: 'Europe/London',
    deliveryHour: 5,
    frequency: 'weekly',
    weeklyDay: 5,
    file: 'test.csv',
    line: 7,
    consentSource: 'old-list signup form',
    consentDate: '2025-06-15T00:00:00.000Z',
  });

  const before = await tableSnapshot();
  const again = await run(csv, { confirmed: true });
  assert.deepEqual(
    { ...again, pendingIds: again.pendingIds.length },
    { rows: 10_000, added: 0, existing: 10_000, rejected: [], pendingIds: 0 },
  );
  assert.deepEqual(await tableSnapshot(), before);
  await clear();
});

test('every bad row is reported by its line number, duplicates included, and the good rows go in', async () => {
  const csv = [
    'Email,Categories,Timezone,Hour,Frequency,Weekly Day,Consent Source,Consent Date,notes', // 1
    'good@example.org,thinktime,,,,,web form,2025-01-01,', // 2
    'not-an-address,thinktime,,,,,web form,2025-01-01,', // 3
    'nocat@example.org,,,,,,web form,2025-01-01,', // 4
    'badcat@example.org,thinktime nope,,,,,web form,2025-01-01,', // 5
    'zone@example.org,thinktime,Mars/Olympus,,,,web form,2025-01-01,', // 6
    'hour@example.org,thinktime,,24,,,web form,2025-01-01,', // 7
    'freq@example.org,thinktime,,,monthly,,web form,2025-01-01,', // 8
    'week@example.org,thinktime,,,weekly,,web form,2025-01-01,', // 9
    'GOOD@example.org,releases,,,,,web form,2025-01-01,', // 10: the same address as line 2
    'nosource@example.org,thinktime,,,,,,2025-01-01,', // 11
    'nodate@example.org,thinktime,,,,,web form,,', // 12
    'baddate@example.org,thinktime,,,,,web form,someday,', // 13
    'future@example.org,thinktime,,,,,web form,2030-01-01,', // 14
    'short@example.org,thinktime', // 15: too few columns
    '"multi@example.org",thinktime,,,,,"a form,', // 16
    'spanning lines",2025-01-01,', // 17
    'last@example.org,"releases,thinktime",Asia/Tokyo,23,weekly,sun,web form,2025-01-01T10:00:00+09:00,note', // 18
  ].join('\n');
  const report = await run(csv, { confirmed: true });
  assert.deepEqual(
    report.rejected.map((r) => r.line),
    [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  );
  const reasons = new Map(report.rejected.map((r) => [r.line, r.reason]));
  assert.match(reasons.get(3)!, /not a valid email/);
  assert.match(reasons.get(5)!, /unknown category: nope/);
  assert.match(reasons.get(6)!, /time zone Mars\/Olympus/);
  assert.match(reasons.get(10)!, /good@example.org is already on line 2/);
  assert.match(reasons.get(11)!, /needs consent_source/);
  assert.match(reasons.get(14)!, /in the future/);
  assert.match(reasons.get(15)!, /not valid CSV/);
  assert.equal(report.added, 3);
  const stored = await database.db.selectFrom('subscribers').select(['email', 'timezone', 'weekly_day']).orderBy('id').execute();
  assert.deepEqual(stored, [
    { email: 'good@example.org', timezone: 'UTC', weekly_day: 1 },
    { email: 'multi@example.org', timezone: 'UTC', weekly_day: 1 },
    { email: 'last@example.org', timezone: 'Asia/Tokyo', weekly_day: 7 },
  ]);
  await clear();
});

test('a quote never closed loses only the rows after it, and is reported', async () => {
  const report = await run('email,categories\nfirst@example.org,thinktime\n"open@example.org,thinktime\nlost@example.org,thinktime\n');
  assert.equal(report.added, 1);
  assert.deepEqual(
    report.rejected.map((r) => r.line),
    [4],
  );
  assert.match(report.rejected[0]!.reason, /^not valid CSV: Quote Not Closed/);
  await clear();
});

test('without --confirmed rows are pending and each gets one confirmation mail, paced; a rerun mails nobody again', async () => {
  const csv = 'email,categories\nann@example.org,thinktime\nbo@example.org,releases thinktime\nleft@example.org,thinktime\n';
  const withLeft = csv
    .replace('left@example.org,thinktime', 'left@example.org,thinktime')
    .replace('email,categories', 'email,categories,status')
    .replace('ann@example.org,thinktime', 'ann@example.org,thinktime,')
    .replace('bo@example.org,releases thinktime', 'bo@example.org,releases thinktime,active')
    .replace('left@example.org,thinktime\n', 'left@example.org,thinktime,unsubscribed\n');
  const report = await run(withLeft);
  assert.equal(report.added, 3);
  assert.equal(report.pendingIds.length, 2);
  const mailer = createSmtpMailer(sink.url, 1);
  try {
    const sent = await sendImportConfirmations(
      database.db,
      mailer,
      config,
      await unmailedPendingIds(database.db),
      pacer(config.sendRateLimit),
    );
    assert.deepEqual(sent, { sent: 2, failed: 0 });
    const mails = await sink.waitFor(2);
    assert.deepEqual(mails.map((m) => m.envelopeTo[0]).sort(), ['ann@example.org', 'bo@example.org']);
    assert.match(mails[0]!.parsed.subject ?? '', /Confirm your subscription/);
    const rerun = await run(withLeft);
    assert.equal(rerun.added, 0);
    assert.deepEqual(await unmailedPendingIds(database.db), []);
  } finally {
    await mailer.close();
  }
  const statuses = await database.db.selectFrom('subscribers').select(['email', 'status']).orderBy('id').execute();
  assert.deepEqual(
    statuses.map((s) => s.status),
    ['pending', 'pending', 'unsubscribed'],
  );
  assert.equal(sink.received.length, 2);
  await clear();
});

test('subscribers export imports back: the same people, settings and statuses', async () => {
  const csv =
    'email,categories,timezone,hour,frequency,weekly_day,consent_source,consent_date,status\n' +
    'a@example.org,thinktime,Europe/Paris,6,daily,,form,2025-02-01,\n' +
    '=b@example.org,releases thinktime,America/New_York,20,weekly,wed,form,2025-02-02,paused\n' +
    'c@example.org,releases,UTC,0,daily,,form,2025-02-03,unsubscribed\n';
  assert.equal((await run(csv, { confirmed: true })).rejected.length, 0);
  const shape = async () =>
    await database.db
      .selectFrom('subscribers')
      .select(['email', 'status', 'timezone', 'delivery_hour', 'frequency', 'weekly_day'])
      .orderBy('email')
      .execute();
  const first = await shape();
  let exported = '';
  for await (const chunk of subscribersCsv(database.db)) exported += chunk;
  assert.match(exported, /'=b@example.org/);
  await clear();
  const report = await run(exported, { confirmed: true, consentSource: 'export of the old instance' });
  assert.deepEqual(report.rejected, []);
  assert.equal(report.added, 3);
  assert.deepEqual(await shape(), first);
  await clear();
});
