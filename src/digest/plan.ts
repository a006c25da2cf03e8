import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import { unknownStoredTimeZones } from './timezones.js';
import { currentCursor, newItemIdsBetween } from './cursor.js';
import { duePeriod } from './due.js';

/**
 * Planning turns "who is owed a digest now" into ledger rows. Subscribers who are
 * due and share their categories, their items cursor and their time zone get the
 * same posts dated alike, so they share one edition: one render, one MIME build (see src/mail/compose.ts).
 * Which posts are new to them, and how their cursor moves: see ./cursor.ts.
 */
export interface PlanSummary {
  editions: number;
  pending: number;
  skipped: number;
  /** Active subscribers left out because the database does not know their time zone. */
  unknownTimeZones: Array<{ subscriberId: number; timezone: string }>;
}

interface DueGroup {
  category_ids: number[];
  items_cursor: string;
  timezone: string;
}

const PLAN_LOCK = 0x66640001; // "fd" + 1: one planner at a time across instances

/** The subscribers owed a digest for their latest period who have no ledger row for it. */
function dueSubscribers(now: Date, unknownZones: string[]) {
  return sql`
    SELECT s.id, s.items_cursor, s.timezone, ${duePeriod(now, 'latest', unknownZones)} AS period,
           coalesce((SELECT array_agg(sc.category_id ORDER BY sc.category_id)
                     FROM subscriber_categories sc WHERE sc.subscriber_id = s.id), '{}') AS category_ids
    FROM subscribers s
    WHERE s.status = 'active' AND s.items_cursor IS NOT NULL`;
}

function unplanned(now: Date, unknownZones: string[]) {
  return sql`
    SELECT due.* FROM (${dueSubscribers(now, unknownZones)}) due
    WHERE NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.subscriber_id = due.id AND d.period = due.period)`;
}

/**
 * One transaction: the due set is computed once into a temporary table (at 100,000
 * subscribers, computing it again for each group cost seconds per group), editions
 * are found per group, then one statement writes every ledger row and moves every
 * cursor. The work stays in the database: nothing per subscriber comes to this process.
 */
export async function planDeliveries(db: Db, now: Date = new Date()): Promise<PlanSummary> {
  const summary = await planInOneTransaction(db, now);
  // The queue's statistics lag behind a big plan until autovacuum catches up (never,
  // where it is off); meanwhile every claim would sort the whole queue instead of
  // reading its index. Sampling the table costs well under a second.
  if (summary.pending + summary.skipped >= ANALYZE_AFTER_ROWS) await sql`ANALYZE deliveries`.execute(db);
  return summary;
}

const ANALYZE_AFTER_ROWS = 10_000;

