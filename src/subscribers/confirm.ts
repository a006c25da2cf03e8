import type { Db } from '../db/connect.js';
import type { Subscriber } from '../db/schema.js';
import { recordConsent, signupChoices, type RequestOrigin } from './consent.js';
import { applyPreferences, asPreferences } from './preferences.js';
import { CONFIRMED } from './status.js';

/** A confirm link is good while its sign-up is the one waiting: not used, not replaced by a newer one. */
export async function pendingSignupSubscriber(db: Db, subscriberId: number, signupId: number): Promise<Subscriber | undefined> {
  return db
    .selectFrom('subscribers')
    .selectAll()
    .where('id', '=', subscriberId)
    .where('pending_signup_id', '=', signupId)
    .executeTakeFirst();
}

/**
 * The double opt-in's second step, for one sign-up: applies that sign-up's choices and
 * makes the subscriber active. The sign-up is consumed, so the link works once, and a
 * link for an older sign-up (someone else may have typed this address since) does nothing.
 * The status and cursor follow src/subscribers/status.ts. Returns undefined when
 * the sign-up is no longer waiting, or the subscriber no longer exists (purged or removed).
 */
export async function confirmSubscription(
  db: Db,
  subscriberId: number,
  signupId: number,
  origin: RequestOrigin,
): Promise<Subscriber | undefined> {
  return db.transaction().execute(async (trx) => {
    const consumed = await trx
      .updateTable('subscribers')
      .set({ pending_signup_id: null })
      .where('id', '=', subscriberId)
      .where('pending_signup_id', '=', signupId)
      .returning('id')
      .executeTakeFirst();
    if (consumed === undefined) return undefined;
    const choices = asPreferences(await signupChoices(trx, subscriberId, signupId));
    // Categories removed since the sign-up leave the subscriber's current ones in place.
    if (choices !== undefined) await applyPreferences(trx, subscriberId, choices);
    const confirmed = await trx
      .updateTable('subscribers')
      .set(CONFIRMED)
      .where('id', '=', subscriberId)
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordConsent(trx, subscriberId, 'confirm', origin, choices ?? {});
    return confirmed;
  });
}
