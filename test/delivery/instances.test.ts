import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { serverUrl } from '../helpers/db.js';
import { startSmtpSink } from '../helpers/smtp.js';
import {
  copiesPerRecipient,
  createSharedDatabase,
  killChildren,
  ledgerCounts,
  seedAudience,
  startCli,
  until,
  type SharedDatabase,
} from './support.js';

/** Three `serve` processes against one Postgres server share the queue and send each digest once. */
const skip = serverUrl === undefined ? 'needs a Postgres server: set TEST_DATABASE_URL (PGlite is one process only)' : false;
let database: SharedDatabase | undefined;

before(async () => {
  if (!skip) database = await createSharedDatabase();
});
after(async () => {
  killChildren();
  await database?.close();
});

test('three serve processes, 1,000 subscribers: each gets exactly one digest, and every process sends some', { skip }, async (t) => {
  const shared = database!;
  // Paused until all three are up, so that no process has the queue to itself.
  const { emails } = await shared.use((db) => seedAudience(db, 1000, { status: 'paused' }));
  const sink = await startSmtpSink({ onMessage: () => sleep(3).then(() => undefined) });
  try {
    const instances = [1, 2, 3].map((n) =>
      startCli(['serve'], {
        ...shared.env,
        SMTP_URL: sink.url,
        SMTP_POOL_SIZE: '4',
        // Each instance signs its envelope differently, so the sink can tell who sent what.
        MAIL_FROM: `digest-${n}@digest.example.org`,
        PORT: '0',
        SCHEDULER_TICK_SECONDS: '1',
        LOG_LEVEL: 'info',
      }),
    );
    await Promise.all(instances.map((instance) => instance.logged('feed-digest serving')));
    await shared.use((db) => db.updateTable('subscribers').set({ status: 'active' }).where('email', 'in', emails).execute());
    await until(async () => (await shared.use(ledgerCounts)).sent === 1000, '1,000 digests sent', 180_000);
    for (const instance of instances) instance.child.kill('SIGTERM');
    for (const instance of instances) assert.equal((await instance.exited).code, 0);

    const copies = copiesPerRecipient(sink);
    assert.equal(sink.received.length, 1000);
    assert.deepEqual([...copies.keys()].sort(), [...emails].sort());
    const perInstance = [1, 2, 3].map((n) => sink.received.filter((m) => m.envelopeFrom.startsWith(`digest-${n}+b`)).length);
    assert.ok(
      perInstance.every((n) => n > 0),
      `every instance sent some: ${perInstance.join(', ')}`,
    );
    t.diagnostic(`sent per instance: ${perInstance.join(', ')}`);
  } finally {
    await sink.close();
  }
});
