import { sql, type Expression, type SqlBool, type UpdateObject } from 'kysely';
import type { Db } from '../db/connect.js';
import type { Database, Subscriber, SubscriberStatus } from '../db/schema.js';
import { currentCursor, cursorOnActivation } from '../digest/cursor.js';
import { recordConsent, type RequestOrigin } from './consent.js';

/**
 * A subscriber's status machine, the one place its transitions and their rules live:
 *
 *   (sign-up) -> pending --confirm--> active <--pause / resume--> paused
 *   pending, active, paused, bounced --unsubscribe--> unsubscribed
 *   pending, active, paused --hard bounces, too many soft bounces--> bounced
 *   pending, active, paused, bounced --complaint, mailed unsubscribe--> unsubscribed
 *   unsubscribed, bounced --resubscribe (only someone who once confirmed)--> active
 *   pending and unconfirmed for UNCONFIRMED_RETENTION_DAYS --> deleted (purge.ts)
 *
 * Becoming active again starts the items cursor now (src/digest/cursor.ts).
 */
type SubscriberSet = UpdateObject<Database, 'subscribers'>;

export type StatusAction = 'pause' | 'resume' | 'unsubscribe' | 'resubscribe';

const UNSUBSCRIBED: SubscriberSet = { status: 'unsubscribed', unsubscribed_at: sql`now()` };

/** What a subscriber asks for on the preferences page or an unsubscribe link. */
const TRANSITIONS: Record<StatusAction, { from: SubscriberStatus[]; set: SubscriberSet }> = {
  pause: { from: ['active'], set: { status: 'paused' } },
  resume: { from: ['paused'], set: { status: 'active', items_cursor: currentCursor } },
  unsubscribe: { from: ['pending', 'active', 'paused', 'bounced'], set: UNSUBSCRIBED },
  resubscribe: {
    from: ['unsubscribed', 'bounced'],
    set: { status: 'active', items_cursor: currentCursor, unsubscribed_at: null },
  },
};

/**
 * Moves a subscriber along one allowed transition and records it; returns the updated
 * row, or undefined when the action does not apply (already done, or not allowed).
 * Repeating an action is therefore harmless: one-click unsubscribe relies on it.
 */
export async function changeStatus(
  db: Db,
  subscriberId: number,
  action: StatusAction,
  origin: RequestOrigin,
): Promise<Subscriber | undefined> {
  const { from, set } = TRANSITIONS[action];
  return db.transaction().execute(async (trx) => {
    let update = trx.updateTable('subscribers').set(set).where('id', '=', subscriberId).where('status', 'in', from);
    // Only someone who once confirmed may come back without a new double opt-in.
    if (action === 'resubscribe') update = update.where('confirmed_at', 'is not', null);
    const changed = await update.returningAll().executeTakeFirst();
    if (changed !== undefined) await recordConsent(trx, subscriberId, action, origin, { status: changed.status });
    return changed;
  });
}

/** Confirming (the double opt-in's second step) makes anyone active; an active subscriber keeps their cursor. */
export const CONFIRMED: SubscriberSet = {
  status: 'active',
  confirmed_at: sql`coalesce(confirmed_at, now())`,
  items_cursor: cursorOnActivation,
  unsubscribed_at: null,
};

/** The statuses a bounce can still stop: those of people we may still mail. */
export const STOPPABLE: readonly SubscriberStatus[] = ['pending', 'active', 'paused'];

/** Where an inbound report moves a subscriber: a hard bounce or too many soft ones, or a complaint or mailed unsubscribe. */
export const STOPPED: Record<'bounced' | 'unsubscribed', SubscriberSet> = {
  bounced: { status: 'bounced' },
  unsubscribed: UNSUBSCRIBED,
};

/** Sign-ups not confirmed within this many days are deleted, consent records with them. */
export const UNCONFIRMED_RETENTION_DAYS = 7;

/** Pending subscribers whose latest sign-up is older than the retention period, as of `now`. */
export function unconfirmedTooLong(now: Date): Expression<SqlBool> {
  return sql<SqlBool>`status = 'pending' AND coalesce(confirmation_sent_at, created_at) < ${now.toISOString()}::timestamptz - make_interval(days => ${UNCONFIRMED_RETENTION_DAYS})`;
}
