import { isTimeZone } from '../config/config.js';
import type { Db } from '../db/connect.js';
import type { Frequency } from '../db/schema.js';
import type { Preferences } from '../subscribers/preferences.js';
import { isDatabaseTimeZone } from '../digest/timezones.js';

/** A parsed form body: urlencoded (@fastify/formbody) or multipart fields. */
export type FormBody = Record<string, string | string[] | undefined>;

export function asFormBody(body: unknown): FormBody {
  return typeof body === 'object' && body !== null ? (body as FormBody) : {};
}

/** The body's own field only: a parsed body may be a plain object, with Object.prototype behind it. */
function own(body: FormBody, name: string): string | string[] | undefined {
  return Object.hasOwn(body, name) ? body[name] : undefined;
}

export function field(body: FormBody, name: string): string {
  const value = own(body, name);
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

export function fields(body: FormBody, name: string): string[] {
  const value = own(body, name);
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/** What is wrong with a form field, by field name, shown next to the field (a Problem is something else: see src/problem.ts). */
export type FieldErrors = Record<string, string>;

function integerIn(text: string, min: number, max: number): number | undefined {
  if (!/^\d{1,2}$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}

const TIME_ZONE_ERROR = 'Choose a time zone from the list.';

/** Intl knows zones the database rejects (US/Pacific-New): the database's list decides. */
export async function checkTimeZoneInDatabase(db: Db, prefs: Preferences, fieldErrors: FieldErrors): Promise<void> {
  if (fieldErrors.timezone === undefined && !(await isDatabaseTimeZone(db, prefs.timezone))) fieldErrors.timezone = TIME_ZONE_ERROR;
}

/**
 * Reads the choices fields shared by the sign-up and preferences forms. What was
 * typed is kept (even when wrong) so the page can show it again next to its error.
 */
export function readPreferences(
  body: FormBody,
  knownCategories: string[],
  fallback: Preferences,
): { prefs: Preferences; fieldErrors: FieldErrors } {
  const fieldErrors: FieldErrors = {};
  const categories = fields(body, 'categories').filter((name) => knownCategories.includes(name));
  if (categories.length === 0) fieldErrors.categories = 'Choose at least one category.';

  const hour = integerIn(field(body, 'hour'), 0, 23);
  if (hour === undefined) fieldErrors.hour = 'Choose an hour from 00:00 to 23:00.';

  const timezone = field(body, 'timezone').trim();
  if (!isTimeZone(timezone)) fieldErrors.timezone = TIME_ZONE_ERROR;

  const frequencyText = field(body, 'frequency') || fallback.frequency;
  const frequency: Frequency = frequencyText === 'weekly' ? 'weekly' : 'daily';
  if (frequencyText !== 'daily' && frequencyText !== 'weekly') fieldErrors.frequency = 'Choose daily or weekly.';

  const weekdayText = field(body, 'weekday');
  const weeklyDay = weekdayText === '' ? fallback.weeklyDay : integerIn(weekdayText, 1, 7);
  if (weeklyDay === undefined) fieldErrors.weekday = 'Choose a day of the week.';

  return {
    prefs: {
      categories,
      timezone: timezone || fallback.timezone,
      deliveryHour: hour ?? fallback.deliveryHour,
      frequency,
      weeklyDay: weeklyDay ?? fallback.weeklyDay,
    },
    fieldErrors,
  };
}
