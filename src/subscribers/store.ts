import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { startingCursor } from '../digest/cursor.js';
import { duePeriod } from '../digest/due.js';
import type { Problem } from '../problem.js';
import type { Frequency, Subscriber, SubscriberStatus } from '../db/schema.js';
import { isDatabaseTimeZone, unknownStoredTimeZones, unknownTimeZoneProblem } from '../digest/timezones.js';

// Deliberately plain ASCII: addresses go into SMTP envelopes and headers as they are.
const EMAIL_PATTERN =
  /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;

export function normalizeEmail(email: string): string | undefined {
  const trimmed = email.trim();
  if (trimmed.length > 254 || !EMAIL_PATTERN.test(trimmed)) return undefined;
  return trimmed.toLowerCase();
}

export interface SubscriberInput {
  email: string;
  categoryNames: string[];
  status?: SubscriberStatus;
  timezone?: string;
  deliveryHour?: number;
  frequency?: Frequency;
  weeklyDay?: number;
}

export async function categoryIdsByName(db: Db, names: string[]): Promise<Map<string, number>> {
  if (names.length === 0) return new Map();
  const rows = await db.selectFrom('categories').select(['id', 'name']).where('name', 'in', names).execute();
  return new Map(rows.map((r) => [r.name, r.id]));
}

export async function addSubscriber(db: Db, input: SubscriberInput): Promise<Subscriber | Problem> {
  const normalized = normalizeEmail(input.email);
  if (normalized === undefined) return { problem: `"${input.email}" is not a valid email address` };
  const ids = await categoryIdsByName(db, input.categoryNames);
  const unknown = input.categoryNames.filter((name) => !ids.has(name));
  if (unknown.length > 0) return { problem: `unknown categor${unknown.length > 1 ? 'ies' : 'y'}: ${unknown.join(', ')}` };
  if (ids.size === 0) return { problem: 'choose at least one category' };
  if (input.timezone !== undefined && !(await isDatabaseTimeZone(db, input.timezone)))
    return { problem: unknownTimeZoneProblem(input.timezone) };
  return db.transaction().execute(async (trx) => {
    const status = input.status ?? 'active';
    const subscriber = await trx
      .insertInto('subscribers')
      .values({
        email: input.email.trim(),
        email_normalized: normalized,
        status,
        timezone: input.timezone,
        delivery_hour: input.deliveryHour,
        frequency: input.frequency,
        weekly_day: input.weeklyDay,
        confirmed_at: status === 'active' ? new Date() : null,
        items_cursor: startingCursor(status === 'active'),
      })
      .onConflict((oc) => oc.column('email_normalized').doNothing())
      .returningAll()
      .executeTakeFirst();
    if (subscriber === undefined) return { problem: `${normalized} is already subscribed` };
    await setSubscriberCategories(trx, subscriber.id, [...ids.values()]);
    return subscriber;
  });
}

export async function setSubscriberCategories(db: Db, subscriberId: number, categoryIds: number[]): Promise<void> {
  await db.deleteFrom('subscriber_categories').where('subscriber_id', '=', subscriberId).execute();
  if (categoryIds.length === 0) return;
  await db
    .insertInto('subscriber_categories')
    .values(categoryIds.map((category_id) => ({ subscriber_id: subscriberId, category_id })))
    .execute();
}

export interface SubscriberListing extends Subscriber {
  categories: string[];
  /** When their next digest falls due (only active subscribers get it); null when the database does not know their zone. */
  next_digest_at: Date | null;
}

/** Everyone, or those with one status (as typed at the CLI: an unknown one matches nobody). */
export async function listSubscribers(db: Db, filter: { status?: string | undefined } = {}): Promise<SubscriberListing[]> {
  const unknownZones = await unknownStoredTimeZones(db);
  const { status } = filter;
  const rows = await db
    .selectFrom('subscribers as s')
    .$if(status !== undefined, (qb) => qb.where(sql<boolean>`s.status = ${status}`))
    .leftJoin('subscriber_categories as sc', 'sc.subscriber_id', 's.id')
    .leftJoin('categories as c', 'c.id', 'sc.category_id')
    .selectAll('s')
    .select(sql<string[]>`coalesce(array_agg(c.name order by c.name) filter (where c.name is not null), '{}')`.as('categories'))
    .select(duePeriod(new Date(), 'next', unknownZones).as('next_digest_at'))
    .groupBy('s.id')
    .orderBy('s.id')
    .execute();
  return rows;
}

export async function findSubscriberByEmail(db: Db, email: string): Promise<Subscriber | undefined> {
  const normalized = normalizeEmail(email) ?? email.trim().toLowerCase();
  return db.selectFrom('subscribers').selectAll().where('email_normalized', '=', normalized).executeTakeFirst();
}

export async function removeSubscriber(db: Db, email: string): Promise<boolean> {
  const normalized = normalizeEmail(email) ?? email.trim().toLowerCase();
  const result = await db.deleteFrom('subscribers').where('email_normalized', '=', normalized).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function getSubscriber(db: Db, id: number): Promise<Subscriber | undefined> {
  return db.selectFrom('subscribers').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function subscriberCategoryNames(db: Db, subscriberId: number): Promise<string[]> {
  const rows = await db
    .selectFrom('subscriber_categories as sc')
    .innerJoin('categories as c', 'c.id', 'sc.category_id')
    .select('c.name')
    .where('sc.subscriber_id', '=', subscriberId)
    .orderBy('c.name')
    .execute();
  return rows.map((r) => r.name);
}

export const SUBSCRIBER_STATUSES: readonly SubscriberStatus[] = ['pending', 'active', 'paused', 'unsubscribed', 'bounced'];

/** For `subscribers list` and `status`: every status, zero included. */
export async function countSubscribersByStatus(db: Db): Promise<Record<SubscriberStatus, number>> {
  const rows = await db
    .selectFrom('subscribers')
    .select(['status', (eb) => eb.fn.countAll<number>().as('count')])
    .groupBy('status')
    .execute();
  const counts = Object.fromEntries(SUBSCRIBER_STATUSES.map((s) => [s, 0])) as Record<SubscriberStatus, number>;
  for (const row of rows) counts[row.status] = Number(row.count);
  return counts;
}
