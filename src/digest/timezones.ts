import { sql } from 'kysely';
import type { Db } from '../db/connect.js';

/**
 * The zones the database knows, read once per process: pg_timezone_names reads the whole
 * zone directory (about 50 ms on a server), too slow for every sign-up, and a cost that
 * would differ between sign-ups that check a zone and those that do not. The list changes
 * only with the server's own tzdata.
 */
let known: Promise<Set<string>> | undefined;

function databaseZones(db: Db): Promise<Set<string>> {
  known ??= sql<{ name: string }>`SELECT name FROM pg_timezone_names`.execute(db).then(
    ({ rows }) => new Set(rows.map((r) => r.name)),
    (error: unknown) => {
      known = undefined;
      throw error;
    },
  );
  return known;
}

/**
 * Whether the database knows this zone: digests are scheduled in SQL with AT TIME ZONE,
 * and Intl accepts names Postgres rejects (US/Pacific-New, Canada/East-Saskatchewan), so
 * the database's own list is the one that counts.
 */
export async function isDatabaseTimeZone(db: Db, zone: string): Promise<boolean> {
  return (await databaseZones(db)).has(zone);
}

/**
 * The zones stored on subscribers that the database does not know: usually none. The
 * few distinct zones are checked here against the cached list, so that statements over
 * every subscriber need not read pg_timezone_names themselves.
 */
export async function unknownStoredTimeZones(db: Db): Promise<string[]> {
  const [zones, { rows }] = await Promise.all([
    databaseZones(db),
    sql<{ timezone: string }>`SELECT DISTINCT timezone FROM subscribers`.execute(db),
  ]);
  return rows
    .map((r) => r.timezone)
    .filter((zone) => !zones.has(zone))
    .sort();
}

export function unknownTimeZoneProblem(zone: string): string {
  return `unknown time zone "${zone}": use an IANA name the database knows, e.g. Europe/Berlin (SELECT name FROM pg_timezone_names)`;
}
