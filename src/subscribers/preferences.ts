import { sql, type UpdateObject } from 'kysely';
import type { Db } from '../db/connect.js';
import { currentCursor } from '../digest/cursor.js';
import type { Database, Frequency, Subscriber, SubscriberStatus } from '../db/schema.js';
import { recordConsent, type RequestOrigin } from './consent.js';
import { categoryIdsByName, setSubscriberCategories } from './store.js';
import type { Problem } from '../problem.js';
import { isDatabaseTimeZone, unknownTimeZoneProblem } from './timezones.js';

/** What a subscriber chooses; also the shape kept in consent records. */
export interface Preferences {
  /** Category names. */
  categories: string[];
  timezone: string;
  deliveryHour: number;
  frequency: Frequency;
  /** ISO weekday for weekly digests: 1 = Monday ... 7 = Sunday. */
  weeklyDay: number;
}

export function preferencesOf(subscriber: Subscriber, categories: string[]): Preferences {
  return {
    categories,
    timezone: subscriber.timezone,
    deliveryHour: subscriber.delivery_hour,
    frequency: subscriber.frequency,
    weeklyDay: subscriber.weekly_day,
  };
}

/** Writes the choices onto the subscriber; categories that no longer exist are dropped. */
export async function applyPreferences(db: Db, subscriberId: number, prefs: Preferences): Promise<Problem | undefined> {
  const ids = await categoryIdsByName(db, prefs.categories);
  if (ids.size === 0) return { problem: 'choose at least one category' };
  if (!(await isDatabaseTimeZone(db, prefs.timezone))) return { problem: unknownTimeZoneProblem(prefs.timezone) };
  await db
    .updateTable('subscribers')
    .set({
      timezone: prefs.timezone,
      delivery_hour: prefs.deliveryHour,
      frequency: prefs.frequency,
      weekly_day: prefs.weeklyDay,
    })
    .where('id', '=', subscriberId)
    .execute();
  await setSubscriberCategories(db, subscriberId, [...ids.values()]);
  return undefined;
}

export async function savePreferences(
  db: Db,
  subscriberId: number,
  prefs: Preferences,
  origin: RequestOrigin,
): Promise<Problem | undefined> {
  return db.transaction().execute(async (trx) => {
    const problem = await applyPreferences(trx, subscriberId, prefs);
    if (problem === undefined) await recordConsent(trx, subscriberId, 'preferences', origin, prefs);
    return problem;
  });
}

export type StatusAction = 'pause' | 'resume' | 'unsubscribe' | 'resubscribe';

// Starting again (resume, resubscribe) moves the cursor to now (src/digest/cursor.ts).
const TRANSITIONS: Record<
  StatusAction,
  { from: SubscriberStatus[]; to: SubscriberStatus; set: UpdateObject<Database, 'subscribers'> }
> = {
  pause: { from: ['active'], to: 'paused', set: {} },
  resume: { from: ['paused'], to: 'active', set: { items_cursor: currentCursor } },
  unsubscribe: { from: ['pending', 'active', 'paused', 'bounced'], to: 'unsubscribed', set: { unsubscribed_at: sql`now()` } },
  resubscribe: {
    from: ['unsubscribed', 'bounced'],
    to: 'active',
    set: { items_cursor: currentCursor, unsubscribed_at: null, bounce_count: 0 },
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
  const { from, to, set } = TRANSITIONS[action];
  return db.transaction().execute(async (trx) => {
    let update = trx
      .updateTable('subscribers')
      .set({ ...set, status: to })
      .where('id', '=', subscriberId)
      .where('status', 'in', from);
    // Only someone who once confirmed may come back without a new double opt-in.
    if (action === 'resubscribe') update = update.where('confirmed_at', 'is not', null);
    const changed = await update.returningAll().executeTakeFirst();
    if (changed !== undefined) await recordConsent(trx, subscriberId, action, origin, { status: to });
    return changed;
  });
}

/** Reads choices back from a consent record (JSON written by an earlier version, perhaps). */
export function asPreferences(value: unknown): Preferences | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const ok =
    Array.isArray(v.categories) &&
    v.categories.every((c) => typeof c === 'string') &&
    typeof v.timezone === 'string' &&
    Number.isInteger(v.deliveryHour) &&
    (v.frequency === 'daily' || v.frequency === 'weekly') &&
    Number.isInteger(v.weeklyDay);
  return ok ? (v as unknown as Preferences) : undefined;
}

export const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;

export function formatHour(hour: number): string {
  return `${String(hour).padStart(2, '0')}:00`;
}

/** "daily at 07:00 (Europe/Berlin)", "weekly on Monday at 18:00 (UTC)". */
export function describeSchedule(prefs: Pick<Preferences, 'frequency' | 'weeklyDay' | 'deliveryHour' | 'timezone'>): string {
  const when = prefs.frequency === 'weekly' ? `weekly on ${WEEKDAYS[prefs.weeklyDay - 1] ?? 'Monday'}` : 'daily';
  return `${when} at ${formatHour(prefs.deliveryHour)} (${prefs.timezone})`;
}
