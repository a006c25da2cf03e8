import type { Db } from '../db/connect.js';
import { refreshFeeds, type RefreshSummary } from '../feeds/refresh.js';
import type { Mailer } from '../mail/transport.js';
import { finishRun, startRun } from './runs.js';
import { sendDueDigests, type SendConfig, type SendOptions, type SendSummary } from './send.js';

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

export function fetchJob(db: Db, config: SendConfig, options: { onlyDue?: boolean; now?: Date } = {}): Promise<RefreshSummary> {
  return recorded(db, 'fetch', () => refreshFeeds(db, config, options));
}

export function sendJob(db: Db, config: SendConfig, mailer: Mailer, options: SendOptions = {}): Promise<SendSummary> {
  return recorded(db, 'send', () => sendDueDigests(db, config, mailer, options));
}

/** The main job: fetch every feed, then send the digests that are due. */
export async function runJob(db: Db, config: SendConfig, mailer: Mailer, options: { now?: Date } = {}) {
  const fetched = await fetchJob(db, config, options);
  const sent = await sendJob(db, config, mailer, options);
  return { fetched, sent };
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
  if (planned.pending === 0 && delivered.sent + delivered.failed + delivered.retried === 0) {
    return [planned.skipped > 0 ? `No new posts for ${planned.skipped} due subscriber${planned.skipped === 1 ? '' : 's'}: nothing sent.` : 'Nothing new: no digest is due.'];
  }
  const lines = [
    `Digests: ${planned.pending} planned in ${planned.editions} edition${planned.editions === 1 ? '' : 's'}; ${delivered.sent} sent to ${mailer.describe}, ${delivered.retried} to retry, ${delivered.failed} failed.`,
  ];
  if (delivered.paused) lines.push(`Sending paused (${delivered.pauseReason ?? 'the mail server is unreachable'}); the next run tries again.`);
  return lines;
}
