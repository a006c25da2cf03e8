import { sql } from 'kysely';
import type { Db } from '../db/connect.js';

/**
 * Bounce and complaint rates: reports received in a window over the digests sent in
 * it. Gmail and Yahoo want complaints under 0.3% and recommend under 0.1%, so status
 * warns from 0.1%.
 */
export const COMPLAINT_WARNING = 0.001;

export interface WindowRates {
  days: number;
  sent: number;
  hard: number;
  soft: number;
  complaints: number;
  unsubscribes: number;
  /** (hard + soft) / sent, 0 when nothing was sent. */
  bounceRate: number;
  complaintRate: number;
}

export async function bounceRates(db: Db, days: number): Promise<WindowRates> {
  const since = sql<Date>`now() - make_interval(days => ${days})`;
  const [sent, events] = await Promise.all([
    db
      .selectFrom('deliveries')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'sent')
      .where('sent_at', '>', since)
      .executeTakeFirstOrThrow(),
    db
      .selectFrom('bounce_events')
      .select(['kind', (eb) => eb.fn.countAll<number>().as('n')])
      .where('created_at', '>', since)
      .groupBy('kind')
      .execute(),
  ]);
  const count = (kind: string) => Number(events.find((e) => e.kind === kind)?.n ?? 0);
  const total = Number(sent.n);
  const rate = (n: number) => (total === 0 ? 0 : n / total);
  const [hard, soft, complaints] = [count('hard'), count('soft'), count('complaint')];
  return {
    days,
    sent: total,
    hard,
    soft,
    complaints,
    unsubscribes: count('unsubscribe'),
    bounceRate: rate(hard + soft),
    complaintRate: rate(complaints),
  };
}

/** Every outcome recorded so far, by kind and what it did: for /metrics, across all instances and doors. */
export async function outcomeCounts(db: Db): Promise<Array<{ kind: string; action: string; n: number }>> {
  const rows = await db
    .selectFrom('bounce_events')
    .select(['kind', 'action', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy(['kind', 'action'])
    .execute();
  return rows.map((r) => ({ kind: r.kind, action: r.action, n: Number(r.n) }));
}

const percent = (rate: number) => `${(rate * 100).toFixed(2)}%`;

export function describeRates(windows: WindowRates[]): string[] {
  const lines = windows.map(
    (w) =>
      `Last ${w.days} days: ${w.sent} sent; bounces ${w.hard + w.soft} (${w.hard} hard, ${w.soft} soft) = ${percent(w.bounceRate)}; ` +
      `complaints ${w.complaints} = ${percent(w.complaintRate)}; mailed unsubscribes ${w.unsubscribes}.`,
  );
  const high = windows.filter((w) => w.complaintRate > COMPLAINT_WARNING);
  for (const w of high) {
    lines.push(
      `WARNING: complaint rate ${percent(w.complaintRate)} over ${w.days} days is above ${percent(COMPLAINT_WARNING)} (Gmail and Yahoo start filtering near 0.3%).`,
    );
  }
  return lines;
}
