import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { demoFeeds } from '../../src/demo/content.js';
import { startDemoFeedServer, type DemoFeedServer } from '../../src/demo/server.js';
import { killChildren, runCli, startCli } from '../helpers/cli.js';
import { serverUrl } from '../helpers/db.js';

/**
 * Issue 7 as an operator lives it: `serve` runs on an embedded data folder and the
 * other commands, started from another terminal, still work through its socket.
 */
const skip = serverUrl !== undefined ? 'embedded-mode CLI test runs without TEST_DATABASE_URL (it is about PGlite)' : false;

let work: string;
let env: Record<string, string>;
let feeds: DemoFeedServer;
before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'feed-digest-embedded-'));
  env = { DATA_DIR: path.join(work, 'data'), OUTBOX_DIR: path.join(work, 'outbox'), LOG_LEVEL: 'info', FETCH_ALLOW_PRIVATE: '127.0.0.1' };
  feeds = await startDemoFeedServer(new Date());
});
after(async () => {
  killChildren();
  await feeds.close();
  await rm(work, { recursive: true, force: true });
});

async function ok(args: string[]): Promise<string> {
  const result = await runCli(args, env);
  assert.equal(result.code, 0, `feed-digest ${args.join(' ')}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

test(
  'while serve runs on an embedded folder, other commands work, serve sees their changes, and a SIGKILL loses nothing',
  { skip },
  async () => {
    await ok(['categories', 'add', 'thinktime', '--title', 'Thinktime']);

    const serve = startCli(['serve', '--no-scheduler'], { ...env, PORT: '0' });
    await serve.logged('feed-digest serving on');
    const address = /"address":"(http:\/\/[^"]+)"/.exec(serve.log())?.[1];
    assert.ok(address, 'serve logged its address');
    assert.match(serve.log(), /"access":"socket"/, 'serve shares the folder over its socket');

    await ok(['categories', 'add', 'releases', '--title', 'Fresh Releases']);
    await ok(['feeds', 'add', feeds.urlOf(demoFeeds[0]!), '--category', 'thinktime']);
    await ok(['subscribers', 'add', 'ada@example.org', '--categories', 'thinktime,releases']);
    const listed = JSON.parse(await ok(['subscribers', 'list', '--json'])) as Array<{ email: string }>;
    assert.deepEqual(
      listed.map((s) => s.email),
      ['ada@example.org'],
    );
    assert.match(await ok(['fetch']), /Fetched 1 feed: 1 updated/);
    assert.match(await ok(['preview', '--subscriber', 'ada@example.org', '--out', path.join(work, 'preview')]), /Wrote .*preview\.html/);
    assert.match(await ok(['status']), /Feeds: 1/);

    const home = await (await fetch(`${address}/`)).text();
    assert.match(home, /Fresh Releases/, 'serve sees the category another process added');
    assert.match(home, /Thinktime/);

    serve.child.kill('SIGKILL');
    await serve.exited;
    const after = JSON.parse(await ok(['subscribers', 'list', '--json'])) as Array<{ email: string; categories: string[] }>;
    assert.deepEqual(
      after.map((s) => [s.email, s.categories]),
      [['ada@example.org', ['releases', 'thinktime']]],
      'every committed row is there after the kill',
    );
    assert.match(await ok(['feeds', 'list']), /planet-linux-australia\.xml/);
  },
);
