import { sql } from 'kysely';
import type { Db } from '../db/connect.js';

/**
 * Whether the database knows this zone: digests are scheduled in SQL with AT TIME ZONE,
 * and Intl accepts names Postgres rejects (US/Pacific-New, Canada/East-Saskatchewan), so
 * the database's own list is the one that counts.
 */
export async function isDatabaseTimeZone(db: Db, zone: string): Promise<boolean> {
  const { rows } = await sql<{ known: boolean }>`SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = ${zone}) AS known`.execute(db);
  return rows[0]?.known === true;
}

export function unknownTimeZoneProblem(zone: string): string {
  return `unknown time zone "${zone}": use an IANA name the database knows, e.g. Europe/Berlin (SELECT name FROM pg_timezone_names)`;
}
