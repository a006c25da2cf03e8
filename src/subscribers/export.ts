import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { Subscriber } from '../db/schema.js';

const COLUMNS = [
  'id',
  'email',
  'status',
  'categories',
  'timezone',
  'delivery_hour',
  'frequency',
  'weekly_day',
  'created_at',
  'confirmed_at',
  'unsubscribed_at',
] as const;

type ExportRow = Pick<Subscriber, Exclude<(typeof COLUMNS)[number], 'categories'>> & { categories: string[] };

/**
 * One RFC 4180 field. A value a spreadsheet would run as a formula (=, +, -, @ first)
 * gets a leading apostrophe: exports are opened in spreadsheets, and addresses are
 * typed by strangers.
 */
export function csvField(value: unknown): string {
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- fields are column values: text, numbers, booleans
  let text = value instanceof Date ? value.toISOString() : value === null || value === undefined ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function csvLine(values: unknown[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

/**
 * The subscribers as CSV, a header line first, read in batches so that a large list
 * never sits in memory: `Readable.from(subscribersCsv(db)).pipe(process.stdout)`.
 */
export async function* subscribersCsv(db: Db, batchSize = 1000): AsyncGenerator<string> {
  yield csvLine([...COLUMNS]);
  let after = 0;
  for (;;) {
    const rows: ExportRow[] = await db
      .selectFrom('subscribers as s')
      .select([
        's.id',
        's.email',
        's.status',
        's.timezone',
        's.delivery_hour',
        's.frequency',
        's.weekly_day',
        's.created_at',
        's.confirmed_at',
        's.unsubscribed_at',
      ])
      .select(
        sql<string[]>`coalesce((select array_agg(c.name order by c.name) from subscriber_categories sc
          join categories c on c.id = sc.category_id where sc.subscriber_id = s.id), '{}')`.as('categories'),
      )
      .where('s.id', '>', after)
      .orderBy('s.id')
      .limit(batchSize)
      .execute();
    if (rows.length === 0) return;
    yield rows.map((row) => csvLine(COLUMNS.map((column) => (column === 'categories' ? row.categories.join(' ') : row[column])))).join('');
    after = rows[rows.length - 1]!.id;
  }
}
