import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sendDueDigests } from '../../src/jobs/send.js';
import { createSmtpMailer } from '../../src/mail/transport.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { startSmtpSink } from '../helpers/smtp.js';
import { clearLedger, duplicates, ledgerCounts, seedAudience, testConfig } from './support.js';

/** SEND_RATE_LIMIT, and what it must not break: a live sender keeps its claims. Both backends. */
let database: TestDatabase;

before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

test('SEND_RATE_LIMIT spaces the sends: no second sees more than the limit (plus one pool of slack)', async () => {
  const rate = 20;
  const config = testConfig({ SMTP_POOL_SIZE: '4', SEND_RATE_LIMIT: String(rate) });
  await seedAudience(database.db, 45);
  const arrivals: number[] = [];
  const sink = await startSmtpSink({ onMessage: () => void arrivals.push(Date.now()) });
  const mailer = createSmtpMailer(sink.url, config.smtpPoolSize);
  try {
    const { delivered } = await sendDueDigests(database.db, config, mailer);
    assert.equal(delivered.sent, 45);
    // A slow machine only spreads the arrivals further; it cannot crowd them into one second.
    const busiest = Math.max(...arrivals.map((start) => arrivals.filter((at) => at >= start && at < start + 1000).length));
    assert.ok(busiest <= rate + config.smtpPoolSize, `${busiest} messages arrived within one second`);
  } finally {
    await mailer.close();
    await sink.close();
  }
});

test('two rate-limited senders with a lease shorter than their batch never send the same digest twice', async () => {
  await clearLedger(database.db);
  await seedAudience(database.db, 40);
  const config = testConfig({ SMTP_POOL_SIZE: '2', SEND_RATE_LIMIT: '10' });
  const sink = await startSmtpSink();
  const mailers = [createSmtpMailer(sink.url, 2), createSmtpMailer(sink.url, 2)];
  try {
    // A one-second lease: a claimed batch that takes longer to send at 10 per second
    // would run out while its sender is alive and be taken over by the other.
    await Promise.all(mailers.map((mailer) => sendDueDigests(database.db, config, mailer, { leaseSeconds: 1 })));
    assert.deepEqual(await ledgerCounts(database.db), { sent: 40 });
    assert.equal(sink.received.length, 40);
    assert.equal(duplicates(sink), 0);
  } finally {
    await Promise.all(mailers.map((mailer) => mailer.close()));
    await sink.close();
  }
});
