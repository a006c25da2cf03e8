import type { Config } from '../config/config.js';

const MINUTE = 60_000;
/** No feed or server may push its next fetch further than this. */
const LONGEST_WAIT_MS = 24 * 60 * MINUTE;
/** After this many failures in a row a feed is disabled until someone enables it. */
export const FAILURES_BEFORE_DISABLING = 10;

export interface ScheduleHints {
  ttlMinutes?: number;
  maxAgeSeconds?: number;
  retryAfter?: Date;
}

function clampWait(ms: number): number {
  return Math.min(Math.max(ms, 0), LONGEST_WAIT_MS);
}

/**
 * When to fetch a feed next: the default interval, or later when the feed (<ttl>) or the
 * server (Cache-Control max-age, Expires, Retry-After) asks for it, bounded to a day; after
 * failures, the interval doubles with each one in a row.
 */
export function nextFetchAt(config: Config, now: Date, failures: number, hints: ScheduleHints = {}): Date {
  const interval = config.fetchIntervalMinutes * MINUTE;
  const asked = Math.max(
    (hints.ttlMinutes ?? 0) * MINUTE,
    (hints.maxAgeSeconds ?? 0) * 1000,
    hints.retryAfter ? hints.retryAfter.getTime() - now.getTime() : 0,
  );
  const backoff = failures > 0 ? interval * 2 ** Math.min(failures - 1, 16) : interval;
  return new Date(now.getTime() + Math.max(clampWait(backoff), clampWait(asked)));
}
