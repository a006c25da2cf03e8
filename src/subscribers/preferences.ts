import type { Db } from '../db/connect.js';
import type { Subscriber } from '../db/schema.js';
import type { Schedule } from '../digest/schedule.js';
import { recordConsent, type RequestOrigin } from './consent.js';
import { categoryIdsByName, setSubscriberCategories } from './store.js';
import type { Problem } from '../problem.js';
import { isDatabaseTimeZone, unknownTimeZoneProblem } from '../digest/timezones.js';

/** What a subscriber chooses; also the shape kept in consent records. */
export interface Preferences extends Schedule {
  /** Category names. */
  categories: string[];
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
