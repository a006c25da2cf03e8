/**
 * The ingestion reference: Debian's rss2email (`r2e run --no-send`) fetching and parsing
 * the same generated feeds, from the same feed server, in the same run. Installed with
 * apt-get when missing and the bench runs as root; otherwise skipped with a message.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const R2E = '/usr/bin/r2e';
/** rss2email fetches one feed at a time: 200 feeds are enough for a steady rate. */
export const RSS2EMAIL_MAX_FEEDS = 200;

export interface Rss2emailResult {
  feeds: number;
  seconds: number;
  feedsPerSecond: number;
}

function installed(): boolean {
  if (existsSync(R2E)) return true;
  if (process.getuid?.() !== 0) return false;
  console.error('rss2email is missing: apt-get install -y rss2email...');
  spawnSync('apt-get', ['install', '-y', 'rss2email'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return existsSync(R2E);
}

function r2e(dir: string, ...args: string[]): void {
  const done = spawnSync(R2E, ['-c', path.join(dir, 'r2e.cfg'), '-d', path.join(dir, 'r2e.json'), ...args], { encoding: 'utf8' });
  if (done.status !== 0) throw new Error(`r2e ${args[0]} failed: ${done.stderr || done.error?.message}`);
}

/** Times `r2e run --no-send` over the first feeds of `feedBase`; undefined (with a message) where rss2email cannot run. */
export async function runRss2email(feedBase: string, feeds: number): Promise<Rss2emailResult | undefined> {
  if (!installed()) {
    console.error(`rss2email reference skipped: ${R2E} is missing and the bench is not root to install it`);
    return undefined;
  }
  const count = Math.min(feeds, RSS2EMAIL_MAX_FEEDS);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'bench-r2e-'));
  try {
    const outlines = Array.from({ length: count }, (_, i) => `<outline type="rss" text="feed${i + 1}" xmlUrl="${feedBase}${i + 1}.xml"/>`);
    await writeFile(
      path.join(dir, 'feeds.opml'),
      `<?xml version="1.0"?>\n<opml version="1.0"><body>\n${outlines.join('\n')}\n</body></opml>\n`,
    );
    r2e(dir, 'new', 'bench@bench.example');
    r2e(dir, 'opmlimport', path.join(dir, 'feeds.opml'));
    const started = performance.now();
    r2e(dir, 'run', '--no-send');
    const seconds = (performance.now() - started) / 1000;
    return { feeds: count, seconds, feedsPerSecond: count / seconds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
