import { setTimeout as sleep } from 'node:timers/promises';
import { mailDomain, type Config } from '../config/config.js';
import type { Db } from '../db/connect.js';
import type { RenderedDigest } from '../render/digest.js';
import { preferencesUrl, unsubscribeMailto, unsubscribeUrl, mailFromAddress, type LinkConfig } from '../subscribers/links.js';
import { buildMessageTemplate, mailDate, personalize, type MessageTemplate } from './compose.js';
import { claimDeliveries, markFailed, markForRetry, markSent, releaseClaims, type ClaimedDelivery } from './ledger.js';
import type { Mailer } from './transport.js';

export interface DeliverOptions {
  /** Renders an edition that has no stored rendering yet (the jobs layer knows how). */
  loadEdition(editionId: number): Promise<RenderedDigest>;
  leaseSeconds?: number;
  /** First retry delay; doubles per attempt up to six hours. */
  retryBaseSeconds?: number;
  maxAttempts?: number;
  /** Hard bounces in a row before a subscriber is set to bounced. */
  bounceLimit?: number;
  signal?: AbortSignal;
  /** Called with the seconds each accepted message took, for the send-latency metric. */
  onSent?: (seconds: number) => void;
}

export interface DeliverSummary {
  sent: number;
  retried: number;
  failed: number;
  /** True when the SMTP server was unreachable and sending stopped until the next run. */
  paused: boolean;
}

type Outcome = 'sent' | 'retried' | 'failed' | 'paused' | 'handed back';

/**
 * Works the queue until it is empty, the server is down or the signal aborts.
 * At most `smtpPoolSize` messages are in flight, and each is marked sent as soon
 * as the server accepts it: a kill -9 can duplicate at most that many.
 */
export async function deliverQueue(
  db: Db,
  config: LinkConfig & Config,
  mailer: Mailer,
  options: DeliverOptions,
): Promise<DeliverSummary> {
  const summary: DeliverSummary = { sent: 0, retried: 0, failed: 0, paused: false };
  const templates = new Map<number, Promise<MessageTemplate>>();
  const pace = pacer(config.sendRateLimit);
  const concurrency = config.smtpPoolSize;
  const context = {
    db, config, mailer, options, pace,
    template: (editionId: number) => {
      let template = templates.get(editionId);
      if (template === undefined) {
        template = options.loadEdition(editionId).then((rendered) => buildMessageTemplate(editionMessage(config, rendered)));
        templates.set(editionId, template);
      }
      return template;
    },
  };

  while (!summary.paused && !options.signal?.aborted) {
    const claimed = await claimDeliveries(db, concurrency * 8, options.leaseSeconds ?? config.sendLeaseSeconds);
    if (claimed.length === 0) break;
    let next = 0;
    const worker = async () => {
      while (next < claimed.length && !summary.paused && !options.signal?.aborted) {
        const outcome = await deliverOne(context, claimed[next++]!);
        if (outcome === 'paused') summary.paused = true;
        else if (outcome !== 'handed back') summary[outcome] += 1;
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, claimed.length) }, worker));
    // Rows claimed but never tried (server down, or stopping) go back without costing an attempt.
    await releaseClaims(db, claimed.slice(next), 'not attempted: sending paused', summary.paused ? retryDelay(options, 1) : 0);
  }
  return summary;
}

interface DeliverContext {
  db: Db;
  config: LinkConfig & Config;
  mailer: Mailer;
  options: DeliverOptions;
  pace: () => Promise<void>;
  template(editionId: number): Promise<MessageTemplate>;
}

async function deliverOne(context: DeliverContext, delivery: ClaimedDelivery): Promise<Outcome> {
  const { db, config, mailer, options } = context;
  // Stable per delivery: a resend after a crash carries the same id, which lets receivers drop the copy.
  const messageId = `fd.${delivery.id}.${delivery.edition_id}@${mailDomain(config)}`;
  const raw = personalize(await context.template(delivery.edition_id), {
    to: delivery.email,
    date: mailDate(new Date()),
    messageId,
    unsubscribeUrl: unsubscribeUrl(config, delivery.subscriber_id),
    preferencesUrl: preferencesUrl(config, delivery.subscriber_id),
    unsubscribeMailto: unsubscribeMailto(config, delivery.subscriber_id),
  });
  await context.pace();
  // Past half its lease (a long batch, a low rate limit) another instance may take this
  // row over at any moment: hand it back rather than race it for the same recipient.
  if (Date.now() > delivery.claimedAt + (options.leaseSeconds ?? config.sendLeaseSeconds) * 500) {
    await releaseClaims(db, [delivery], 'claim held too long: handed back unsent', 0);
    return 'handed back';
  }
  const started = performance.now();
  const result = await mailer.send({ from: mailFromAddress(config), to: delivery.email, raw });
  if (result.ok) {
    options.onSent?.((performance.now() - started) / 1000);
    await markSent(db, delivery.id, `<${messageId}>`);
    return 'sent';
  }
  if (result.permanent) {
    await markFailed(db, delivery, result.error, options.bounceLimit ?? 3);
    return 'failed';
  }
  // A server that is down is no fault of this message: it waits (backoff capped at six
  // hours) for as long as the outage lasts, and is never given up.
  if (!result.serverDown && delivery.attempts >= (options.maxAttempts ?? 10)) {
    await markFailed(db, delivery, `gave up after ${delivery.attempts} attempts: ${result.error}`);
    return 'failed';
  }
  await markForRetry(db, delivery.id, result.error, retryDelay(options, delivery.attempts));
  return result.serverDown ? 'paused' : 'retried';
}

function retryDelay(options: DeliverOptions, attempts: number): number {
  return Math.min((options.retryBaseSeconds ?? 60) * 2 ** Math.max(0, attempts - 1), 6 * 3600);
}

/** What every message of an edition shares: built into a MessageTemplate once per edition. */
export function editionMessage(config: Config, rendered: RenderedDigest) {
  return {
    from: config.mailFrom,
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    listId: `${config.siteName.replace(/[<>"]/g, '')} <digest.${mailDomain(config)}>`,
  };
}

/** Spaces sends evenly to stay under a provider's messages-per-second limit (0: no limit). */
function pacer(perSecond: number): () => Promise<void> {
  if (perSecond <= 0) return async () => {};
  const interval = 1000 / perSecond;
  let nextSlot = Date.now();
  return async () => {
    const now = Date.now();
    const wait = nextSlot - now;
    nextSlot = Math.max(now, nextSlot) + interval;
    if (wait > 0) await sleep(wait);
  };
}
