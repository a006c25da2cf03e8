import { sql } from 'kysely';
import type { Db } from '../db/connect.js';
import type { BounceAction, BounceKind, BounceSource, SubscriberStatus } from '../db/schema.js';
import { recordConsent } from '../subscribers/consent.js';
import { STOPPABLE, STOPPED } from '../subscribers/status.js';
import { normalizeEmail } from '../subscribers/store.js';

/**
 * What one report (a bounce mail, a complaint, a provider's webhook call, a refusal
 * while we sent) says about one recipient, whichever door it came through. Mail identifies the
 * delivery by its signed VERP token (deliveryId) or the subscriber by a signed
 * unsubscribe token (subscriberId); webhooks, already authenticated by their
 * signature, identify it by address and Message-ID; a refusal names its delivery.
 */
export interface InboundOutcome {
  kind: BounceKind | 'not-bounce' | 'unknown';
  deliveryId?: number | undefined;
  subscriberId?: number | undefined;
  email?: string | undefined;
  /** Our Message-ID of the digest, with or without angle brackets (webhooks). */
  messageId?: string | undefined;
  /** The DSN status code, e.g. 5.1.1. */
  status?: string | undefined;
  diagnostic?: string | undefined;
  source: BounceSource;
  /** Why we believe it: kept with the event (a summary, not the whole message). */
  evidence: string;
  /** The same report seen twice acts once: the bounce's Message-ID, the webhook's event id. */
  eventKey?: string | undefined;
}

export interface AppliedOutcome {
  /** What changed: 'ignored' when the outcome names nobody we know, or is not actionable. */
  action: BounceAction | 'ignored' | 'duplicate';
  subscriberId?: number;
  statusBefore?: SubscriberStatus;
  statusAfter?: SubscriberStatus;
}

export interface BounceRules {
  /** Soft bounces within bounceSoftDays that stop an address. */
  bounceSoftLimit: number;
  bounceSoftDays: number;
}

export const DEFAULT_BOUNCE_RULES: BounceRules = { bounceSoftLimit: 3, bounceSoftDays: 30 };

/**
 * Applies one outcome: a hard bounce stops the address at once; soft bounces stop it
 * after bounceSoftLimit within bounceSoftDays; a complaint or a mailed unsubscribe
 * unsubscribes at once and is recorded in consents. Every outcome about a known
 * subscriber is recorded in bounce_events with its evidence, in the same transaction
 * as the change it causes. Delivery events and auto-replies change nothing and are
 * not recorded. Inside a transaction (a refusal, with its delivery's mark), in that one.
 */
export async function applyOutcome(db: Db, outcome: InboundOutcome, rules: BounceRules = DEFAULT_BOUNCE_RULES): Promise<AppliedOutcome> {
  if (outcome.kind === 'not-bounce' || outcome.kind === 'unknown') return { action: 'ignored' };
  // Not a state change, and one a message for delivery events: nothing to record.
  if (outcome.kind === 'delivered' || outcome.kind === 'auto-reply') return { action: 'none' };
  const kind = outcome.kind;
  const apply = async (trx: Db): Promise<AppliedOutcome> => {
    const target = await findTarget(trx, outcome);
    if (target === undefined) return { action: 'ignored' };
    if (outcome.eventKey !== undefined) {
      const seen = await trx.selectFrom('bounce_events').select('id').where('event_key', '=', outcome.eventKey).executeTakeFirst();
      if (seen !== undefined) return { action: 'duplicate', subscriberId: target.subscriberId };
    }
    const subscriber = await trx
      .selectFrom('subscribers')
      .select(['id', 'status'])
      .where('id', '=', target.subscriberId)
      .forUpdate()
      .executeTakeFirst();
    if (subscriber === undefined) return { action: 'ignored' };

    const action = await decide(trx, kind, subscriber, rules);
    const statusAfter = action === 'bounced' ? 'bounced' : action === 'unsubscribed' ? 'unsubscribed' : subscriber.status;
    if (action === 'bounced' || action === 'unsubscribed') {
      await trx.updateTable('subscribers').set(STOPPED[action]).where('id', '=', subscriber.id).execute();
    }
    if (kind === 'complaint' || kind === 'unsubscribe') {
      // A complaint is evidence about consent even when the address had already left.
      await recordConsent(
        trx,
        subscriber.id,
        kind,
        { channel: 'mail', ip: null, userAgent: null },
        { status: statusAfter, source: outcome.source },
      );
    }
    await trx
      .insertInto('bounce_events')
      .values({
        subscriber_id: subscriber.id,
        delivery_id: target.deliveryId ?? null,
        kind,
        source: outcome.source,
        action,
        dsn_status: outcome.status?.slice(0, 32) ?? null,
        diagnostic: outcome.diagnostic?.slice(0, 1000) ?? null,
        evidence: outcome.evidence.slice(0, 4000),
        event_key: outcome.eventKey?.slice(0, 500) ?? null,
      })
      .execute();
    return { action, subscriberId: subscriber.id, statusBefore: subscriber.status, statusAfter };
  };
  return db.isTransaction ? apply(db) : db.transaction().execute(apply);
}

async function decide(
  db: Db,
  kind: Exclude<BounceKind, 'delivered' | 'auto-reply'>,
  subscriber: { id: number; status: SubscriberStatus },
  rules: BounceRules,
): Promise<BounceAction> {
  const stoppable = STOPPABLE.includes(subscriber.status);
  switch (kind) {
    case 'hard':
      return stoppable ? 'bounced' : 'none';
    case 'soft': {
      if (!stoppable) return 'none';
      // This one is not inserted yet: it counts as the +1.
      const earlier = await db
        .selectFrom('bounce_events')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('subscriber_id', '=', subscriber.id)
        .where('kind', '=', 'soft')
        .where('created_at', '>', sql<Date>`now() - make_interval(days => ${rules.bounceSoftDays})`)
        .executeTakeFirstOrThrow();
      return Number(earlier.n) + 1 >= rules.bounceSoftLimit ? 'bounced' : 'counted';
    }
    case 'complaint':
    case 'unsubscribe':
      return subscriber.status === 'unsubscribed' ? 'none' : 'unsubscribed';
  }
}

interface Target {
  subscriberId: number;
  deliveryId?: number;
}

/** The subscriber an outcome is about, by delivery, then subscriber id, then Message-ID, then address. */
async function findTarget(db: Db, outcome: InboundOutcome): Promise<Target | undefined> {
  if (outcome.deliveryId !== undefined) {
    const row = await db.selectFrom('deliveries').select(['id', 'subscriber_id']).where('id', '=', outcome.deliveryId).executeTakeFirst();
    return row === undefined ? undefined : { subscriberId: row.subscriber_id, deliveryId: row.id };
  }
  if (outcome.subscriberId !== undefined) return { subscriberId: outcome.subscriberId };
  if (outcome.messageId !== undefined) {
    const bare = outcome.messageId.trim().replace(/^<|>$/g, '');
    const row = await db.selectFrom('deliveries').select(['id', 'subscriber_id']).where('message_id', '=', `<${bare}>`).executeTakeFirst();
    if (row !== undefined) return { subscriberId: row.subscriber_id, deliveryId: row.id };
  }
  if (outcome.email !== undefined) {
    const normalized = normalizeEmail(outcome.email);
    if (normalized === undefined) return undefined;
    const row = await db.selectFrom('subscribers').select('id').where('email_normalized', '=', normalized).executeTakeFirst();
    return row === undefined ? undefined : { subscriberId: row.id };
  }
  return undefined;
}
