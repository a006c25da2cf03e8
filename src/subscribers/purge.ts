import type { Db } from '../db/connect.js';
import { unconfirmedTooLong } from './status.js';

/**
 * Deletes pending subscribers whose latest sign-up is older than the retention period:
 * an address nobody confirmed is personal data we have no consent to keep.
 * Returns how many were deleted. Called by the scheduler.
 */
export async function purgeUnconfirmed(db: Db, now: Date = new Date()): Promise<number> {
  const result = await db.deleteFrom('subscribers').where(unconfirmedTooLong(now)).executeTakeFirst();
  return Number(result.numDeletedRows);
}
