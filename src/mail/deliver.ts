import { setTimeout as sleep } from 'node:timers/promises';
import { inboundDoorOpen, mailDomain, type Config, type ConfigWithSecret } from '../config/config.js';
import { bounceAddress, deliveryTag, unsubscribeMailto } from '../links/verp.js';
import type { Db, OpenDatabase } from '../db/connect.js';
import type { RenderedDigest } from '../render/digest.js';
import { personalValues } from '../render/personal.js';
import { buildMessageTemplate, mailDate, personalize, type MessageTemplate } from './compose.js';
import { markFailed, markForRetry, markSent, messageIdKey, releaseClaims, type ClaimedDelivery, type SentMark } from './ledger.js';
import { claimAhead, groupCommit } from './queue.js';
import type { Mailer, SmtpRefusal } from './transport.js';

/** Rules for a refused recipient, given a transaction, the delivery and the server's reply. */
export type RecipientRefused = (db: Db, deliveryId: number, refusal: SmtpRefusal) => Promise<void>;

export interface DeliverOptions {
  /** Renders an edition that has no stored rendering yet (the jobs layer knows how). */
  loadEdition(editionId: number): Promise<RenderedDigest>;
  leaseSeconds?: number;
  /** First retry delay; doubles per attempt up to six hours. */
  retryBaseSeconds?: number;
  maxAttempts?: number;
  /**
   * What a recipient the server refused does to its subscriber, run in the transaction
   * that fails the delivery: the bounce rules (src/bounces/), which jobs/send.ts hands in.
   */
  recipientRefused: RecipientRefused;
  signal?: AbortSignal;
  /** Called with the seconds each accepted message took, for the send-latency metric. */
  onSent?: (seconds: number) => void;
  /**
   * The open database's mode (OpenDatabase.mode). On a Postgres server a sent mark need
   * not wait for its WAL flush (see markSent); unknown is treated as embedded, which waits.
   */
  databaseMode?: OpenDatabase['mode'];
}

export interface DeliverSummary {
  sent: number;
  retried: number;
  failed: number;
  /**
   * True when sending stopped until the next run: the SMTP server was unreachable, or
   * refused us, our sender or our message (never a recipient's fault).
   */
  paused: boolean;
  /** Why, in the server's or the client's words. */
  pauseReason?: string;
}

type Outcome = 'sent' | 'retried' | 'failed' | 'handed back' | { paused: string };

/** Claims stay small enough that a batch is sent well inside its lease. */
const MIN_CLAIM = 16;
const MAX_CLAIM = 500;

/**
 * Works the queue until it is empty, the server is down or the signal aborts.
 *
 * One sender per pooled connection; each holds its message until its mark has
 * committed, and marks are committed in groups (one statement for all the messages
 * accepted meanwhile, instead of a round trip each). So at most SMTP_POOL_SIZE
 * messages are accepted-or-in-transit and not yet recorded: a kill -9 can duplicate
 * at most that many (their Message-ID is stable, so receivers can drop the copies).
 * Claims are taken ahead, so no sender waits for one.
 */
export async function deliverQueue(db: Db, config: ConfigWithSecret, mailer: Mailer, options: DeliverOptions): Promise<DeliverSummary> {
  const summary: DeliverSummary = { sent: 0, retried: 0, failed: 0, paused: false };
  const templates = new Map<number, Promise<MessageTemplate>>();
  const inFlight = config.smtpPoolSize;
  const leaseSeconds = options.leaseSeconds ?? config.sendLeaseSeconds;
  const started = performance.now();
  // At the rate reached so far, a batch and the one claimed ahead of it last half a lease.
  const claimSize = () => {
    const perSecond = (summary.sent + summary.failed + summary.retried) / Math.max(1, (performance.now() - started) / 1000);
    const size = Math.max(MIN_CLAIM, inFlight * 2, Math.min(MAX_CLAIM, Math.floor((perSecond * leaseSeconds) / 4)));
    // Under a rate limit a bigger batch could not be sent inside its lease: its rows
    // would be handed back, claimed again, handed back again, for ever.
    return config.sendRateLimit > 0 ? Math.max(1, Math.min(size, Math.floor((config.sendRateLimit * leaseSeconds) / 4))) : size;
  };
  const claims = claimAhead(db, claimSize, leaseSeconds);
  const mailto = inboundDoorOpen(config);
  const context: DeliverContext = {
    db,
    config,
    mailer,
    options,
    mailto,
    messageIdEnd: `${await messageIdKey(db)}@${mailDomain(config)}`,
    pace: pacer(config.sendRateLimit),
    markSent: groupCommit((marks: SentMark[]) => markSent(db, marks, options.databaseMode !== 'server')),
    template: (editionId: number) => {
      let template = templates.get(editionId);
      if (template === undefined) {
        template = options.loadEdition(editionId).then((rendered) => buildMessageTemplate(editionMessage(config, rendered, mailto)));
        templates.set(editionId, template);
      }
      return template;
    },
  };

  const sender = async () => {
    while (!summary.paused && !options.signal?.aborted) {
      const delivery = await claims.next();
      if (delivery === undefined) return;
      const outcome = await deliverOne(context, delivery);
      if (typeof outcome === 'object') {
        summary.paused = true;
        summary.pauseReason ??= outcome.paused;
      } else if (outcome !== 'handed back') summary[outcome] += 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: inFlight }, sender));
  } finally {
    // Rows claimed but never tried (server down, or stopping) go back without costing an attempt.
    const untried = await claims.close();
    await releaseClaims(db, untried, 'not attempted: sending paused', summary.paused ? retryDelay(options, 1) : 0);
  }
  return summary;
}

