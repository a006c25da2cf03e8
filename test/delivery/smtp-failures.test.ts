import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { sendDueDigests } from '../../src/jobs/send.js';
import { createSmtpMailer } from '../../src/mail/transport.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedItem } from '../helpers/seed.js';
import { startSmtpSink, type SmtpSinkOptions } from '../helpers/smtp.js';
import { clearLedger, copiesPerRecipient, ledgerCounts, seedAudience, testConfig } from './support.js';

/** What a mail server can do wrong, against a real smtp-server; both backends. */
let database: TestDatabase;
const config = testConfig({ SMTP_POOL_SIZE: '2' });
// Retries are due at once, so that a test drives them by running again instead of waiting.
const now = { retryBaseSeconds: 0 };

before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

async function withSink<T>(
  options: SmtpSinkOptions,
  run: (sink: Awaited<ReturnType<typeof startSmtpSink>>, mailer: ReturnType<typeof createSmtpMailer>) => Promise<T>,
): Promise<T> {
  const sink = await startSmtpSink(options);
  const mailer = createSmtpMailer(sink.url, config.smtpPoolSize);
  try {
    return await run(sink, mailer);
  } finally {
    await mailer.close();
    await sink.close();
  }
}

test('421, then 451, then a dropped connection, then recovery: every digest arrives exactly once', async () => {
  await clearLedger(database.db);
  const { emails } = await seedAudience(database.db, 30);
  const script = (index: number) =>
    index < 3
      ? { code: 421, message: 'Too busy, closing' }
      : index < 6
        ? { code: 451, message: 'Try again later' }
        : index < 9
          ? ('drop' as const)
          : undefined;
  await withSink({ onMessage: (_to, index) => script(index) }, async (sink, mailer) => {
    let runs = 0;
    let pauses = 0;
    while ((await ledgerCounts(database.db)).sent !== 30) {
      assert.ok(++runs <= 20, `still not sent after ${runs} runs: ${JSON.stringify(await ledgerCounts(database.db))}`);
      const { delivered } = await sendDueDigests(database.db, config, mailer, now);
      if (delivered.paused) pauses += 1;
    }
    assert.ok(pauses >= 2, `the 421 and the dropped connection pause sending (${pauses} pauses)`);
    const copies = copiesPerRecipient(sink);
    assert.deepEqual([...copies.keys()].sort(), [...emails].sort());
    assert.deepEqual([...new Set(copies.values())], [1], 'each digest arrived exactly once');
    const { rows } = await sql<{ retried: number }>`SELECT count(*)::int AS retried FROM deliveries WHERE attempts > 1`.execute(
      database.db,
    );
    assert.ok(rows[0]!.retried >= 3, 'the refused messages were retried');
  });
});

test('the SMTP server down for long: sending pauses, nothing is given up, and it resumes when the server is back', async () => {
  await clearLedger(database.db);
  const { emails } = await seedAudience(database.db, 5);
  const gone = await startSmtpSink();
  const port = gone.port;
  await gone.close();
  // Nothing listens on the port now: every connection is refused.
  const mailer = createSmtpMailer(`smtp://127.0.0.1:${port}`, config.smtpPoolSize);
  try {
    for (let run = 0; run < 8; run++) {
      const { delivered } = await sendDueDigests(database.db, config, mailer, { ...now, maxAttempts: 3 });
      assert.equal(delivered.paused, true);
      assert.equal(delivered.sent + delivered.failed, 0);
    }
    assert.deepEqual(await ledgerCounts(database.db), { pending: 5 }, 'more outage than maxAttempts allows, and no digest is dropped');
    const back = await startSmtpSink({ port });
    try {
      const { delivered } = await sendDueDigests(database.db, config, mailer, { ...now, maxAttempts: 3 });
      assert.equal(delivered.sent, 5);
      assert.deepEqual(back.received.map((m) => m.envelopeTo[0]).sort(), [...emails].sort());
    } finally {
      await back.close();
    }
  } finally {
    await mailer.close();
  }
});

