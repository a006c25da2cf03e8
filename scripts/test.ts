/**
 * `npm test`: the whole suite, run as the JavaScript that `tsc` has just built into dist/
 * (no tsx in the test processes, nor in the CLI processes they start). Test files that
 * share nothing run CONCURRENCY at a time; those in SERIAL run afterwards, one at a time,
 * each with the machine to itself. `npm test -- test/a.test.ts ...` runs only those files.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../src/paths.js';

const CONCURRENCY = 3;

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
 * The longest files start first, so that the short ones fill the gaps beside them: by their
 * time measured alone (CLI child processes, Chromium, the kill -9 run, a slow client held
 * for 15 s, the planner run every half hour over days).
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

/** Runs the compiled files with node's test runner; true when all passed. */
function run(files: string[], concurrency: number): boolean {
  if (files.length === 0) return true;
  const compiled = files.map((file) => path.join(projectRoot, 'dist', file.replace(/\.ts$/, '.js')));
  const result = spawnSync(process.execPath, ['--enable-source-maps', '--test', `--test-concurrency=${concurrency}`, ...compiled], {
    stdio: 'inherit',
  });
  return result.status === 0;
}

const files = testFiles();
const together = run(
  files.filter((file) => !(file in SERIAL)),
  CONCURRENCY,
);
const alone = run(
  files.filter((file) => file in SERIAL),
  1,
);
process.exitCode = together && alone ? 0 : 1;
