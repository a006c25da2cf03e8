import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { sql } from 'kysely';
import { DateTime } from 'luxon';
import { duePeriod } from '../../src/digest/due.js';
import { planDeliveries } from '../../src/digest/plan.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedAudience } from './support.js';

/**
 * Due times across daylight-saving changes, computed by the database (duePeriod) and
 * checked against luxon's independent zone rules and hand-written UTC instants.
 * 2026: New York springs forward on 8 March and falls back on 1 November; Melbourne
 * falls back on 5 April and springs forward on 4 October. All four are Sundays.
 */
let database: TestDatabase;
const HOUR = 3600_000;

before(async () => {
  database = await createTestDatabase();
});
after(async () => {
  await database.close();
});

async function subscriberIn(
  zone: string,
  fields: { delivery_hour?: number; frequency?: 'daily' | 'weekly'; weekly_day?: number } = {},
): Promise<number> {
  const { emails } = await seedAudience(database.db, 1, { timezone: zone });
  const row = await database.db
    .updateTable('subscribers')
    .set({ delivery_hour: 7, ...fields })
    .where('email', '=', emails[0]!)
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

function localAt(zone: string, date: string, hour: number): string {
  const [year, month, day] = date.split('-').map(Number);
  return DateTime.fromObject({ year, month, day, hour }, { zone }).toUTC().toISO({ suppressMilliseconds: true })!;
}

const iso = (date: Date) => date.toISOString().replace('.000Z', 'Z');

/** Runs the planner every `stepMinutes` over [from, to) and returns the ledger's periods for the subscriber. */
async function plannedPeriods(subscriberId: number, from: string, to: string, stepMinutes: number): Promise<string[]> {
  for (let at = Date.parse(from); at < Date.parse(to); at += stepMinutes * 60_000) await planDeliveries(database.db, new Date(at));
  const rows = await database.db
    .selectFrom('deliveries')
    .select('period')
    .where('subscriber_id', '=', subscriberId)
    .orderBy('period')
    .execute();
  return rows.map((r) => iso(r.period));
}

const changeDays = [
  { zone: 'America/New_York', day: '2026-03-08', expected: ['2026-03-07T12:00:00Z', '2026-03-08T11:00:00Z', '2026-03-09T11:00:00Z'] },
  { zone: 'America/New_York', day: '2026-11-01', expected: ['2026-10-31T11:00:00Z', '2026-11-01T12:00:00Z', '2026-11-02T12:00:00Z'] },
  { zone: 'Australia/Melbourne', day: '2026-04-05', expected: ['2026-04-03T20:00:00Z', '2026-04-04T21:00:00Z', '2026-04-05T21:00:00Z'] },
  { zone: 'Australia/Melbourne', day: '2026-10-04', expected: ['2026-10-02T21:00:00Z', '2026-10-03T20:00:00Z', '2026-10-04T20:00:00Z'] },
];

for (const { zone, day, expected } of changeDays) {
  test(`daily at 07:00 in ${zone} around ${day}: one digest a day at 07:00 local, none skipped or doubled`, async () => {
    const id = await subscriberIn(zone);
    const dayBefore = DateTime.fromISO(day, { zone }).minus({ days: 1 });
    // From the day before's 07:00 to the day after's 08:00 local, every half hour.
    const from = dayBefore.set({ hour: 7 }).toUTC().toISO()!;
    const to = dayBefore.plus({ days: 2 }).set({ hour: 8 }).toUTC().toISO()!;
    const periods = await plannedPeriods(id, from, to, 30);
    assert.deepEqual(periods, expected);
    assert.deepEqual(
      periods,
      [-1, 0, 1].map((d) => localAt(zone, dayBefore.plus({ days: d + 1 }).toISODate()!, 7)),
    );
  });
}

test('weekly on Sunday at 07:00: the change Sundays included, one a week at 07:00 local', async () => {
  for (const { zone, day } of changeDays) {
    const id = await subscriberIn(zone, { frequency: 'weekly', weekly_day: 7 });
    const sunday = DateTime.fromISO(day, { zone });
    assert.equal(sunday.weekday, 7);
    const periods = await plannedPeriods(
      id,
      sunday.minus({ days: 14 }).set({ hour: 8 }).toUTC().toISO()!,
      sunday.plus({ days: 8 }).toUTC().toISO()!,
      180,
    );
    assert.deepEqual(
      periods,
      [-14, -7, 0, 7].map((d) => localAt(zone, sunday.plus({ days: d }).toISODate()!, 7)),
      `${zone} ${day}`,
    );
  }
});

test('every hour of the day across every change: one due instant per local day, never more than an hour from now', async () => {
  const zones = ['America/New_York', 'Australia/Melbourne'];
  const ids = new Map<number, { zone: string; hour: number }>();
  for (const zone of zones) {
    for (let hour = 0; hour < 24; hour++) ids.set(await subscriberIn(zone, { delivery_hour: hour }), { zone, hour });
  }
  for (const { zone, day } of changeDays) {
    const from = DateTime.fromISO(day, { zone }).minus({ days: 1 });
    const seen = new Map<number, Set<string>>();
    for (let at = from.toMillis(); at < from.plus({ days: 3 }).toMillis(); at += 30 * 60_000) {
      const now = new Date(at);
      const { rows } = await sql<{ id: number; latest: Date; next: Date }>`
        SELECT s.id, ${duePeriod(now, 'latest')} AS latest, ${duePeriod(now, 'next')} AS next
        FROM subscribers s WHERE s.timezone = ${zone} AND s.id = ANY(${[...ids.keys()]}::int[])`.execute(database.db);
      for (const { id, latest, next } of rows) {
        // In an hour that happens twice the first one counts, so 'latest' may be up to an hour ahead.
        assert.ok(
          latest.getTime() <= at + HOUR && at - latest.getTime() < 25 * HOUR,
          `${zone} ${ids.get(id)!.hour}:00 at ${iso(now)}: latest ${iso(latest)}`,
        );
        assert.ok(
          next.getTime() > at && next.getTime() - latest.getTime() >= 23 * HOUR,
          `${zone} ${ids.get(id)!.hour}:00 at ${iso(now)}: next ${iso(next)}`,
        );
        seen.set(id, (seen.get(id) ?? new Set()).add(iso(latest)));
      }
    }
    for (const [id, periods] of seen) {
      const localDays = [...periods].map((p) => DateTime.fromISO(p, { zone }).toISODate());
      assert.equal(new Set(localDays).size, localDays.length, `${zone} ${ids.get(id)!.hour}:00 around ${day}: ${[...periods].join(', ')}`);
      assert.ok(periods.size >= 3 && periods.size <= 4, `${zone} ${ids.get(id)!.hour}:00 around ${day}: ${[...periods].join(', ')}`);
    }
  }
});
