import { sql } from 'kysely';
import type { Config } from '../config/config.js';
import type { Db } from '../db/connect.js';
import type { Feed, FeedUpdate } from '../db/schema.js';
import { documentBase, fetchFeed, type FetchResult } from './fetch.js';
import { runBounded } from '../own/run-bounded.js';
import { readFeed } from './pipeline.js';
import { FAILURES_BEFORE_DISABLING, nextFetchAt, type ScheduleHints } from './schedule.js';
import { filterVerdict, rulesForFeed } from './rules.js';
import { prepareChanged, storeItems } from './store.js';

export interface RefreshOutcome {
  feedId: number;
  url: string;
  status: 'ok' | 'not_modified' | 'error';
  /** "ingested with N posts" or the one-line reason it failed. */
  message: string;
  newItems: number;
  updatedItems: number;
  /** Set when this refresh disabled the feed. */
  disabledReason?: string;
}

export interface RefreshSummary {
  feeds: number;
  ok: number;
  notModified: number;
  failed: number;
  newItems: number;
  errors: Array<{ url: string; error: string }>;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 500);
}

async function recordFailure(
  db: Db,
  config: Config,
  feed: Feed,
  now: Date,
  reason: string,
  fetched?: Extract<FetchResult, { kind: 'error' }>,
): Promise<RefreshOutcome> {
  const failures = feed.consecutive_failures + 1;
  const disabledReason =
    fetched?.status === 410
      ? 'HTTP 410 Gone: the feed was removed'
      : failures >= FAILURES_BEFORE_DISABLING
        ? `${failures} failures in a row, last: ${oneLine(reason)}`
        : undefined;
  const update: FeedUpdate = {
    last_fetched_at: now,
    last_status: 'error',
    last_error: oneLine(reason),
    consecutive_failures: failures,
    next_fetch_at: nextFetchAt(config, now, failures, { retryAfter: fetched?.retryAfter }),
  };
  if (disabledReason !== undefined) Object.assign(update, { disabled_at: now, disabled_reason: disabledReason });
  await movedOrUpdate(db, feed, update, fetched?.permanentRedirect);
  return { feedId: feed.id, url: feed.url, status: 'error', message: oneLine(reason), newItems: 0, updatedItems: 0, disabledReason };
}

/** A permanent redirect updates the stored URL, unless another feed row already has that URL. */
async function movedOrUpdate(db: Db, feed: Feed, update: FeedUpdate, movedTo: string | undefined): Promise<void> {
  if (movedTo !== undefined) {
    const taken = await db.selectFrom('feeds').select('id').where('url', '=', movedTo).executeTakeFirst();
    if (taken === undefined) update.url = movedTo;
  }
  await db.updateTable('feeds').set(update).where('id', '=', feed.id).execute();
}

/**
 * Fetches one feed and records what happened on its row; stores its posts. Expected
 * failures (HTTP errors, timeouts, not a feed) are outcomes, never exceptions.
 */