interface DeliverContext {
  db: Db;
  /** Whether digests carry the List-Unsubscribe mailto: (only when inbound mail is read). */
  mailto: boolean;
  /** The Message-ID's end (this install's key @ our domain): the same for every message of the run. */
  messageIdEnd: string;
  config: ConfigWithSecret;
  mailer: Mailer;
  options: DeliverOptions;
  pace: () => Promise<void>;
  markSent: (mark: SentMark) => Promise<void>;
  template(editionId: number): Promise<MessageTemplate>;
}

async function deliverOne(context: DeliverContext, delivery: ClaimedDelivery): Promise<Outcome> {
  const { db, config, mailer, options } = context;
  // Stable per delivery: a resend after a crash carries the same id, which lets receivers drop the copy.
  const messageId = `fd.${delivery.id}.${delivery.edition_id}.${context.messageIdEnd}`;
  const chunks = personalize(await context.template(delivery.edition_id), {
    to: delivery.email,
    date: mailDate(new Date()),
    messageId,
    unsubscribeMailto: context.mailto ? unsubscribeMailto(config, delivery.subscriber_id) : '',
    ...(config.webhooks.postmark === undefined ? {} : { deliveryTag: deliveryTag(config, delivery.id) }),
    ...personalValues(config, { id: delivery.subscriber_id, subscribedAt: delivery.subscribed_at, timeZone: delivery.timezone }),
  });
  // Past half its lease (a long batch, a low rate limit) another instance may take this
  // row over at any moment: hand it back rather than race it for the same recipient.
  // Checked before waiting for a send slot too, so a stale row costs no slot.
  const leaseEnds = delivery.claimedAt + (options.leaseSeconds ?? config.sendLeaseSeconds) * 1000;
  const claimTooOld = () => Date.now() > (delivery.claimedAt + leaseEnds) / 2;
  let stale = claimTooOld();
  if (!stale) {
    await context.pace();
    stale = claimTooOld();
  }
  if (stale) {
    await releaseClaims(db, [delivery], 'claim held too long: handed back unsent', 0);
    return 'handed back';
  }
  const started = performance.now();
  // VERP: a bounce comes back to an address that names this delivery (src/links/verp.ts).
  // Past its lease the row may be another instance's: no wait for the server outlasts it.
  const result = await mailer.send({ from: bounceAddress(config, delivery.id), to: delivery.email, chunks, deadline: leaseEnds });
  if (result.ok) {
    options.onSent?.((performance.now() - started) / 1000);
    await context.markSent({ id: delivery.id, messageId: `<${messageId}>` });
    return 'sent';
  }
  if (result.permanent) {
    // Judged and ruled on like a bounce that comes back later, in the same transaction as the mark.
    await db.transaction().execute(async (trx) => {
      await markFailed(trx, delivery.id, result.error);
      await options.recipientRefused(trx, delivery.id, result.refusal);
    });
    return 'failed';
  }
  // A server that is down is no fault of this message: it waits (backoff capped at six
  // hours) for as long as the outage lasts, and is never given up.
  if (!result.pause && delivery.attempts >= (options.maxAttempts ?? 10)) {
    await markFailed(db, delivery.id, `gave up after ${delivery.attempts} attempts: ${result.error}`);
    return 'failed';
  }
  await markForRetry(db, delivery.id, result.error, retryDelay(options, delivery.attempts));
  return result.pause ? { paused: result.error } : 'retried';
}

function retryDelay(options: DeliverOptions, attempts: number): number {
  return Math.min((options.retryBaseSeconds ?? 60) * 2 ** Math.max(0, attempts - 1), 6 * 3600);
}

/** What every message of an edition shares: built into a MessageTemplate once per edition. */
export function editionMessage(config: Config, rendered: RenderedDigest, unsubscribeMailto: boolean) {
  return {
    unsubscribeMailto,
    from: config.mailFrom,
    subject: rendered.subject,
    html: rendered.html,
    text: rendered.text,
    listId: `${config.siteName.replace(/[<>"]/g, '')} <digest.${mailDomain(config)}>`,
    slotNonce: rendered.slotNonce,
    // Sending through Postmark: its webhook events name the delivery only by this metadata.
    postmarkMetadata: config.webhooks.postmark !== undefined,
  };
}

/** Spaces sends evenly to stay under a provider's messages-per-second limit (0: no limit). */
export function pacer(perSecond: number): () => Promise<void> {
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
