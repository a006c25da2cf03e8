import { sql, type RawBuilder } from 'kysely';

/**
 * When a subscriber's digest falls due: their delivery hour in their own time zone,
 * every day or (weekly) on their weekday. Computed from local wall-clock time with
 * AT TIME ZONE, so 07:00 stays 07:00 local across daylight-saving changes. Kept in
 * SQL (over a table aliased `s`) so that planning 100,000 subscribers is one
 * statement, not 100,000 round trips.
 *
 * 'latest' is the last due instant at or before `now` (the period a digest is owed
 * for); 'next' the first one after it. NULL for the zones in `unknownZones`, which the
 * database does not know (rows stored by an older version): one such row must not make
 * the whole statement fail.
 */
export function duePeriod(now: Date, which: 'latest' | 'next', unknownZones: string[] = []): RawBuilder<Date> {
  const local = sql`(${now}::timestamptz AT TIME ZONE s.timezone)`;
  const periodStart = sql`CASE WHEN s.frequency = 'weekly'
      THEN date_trunc('week', ${local}) + make_interval(days => s.weekly_day - 1)
      ELSE date_trunc('day', ${local}) END`;
  const period = sql`CASE WHEN s.frequency = 'weekly' THEN interval '7 days' ELSE interval '1 day' END`;
  const hour = sql`make_interval(hours => s.delivery_hour::int)`;
  const candidate = sql`(${periodStart} + ${hour})`;
  const wall =
    which === 'latest'
      ? sql`CASE WHEN ${candidate} <= ${local} THEN ${candidate} ELSE ${candidate} - ${period} END`
      : sql`CASE WHEN ${candidate} > ${local} THEN ${candidate} ELSE ${candidate} + ${period} END`;
  const due = sql<Date>`((${wall}) AT TIME ZONE s.timezone)`;
  return unknownZones.length === 0 ? due : sql<Date>`(CASE WHEN s.timezone = ANY(${unknownZones}::text[]) THEN NULL ELSE ${due} END)`;
}
