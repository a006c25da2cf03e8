import { parse } from 'csv-parse';
import { sql } from 'kysely';
import type { Readable } from 'node:stream';
import { isTimeZone, type ConfigWithSecret } from '../config/config.js';
import type { Db } from '../db/connect.js';
import { currentCursor } from '../digest/cursor.js';
import type { Frequency, SubscriberStatus } from '../db/schema.js';
import type { Mailer } from '../mail/transport.js';
import { sendConfirmationMail } from '../mail/confirmation.js';
import type { Preferences } from './preferences.js';
import { normalizeEmail } from './store.js';

/**
 * `subscribers import FILE.csv`. A header line names the columns, in any order:
 * email (required), categories (space- or comma-separated names), timezone,
 * hour (or delivery_hour), frequency (daily or weekly), weekly_day (1-7 or mon-sun),
 * consent_source and consent_date, and optionally status; other columns (those of
 * `subscribers export`: id, created_at ...) are ignored, so an export imports back.
 *
 * Each row is checked on its own: a bad row is reported with its line number and
 * the others go in. An address already stored, here or earlier in the file, is left
 * as it is, so a second run of the same file changes nothing. Rows are written in
 * batches of BATCH per statement.
 */

export interface ImportOptions {
  /** Rows are already confirmed elsewhere: consent_source and consent_date are required and recorded. */
  confirmed: boolean;
  /** For rows without a consent_source column (e.g. an export of another instance). */
  consentSource?: string;
  defaultTimezone: string;
  defaultDeliveryHour: number;
  /** Where the rows came from, kept in the consent records. */
  file: string;
  now?: Date;
}

export interface ImportReport {
  rows: number;
  added: number;
  /** Already stored (by this import before, or otherwise). */
  existing: number;
  rejected: Array<{ line: number; reason: string }>;
  /** Ids of the rows added as pending: they get a confirmation mail. */
  pendingIds: number[];
}

interface ImportRow {
  line: number;
  email: string;
  normalized: string;
  status: SubscriberStatus;
  categoryIds: number[];
  prefs: Preferences;
  consent?: { source: string; date: Date };
}

