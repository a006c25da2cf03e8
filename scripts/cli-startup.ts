/**
 * What a short admin command costs, start to exit, as an operator runs it:
 *
 *   npm run bench:cli [-- --runs 5]     (DATABASE_URL set: Postgres too)
 *
 * Runs the built CLI (`dist/cli/feed-digest.js`, what the package's bin runs) under GNU time (/usr/bin/time) and
 * reports the median and worst wall time, the median CPU time and the peak RSS of
 * `categories list` and `categories add`: on a migrated PGlite folder opened directly, on
 * the same folder through the socket of a running `serve`, and, when DATABASE_URL is
 * set, on Postgres (in a database of its own, created and dropped). The first command on
 * a new folder (initdb and migrations) is reported apart. The machine's load changes wall
 * times: compare CPU times across runs.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { publicSocketName } from '../src/db/embedded-lock.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
const cli = path.resolve(import.meta.dirname, '../cli/feed-digest.js');
const timeBinary = '/usr/bin/time';
if (!existsSync(timeBinary)) throw new Error(`${timeBinary} (GNU time, Debian package "time") is needed to measure peak RSS`);

// Each run names its database: DATABASE_URL only where Postgres is meant.
const { DATABASE_URL: adminUrl, ...baseEnv } = process.env;

interface Measure {
  wall: number;
  cpu: number;
  rssMb: number;
}

/** Runs the CLI once under GNU time; its figures come on the last line of stderr. */
function runCli(args: string[], env: Record<string, string>, cwd: string): Promise<Measure> {
  return new Promise((resolve, reject) => {
    const child = spawn(timeBinary, ['-f', '%e %U %S %M', process.execPath, cli, ...args], {
      cwd,
      env: { ...baseEnv, ...env },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      const [wall, user, system, rssKb] = stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
      if (code !== 0 || rssKb === undefined) return reject(new Error(`feed-digest ${args.join(' ')} failed (${code}): ${stderr}`));
      resolve({ wall: wall!, cpu: user! + system!, rssMb: rssKb / 1024 });
    });
  });
}

function median(numbers: number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

function report(label: string, measures: Measure[]): void {
  const walls = measures.map((m) => m.wall);
  console.log(
    `${label.padEnd(44)} wall ${median(walls).toFixed(2)} s (worst ${Math.max(...walls).toFixed(2)})  CPU ${median(measures.map((m) => m.cpu)).toFixed(2)} s  peak RSS ${Math.round(Math.max(...measures.map((m) => m.rssMb)))} MB`,
  );
}

async function series(label: string, env: Record<string, string>, cwd: string): Promise<void> {
  const lists: Measure[] = [];
  const adds: Measure[] = [];
  for (let i = 0; i < runs; i++) {
    lists.push(await runCli(['categories', 'list'], env, cwd));
    adds.push(await runCli(['categories', 'add', `startup-${randomBytes(4).toString('hex')}`], env, cwd));
  }
  report(`categories list, ${label}`, lists);
  report(`categories add, ${label}`, adds);
}

async function waitFor(file: string, child: ReturnType<typeof spawn>): Promise<void> {
  while (!existsSync(file)) {
    if (child.exitCode !== null) throw new Error(`serve exited (${child.exitCode}) before its socket appeared`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function embedded(work: string): Promise<void> {
  const env = { DATA_DIR: path.join(work, 'data'), PORT: '0' };
  report('first command on a new PGlite folder', [await runCli(['categories', 'list'], env, work)]);
  await series('PGlite, direct', env, work);

  const serve = spawn(process.execPath, [cli, 'serve'], { cwd: work, env: { ...baseEnv, ...env }, stdio: 'ignore' });
  try {
    await waitFor(path.join(env.DATA_DIR, 'socket', publicSocketName), serve);
    await series('PGlite, through serve', env, work);
  } finally {
    const exited = new Promise((resolve) => serve.once('exit', resolve));
    serve.kill('SIGTERM');
    await exited;
  }
}

async function server(work: string, adminUrl: string): Promise<void> {
  const name = `fd_cli_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  try {
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    const env = { DATABASE_URL: url.toString(), SECRET: randomBytes(32).toString('hex') };
    await runCli(['migrate'], env, work);
    await series('Postgres', env, work);
  } finally {
    await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
    await admin.end();
  }
}

const work = await mkdtemp(path.join(os.tmpdir(), 'cli-startup-'));
try {
  console.log(`${runs} runs each, node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg()[0]!.toFixed(1)}`);
  await embedded(work);
  if (adminUrl) await server(work, adminUrl);
} finally {
  await rm(work, { recursive: true, force: true });
}
