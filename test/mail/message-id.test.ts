import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sendDueDigests } from '../../src/jobs/send.js';
import { createSmtpMailer } from '../../src/mail/transport.js';
import { createTestDatabase } from '../helpers/db.js';
import { seedItem } from '../helpers/seed.js';
import { startSmtpSink } from '../helpers/smtp.js';
import { seedAudience, testConfig } from '../delivery/support.js';

/** Message-IDs of one new install's digests, as they arrived and as the ledger keeps them. */
async function newInstallSends(runs: number): Promise<string[]> {
  const database = await createTestDatabase();
  const sink = await startSmtpSink();
  const config = testConfig();
  const mailer = createSmtpMailer(sink.url, 1);
  try {
    const { feedId } = await seedAudience(database.db, 1);
    for (let run = 0; run < runs; run++) {
      if (run > 0) await seedItem(database.db, feedId, { title: `Day ${run}` });
      await sendDueDigests(database.db, config, mailer, { now: new Date(Date.now() + run * 24 * 3600_000) });
    }
    const stored = await database.db.selectFrom('deliveries').select('message_id').orderBy('id').execute();
    assert.deepEqual(
      stored.map((row) => row.message_id),
      sink.received.map((mail) => mail.parsed.messageId),
      'the ledger keeps the id that was sent',
    );
    return sink.received.map((mail) => mail.parsed.messageId!);
  } finally {
    await mailer.close();
    await sink.close();
    await database.close();
  }
}

test('two new installs never send the same Message-ID; one install keeps its random part', async () => {
  const first = await newInstallSends(2);
  const second = await newInstallSends(1);
  assert.equal(first.length, 2);
  assert.notEqual(first[0], second[0], 'both ledgers start at 1, and still the ids differ');
  const installPart = (id: string) => /^<fd\.\d+\.\d+\.([0-9a-f]{12})@digest\.example\.org>$/.exec(id)?.[1];
  assert.ok(installPart(first[0]!), `${first[0]} carries a random part`);
  assert.equal(installPart(first[1]!), installPart(first[0]!), 'every digest of one install carries the same part');
});
