import schedule from 'node-schedule';
import type { ConfigWithSecret } from '../config/config.js';
import type { Db, OpenDatabase } from '../db/connect.js';
import { pollMailbox } from '../bounces/imap.js';
import { runJob } from '../jobs/run.js';
import type { Logger } from '../log/logger.js';
import type { Mailer } from '../mail/transport.js';
import type { Metrics } from './metrics.js';

export interface SchedulerDeps {
  db: Db;
  config: ConfigWithSecret;
  mailer: Mailer;
  logger: Logger;
  metrics?: Metrics;
  /** OpenDatabase.mode, handed to each send (see DeliverOptions). */
  databaseMode?: OpenDatabase['mode'];
}

export interface RunningScheduler {
  /** Stops ticking, lets in-flight sends finish, and resolves when the last tick has ended. */
  stop(): Promise<void>;
  /** Runs one tick now (tests, and the first tick at start). */
  tick(): Promise<void>;
}

/**
 * On each tick: runJob, the same tick as cron's `run` (fetch the due feeds, send the due
 * digests, purge stale sign-ups). Ticks never overlap; a slow tick makes
 * the next one wait. Every instance may tick: the ledger's unique key, advisory
 * lock and SKIP LOCKED claims make the work shared, never duplicated.
 */
export function startScheduler(deps: SchedulerDeps): RunningScheduler {
  const { db, config, mailer, logger, metrics, databaseMode } = deps;
  const stopping = new AbortController();
  let running: Promise<void> | undefined;

  async function work(): Promise<void> {
    const { fetched, sent, purged } = await runJob(db, config, mailer, {
      signal: stopping.signal,
      databaseMode,
      onSent: (seconds) => metrics?.sendLatency.observe(seconds),
    });
    metrics?.recordFetch(fetched);
    if (fetched.feeds > 0) logger.info({ job: 'fetch', ...fetched }, 'fetched due feeds');
    if (sent !== undefined) {
      metrics?.recordSend(sent);
      if (sent.planned.pending + sent.delivered.sent + sent.delivered.failed + sent.delivered.retried > 0 || sent.delivered.paused) {
        logger.info({ job: 'send', ...sent }, sent.delivered.paused ? `sending paused: ${sent.delivered.pauseReason}` : 'sent due digests');
      }
    }
    if (config.inboundImapUrl !== undefined && !stopping.signal.aborted) {
      // A mailbox that cannot be read is logged, and never holds up fetching and sending.
      await pollMailbox(db, config, logger).then(
        (polled) => metrics?.recordInbound(polled),
        (error: unknown) => logger.warn({ err: error }, 'could not read the inbound mailbox; the next tick tries again'),
      );
    }
    if (purged > 0) logger.info({ job: 'purge', purged }, 'purged unconfirmed sign-ups');
  }

  function tick(): Promise<void> {
    if (running !== undefined || stopping.signal.aborted) return running ?? Promise.resolve();
    running = work()
      .catch((error: unknown) => logger.error({ err: error }, 'scheduler tick failed; the next tick tries again'))
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  const job = schedule.scheduleJob(cronForTick(config.schedulerTickSeconds), () => void tick());
  void tick();

  return {
    tick,
    async stop() {
      job.cancel();
      stopping.abort();
      await running;
    },
  };
}

/** node-schedule's cron has a seconds field; ticks of a minute or more run on whole minutes. */
function cronForTick(seconds: number): string {
  return seconds < 60 ? `*/${seconds} * * * * *` : `0 */${Math.round(seconds / 60)} * * * *`;
}
