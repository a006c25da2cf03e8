import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Db } from '../db/connect.js';
import type { PollSummary } from '../bounces/imap.js';
import { outcomeCounts } from '../bounces/stats.js';
import type { RefreshSummary } from '../feeds/refresh.js';
import type { SendSummary } from '../jobs/send.js';
import { queueStats } from '../mail/ledger.js';

/** Prometheus metrics of one process, served at /metrics by `serve`. */
export class Metrics {
  readonly registry = new Registry();
  private readonly feedsFetched = new Counter({
    name: 'feed_digest_feeds_fetched_total',
    help: 'Feed fetches by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly itemsStored = new Counter({
    name: 'feed_digest_items_stored_total',
    help: 'New posts stored',
    registers: [this.registry],
  });
  private readonly digests = new Counter({
    name: 'feed_digest_digests_total',
    help: 'Digest deliveries by outcome',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly inbound = new Counter({
    name: 'feed_digest_inbound_total',
    help: 'Inbound mail (bounces, complaints, unsubscribes) by what it was and what it did',
    labelNames: ['kind', 'action'],
    registers: [this.registry],
  });
  readonly sendLatency = new Histogram({
    name: 'feed_digest_send_seconds',
    help: 'Time for the mail server to accept one digest',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });

  constructor(db: Db) {
    collectDefaultMetrics({ register: this.registry, prefix: 'feed_digest_' });
    new Gauge({
      name: 'feed_digest_bounce_events',
      help: 'Bounce, complaint and unsubscribe outcomes recorded (all doors, refusals while sending too, all instances) by kind and what they did',
      labelNames: ['kind', 'action'],
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const { kind, action, n } of await outcomeCounts(db)) this.set({ kind, action }, n);
      },
    });
    new Gauge({
      name: 'feed_digest_queue_depth',
      help: 'Deliveries waiting to be sent (pending or claimed)',
      registers: [this.registry],
      async collect() {
        this.set((await queueStats(db)).queued);
      },
    });
  }

  recordFetch(summary: RefreshSummary): void {
    this.feedsFetched.inc({ outcome: 'ok' }, summary.ok);
    this.feedsFetched.inc({ outcome: 'not_modified' }, summary.notModified);
    this.feedsFetched.inc({ outcome: 'failed' }, summary.failed);
    this.itemsStored.inc(summary.newItems);
  }

  recordInbound(summary: Pick<PollSummary, 'results'>): void {
    for (const result of summary.results) {
      this.inbound.inc({ kind: result.outcome?.kind ?? result.classification.kind, action: result.applied.action });
    }
  }

  recordSend(summary: SendSummary): void {
    this.digests.inc({ outcome: 'sent' }, summary.delivered.sent);
    this.digests.inc({ outcome: 'failed' }, summary.delivered.failed);
    this.digests.inc({ outcome: 'retried' }, summary.delivered.retried);
  }
}
