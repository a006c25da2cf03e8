import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, test } from 'node:test';
import { acquireDataLock } from '../../src/db/embedded-lock.js';
import { projectRoot } from '../../src/paths.js';
import { nodeArgs } from '../helpers/cli.js';
import { createEmbeddedFolder } from '../helpers/db.js';

const running = new Set<ChildProcess>();
const folders: string[] = [];

after(async () => {
  for (const child of running) child.kill('SIGKILL');
  await Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function folder(): Promise<string> {
  const dir = await createEmbeddedFolder();
  folders.push(dir);
  return dir;
}

interface Child {
  process: ChildProcess;
  /** The next JSON line the child prints. */
  next(): Promise<Record<string, unknown>>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function start(action: string, dataDir: string): Child {
  const child = spawn(process.execPath, [...nodeArgs('test/fixtures/db/open.ts'), action], {
    cwd: projectRoot,
    env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const exited = once(child, 'exit').then(([code, signal]) => {
    running.delete(child);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null, stderr };
  });
  return {
    process: child,
    exited,
    next: async () => {
      const line = await lines.next();
      if (line.done) throw new Error(`${action} printed nothing more; stderr: ${(await exited).stderr}`);
      return JSON.parse(line.value) as Record<string, unknown>;
    },
  };
}

async function run(
  action: string,
  dataDir: string,
): Promise<{ output: Record<string, unknown> | undefined; code: number | null; stderr: string }> {
  const child = start(action, dataDir);
  const output = await child.next().catch(() => undefined);
  return { output, ...(await child.exited) };
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

test('while one process serves the folder, others read and write through its socket', async () => {
  const dataDir = await folder();
  const server = start('serve', dataDir);
  const ready = await server.next();
  assert.equal(ready.access, 'socket');
  const socketDir = String(ready.socketDir);
  assert.equal((await stat(socketDir)).mode & 0o777, 0o700);
  assert.equal((await stat(path.join(socketDir, '.s.PGSQL.5432'))).mode & 0o777, 0o600);

  const added = await run('add', dataDir);
  assert.equal(added.code, 0, added.stderr);
  assert.deepEqual(added.output, { access: 'socket', subscriber: 'reader@example.org' });
  const listed = await run('list', dataDir);
  assert.deepEqual(listed.output, {
    access: 'socket',
    feeds: ['http://127.0.0.1:1/news.xml'],
    subscribers: [['reader@example.org', ['news']]],
  });

  server.process.stdin!.write('counts\n');
  assert.deepEqual(await server.next(), { categories: 1, feeds: 1, subscribers: 1 });

  server.process.kill('SIGTERM');
  assert.deepEqual(await server.next(), { closed: true });
  assert.equal((await server.exited).code, 0);
  assert.equal(await exists(path.join(dataDir, 'feed-digest.lock')), false);
  assert.equal(await exists(socketDir), false);

  const afterwards = await run('list', dataDir);
  assert.equal(afterwards.output?.access, 'direct');
  assert.deepEqual(afterwards.output?.subscribers, [['reader@example.org', ['news']]]);
});

test('of two direct openers starting at once exactly one wins; the others are told why in one line', async () => {
  const dataDir = await folder();
  const both = [start('hold', dataDir), start('hold', dataDir)];
  const outcomes = await Promise.all(
    both.map((child) => Promise.race([child.next().then(() => 'ready'), child.exited.then(() => 'refused')])),
  );
  assert.deepEqual([...outcomes].sort(), ['ready', 'refused']);
  const winner = both[outcomes.indexOf('ready')]!;
  const loser = await both[outcomes.indexOf('refused')]!.exited;
  const pid = winner.process.pid;
  const reason = new RegExp(
    `^the data folder .+ is in use by process ${pid} \\(open\\.ts hold\\) and it does not serve a socket; wait for it or stop it\\n$`,
  );
  assert.equal(loser.code, 3);
  assert.match(loser.stderr, reason);

  const list = await run('list', dataDir);
  assert.equal(list.code, 3);
  assert.match(list.stderr, reason);
  const serve = await run('serve', dataDir);
  assert.equal(serve.code, 3);
  assert.match(serve.stderr, reason);

  winner.process.kill('SIGTERM');
  assert.equal((await winner.exited).code, 0);
});

test('after SIGKILL of the serving process the next opener clears the leftovers and finds every committed row', async () => {
  const dataDir = await folder();
  const server = start('serve', dataDir);
  const socketDir = String((await server.next()).socketDir);
  assert.equal((await run('add', dataDir)).code, 0);
  server.process.kill('SIGKILL');
  assert.equal((await server.exited).signal, 'SIGKILL');
  assert.equal(await exists(path.join(dataDir, 'feed-digest.lock')), true);
  assert.equal(await exists(path.join(socketDir, '.s.PGSQL.5432')), true);

  const listed = await run('list', dataDir);
  assert.equal(listed.code, 0, listed.stderr);
  assert.deepEqual(listed.output, {
    access: 'direct',
    feeds: ['http://127.0.0.1:1/news.xml'],
    subscribers: [['reader@example.org', ['news']]],
  });
  assert.equal(await exists(socketDir), false);

  const again = start('serve', dataDir);
  assert.equal((await again.next()).access, 'socket');
  again.process.kill('SIGTERM');
  const ended = await again.exited;
  assert.equal(ended.code, 0, JSON.stringify(ended));
});

test('the lock: one winner among simultaneous takers, stale locks cleared, a reused pid not mistaken for the holder', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'feed-digest-lock-'));
  folders.push(dir);
  const takers = await Promise.all(Array.from({ length: 20 }, () => acquireDataLock(dir, { socketDir: null })));
  const winners = takers.filter((t) => 'release' in t);
  assert.equal(winners.length, 1);
  for (const t of takers) if ('heldBy' in t) assert.equal(t.heldBy.pid, process.pid);
  await winners[0]!.release();

  const lockFile = path.join(dir, 'feed-digest.lock');
  const dead = spawn(process.execPath, ['-e', '']);
  await once(dead, 'exit');
  const stale = { pid: dead.pid, pidStart: '1', hostname: os.hostname(), command: 'gone', socketDir: null, since: '' };
  await writeFile(lockFile, JSON.stringify(stale));
  const fromDead = await acquireDataLock(dir, { socketDir: null });
  assert.ok('release' in fromDead, 'a dead pid holds nothing');
  await fromDead.release();

  // Our own pid with another start time: the pid was reused, the holder is gone.
  await writeFile(lockFile, JSON.stringify({ ...stale, pid: process.pid, pidStart: '1' }));
  const fromReused = await acquireDataLock(dir, { socketDir: null });
  assert.ok('release' in fromReused, 'a reused pid holds nothing');
  assert.equal((JSON.parse(await readFile(lockFile, 'utf8')) as { pidStart: string }).pidStart !== '1', true);
  await fromReused.release();
  assert.equal(await exists(lockFile), false);
});
