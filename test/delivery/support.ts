import { rm } from 'node:fs/promises';
import { sql } from 'kysely';
import { loadConfig } from '../../src/config/config.js';
import { openEmbedded, type Db } from '../../src/db/connect.js';
import { startCli as startCliProcess, type Cli } from '../helpers/cli.js';
import { createEmbeddedFolder, createTestDatabase, serverUrl } from '../helpers/db.js';
import { seedCategory, seedFeed, seedItem } from '../helpers/seed.js';
import type { SmtpSink } from '../helpers/smtp.js';

export { killChildren } from '../helpers/cli.js';

/** Shared by the delivery tests: an audience in bulk, the real CLI as a child process, ledger counts. */
export const secret = 'delivery-test-secret-'.padEnd(40, 'x');
const baseEnv = { BASE_URL: 'https://digest.example.org', SECRET: secret, LOG_LEVEL: 'warn' };

export function testConfig(env: Record<string, string> = {}) {
  return { ...loadConfig({ ...baseEnv, ...env }), secret };
}

let audiences = 0;

/**
 * `count` confirmed subscribers of one new category, each owed a digest of one new
 * post now (their latest period has no ledger row yet). Their feed is not due for a
 * fetch, so `serve` does not try to reach it.
 */
export async function seedAudience(
  db: Db,
  count: number,
  options: { status?: 'active' | 'paused'; timezone?: string } = {},
): Promise<{ feedId: number; emails: string[] }> {
  const name = `audience-${++audiences}-${process.pid}`;
  const categoryId = await seedCategory(db, name);
  const feedId = await seedFeed(db, categoryId, name);
  await db
    .updateTable('feeds')
    .set({ next_fetch_at: sql<Date>`now() + interval '1 day'` })
    .where('id', '=', feedId)
    .execute();
  const { rows } = await sql<{ email: string }>`
    WITH added AS (
      INSERT INTO subscribers (email, email_normalized, status, timezone, items_cursor, confirmed_at)
      SELECT ${name} || '-' || g || '@example.org', ${name} || '-' || g || '@example.org', ${options.status ?? 'active'},
             ${options.timezone ?? 'UTC'}, pg_current_snapshot()::text, now()
      FROM generate_series(1, ${count}::int) g
      RETURNING id, email
    ), linked AS (
      INSERT INTO subscriber_categories (subscriber_id, category_id) SELECT id, ${categoryId}::int FROM added
    )
    SELECT email FROM added`.execute(db);
  await seedItem(db, feedId, { title: `News for ${name}` });
  return { feedId, emails: rows.map((r) => r.email) };
}

/** Starts a test on an empty queue: earlier tests' subscribers are paused and the ledger cleared. */
export async function clearLedger(db: Db): Promise<void> {
  await db.deleteFrom('deliveries').execute();
  await db.updateTable('subscribers').set({ status: 'paused' }).execute();
}

/**
 * A test database that child processes use too. PGlite is one process at a time, so
 * in embedded mode the test opens the folder only inside `use`, between children.
 */
export interface SharedDatabase {
  env: Record<string, string>;
  use<T>(run: (db: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export async function createSharedDatabase(): Promise<SharedDatabase> {
  if (serverUrl !== undefined) {
    const database = await createTestDatabase();
    return { env: database.env, use: (run) => run(database.db), close: () => database.close() };
  }
  const dataDir = await createEmbeddedFolder();
  return {
    env: { DATA_DIR: dataDir },
    async use(run) {
      const opened = await openEmbedded(dataDir);
      try {
        return await run(opened.db);
      } finally {
        await opened.close();
      }
    },
    close: () => rm(dataDir, { recursive: true, force: true }),
  };
}

export async function ledgerCounts(db: Db): Promise<Record<string, number>> {
  const { rows } = await sql<{ status: string; n: number }>`SELECT status, count(*)::int AS n FROM deliveries GROUP BY status`.execute(db);
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** How many messages each envelope recipient got at the sink. */
export function copiesPerRecipient(sink: SmtpSink): Map<string, number> {
  const copies = new Map<string, number>();
  for (const mail of sink.received) for (const to of mail.envelopeTo) copies.set(to, (copies.get(to) ?? 0) + 1);
  return copies;
}

/** Messages beyond the first per recipient. */
export function duplicates(sink: SmtpSink): number {
  return [...copiesPerRecipient(sink).values()].reduce((sum, n) => sum + n - 1, 0);
}

/** `feed-digest <args>` as a child process, with the delivery tests' settings under the given ones. */
export function startCli(args: string[], env: Record<string, string>): Cli {
  return startCliProcess(args, { ...baseEnv, ...env });
}

/**
 * Polls until `done` holds; tests use it instead of sleeping for a guessed time. The
 * timeout only stops a hang: a busy machine may take long to start a process.
 */
export async function until(done: () => Promise<boolean> | boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
