/**
 * The whole-pipeline benchmark: `npm run bench -- [--feeds N] [--subscribers N]
 * [--combos 12] [--backend pglite|postgres|both] [--posts-per-feed 20] [--dkim] [--json]` (--json:
 * the JSON alone; --dkim: every message DKIM-signed with an RSA-2048 key made for the run;
 * --posts-per-feed: posts in each generated feed, 20 as in issue 17's reference feeds).
 *
 * Each backend runs in a child process of its own (scripts/bench/run.ts), so each peak
 * RSS belongs to one pipeline; Postgres runs when DATABASE_URL is set, in a database the
 * bench creates and drops. Prints a table of the figures, then the same as JSON.
 */
import { spawn } from 'node:child_process';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import { loadConfig } from '../src/config/config.js';
import { createEmbeddedFolder } from '../test/helpers/db.js';
import { benchOptions, optionArgs, type BenchOptions } from './bench/options.js';
import { siblingScript } from './bench/sibling.js';
import type { RunResult } from './bench/run.js';

function runBackend(options: BenchOptions, backend: 'pglite' | 'postgres'): Promise<RunResult> {
  // Compiled (npm run bench) or through tsx alike: the sibling file, run the way this one runs.
  const script = siblingScript('./bench/run', import.meta.url);
  const child = spawn(process.execPath, [...process.execArgv, script, ...optionArgs(options, backend)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const last = output.trim().split('\n').at(-1);
      if (code === 0 && last !== undefined) resolve(JSON.parse(last) as RunResult);
      else reject(new Error(`the ${backend} run exited with ${code}`));
    });
  });
}

const number = (digits: number) => (value: number) =>
  value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const ROWS: Array<[string, (r: RunResult) => string]> = [
  ['feeds / subscribers / combinations', (r) => `${r.options.feeds} / ${r.options.subscribers} / ${r.options.combos}`],
  ['posts per feed', (r) => String(r.options.postsPerFeed)],
  ['first fetch: feeds/s', (r) => number(1)(r.feedsPerSecondFirstFetch)],
  [
    'rss2email `r2e run --no-send`, same feeds: feeds (s), feeds/s',
    (r) =>
      r.rss2email === undefined
        ? 'skipped'
        : `${r.rss2email.feeds} (${number(1)(r.rss2email.seconds)}), ${number(1)(r.rss2email.feedsPerSecond)}`,
  ],
  ['first fetch / rss2email', (r) => (r.firstFetchVsRss2email === undefined ? '' : `${number(1)(r.firstFetchVsRss2email)}×`)],
  ['first fetch: items stored, items/s', (r) => `${r.itemsStored}, ${number(0)(r.itemsPerSecond)}`],
  ['first fetch: ms of our CPU per item stored', (r) => number(3)((r.stages[0]!.cpuSeconds * 1000) / r.itemsStored)],
  ['refresh, all 304: feeds/s', (r) => number(1)(r.feedsPerSecondAll304)],
  ['editions / MJML compiles', (r) => `${r.editions} / ${r.mjmlCompiles}`],
  ['ms per compile (render stage / compiles)', (r) => number(0)(r.msPerCompile)],
  ['average digest HTML, KB', (r) => number(1)(r.averageHtmlKb)],
  ['messages sent / in the sink', (r) => `${r.messagesSent} / ${r.messagesReceivedBySink}`],
  ['DKIM', (r) => (r.options.dkim ? 'on (rsa-sha256, 2048 bits)' : 'off')],
  ['messages/s (deliver stage)', (r) => number(0)(r.messagesPerSecond)],
  [
    'DKIM signer alone: ms CPU per message, RSA-2048 / Ed25519',
    (r) => (r.dkimSigner === undefined ? '' : `${number(3)(r.dkimSigner.rsaMs)} / ${number(3)(r.dkimSigner.ed25519Ms)}`),
  ],
  ['pre-built by nodemailer alone: messages/s', (r) => number(0)(r.prebuiltMessagesPerSecond)],
  ['ours / pre-built', (r) => `${number(0)(r.ratioToPrebuilt * 100)}%`],
  ['limit: pre-built, raw pipelined sockets: messages/s', (r) => number(0)(r.rawMessagesPerSecond)],
  ['ours / limit', (r) => `${number(0)(r.ratioToRaw * 100)}%`],
  ['SMTP pool size', (r) => String(r.smtpPoolSize)],
  ['end to end (first fetch to last message), s', (r) => number(1)(r.pipelineSeconds)],
  ['peak RSS, first fetch to last message, MB', (r) => number(0)(r.peakRssMb)],
  ['process max RSS incl. setup, MB', (r) => number(0)(r.processMaxRssMb)],
];

function table(results: RunResult[]): string {
  const stageNames = [...new Set(results.flatMap((r) => r.stages.map((s) => s.stage)))];
  const stageRows: Array<[string, (r: RunResult) => string]> = stageNames.map((name) => [
    `stage ${name}: s (count; CPU s; peak RSS MB)`,
    (r) => {
      const stage = r.stages.find((s) => s.stage === name);
      return stage === undefined
        ? ''
        : `${number(2)(stage.seconds)} (${stage.count} ${stage.unit}; ${number(1)(stage.cpuSeconds)}; ${number(0)(stage.peakRssMb)})`;
    },
  ]);
  const lines = [`| | ${results.map((r) => r.backend).join(' | ')} |`, `|---|${results.map(() => '---:|').join('')}`];
  for (const [label, cell] of [...ROWS, ...stageRows]) lines.push(`| ${label} | ${results.map(cell).join(' | ')} |`);
  return lines.join('\n');
}

const options = benchOptions(process.argv.slice(2));
const databaseUrl = loadConfig({ ...process.env, SECRET: 'only-reading-DATABASE_URL-'.padEnd(40, 'x') }).databaseUrl;
const backends: Array<'pglite' | 'postgres'> = [];
if (options.backend !== 'postgres') backends.push('pglite');
if (options.backend !== 'pglite') {
  if (databaseUrl !== undefined) backends.push('postgres');
  else if (options.backend === 'postgres') throw new Error('--backend postgres needs DATABASE_URL');
  else console.error('DATABASE_URL is not set: benchmarking PGlite only.');
}
// Makes the migrated PGlite template here, once, so that no run's memory holds a from-scratch initdb.
if (backends.includes('pglite')) await rm(await createEmbeddedFolder(), { recursive: true, force: true });

const results: RunResult[] = [];
for (const backend of backends) {
  console.error(
    `Running on ${backend}: ${options.feeds} feeds of ${options.postsPerFeed} posts, ${options.subscribers} subscribers, ${options.combos} combinations...`,
  );
  results.push(await runBackend(options, backend));
}
if (options.json) {
  console.log(JSON.stringify(results, null, 2));
  process.exit(0);
}
console.log(
  `${os.cpus().length} cores (${os.cpus()[0]?.model ?? 'unknown'}), Node ${process.version}, load average ${os.loadavg().map(number(2)).join(' ')}\n`,
);
console.log(table(results));
console.log(`\n${JSON.stringify(results, null, 2)}`);