async function planInOneTransaction(db: Db, now: Date): Promise<PlanSummary> {
  return db.transaction().execute(async (trx) => {
    await sql`SELECT pg_advisory_xact_lock(${PLAN_LOCK})`.execute(trx);
    const {
      rows: [cut],
    } = await sql<{ snapshot: string }>`SELECT ${currentCursor} AS snapshot`.execute(trx);
    // Their due time cannot be computed: they are left out (period NULL) and reported.
    const unknownZones = await unknownStoredTimeZones(trx);
    await sql`CREATE TEMPORARY TABLE plan_due (id integer, period timestamptz, category_ids integer[], items_cursor text, timezone text) ON COMMIT DROP`.execute(
      trx,
    );
    await sql`INSERT INTO plan_due SELECT id, period, category_ids, items_cursor, timezone FROM (${unplanned(now, unknownZones)}) u
      WHERE cardinality(category_ids) > 0 AND period IS NOT NULL`.execute(trx);
    const groups = await sql<DueGroup>`
      SELECT category_ids, items_cursor, timezone FROM plan_due
      GROUP BY category_ids, items_cursor, timezone
      -- The zones of one content get consecutive editions: rendered one after another, they share a compile.
      ORDER BY category_ids, items_cursor, timezone`.execute(trx);

    const editions: Array<number | null> = [];
    for (const group of groups.rows) {
      const itemIds = await newItemIds(trx, group.category_ids, group.items_cursor, cut!.snapshot);
      // An empty period is still recorded (as skipped), so the subscriber is not re-examined
      // all day and a post arriving at noon waits for tomorrow's digest.
      editions.push(itemIds.length === 0 ? null : await upsertEdition(trx, group.category_ids, itemIds, group.timezone));
    }
    const {
      rows: [written],
    } = await sql<{ pending: number; skipped: number }>`
      WITH assigned AS (
        SELECT * FROM unnest(${groups.rows.map((g) => `{${g.category_ids.join(',')}}`)}::text[],
                             ${groups.rows.map((g) => g.items_cursor)}::text[],
                             ${groups.rows.map((g) => g.timezone)}::text[],
                             ${editions}::bigint[]) AS g(category_ids, items_cursor, timezone, edition_id)
      ), planned AS (
        INSERT INTO deliveries (subscriber_id, period, edition_id, status)
        SELECT p.id, p.period, a.edition_id, CASE WHEN a.edition_id IS NULL THEN 'skipped' ELSE 'pending' END
        FROM plan_due p JOIN assigned a ON a.category_ids::integer[] = p.category_ids AND a.items_cursor = p.items_cursor AND a.timezone = p.timezone
        ON CONFLICT (subscriber_id, period) DO NOTHING
        RETURNING subscriber_id, status
      ), moved AS (
        UPDATE subscribers SET items_cursor = ${cut!.snapshot}
        FROM planned WHERE subscribers.id = planned.subscriber_id AND planned.status = 'pending'
        RETURNING 1
      )
      SELECT count(*) FILTER (WHERE status = 'pending') AS pending,
             count(*) FILTER (WHERE status = 'skipped') AS skipped
      FROM planned`.execute(trx);
    return {
      editions: editions.filter((id) => id !== null).length,
      pending: Number(written?.pending ?? 0),
      skipped: Number(written?.skipped ?? 0),
      unknownTimeZones: await activeIn(trx, unknownZones),
    };
  });
}

async function activeIn(db: Db, zones: string[]): Promise<PlanSummary['unknownTimeZones']> {
  if (zones.length === 0) return [];
  const rows = await db
    .selectFrom('subscribers')
    .select(['id', 'timezone'])
    .where('status', '=', 'active')
    .where('timezone', 'in', zones)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({ subscriberId: r.id, timezone: r.timezone }));
}

/** What a subscriber would get if their digest were planned now; writes nothing. */
export async function pendingItemIdsFor(db: Db, subscriberId: number): Promise<number[]> {
  const subscriber = await sql<{ category_ids: number[]; items_cursor: string | null; snapshot: string }>`
    SELECT coalesce(array_agg(sc.category_id ORDER BY sc.category_id), '{}') AS category_ids,
           s.items_cursor,
           ${currentCursor} AS snapshot
    FROM subscribers s LEFT JOIN subscriber_categories sc ON sc.subscriber_id = s.id
    WHERE s.id = ${subscriberId} GROUP BY s.id`.execute(db);
  const row = subscriber.rows[0];
  if (row === undefined || row.items_cursor === null) return [];
  return newItemIds(db, row.category_ids, row.items_cursor, row.snapshot);
}

async function newItemIds(trx: Db, categoryIds: number[], from: string, to: string): Promise<number[]> {
  const { rows } = await newItemIdsBetween(categoryIds, from, to).execute(trx);
  return rows.map((r) => r.id);
}

/**
 * Editions are keyed by their content and their readers' time zone, so equal digests
 * are rendered once whoever planned them, and every date in one is the reader's own.
 */
async function upsertEdition(trx: Db, categoryIds: number[], itemIds: number[], timeZone: string): Promise<number> {
  const key = createHash('sha256')
    .update(JSON.stringify([categoryIds, itemIds, timeZone]))
    .digest('base64url');
  const inserted = await trx
    .insertInto('editions')
    .values({ key, category_ids: categoryIds, item_ids: itemIds, time_zone: timeZone })
    .onConflict((oc) => oc.column('key').doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted !== undefined) return inserted.id;
  const existing = await trx.selectFrom('editions').select('id').where('key', '=', key).executeTakeFirstOrThrow();
  return existing.id;
}