export async function refreshFeed(db: Db, config: Config, feed: Feed, now = new Date()): Promise<RefreshOutcome> {
  const fetched = await fetchFeed(config, feed.url, { etag: feed.etag, lastModified: feed.last_modified }, now);
  if (fetched.kind === 'error') return recordFailure(db, config, feed, now, fetched.reason, fetched);
  if (fetched.kind === 'not_modified') {
    await movedOrUpdate(
      db,
      feed,
      {
        last_fetched_at: now,
        last_status: 'not_modified',
        last_error: null,
        consecutive_failures: 0,
        next_fetch_at: nextFetchAt(config, now, 0, fetched.cacheHints),
      },
      fetched.permanentRedirect,
    );
    return { feedId: feed.id, url: feed.url, status: 'not_modified', message: 'not modified', newItems: 0, updatedItems: 0 };
  }

  const read = await readFeed(fetched.bytes, fetched.contentType, documentBase(fetched.finalUrl, fetched.contentLocation), {
    maxItems: config.fetchMaxItems,
    now,
  });
  if (read.kind === 'rejected') return recordFailure(db, config, feed, now, `rejected: ${read.reason}`);
  const hints: ScheduleHints = { ...fetched.cacheHints, ttlMinutes: read.info.ttlMinutes };
  const changed = await prepareChanged(db, feed.id, read.items);
  const rules = await rulesForFeed(db, feed.id);
  for (const item of changed.items) item.filteredBy = filterVerdict(rules, item);
  const stored = await db.transaction().execute(async (trx) => {
    const outcome = await storeItems(trx, feed.id, changed.items, { baseline: feed.last_success_at === null, now });
    await movedOrUpdate(
      trx,
      feed,
      {
        title: read.info.title ?? feed.title,
        // The site a feed was found on (feeds add) stays; else the feed names its own.
        site_url: feed.site_url ?? read.info.siteUrl ?? null,
        etag: fetched.etag,
        last_modified: fetched.lastModified,
        last_fetched_at: now,
        last_success_at: now,
        last_status: 'ok',
        last_error: null,
        consecutive_failures: 0,
        next_fetch_at: nextFetchAt(config, now, 0, hints),
      },
      fetched.permanentRedirect,
    );
    return outcome;
  });
  return {
    feedId: feed.id,
    url: feed.url,
    status: 'ok',
    message: `ingested with ${read.items.length} posts`,
    newItems: stored.inserted,
    updatedItems: stored.updated,
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** Outcomes added up for the job's report. */
function summarize(outcomes: RefreshOutcome[]): RefreshSummary {
  const summary: RefreshSummary = { feeds: outcomes.length, ok: 0, notModified: 0, failed: 0, newItems: 0, errors: [] };
  for (const outcome of outcomes) {
    summary.newItems += outcome.newItems;
    if (outcome.status === 'ok') summary.ok++;
    else if (outcome.status === 'not_modified') summary.notModified++;
    else {
      summary.failed++;
      summary.errors.push({ url: outcome.url, error: outcome.message });
    }
  }
  return summary;
}

/** Refreshes the feeds within config.fetchConcurrency, and config.fetchPerHost at once per host. */
function refreshAll(db: Db, config: Config, feeds: Feed[]): Promise<RefreshOutcome[]> {
  return runBounded(feeds, { total: config.fetchConcurrency, perKey: config.fetchPerHost, keyOf: (feed) => hostOf(feed.url) }, (feed) =>
    refreshFeed(db, config, feed, new Date()).catch((error: unknown) =>
      recordFailure(db, config, feed, new Date(), `internal error: ${error instanceof Error ? error.message : String(error)}`),
    ),
  );
}

/** Feeds claimed at once: small enough that a claim is not held long, large enough to keep fetches in flight. */
function claimBatchSize(config: Config): number {
  return config.fetchConcurrency * 2;
}

/**
 * How long a claim holds a feed. A batch all on one host takes at most
 * ceil(batch / fetchPerHost) timeouts in a row; doubled for parsing and storing. The claim
 * ends early when the refresh sets the real next fetch; a process that dies leaves it to
 * expire, and the feed is due again.
 */
export function claimLeaseMs(config: Config): number {
  const rounds = Math.ceil(claimBatchSize(config) / config.fetchPerHost);
  return Math.max(10 * 60_000, 2 * rounds * config.fetchTimeoutMs);
}

/**
 * Claims up to `limit` due feeds for this process in one statement: rows another process is
 * claiming are skipped (SKIP LOCKED), and the claimed ones are pushed a lease into the
 * future, so no other process sees them due. `skip` holds the feeds this run already did.
 */
async function claimDueFeeds(db: Db, config: Config, now: Date, limit: number, skip: number[]): Promise<Feed[]> {
  return db
    .updateTable('feeds')
    .set({ next_fetch_at: new Date(now.getTime() + claimLeaseMs(config)) })
    .where('id', 'in', (eb) =>
      eb
        .selectFrom('feeds')
        .select('id')
        .where('disabled_at', 'is', null)
        .where('next_fetch_at', '<=', now)
        .where(sql<boolean>`id <> all(${skip}::int[])`)
        .orderBy('next_fetch_at')
        .limit(limit)
        .forUpdate()
        .skipLocked(),
    )
    .returningAll()
    .execute();
}

/**
 * Refreshes every enabled feed (the `fetch` command), or with onlyDue the feeds that are
 * due, claimed batch by batch so that several processes sharing the database fetch each
 * feed once between them. A feed whose refresh fails, even by a bug, is recorded and the
 * others go on.
 */
export async function refreshFeeds(db: Db, config: Config, options: { onlyDue?: boolean; now?: Date } = {}): Promise<RefreshSummary> {
  if (!options.onlyDue) {
    const feeds = await db.selectFrom('feeds').selectAll().where('disabled_at', 'is', null).orderBy('next_fetch_at').execute();
    return summarize(await refreshAll(db, config, feeds));
  }
  const now = options.now ?? new Date();
  const outcomes: RefreshOutcome[] = [];
  const done: number[] = [];
  for (;;) {
    const claimed = await claimDueFeeds(db, config, now, claimBatchSize(config), done);
    if (claimed.length === 0) break;
    done.push(...claimed.map((feed) => feed.id));
    outcomes.push(...(await refreshAll(db, config, claimed)));
  }
  return summarize(outcomes);
}
