import { sql } from 'kysely';
import type { Db } from '../db/connect.js';

/** Sign-ups not confirmed within this many days are deleted, consent records with them. */
export const UNCONFIRMED_RETENTION_DAYS = 7;

/**
 * Deletes pending subscribers whose latest sign-up is older than the retention period:
 * an address nobody confirmed is personal data we have no consent to keep.
 * Returns how many were deleted. Called by the scheduler.
 */
export async function purgeUnconfirmed(db: Db, now: Date = new Date()): Promise<number> {
  const result = await db
    .deleteFrom('subscribers')
    .where('status', '=', 'pending')
    .where(
      sql<Date>`coalesce(confirmation_sent_at, created_at)`,
      '<',
      sql<Date>`${now.toISOString()}::timestamptz - make_interval(days => ${UNCONFIRMED_RETENTION_DAYS})`,
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