test('a 550 for one recipient does not hold up the others; after bounceLimit hard bounces the subscriber is bounced', async () => {
  await clearLedger(database.db);
  const { emails, feedId } = await seedAudience(database.db, 12);
  const unknown = emails[0]!;
  await withSink(
    { onRecipient: (address) => (address === unknown ? { code: 550, message: 'No such user here' } : undefined) },
    async (sink, mailer) => {
      const day = (n: number) => new Date(Date.now() + n * 24 * 3600_000);
      const bounceLimit = 3;
      for (let n = 0; n < bounceLimit; n++) {
        if (n > 0) await seedItem(database.db, feedId, { title: `Day ${n}` });
        const { delivered } = await sendDueDigests(database.db, config, mailer, { now: day(n), bounceLimit });
        assert.deepEqual(
          { sent: delivered.sent, failed: delivered.failed, paused: delivered.paused },
          { sent: 11, failed: 1, paused: false },
        );
        const subscriber = await database.db
          .selectFrom('subscribers')
          .select(['status', 'bounce_count'])
          .where('email', '=', unknown)
          .executeTakeFirstOrThrow();
        assert.deepEqual(subscriber, { status: n + 1 < bounceLimit ? 'active' : 'bounced', bounce_count: n + 1 });
      }
      assert.equal(sink.received.length, 33, 'the others got every digest');
      const failed = await database.db
        .selectFrom('deliveries')
        .innerJoin('subscribers', 'subscribers.id', 'deliveries.subscriber_id')
        .select(['deliveries.status', 'deliveries.last_error', 'deliveries.attempts'])
        .where('subscribers.email', '=', unknown)
        .execute();
      assert.equal(failed.length, bounceLimit);
      for (const row of failed) {
        assert.equal(row.status, 'failed');
        assert.equal(row.attempts, 1, 'a hard bounce is not retried');
        assert.match(row.last_error ?? '', /^550 /);
      }

      await seedItem(database.db, feedId, { title: 'After the bounces' });
      const { delivered, planned } = await sendDueDigests(database.db, config, mailer, { now: day(bounceLimit), bounceLimit });
      assert.equal(planned.pending, 11, 'a bounced subscriber is not planned');
      assert.equal(delivered.sent, 11);
      assert.equal(copiesPerRecipient(sink).get(unknown), undefined);
    },
  );
});

test('a message refused for its size or content pauses sending: nobody is counted as bounced, nothing is given up', async () => {
  await clearLedger(database.db);
  const { emails } = await seedAudience(database.db, 3);
  const refusals = [
    { code: 552, message: '5.3.4 Message too big for system' },
    { code: 554, message: 'Transaction failed: content rejected' },
  ];
  for (const refusal of refusals) {
    await withSink({ onMessage: () => refusal }, async (_sink, mailer) => {
      for (let run = 0; run < 3; run++) {
        const { delivered } = await sendDueDigests(database.db, config, mailer, { ...now, bounceLimit: 1 });
        assert.equal(delivered.paused, true);
        assert.match(delivered.pauseReason ?? '', new RegExp(`^${refusal.code} `));
        assert.equal(delivered.failed, 0);
      }
    });
  }
  assert.deepEqual(await ledgerCounts(database.db), { pending: 3 });
  const subscribers = await database.db.selectFrom('subscribers').select(['status', 'bounce_count']).where('email', 'in', emails).execute();
  assert.deepEqual(
    subscribers,
    emails.map(() => ({ status: 'active', bounce_count: 0 })),
  );
});

test("no wait for the server's reply outlasts the delivery's lease", async () => {
  await clearLedger(database.db);
  await seedAudience(database.db, 1);
  // The server takes the data and never answers: RFC 5321 would wait 10 minutes.
  await withSink({ onMessage: () => new Promise<undefined>(() => {}) }, async (_sink, mailer) => {
    const { delivered } = await sendDueDigests(database.db, config, mailer, { ...now, leaseSeconds: 5 });
    assert.equal(delivered.paused, true);
    assert.match(delivered.pauseReason ?? '', /lease/);
  });
  assert.deepEqual(await ledgerCounts(database.db), { pending: 1 }, 'not sent, not failed: tried again');
});
