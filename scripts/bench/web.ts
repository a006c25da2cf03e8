/**
 * The web benchmark: `npm run bench:web -- [--posts 100000] [--seconds 10]
 * [--connections 50] [--backend pglite|postgres] [--json]`.
 *
 * Starts the web server in a child process (scripts/bench/web-server.ts) on a database
 * of `--posts` posts, then loads `/`, a category page and `/feed.atom` over loopback with
 * autocannon, `--connections` at a time for `--seconds` each, after 3 s unmeasured:
 * once as new readers taking gzip as browsers do (200s), once as returning ones sending
 * the page's ETag (304s); `/` also uncompressed ("200 identity"). Prints requests/s and
 * latency percentiles per run, and what one build from the database costs.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { siblingScript } from './sibling.js';

const { values } = parseArgs({
  options: {
    posts: { type: 'string', default: '100000' },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    backend: { type: 'string', default: 'pglite' },
    json: { type: 'boolean', default: false },
  },
});
const seconds = Number(values.seconds);
const connections = Number(values.connections);
if (!['pglite', 'postgres'].includes(values.backend)) throw new Error(`--backend must be pglite or postgres (got ${values.backend})`);
if (values.backend === 'postgres' && !process.env.DATABASE_URL)
  throw new Error('--backend postgres needs DATABASE_URL (the bench creates and drops its own database there)');

interface Ready {
  port: number;
  seedSeconds: number;
  buildMs: Record<string, number>;
}

const child = spawn(
  process.execPath,
  [...process.execArgv, siblingScript('./web-server', import.meta.url), '--posts', values.posts, '--backend', values.backend],
  { stdio: ['pipe', 'pipe', 'inherit'] },
);
const ready = await new Promise<Ready>((resolve, reject) => {
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    if (output.includes('\n')) resolve(JSON.parse(output.split('\n')[0]!) as Ready);
  });
  child.once('exit', (code) => reject(new Error(`the web bench server exited with ${code}`)));
});

interface Run {
  path: string;
  kind: '200' | '200 identity' | '304';
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Share of answers with the expected status. */
  expectedShare: number;
  errors: number;
}

async function load(path: string, kind: Run['kind'], headers: Record<string, string>): Promise<Run> {
  const result = await autocannon({ url: `http://127.0.0.1:${ready.port}${path}`, connections, duration: seconds, headers });
  const total = result.requests.total || 1;
  const expected =
    kind !== '304' ? result['2xx'] : ((result.statusCodeStats as Record<string, { count: number }> | undefined)?.['304']?.count ?? 0);
  return {
    path,
    kind,
    requestsPerSecond: result.requests.average,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    expectedShare: expected / total,
    errors: result.errors + result.timeouts,
  };
}

/** What browsers and feed readers send. */
const BROWSER = { 'accept-encoding': 'gzip, deflate, br' };

const runs: Run[] = [];
try {
  for (const path of ['/', '/c/thinktime', '/feed.atom']) {
    const first = await fetch(`http://127.0.0.1:${ready.port}${path}`, { headers: BROWSER });
    await first.arrayBuffer();
    if (first.status !== 200) throw new Error(`${path} answered ${first.status}`);
    // Unmeasured: the server's code paths get compiled before the figures count.
    await autocannon({ url: `http://127.0.0.1:${ready.port}${path}`, connections, duration: 3, headers: BROWSER });
    runs.push(await load(path, '200', BROWSER));
    if (path === '/') runs.push(await load(path, '200 identity', {}));
    runs.push(await load(path, '304', { ...BROWSER, 'if-none-match': first.headers.get('etag')! }));
  }
} finally {
  child.stdin.end();
  await once(child, 'exit');
}

const result = {
  backend: values.backend,
  posts: Number(values.posts),
  connections,
  seconds,
  seedSeconds: ready.seedSeconds,
  buildMs: ready.buildMs,
  runs,
};
if (values.json) {
  console.log(JSON.stringify(result));
} else {
  const fixed = (value: number, digits = 0) =>
    value.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  console.log(
    `Web bench, ${values.backend}: ${fixed(result.posts)} posts (seeded in ${fixed(result.seedSeconds, 1)} s), ${connections} connections, ${seconds} s a run, loopback.`,
  );
  console.log('');
  console.log('| path | answers | requests/s | median ms | p99 ms | expected status |');
  console.log('|---|---|---:|---:|---:|---:|');
  for (const run of runs)
    console.log(
      `| ${run.path} | ${run.kind} | ${fixed(run.requestsPerSecond)} | ${fixed(run.p50Ms, 1)} | ${fixed(run.p99Ms, 1)} | ${fixed(run.expectedShare * 100, 1)}% |`,
    );
  console.log('');
  console.log(
    `Built from the database (no cache), ms: ${Object.entries(result.buildMs)
      .map(([name, ms]) => `${name} ${fixed(ms, 1)}`)
      .join(', ')}.`,
  );
  console.log(JSON.stringify(result));
}
