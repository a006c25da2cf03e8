import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { bounceRates, outcomeCounts } from '../../src/bounces/stats.js';
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

/** The events recorded about one address: what the rules made of each refusal, with its evidence. */
async function eventsOf(email: string) {
  return database.db
    .selectFrom('bounce_events')
    .innerJoin('subscribers', 'subscribers.id', 'bounce_events.subscriber_id')
    .select(['kind', 'source', 'action', 'dsn_status', 'diagnostic', 'evidence', 'delivery_id'])
    .where('subscribers.email', '=', email)
    .orderBy('bounce_events.id')
    .execute();
}

async function statusOf(email: string): Promise<string> {
  const row = await database.db.selectFrom('subscribers').select('status').where('email', '=', email).executeTakeFirstOrThrow();
  return row.status;
}

// Before issue 16's rules, a refusal while sending counted towards "3 hard bounces in a
// row" and was recorded nowhere; now it is judged and ruled on like a bounce that comes
// back later: a hard one stops the address at once.
test('a 550 for one recipient does not hold up the others; the hard bounce stops the address at once, recorded with the reply', async () => {
  await clearLedger(database.db);
  const { emails, feedId } = await seedAudience(database.db, 12);
  const unknown = emails[0]!;
  await withSink(
    { onRecipient: (address) => (address === unknown ? { code: 550, message: 'No such user here' } : undefined) },
    async (sink, mailer) => {
      const day = (n: number) => new Date(Date.now() + n * 24 * 3600_000);
      const { delivered } = await sendDueDigests(database.db, config, mailer, { now: day(0) });
      assert.deepEqual(
        { sent: delivered.sent, failed: delivered.failed, paused: delivered.paused },
        { sent: 11, failed: 1, paused: false },
      );
      assert.equal(await statusOf(unknown), 'bounced');
      const failed = await database.db
        .selectFrom('deliveries')
        .innerJoin('subscribers', 'subscribers.id', 'deliveries.subscriber_id')
        .select(['deliveries.id', 'deliveries.status', 'deliveries.last_error', 'deliveries.attempts'])
        .where('subscribers.email', '=', unknown)
        .executeTakeFirstOrThrow();
      assert.deepEqual([failed.status, failed.attempts], ['failed', 1], 'a refusal is not retried');
      assert.match(failed.last_error ?? '', /^550 /);
      const events = await eventsOf(unknown);
      assert.equal(events.length, 1);
      assert.deepEqual(
        { ...events[0], evidence: undefined },
        {
          kind: 'hard',
          source: 'smtp',
          action: 'bounced',
          dsn_status: '550',
          diagnostic: '550 No such user here',
          evidence: undefined,
          delivery_id: failed.id,
        },
      );
      assert.match(events[0]!.evidence, /userunknown.*RCPT TO: 550 No such user here/);
      // Counted where every bounce is: status and /metrics read bounce_events.
      assert.ok((await bounceRates(database.db, 7)).hard >= 1);
      assert.ok((await outcomeCounts(database.db)).some((c) => c.kind === 'hard' && c.action === 'bounced' && c.n >= 1));

      await seedItem(database.db, feedId, { title: 'After the bounce' });
      const next = await sendDueDigests(database.db, config, mailer, { now: day(1) });
      assert.equal(next.planned.pending, 11, 'a bounced subscriber is not planned');
      assert.equal(next.delivered.sent, 11);
      assert.equal(sink.received.length, 22, 'the others got every digest');
      assert.equal(copiesPerRecipient(sink).get(unknown), undefined);
    },
  );
});

test('refusals are judged by the same reasons as bounces: a full mailbox is soft and stops the address after BOUNCE_SOFT_LIMIT; a 5.1.1 after DATA is hard', async () => {
  await clearLedger(database.db);
  const { emails, feedId } = await seedAudience(database.db, 3);
  const [full, late] = [emails[0]!, emails[1]!];
  const rules = { ...config, bounceSoftLimit: 2 };
  await withSink(
    {
      onRecipient: (address) => (address === full ? { code: 552, message: '5.2.2 Mailbox full, try again much later' } : undefined),
      onMessage: (to) => (to[0] === late ? { code: 550, message: '5.1.1 <recipient> user unknown' } : undefined),
    },
    async (_sink, mailer) => {
      const day = (n: number) => new Date(Date.now() + n * 24 * 3600_000);
      const first = await sendDueDigests(database.db, rules, mailer, { now: day(0) });
      assert.deepEqual([first.delivered.sent, first.delivered.failed, first.delivered.paused], [1, 2, false]);
      assert.equal(await statusOf(full), 'active', 'one soft bounce is counted, not yet enough');
      assert.deepEqual(
        (await eventsOf(full)).map((e) => [e.kind, e.action, e.dsn_status]),
        [['soft', 'counted', '5.2.2']],
      );
      assert.equal(await statusOf(late), 'bounced');
      const [lateEvent] = await eventsOf(late);
      assert.deepEqual([lateEvent?.kind, lateEvent?.action, lateEvent?.dsn_status], ['hard', 'bounced', '5.1.1']);
      assert.match(lateEvent?.evidence ?? '', /in reply to DATA/);

      await seedItem(database.db, feedId, { title: 'Day 2' });
      await sendDueDigests(database.db, rules, mailer, { now: day(1) });
      assert.equal(await statusOf(full), 'bounced', 'the second soft bounce within BOUNCE_SOFT_DAYS stops it');
      assert.deepEqual(
        (await eventsOf(full)).map((e) => [e.kind, e.action]),
        [
          ['soft', 'counted'],
          ['soft', 'bounced'],
        ],
      );
    },
  );
});

test('refusals of us (the sender, the message size or content, a policy) pause sending: nobody is bounced or recorded, nothing is given up', async () => {
  await clearLedger(database.db);
  const { emails } = await seedAudience(database.db, 3);
  const refusals: SmtpSinkOptions[] = [
    { onMessage: () => ({ code: 552, message: '5.3.4 Message too big for system' }) },
    { onMessage: () => ({ code: 554, message: 'Transaction failed: content rejected' }) },
    { onRecipient: () => ({ code: 550, message: '5.7.1 Relaying denied' }) },
    {
      server: { onMailFrom: (_address, _session, callback) => callback(Object.assign(new Error('Sender refused'), { responseCode: 550 })) },
    },
  ];
  for (const refusal of refusals) {
    await withSink(refusal, async (_sink, mailer) => {
      for (let run = 0; run < 3; run++) {
        const { delivered } = await sendDueDigests(database.db, { ...config, bounceSoftLimit: 1 }, mailer, now);
        assert.equal(delivered.paused, true);
        assert.match(delivered.pauseReason ?? '', /^55\d /);
        assert.equal(delivered.failed, 0);
      }
    });
  }
  assert.deepEqual(await ledgerCounts(database.db), { pending: 3 });
  for (const email of emails) {
    assert.equal(await statusOf(email), 'active');
    assert.deepEqual(await eventsOf(email), []);
  }
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
