import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { sendDueDigests } from '../../src/jobs/send.js';
import { createOutboxMailer } from '../../src/mail/transport.js';
import { addSubscriber } from '../../src/subscribers/store.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedCategory, seedFeed, seedItem } from '../helpers/seed.js';

/** SpamAssassin's local rules (no network tests) on a real digest: Debian's spamassassin, installed by .ci/run. */
const spamassassin = '/usr/bin/spamassassin';
const skip = existsSync(spamassassin) ? false : `spam score test skipped: ${spamassassin} not found (apt-get install spamassassin)`;
if (skip) console.log(skip);

let database: TestDatabase;
let outbox: string;
before(async () => {
  database = await createTestDatabase();
  outbox = await mkdtemp(path.join(os.tmpdir(), 'feed-digest-spam-'));
});
after(async () => {
  await database.close();
  await rm(outbox, { recursive: true, force: true });
});

test('a digest scores no spam points with SpamAssassin', { skip }, async () => {
  const { db } = database;
  const secret = 'spam-test-secret-'.padEnd(40, 'q');
  const config = { ...loadConfig({ BASE_URL: 'https://digest.example.org', SECRET: secret, SITE_NAME: 'Planet Digest' }), secret };
  const category = await seedCategory(db, 'thinktime', 'Thinktime');
  const planet = await seedFeed(db, category, 'Planet Linux Australia');
  const seth = await seedFeed(db, category, 'Seth Godin');
  assert.ok('id' in (await addSubscriber(db, { email: 'reader@example.org', categoryNames: ['thinktime'] })));
  await seedItem(db, planet, {
    title: 'Michael Still: Blueprints implemented in Nova during Juno',
    excerpt:
      'As we get closer to releasing the RC1 of Nova for Juno, I have started collecting a list of all the blueprints we implemented in Juno. This was mostly done because it helps me write the release notes.',
  });
  await seedItem(db, planet, {
    title: 'Francois Marier: Encrypted mailing list on Debian and Ubuntu',
    excerpt:
      'Running an encrypted mailing list is surprisingly tricky. One of the first challenges is that you need to decide what the threat model is.',
  });
  await seedItem(db, seth, {
    title: 'The sophistication of truth',
    excerpt: 'A common form of complexity is the sophistication of fear. Long words when short ones will do.',
  });

  const summary = await sendDueDigests(db, config, createOutboxMailer(outbox));
  assert.equal(summary.delivered.sent, 1);
  const [file] = (await readdir(outbox)).filter((name) => name.endsWith('.eml'));
  const result = spawnSync(spamassassin, ['-t', '-L'], {
    input: await readFile(path.join(outbox, file!)),
    encoding: 'utf8',
    timeout: 120_000,
  });
  const report = result.stdout;
  const score = Number(/Content analysis details:\s+\((-?[\d.]+) points/.exec(report)?.[1]);
  const rules = [...report.matchAll(/^\s*(-?\d+\.\d+)\s+([A-Z0-9_]+)/gm)].filter((m) => Number(m[1]) > 0).map((m) => `${m[2]} ${m[1]}`);
  assert.ok(Number.isFinite(score), `no score in SpamAssassin's report:\n${report}\n${result.stderr}`);
  assert.ok(score <= 0, `scored ${score}: ${rules.join(', ')}`);
});
