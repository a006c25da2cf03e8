import type { ConfigWithSecret } from '../config/config.js';
import type { Db } from '../db/connect.js';
import { refreshFeeds, type RefreshSummary } from '../feeds/refresh.js';
import type { Mailer } from '../mail/transport.js';
import { purgeUnconfirmed } from '../subscribers/purge.js';
import { finishRun, startRun } from './runs.js';
import { sendDueDigests, type SendOptions, type SendSummary } from './send.js';

/** Every job records a run row: its summary is what `status` shows. */
async function recorded<T>(db: Db, kind: string, job: () => Promise<T>): Promise<T> {
  const runId = await startRun(db, kind);
  try {
    const summary = await job();
    await finishRun(db, runId, summary);
    return summary;
  } catch (error) {
    await finishRun(db, runId, { error: error instanceof Error ? error.message : String(error) });
    throw error;
  }
}

export function fetchJob(db: Db, config: ConfigWithSecret, options: { onlyDue?: boolean; now?: Date } = {}): Promise<RefreshSummary> {
  return recorded(db, 'fetch', () => refreshFeeds(db, config, options));
}

export function sendJob(db: Db, config: ConfigWithSecret, mailer: Mailer, options: SendOptions = {}): Promise<SendSummary> {
  return recorded(db, 'send', () => sendDueDigests(db, config, mailer, options));
}

export interface TickSummary {
  fetched: RefreshSummary;
  /** Undefined when the tick was stopped (options.signal) before sending. */
  sent: SendSummary | undefined;
  /** Unconfirmed sign-ups deleted. */
  purged: number;
}

/**
 * One tick, the same for cron's `run` and the scheduler of `serve`: fetch the feeds that
 * are due (claimed, so instances share them; due times, backoff and Retry-After kept),
 * plan, render and send the digests that are due, then delete stale sign-ups.
 */
export async function runJob(db: Db, config: ConfigWithSecret, mailer: Mailer, options: SendOptions = {}): Promise<TickSummary> {
  const fetched = await fetchJob(db, config, { onlyDue: true, now: options.now });
  if (options.signal?.aborted) return { fetched, sent: undefined, purged: 0 };
  const sent = await sendJob(db, config, mailer, options);
  const purged = await purgeUnconfirmed(db, options.now);
  return { fetched, sent, purged };
}

/** What a tick did, as lines for the operator. */
export function describeTick(summary: TickSummary, mailer: Mailer): string[] {
  const lines = [...describeFetch(summary.fetched), ...(summary.sent === undefined ? [] : describeSend(summary.sent, mailer))];
  if (summary.purged > 0) lines.push(`Deleted ${summary.purged} sign-up${summary.purged === 1 ? '' : 's'} never confirmed.`);
  return lines;
}

export function describeFetch(summary: RefreshSummary): string[] {
  const lines = [
    `Fetched ${summary.feeds} feed${summary.feeds === 1 ? '' : 's'}: ${summary.ok} updated, ${summary.notModified} unchanged, ${summary.failed} failed; ${summary.newItems} new post${summary.newItems === 1 ? '' : 's'}.`,
  ];
  for (const { url, error } of summary.errors) lines.push(`  ${url}: ${error}`);
  return lines;
}

export function describeSend(summary: SendSummary, mailer: Mailer): string[] {
  const { planned, delivered } = summary;
  const lines =
    planned.pending === 0 && delivered.sent + delivered.failed + delivered.retried === 0
      ? [
          planned.skipped > 0
            ? `No new posts for ${planned.skipped} due subscriber${planned.skipped === 1 ? '' : 's'}: nothing sent.`
            : 'Nothing new: no digest is due.',
        ]
      : [
          `Digests: ${planned.pending} planned in ${planned.editions} edition${planned.editions === 1 ? '' : 's'}; ${delivered.sent} sent to ${mailer.describe}, ${delivered.retried} to retry, ${delivered.failed} failed.`,
        ];
  if (delivered.paused)
    lines.push(`Sending paused (${delivered.pauseReason ?? 'the mail server is unreachable'}); the next run tries again.`);
  for (const { subscriberId, timezone } of planned.unknownTimeZones) {
    lines.push(`  Subscriber ${subscriberId} skipped: the database does not know the time zone "${timezone}" (see subscribers list).`);
  }
  return lines;
}
