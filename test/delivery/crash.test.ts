import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { planDeliveries } from '../../src/digest/plan.js';
import { startSmtpSink } from '../helpers/smtp.js';
import {
  clearLedger,
  copiesPerRecipient,
  createSharedDatabase,
  duplicates,
  killChildren,
  ledgerCounts,
  seedAudience,
  startCli,
  until,
  type SharedDatabase,
} from './support.js';

/**
 * Crash safety with the real CLI in child processes: kill -9 mid-run, SIGTERM to
 * serve, and planning run more than once. Both backends (one process at a time).
 */
const POOL = 4;
const LEASE_SECONDS = 5;
let database: SharedDatabase;

before(async () => {
  database = await createSharedDatabase();
});
after(async () => {
  killChildren();
  await database.close();
});

test('kill -9 halfway through 1,000 deliveries: the restart sends the rest, and at most the pool in flight arrive twice', async (t) => {
  const emails = await database.use(async (db) => (await seedAudience(db, 1000)).emails);
  // The sink itself kills the sender when the 301st message arrives: however slow or busy
  // the machine, the run is then in its middle, with messages in flight. A few
  // milliseconds per message keep several of them in flight.
  let killSender = () => {};
  const sink = await startSmtpSink({
    onMessage: (_to, index) => {
      if (index === 300) killSender();
      return sleep(5).then(() => undefined);
    },
  });
  const env = { ...database.env, SMTP_URL: sink.url, SMTP_POOL_SIZE: String(POOL), SEND_LEASE_SECONDS: String(LEASE_SECONDS) };
  try {
    const first = startCli(['send'], env);
    killSender = () => first.child.kill('SIGKILL');
    assert.equal((await first.exited).signal, 'SIGKILL', 'killed in the middle of the run, not after it');
    const atKill = sink.received.length;
    assert.ok(atKill < 1000, `killed halfway (${atKill} sent)`);

    // Every claim was made before the kill, so every orphaned lease has run out after this.
    await sleep(LEASE_SECONDS * 1000 + 500);
    const restart = startCli(['send'], env);
    const { code, stderr, stdout } = await restart.exited;
    assert.equal(code, 0, stderr);
    assert.match(stdout, /sent to SMTP/);

    assert.deepEqual(await database.use(ledgerCounts), { sent: 1000 });
    const copies = copiesPerRecipient(sink);
    assert.deepEqual(
      emails.filter((email) => !copies.has(email)),
      [],
      'nobody misses the digest',
    );
    const twice = duplicates(sink);
    assert.ok(twice <= POOL, `${twice} duplicates; the bound is SMTP_POOL_SIZE = ${POOL}`);
    assert.ok(sink.inFlight.max <= POOL, `at most ${POOL} messages in flight (saw ${sink.inFlight.max})`);
    t.diagnostic(
      `killed after ${atKill} accepted; duplicates after restart: ${twice}; most messages in flight at the server: ${sink.inFlight.max}`,
    );
  } finally {
    await sink.close();
  }
});

test('SIGTERM to serve finishes the sends in flight and exits 0; a restart sends the rest with no duplicate', async (t) => {
  const emails = await database.use(async (db) => {
    await clearLedger(db);
    return (await seedAudience(db, 200)).emails;
  });
  const sink = await startSmtpSink({ onMessage: () => sleep(20).then(() => undefined) });
  const env = {
    ...database.env,
    SMTP_URL: sink.url,
    SMTP_POOL_SIZE: String(POOL),
    PORT: '0',
    SCHEDULER_TICK_SECONDS: '1',
    LOG_LEVEL: 'info',
  };
  try {
    const serve = startCli(['serve'], env);
    await until(() => sink.received.length >= 20, 'serve to start sending');
    serve.child.kill('SIGTERM');
    const { code, stderr } = await serve.exited;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /finishing in-flight sends/);
    const atStop = sink.received.length;
    assert.equal(sink.inFlight.now, 0, 'no message was left half sent');

    const counts = await database.use(ledgerCounts);
    assert.equal(counts.sending, undefined, `no claim is left behind; serve said:\n${stderr}`);
    assert.equal(counts.sent, atStop, 'every message the server accepted is marked sent');
    assert.equal(counts.pending, 200 - atStop);

    const restarted = await startCli(['send'], env).exited;
    assert.equal(restarted.code, 0, restarted.stderr);
    assert.deepEqual(await database.use(ledgerCounts), { sent: 200 });
    assert.equal(sink.received.length, 200);
    assert.equal(duplicates(sink), 0);
    assert.deepEqual([...copiesPerRecipient(sink).keys()].sort(), [...emails].sort());
    t.diagnostic(`stopped after ${atStop} of 200`);
  } finally {
    await sink.close();
  }
});

test('planning is idempotent: again, or three planners at once, make one ledger row per subscriber and period', async () => {
  await database.use(async (db) => {
    await clearLedger(db);
    await seedAudience(db, 300);
    const now = new Date();
    const [a, b, c] = await Promise.all([planDeliveries(db, now), planDeliveries(db, now), planDeliveries(db, now)]);
    assert.equal(a.pending + b.pending + c.pending, 300);
    const again = await planDeliveries(db, now);
    assert.deepEqual(again, { editions: 0, pending: 0, skipped: 0, unknownTimeZones: [] });
    const { rows } = await sql<{ rows: number; keys: number; editions: number }>`
      SELECT count(*)::int AS rows, count(DISTINCT (subscriber_id, period))::int AS keys, count(DISTINCT edition_id)::int AS editions
      FROM deliveries`.execute(db);
    assert.deepEqual(rows[0], { rows: 300, keys: 300, editions: 1 });
    // The next day, the same subscribers have nothing new: one 'skipped' row each, still no duplicate.
    const tomorrow = new Date(now.getTime() + 24 * 3600_000);
    await Promise.all([planDeliveries(db, tomorrow), planDeliveries(db, tomorrow)]);
    assert.deepEqual(await ledgerCounts(db), { pending: 300, skipped: 300 });
  });
});
