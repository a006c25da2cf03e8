import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { runCli } from '../helpers/cli.js';
import { cliDatabase, type CliDatabase } from '../helpers/db.js';

/** Issue 11, items 10, 12 and 15 as the operator meets them: the CLI refuses what it cannot use. */
let work: string;
let env: Record<string, string>;
let database: CliDatabase;

before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'feed-digest-strict-'));
  database = await cliDatabase(work, 'strict-test-secret-'.padEnd(48, 'z'), { served: true });
  env = database.env;
  const made = await runCli(['categories', 'add', 'news'], env);
  assert.equal(made.code, 0, made.stderr);
});

after(async () => {
  await database.close();
  await rm(work, { recursive: true, force: true });
});

test('--hour takes decimal digits only: 0x10, an empty value and 1e1 are errors', async () => {
  for (const hour of ['0x10', '', '1e1', ' 7', '24', '-1']) {
    const result = await runCli(
      ['subscribers', 'add', `h${hour.length}${hour.charCodeAt(0) || 0}@example.org`, '--categories', 'news', '--hour', hour],
      env,
    );
    assert.equal(result.code, 1, `--hour "${hour}": ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, /--hour must be 0 to 23/);
  }
  const list = await runCli(['subscribers', 'list', '--json'], env);
  assert.deepEqual(JSON.parse(list.stdout), []);
});

test('--weekly takes a weekday, not any word that starts like one', async () => {
  const result = await runCli(['subscribers', 'add', 'weekly@example.org', '--categories', 'news', '--weekly', 'monster'], env);
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(result.stderr, /--weekly takes a weekday/);
});

test('--timezone must be a zone the database knows', async () => {
  for (const zone of ['Mars/Olympus', 'US/Pacific-New']) {
    const result = await runCli(['subscribers', 'add', 'tz@example.org', '--categories', 'news', '--timezone', zone], env);
    assert.equal(result.code, 1, `${zone}: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, /unknown time zone/);
  }
});

test('feeds add refuses a private or loopback address unless FETCH_ALLOW_PRIVATE is set', async () => {
  for (const url of [
    'http://127.0.0.1:9/feed.xml',
    'http://localhost:9/feed.xml',
    'http://10.1.2.3/feed',
    'http://[::1]/feed',
    'http://169.254.169.254/latest/meta-data/',
  ]) {
    const refused = await runCli(['feeds', 'add', url, '--category', 'news'], env);
    assert.equal(refused.code, 1, `${url}: ${refused.stdout}${refused.stderr}`);
    assert.match(refused.stderr, /FETCH_ALLOW_PRIVATE/);
  }
  const allowed = await runCli(['feeds', 'add', 'http://127.0.0.1:9/feed.xml', '--category', 'news'], {
    ...env,
    FETCH_ALLOW_PRIVATE: 'true',
  });
  assert.equal(allowed.code, 0, allowed.stderr);

  const opml = path.join(work, 'internal.opml');
  await writeFile(
    opml,
    '<opml version="2.0"><body><outline type="rss" text="Admin" xmlUrl="http://192.168.1.1/feed"/><outline type="rss" text="Public" xmlUrl="http://93.184.215.14/feed"/></body></opml>',
  );
  const imported = await runCli(['feeds', 'import', opml], env);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /Added 1 feed/);
  assert.match(imported.stdout, /skipped http:\/\/192\.168\.1\.1\/feed: 192\.168\.1\.1 is an internal address/);
});

test('numeric settings take decimal digits only', () => {
  for (const value of ['0x10', '1e3', '0b1']) {
    assert.throws(
      () => loadConfig({ SMTP_POOL_SIZE: value }),
      (error: unknown) => error instanceof ConfigError && /SMTP_POOL_SIZE/.test(error.message),
    );
  }
  assert.equal(loadConfig({ SMTP_POOL_SIZE: '8' }).smtpPoolSize, 8);
});

test('FETCH_ALLOW_PRIVATE is false, true, or addresses and CIDRs', () => {
  assert.equal(loadConfig({}).fetchAllowPrivate, false);
  assert.equal(loadConfig({ FETCH_ALLOW_PRIVATE: 'true' }).fetchAllowPrivate, true);
  assert.deepEqual(loadConfig({ FETCH_ALLOW_PRIVATE: '10.0.5.7, fd00:1::/64' }).fetchAllowPrivate, ['10.0.5.7', 'fd00:1::/64']);
  for (const value of ['yes', '10.0.0.0/33', 'intranet.example', '10.0.0.0/8/1']) {
    assert.throws(
      () => loadConfig({ FETCH_ALLOW_PRIVATE: value }),
      (error: unknown) => error instanceof ConfigError && /FETCH_ALLOW_PRIVATE/.test(error.message),
      value,
    );
  }
});
