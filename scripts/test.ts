/**
 * `npm test`: the whole suite, run as the JavaScript that `tsc` has just built into dist/
 * (no tsx in the test processes, nor in the CLI processes they start).
 *
 * WORKERS processes share the test files out of one queue, longest first: each takes a file,
 * runs it as a suite of its own (its own database, servers and top-level hooks, all torn down
 * before it ends), then takes the next (scripts/test-worker.ts). Node, the modules, V8's
 * compiled code and PGlite's WebAssembly are then made once per worker, not once per file:
 * measured, 61 small files took 58 s of CPU in one process, 181 s in a process each. Taking
 * from a queue, not a fixed share, keeps the workers busy to the end. Files in SERIAL run
 * afterwards, each alone in its own process. `npm test -- test/a.test.ts ...` runs only
 * those files.
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectRoot } from '../src/paths.js';

/**
 * Two on this 2-core machine. The CLI processes and Chromium that the tests start run beside
 * them, and a third worker only made them all slower: 244 s and 346 to 375 s of CPU for the
 * suite, against 204 s and 297 s with two.
 */
const WORKERS = 2;

/**
 * Files that need the machine to themselves, and why. (The kill -9 test does not: the
 * sink itself kills the sender mid-run, however busy the machine.)
 */
const SERIAL: Record<string, string> = {
  'test/delivery/instances.test.ts': 'three serve processes share one Postgres database',
  'test/delivery/pacing.test.ts': 'counts messages per wall-clock second',
  'test/delivery/smtp-failures.test.ts': 'closes a port and listens on it again later',
};

/**
 * The longest files, longest first, by their time measured alone (CLI child processes,
 * Chromium, the kill -9 run, a slow client held for 15 s, the planner run every half hour
 * over days): the workers take them first, so that the short ones fill the end.
 */
const LONGEST = [
  'test/cli/cli.test.ts',
  'test/render/digest-screens.test.ts',
  'test/delivery/crash.test.ts',
  'test/web/hostile-input.test.ts',
  'test/cli/embedded-serve.test.ts',
  'test/delivery/due.test.ts',
  'test/db/embedded.test.ts',
  'test/cli/feeds-rules-import.test.ts',
  'test/cli/planet-cli.test.ts',
  'test/web/browser.test.ts',
  'test/web/planet-browser.test.ts',
  'test/cli/strict-input.test.ts',
  'test/feeds/corpus.test.ts',
  'test/subscribers/import.test.ts',
  'test/web/site-build.test.ts',
  'test/mail/dkim.test.ts',
  'test/pipeline/spam.test.ts',
];

function testFiles(): string[] {
  const all = readdirSync(path.join(projectRoot, 'test'), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.test.ts'))
    .map((file) => path.posix.join('test', file.split(path.sep).join('/')))
    .sort();
  const asked = process.argv.slice(2).map((file) => path.relative(projectRoot, path.resolve(file)).split(path.sep).join('/'));
  const unknown = asked.filter((file) => !all.includes(file));
  if (unknown.length > 0) throw new Error(`not test files: ${unknown.join(', ')}`);
  const chosen = asked.length > 0 ? all.filter((file) => asked.includes(file)) : all;
  return [...LONGEST.filter((file) => chosen.includes(file)), ...chosen.filter((file) => !LONGEST.includes(file))];
}

function compiled(file: string): string {
  return path.join(projectRoot, 'dist', file.replace(/\.ts$/, '.js'));
}

/**
 * Puts the files, in order, in a new queue folder that the workers take from, and writes
 * one entry file per worker there (node's test runner starts each path once).
 */
function startQueue(folder: string, files: string[], workers: number): string[] {
  mkdirSync(path.join(folder, 'waiting'));
  mkdirSync(path.join(folder, 'taken'));
  files.forEach((file, index) => {
    const entry = path.join(folder, 'waiting', String(index).padStart(4, '0'));
    writeFileSync(entry, JSON.stringify({ file: compiled(file), name: file }));
  });
  const worker = pathToFileURL(path.join(projectRoot, 'dist/scripts/test-worker.js')).href;
  return Array.from({ length: Math.min(workers, files.length) }, (_, index) => {
    const entry = path.join(folder, `worker-${index + 1}.js`);
    writeFileSync(entry, `import ${JSON.stringify(worker)};\n`);
    return entry;
  });
}

/**
 * Unless TMPDIR says otherwise, PGlite folders, CLI work folders and Chromium profiles go
 * to the RAM disk where the machine has one: copying the 39 MB migrated template onto ext4
 * costs 0.8 s of system CPU, onto tmpfs 0.1 s, and every test file makes at least one.
 */
function temporaryFolder(): string {
  if (process.env.TMPDIR !== undefined) return process.env.TMPDIR;
  try {
    accessSync('/dev/shm', constants.W_OK);
    return '/dev/shm';
  } catch {
    return os.tmpdir();
  }
}

/** Runs the entry files with node's test runner; true when all passed. */
function run(entries: string[], concurrency: number, env: Record<string, string> = {}): boolean {
  if (entries.length === 0) return true;
  const result = spawnSync(process.execPath, ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, ...entries], {
    stdio: 'inherit',
    env: { ...process.env, TMPDIR: temporary, ...env },
  });
  return result.status === 0;
}

const files = testFiles();
const temporary = temporaryFolder();
const queue = mkdtempSync(path.join(temporary, 'feed-digest-test-queue-'));
const together = run(
  startQueue(
    queue,
    files.filter((file) => !(file in SERIAL)),
    WORKERS,
  ),
  WORKERS,
  { FD_TEST_QUEUE: queue },
);
// Workers that all died early (a test that exits the process) leave files nobody ran.
const neverRun = readdirSync(path.join(queue, 'waiting')).length;
if (neverRun > 0) console.error(`npm test: every worker stopped before the queue was empty; test files never run: ${neverRun}`);
rmSync(queue, { recursive: true, force: true });
const alone = run(files.filter((file) => file in SERIAL).map(compiled), 1);
process.exitCode = together && neverRun === 0 && alone ? 0 : 1;