const BATCH = 5000;
const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
/** Export writes these with a leading apostrophe (formula guard); it is not part of the value. */
const unguard = (value: string): string => (/^'[=+\-@\t\r]/.test(value) ? value.slice(1) : value);

const COLUMN_ALIASES: Record<string, string> = {
  delivery_hour: 'hour',
  weekly: 'weekly_day',
  day: 'weekly_day',
  weekday: 'weekly_day',
  time_zone: 'timezone',
  tz: 'timezone',
  email_address: 'email',
  mail: 'email',
  consent_at: 'consent_date',
  confirmed_at: 'confirmed_at',
};

function columnName(header: string): string {
  const name = header
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  return COLUMN_ALIASES[name] ?? name;
}

function weekday(value: string): number | undefined {
  if (/^[1-7]$/.test(value)) return Number(value);
  const day = WEEKDAYS.indexOf(value.slice(0, 3).toLowerCase()) + 1;
  return day === 0 ? undefined : day;
}

type Checked = { row: ImportRow } | { reason: string };

// Intl checks a zone by building a formatter (about 0.2 ms): a file names a few zones, many times.
const zoneChecks = new Map<string, boolean>();
function knownZone(zone: string): boolean {
  let known = zoneChecks.get(zone);
  if (known === undefined) zoneChecks.set(zone, (known = isTimeZone(zone)));
  return known;
}

function checkRow(
  record: Record<string, string>,
  line: number,
  categories: Map<string, number>,
  options: ImportOptions,
  now: Date,
): Checked {
  const value = (name: string): string => unguard((record[name] ?? '').trim());
  const email = value('email');
  const normalized = normalizeEmail(email);
  if (normalized === undefined) return { reason: email === '' ? 'no email' : `"${email}" is not a valid email address` };
  const names = value('categories')
    .split(/[\s,;]+/)
    .filter(Boolean)
    .map((name) => name.toLowerCase());
  const unknown = names.filter((name) => !categories.has(name));
  if (unknown.length > 0) return { reason: `unknown categor${unknown.length > 1 ? 'ies' : 'y'}: ${unknown.join(', ')}` };
  if (names.length === 0) return { reason: 'no categories' };
  const timezone = value('timezone') || options.defaultTimezone;
  if (!knownZone(timezone)) return { reason: `unknown time zone ${timezone}` };
  const hourText = value('hour');
  const hour = hourText === '' ? options.defaultDeliveryHour : Number(hourText);
  if (!Number.isInteger(hour) || hour < 0 || hour > 23) return { reason: `hour must be 0 to 23, got ${hourText}` };
  const dayText = value('weekly_day');
  const frequency = (value('frequency').toLowerCase() || (dayText === '' ? 'daily' : 'weekly')) as Frequency;
  if (frequency !== 'daily' && frequency !== 'weekly') return { reason: `frequency must be daily or weekly, got ${value('frequency')}` };
  const day = dayText === '' ? (frequency === 'weekly' ? undefined : 1) : weekday(dayText);
  if (day === undefined)
    return {
      reason:
        frequency === 'weekly' && dayText === '' ? 'weekly without a weekly_day' : `weekly_day must be 1-7 or mon-sun, got ${dayText}`,
    };
  const status = value('status').toLowerCase();
  if (!['', 'active', 'pending', 'paused', 'unsubscribed', 'bounced'].includes(status)) return { reason: `unknown status ${status}` };
  const row: ImportRow = {
    line,
    email,
    normalized,
    status: 'pending',
    categoryIds: names.map((name) => categories.get(name)!),
    prefs: { categories: [...new Set(names)], timezone, deliveryHour: hour, frequency, weeklyDay: day },
  };
  // People who left or bounced stay that way: kept so they are never asked again, and never mailed.
  if (status === 'unsubscribed' || status === 'bounced') return { row: { ...row, status } };
  if (!options.confirmed) return { row };
  const source = value('consent_source') || options.consentSource?.trim() || '';
  const dateText = value('consent_date') || value('confirmed_at');
  if (source === '') return { reason: '--confirmed needs consent_source (or --consent-source)' };
  if (dateText === '') return { reason: '--confirmed needs consent_date' };
  const date = new Date(dateText);
  if (Number.isNaN(date.getTime())) return { reason: `consent_date is not a date: ${dateText}` };
  if (date.getTime() > now.getTime() + 24 * 3600_000) return { reason: `consent_date is in the future: ${dateText}` };
  return { row: { ...row, status: status === 'paused' ? 'paused' : 'active', consent: { source: source.slice(0, 500), date } } };
}

/**
 * One batch in one transaction, each table in one statement over arrays (unnest): a
 * multi-row VALUES of 5,000 rows is 50,000 parameters that kysely and pg handle one by one.
 */
async function insertBatch(db: Db, rows: ImportRow[], options: ImportOptions, now: Date): Promise<Array<ImportRow & { id: number }>> {
  return db.transaction().execute(async (trx) => {
    const column = <T>(pick: (row: ImportRow) => T): T[] => rows.map(pick);
    const { rows: inserted } = await sql<{ id: number; email_normalized: string }>`
      INSERT INTO subscribers (email, email_normalized, status, timezone, delivery_hour, frequency, weekly_day, confirmed_at, items_cursor, unsubscribed_at)
      SELECT r.email, r.normalized, r.status, r.timezone, r.hour, r.frequency, r.day, r.confirmed_at,
             CASE WHEN r.status IN ('active', 'paused') THEN ${currentCursor} END,
             CASE WHEN r.status = 'unsubscribed' THEN ${now}::timestamptz END
      FROM unnest(${column((r) => r.email)}::text[], ${column((r) => r.normalized)}::text[], ${column((r) => r.status)}::text[],
                  ${column((r) => r.prefs.timezone)}::text[], ${column((r) => r.prefs.deliveryHour)}::int[], ${column((r) => r.prefs.frequency)}::text[],
                  ${column((r) => r.prefs.weeklyDay)}::int[], ${column((r) => r.consent?.date.toISOString() ?? null)}::timestamptz[])
           AS r(email, normalized, status, timezone, hour, frequency, day, confirmed_at)
      ON CONFLICT (email_normalized) DO NOTHING
      RETURNING id, email_normalized`.execute(trx);
    if (inserted.length === 0) return [];
    const byEmail = new Map(rows.map((row) => [row.normalized, row]));
    const added = inserted.map((r) => ({ ...byEmail.get(r.email_normalized)!, id: r.id }));
    const links = added.flatMap((row) => [...new Set(row.categoryIds)].map((categoryId) => [row.id, categoryId] as const));
    await sql`
      INSERT INTO subscriber_categories (subscriber_id, category_id)
      SELECT * FROM unnest(${links.map((l) => l[0])}::int[], ${links.map((l) => l[1])}::int[])`.execute(trx);
    // Pending rows get a sign-up whose choices confirming applies, as for the web form;
    // people who left or bounced get no record: nothing was consented.
    const consenting = added.filter((row) => row.status !== 'unsubscribed' && row.status !== 'bounced');
    await sql`
      INSERT INTO consents (subscriber_id, action, channel, choices)
      SELECT r.id, r.action, 'import', r.choices FROM unnest(
        ${consenting.map((row) => row.id)}::int[],
        ${consenting.map((row) => (row.consent === undefined ? 'signup' : 'confirm'))}::text[],
        ${consenting.map((row) => JSON.stringify({ ...row.prefs, file: options.file, line: row.line, ...(row.consent ? { consentSource: row.consent.source, consentDate: row.consent.date.toISOString() } : {}) }))}::jsonb[]
      ) AS r(id, action, choices)`.execute(trx);
    return added;
  });
}

/** Reads and stores the CSV; sends nothing (see sendImportConfirmations). */
export async function importSubscribers(db: Db, input: Readable, options: ImportOptions): Promise<ImportReport> {
  const now = options.now ?? new Date();
  const categories = new Map((await db.selectFrom('categories').select(['id', 'name']).execute()).map((c) => [c.name, c.id]));
  const report: ImportReport = { rows: 0, added: 0, existing: 0, rejected: [], pendingIds: [] };
  const parser = input.pipe(
    parse({
      columns: (headers: string[]) => headers.map(columnName),
      bom: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      relax_quotes: false,
      info: true,
    }),
  );
  parser.on('skip', (error: Error & { lines?: number }) => {
    report.rows++;
    report.rejected.push({
      line: error.lines ?? 0,
      reason: `not valid CSV: ${error.message.replace(/^Invalid Record Length: /, '').split(/, on line/)[0]}`,
    });
  });
  const seen = new Map<string, number>();
  let batch: ImportRow[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    const added = await insertBatch(db, batch, options, now);
    report.added += added.length;
    report.existing += batch.length - added.length;
    report.pendingIds.push(...added.filter((r) => r.status === 'pending').map((r) => r.id));
    batch = [];
  };
  let headerChecked = false;
  for await (const { record, info } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number } }>) {
    if (!headerChecked) {
      if (!('email' in record)) throw new ImportError('the first line must name the columns, with at least "email"');
      headerChecked = true;
    }
    report.rows++;
    const checked = checkRow(record, info.lines, categories, options, now);
    if ('reason' in checked) {
      report.rejected.push({ line: info.lines, reason: checked.reason });
      continue;
    }
    const earlier = seen.get(checked.row.normalized);
    if (earlier !== undefined) {
      report.rejected.push({ line: info.lines, reason: `${checked.row.normalized} is already on line ${earlier}` });
      continue;
    }
    seen.set(checked.row.normalized, info.lines);
    batch.push(checked.row);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  report.rejected.sort((a, b) => a.line - b.line);
  return report;
}

