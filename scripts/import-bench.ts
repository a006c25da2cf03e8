/**
 * How long `subscribers import` takes to store a large CSV:
 *
 *   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test npx tsx scripts/import-bench.ts [--rows 100000] [--backend postgres|pglite]
 *
 * On Postgres it creates and drops its own database. It writes a CSV of generated rows
 * (12 categories, 7 time zones, 24 hours, one in five weekly) to a temporary file, then
 * times, each from the file: a --confirmed import (subscribers, categories and consent
 * records), the same file again (every row already there: nothing changes), and, into an
 * empty table, a double opt-in import (pending rows; the confirmation mails, paced by
 * SEND_RATE_LIMIT, come after and are not part of the figure).
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { importSubscribers, type ImportOptions } from '../src/subscribers/import.js';
import { createEmbeddedDatabase, createServerDatabase } from '../test/helpers/db.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '100000' }, backend: { type: 'string' } } });
const rows = Number(values.rows);
const backend = values.backend ?? (process.env.DATABASE_URL ? 'postgres' : 'pglite');
if (backend === 'postgres' && !process.env.DATABASE_URL) throw new Error('--backend postgres needs DATABASE_URL');

const CATEGORIES = Array.from({ length: 12 }, (_, i) => `topic-${i}`);
const ZONES = ['UTC', 'Europe/London', 'Europe/Berlin', 'America/New_York', 'America/Los_Angeles', 'Asia/Tokyo', 'Australia/Melbourne'];

function csv(count: number): string {
  const lines = ['email,categories,timezone,hour,frequency,weekly_day,consent_source,consent_date'];
  for (let i = 0; i < count; i++) {
    const categories = [CATEGORIES[i % 12], CATEGORIES[(i * 7 + 3) % 12]].join(' ');
    const weekly = i % 5 === 0;
    lines.push(
      `reader${i}@example.org,${categories},${ZONES[i % 7]},${i % 24},${weekly ? 'weekly' : 'daily'},${weekly ? 'mon' : ''},newsletter form,2025-03-${String(1 + (i % 28)).padStart(2, '0')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

const database = backend === 'postgres' ? await createServerDatabase(process.env.DATABASE_URL!) : await createEmbeddedDatabase();
const folder = await mkdtemp(path.join(os.tmpdir(), 'import-bench-'));
try {
  const { db } = database;
  await db
    .insertInto('categories')
    .values(CATEGORIES.map((name) => ({ name, title: name })))
    .execute();
  const file = path.join(folder, 'subscribers.csv');
  await writeFile(file, csv(rows));
  const options = (confirmed: boolean): ImportOptions => ({ confirmed, defaultTimezone: 'UTC', defaultDeliveryHour: 7, file });
  const timed = async (label: string, confirmed: boolean) => {
    const started = process.hrtime.bigint();
    const cpu = process.cpuUsage();
    const report = await importSubscribers(db, createReadStream(file), options(confirmed));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const used = process.cpuUsage(cpu);
    const cpuSeconds = (used.user + used.system) / 1e6;
    console.log(
      `${label.padEnd(36)} ${seconds.toFixed(1).padStart(6)} s (${cpuSeconds.toFixed(1)} s CPU here)  ${Math.round(rows / seconds)
        .toLocaleString('en')
        .padStart(8)} rows/s  added ${report.added}, already there ${report.existing}, rejected ${report.rejected.length}`,
    );
  };
  console.log(`${rows.toLocaleString('en')} rows on ${backend}`);
  await timed('import --confirmed', true);
  await timed('the same file again (no change)', true);
  await db.deleteFrom('subscribers').execute();
  await timed('import (double opt-in, mails apart)', false);
} finally {
  await rm(folder, { recursive: true, force: true });
  await database.close();
}
