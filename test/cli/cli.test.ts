import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startDemoFeedServer, type DemoFeedServer } from '../../src/demo/server.js';
import { demoFeeds } from '../../src/demo/content.js';
import { runCli } from '../helpers/cli.js';
import { cliDatabase, type CliDatabase } from '../helpers/db.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp.js';

/**
 * The admin CLI as an operator uses it, in child processes: on a fresh embedded
 * folder, or on a fresh Postgres database when TEST_DATABASE_URL is set.
 */
let work: string;
let env: Record<string, string>;
let database: CliDatabase;
let feeds: DemoFeedServer;
let sink: SmtpSink;

before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'feed-digest-cli-'));
  feeds = await startDemoFeedServer(new Date());
  sink = await startSmtpSink();
  const secret = 'cli-test-secret-'.padEnd(48, 'z');
  database = await cliDatabase(work, secret);
  env = {
    ...database.env,
    OUTBOX_DIR: path.join(work, 'outbox'),
    BASE_URL: 'https://digest.example.org',
    FETCH_ALLOW_PRIVATE: '127.0.0.1',
  };
});

after(async () => {
  await sink.close();
  await feeds.close();
  await database.close();
  await rm(work, { recursive: true, force: true });
});

async function ok(args: string[], extra: Record<string, string> = {}) {
  const result = await runCli(args, { ...env, ...extra });
  assert.equal(result.code, 0, `feed-digest ${args.join(' ')} failed:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

test('operators manage categories, feeds and subscribers', async () => {
  await ok(['migrate']);
  await ok(['categories', 'add', 'thinktime', '--title', 'Thinktime', '--description', 'Essays']);
  await ok(['categories', 'add', 'releases']);
  const planet = demoFeeds[0]!;
  const releases = demoFeeds.find((f) => f.category === 'releases')!;
  await ok(['feeds', 'add', feeds.urlOf(planet), '--category', 'thinktime']);
  await ok(['feeds', 'add', feeds.urlOf(releases), '--category', 'releases']);
  await ok(['feeds', 'add', `${feeds.origin}/missing.xml`, '--category', 'releases']);
  await ok([
    'subscribers',
    'add',
    'ada@example.org',
    '--categories',
    'thinktime,releases',
    '--timezone',
    'Australia/Melbourne',
    '--hour',
    '0',
  ]);

  const categories = JSON.parse(await ok(['categories', 'list', '--json'])) as Array<{ name: string; feeds: number }>;
  assert.deepEqual(
    categories.map((c) => [c.name, c.feeds]),
    [
      ['releases', 2],
      ['thinktime', 1],
    ],
  );
  const subscribers = JSON.parse(await ok(['subscribers', 'list', '--json'])) as Array<{
    email: string;
    status: string;
    categories: string[];
    next_digest_at: string;
  }>;
  assert.deepEqual(
    subscribers.map((s) => [s.email, s.status, s.categories]),
    [['ada@example.org', 'active', ['releases', 'thinktime']]],
  );
  const next = new Date(subscribers[0]!.next_digest_at);
  assert.ok(next > new Date() && next.getTime() - Date.now() <= 24 * 3600_000, 'the next digest is within a day');
  const local = new Intl.DateTimeFormat('en-GB', {
    timeZone: 'Australia/Melbourne',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).format(next);
  assert.equal(local, '00:00', 'at the hour chosen, in their zone');
  assert.match(await ok(['subscribers', 'export']), /ada@example\.org/);

  const opml = path.join(work, 'feeds.opml');
  await ok(['feeds', 'export', opml]);
  const exported = await readFile(opml, 'utf8');
  assert.match(exported, /<outline[^>]+xmlUrl="http:\/\/127\.0\.0\.1:\d+\/planet-linux-australia\.xml"/);
  const imported = await ok(['feeds', 'import', opml]);
  assert.match(imported, /Added 0 feeds/, 'importing the same feeds again adds nothing');
});

test('expected failures print one line and exit non-zero', async () => {
  const unknown = await runCli(['subscribers', 'add', 'bob@example.org', '--categories', 'nope'], env);
  assert.equal(unknown.code, 1);
  assert.equal(unknown.stderr.trim(), 'feed-digest: unknown category: nope');
  const badEmail = await runCli(['subscribers', 'add', 'not-an-address', '--categories', 'thinktime'], env);
  assert.equal(badEmail.code, 1);
  assert.match(badEmail.stderr, /not a valid email address/);
  const badConfig = await runCli(['status'], {
    ...env,
    FETCH_TIMEOUT_MS: 'soon',
    BASE_URL: 'ftp://x',
    SMTP_URL: 'smtp://relay.example.org?pool=true',
  });
  assert.equal(badConfig.code, 2);
  assert.match(badConfig.stderr, /FETCH_TIMEOUT_MS=soon must be a whole number/);
  assert.match(badConfig.stderr, /BASE_URL must start with http:\/\/ or https:\/\//, 'every problem is listed at once');
  assert.match(badConfig.stderr, /SMTP_URL has an unknown option pool \(known: requireTLS, tls.rejectUnauthorized\)/);
});

test('run fetches, mails one digest over SMTP, and a second run sends nothing', async () => {
  const first = await ok(['run'], { SMTP_URL: sink.url });
  assert.match(first, /Fetched 3 feeds: 2 updated, 0 unchanged, 1 failed/);
  assert.match(first, /missing\.xml: .*404/);
  assert.match(first, /1 sent to SMTP 127\.0\.0\.1/);
  const [mail] = await sink.waitFor(1);
  assert.deepEqual(mail!.envelopeTo, ['ada@example.org']);
  const structure = mail!.raw.toString('latin1');
  assert.match(structure, /Content-Type: multipart\/alternative/);
  assert.match(structure, /Content-Type: text\/plain; charset=utf-8/);
  assert.match(structure, /Content-Type: text\/html; charset=utf-8/);
  assert.match(mail!.parsed.text ?? '', /Michael Still: Blueprints implemented in Nova during Juno/);
  assert.doesNotMatch(mail!.parsed.html || '', /<script|alert\(/, 'feed HTML never carries scripts into mail');

  const second = await ok(['run'], { SMTP_URL: sink.url });
  assert.match(second, /0 new posts/);
  assert.match(second, /Nothing new: no digest is due\./);
  assert.equal(sink.received.length, 1);

  const status = await ok(['status']);
  assert.match(status, /1 failing or disabled/);
  assert.match(status, /last 24 h: 1 sent, 0 failed/);
});

test('preview writes the HTML and text a subscriber would get, and sends nothing', async () => {
  await ok(['subscribers', 'add', 'grace@example.org', '--categories', 'thinktime']);
  const out = path.join(work, 'preview');
  const empty = await ok(['preview', '--subscriber', 'grace@example.org', '--out', out]);
  assert.match(empty, /No new posts for grace@example\.org/);
  const missing = await runCli(['preview', '--subscriber', 'nobody@example.org'], env);
  assert.equal(missing.code, 1);
  assert.equal(sink.received.length, 1);
  assert.deepEqual(await readdir(work).then((names) => names.includes('preview')), false);
});

test('demo runs offline into the outbox, and a second demo finds nothing new', async () => {
  const demoDir = await mkdtemp(path.join(os.tmpdir(), 'feed-digest-demo-'));
  const demoEnv = { PATH: process.env.PATH ?? '' };
  try {
    const first = await runCli(['demo'], demoEnv, demoDir);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /Wrote outbox\/.*\.eml/);
    assert.match(first.stdout, /Wrote outbox\/digest-\d+\.html/);
    const outbox = await readdir(path.join(demoDir, 'outbox'));
    const eml = await readFile(
      path.join(
        demoDir,
        'outbox',
        outbox.find((n) => n.endsWith('.eml'))!,
      ),
      'latin1',
    );
    assert.match(eml, /^To: demo@example\.org/m);
    assert.match(eml, /List-Unsubscribe-Post: List-Unsubscribe=One-Click/);
    const second = await runCli(['demo'], demoEnv, demoDir);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stdout, /0 new posts/);
    assert.match(second.stdout, /Nothing new/);
    assert.equal((await readdir(path.join(demoDir, 'outbox'))).length, outbox.length);
  } finally {
    await rm(demoDir, { recursive: true, force: true });
  }
});
