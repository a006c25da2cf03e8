import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { Subscriber } from '../db/schema.js';
import { latestSignupChoices, recordConsent, type RequestOrigin } from './consent.js';
import { applyPreferences, asPreferences } from './preferences.js';
import { currentCursor } from './store.js';

/**
 * The double opt-in's second step: applies the choices of the latest sign-up and makes
 * the subscriber active. A new subscriber's cursor starts now, so the first digest holds
 * the posts seen after joining; an already active one keeps theirs (nothing is skipped).
 * Returns undefined when the subscriber no longer exists (purged or removed).
 */
export async function confirmSubscription(db: Db, subscriberId: number, origin: RequestOrigin): Promise<Subscriber | undefined> {
  return db.transaction().execute(async (trx) => {
    const current = await trx.selectFrom('subscribers').select('id').where('id', '=', subscriberId).forUpdate().executeTakeFirst();
    if (current === undefined) return undefined;
    const choices = asPreferences(await latestSignupChoices(trx, subscriberId));
    // Categories removed since the sign-up leave the subscriber's current ones in place.
    if (choices !== undefined) await applyPreferences(trx, subscriberId, choices);
    const confirmed = await trx
      .updateTable('subscribers')
      .set({
        status: 'active',
        confirmed_at: sql`coalesce(confirmed_at, now())`,
        items_cursor: sql`case when status = 'active' then items_cursor else ${currentCursor} end`,
        unsubscribed_at: null,
        bounce_count: 0,
      })
      .where('id', '=', subscriberId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordConsent(trx, subscriberId, 'confirm', origin, choices ?? {});
    return confirmed;
  });
}
