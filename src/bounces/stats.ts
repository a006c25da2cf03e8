import { sql } from 'kysely';
import type { Db } from '../db/connect.js';

/**
 * Bounce and complaint rates: reports received in a window over the digests handed to
 * the mail server in it (those it accepted, and those it refused while we sent them:
 * a refusal is a bounce of a digest that was never "sent"). Gmail and Yahoo want complaints under 0.3% and recommend under 0.1%, so status
 * warns from 0.1%.
 */
export const COMPLAINT_WARNING = 0.001;

export interface WindowRates {
  days: number;
  sent: number;
  /** Digests the server refused while we sent them (each also counted as a bounce). */
  refused: number;
  hard: number;
  soft: number;
  complaints: number;
  unsubscribes: number;
  /** (hard + soft) / (sent + refused), 0 when nothing was handed over. */
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
      .select(['kind', 'source', (eb) => eb.fn.countAll<number>().as('n')])
      .where('created_at', '>', since)
      .groupBy(['kind', 'source'])
      .execute(),
  ]);
  const count = (match: (event: { kind: string; source: string }) => boolean) =>
    events.filter(match).reduce((sum, event) => sum + Number(event.n), 0);
  const ofKind = (kind: string) => count((event) => event.kind === kind);
  const refused = count((event) => event.source === 'smtp');
  const total = Number(sent.n) + refused;
  const rate = (n: number) => (total === 0 ? 0 : n / total);
  const [hard, soft, complaints] = [ofKind('hard'), ofKind('soft'), ofKind('complaint')];
  return {
    days,
    sent: Number(sent.n),
    refused,
    hard,
    soft,
    complaints,
    unsubscribes: ofKind('unsubscribe'),
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
      `Last ${w.days} days: ${w.sent} sent${w.refused > 0 ? ` (and ${w.refused} refused while sending)` : ''}; bounces ${w.hard + w.soft} (${w.hard} hard, ${w.soft} soft) = ${percent(w.bounceRate)}; ` +
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