/** A file that cannot be imported at all (no header): nothing was stored. */
export class ImportError extends Error {}

export interface ConfirmationReport {
  sent: number;
  failed: number;
}

/**
 * Confirmation mails for imported pending subscribers not yet mailed, paced to
 * SEND_RATE_LIMIT. Each is claimed (confirmation_sent_at) before it is sent, so a
 * rerun, or a second process, mails nobody twice; a failed send gives the claim back.
 */
export async function sendImportConfirmations(
  db: Db,
  mailer: Mailer,
  config: ConfigWithSecret,
  ids: number[],
  pace: () => Promise<void>,
): Promise<ConfirmationReport> {
  const report: ConfirmationReport = { sent: 0, failed: 0 };
  for (const id of ids) {
    const claimed = await db
      .updateTable('subscribers')
      // The link confirms the sign-up the import recorded for this row, and only that one.
      .set({
        confirmation_sent_at: sql`now()`,
        pending_signup_id: sql<number>`(SELECT max(id) FROM consents WHERE subscriber_id = ${id} AND action = 'signup')`,
      })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('confirmation_sent_at', 'is', null)
      .returning(['id', 'email', 'timezone', 'delivery_hour', 'frequency', 'weekly_day', 'pending_signup_id'])
      .executeTakeFirst();
    if (claimed === undefined) continue;
    const categories = await db
      .selectFrom('subscriber_categories as sc')
      .innerJoin('categories as c', 'c.id', 'sc.category_id')
      .select('c.name')
      .where('sc.subscriber_id', '=', id)
      .execute();
    if (claimed.pending_signup_id === null) continue;
    await pace();
    const result = await sendConfirmationMail(db, mailer, config, {
      subscriberId: id,
      signupId: claimed.pending_signup_id,
      email: claimed.email,
      prefs: {
        categories: categories.map((c) => c.name),
        timezone: claimed.timezone,
        deliveryHour: claimed.delivery_hour,
        frequency: claimed.frequency,
        weeklyDay: claimed.weekly_day,
      },
      alreadySubscribed: false,
    });
    if (result.ok) report.sent++;
    else {
      report.failed++;
      await db.updateTable('subscribers').set({ confirmation_sent_at: null }).where('id', '=', id).execute();
    }
  }
  return report;
}

/** Pending subscribers an earlier import stored but could not mail (interrupted, or SMTP down). */
export async function unmailedPendingIds(db: Db): Promise<number[]> {
  const rows = await db
    .selectFrom('subscribers as s')
    .select('s.id')
    .where('s.status', '=', 'pending')
    .where('s.confirmation_sent_at', 'is', null)
    .where((eb) =>
      eb.exists(eb.selectFrom('consents as c').select('c.id').whereRef('c.subscriber_id', '=', 's.id').where('c.channel', '=', 'import')),
    )
    .orderBy('s.id')
    .execute();
  return rows.map((r) => r.id);
}
