import { sql } from 'kysely';
import type { ConfigWithSecret } from '../config/config.js';
import type { Db } from '../db/connect.js';
import type { Subscriber } from '../db/schema.js';
import { sendConfirmationMail } from '../mail/confirmation.js';
import type { Mailer } from '../mail/transport.js';
import { recordConsent, type RequestOrigin } from './consent.js';
import { applyPreferences, type Preferences } from './preferences.js';

/** At most one confirmation mail per address in this many hours. */
export const CONFIRMATION_MAIL_INTERVAL_HOURS = 24;

type SignupDecision =
  /** A confirmation went to this address recently: send nothing, change nothing. */
  | { send: false }
  | {
      send: true;
      subscriber: Subscriber;
      /** This sign-up (its consent record): the confirmation link confirms it and no other. */
      signupId: number;
      /** Active or paused already: the mail offers to apply the new choices instead. */
      alreadySubscribed: boolean;
      /** To give the claim back if the mail cannot be sent. */
      previousSentAt: Date | null;
    };

/**
 * Records a sign-up and claims the right to mail a confirmation. A new address becomes
 * a pending subscriber with its choices; an existing one keeps its settings until the
 * confirmation link is used (so nobody can change another person's subscription by
 * typing their address), and the choices wait in the consent record, which the
 * confirmation link names.
 */
async function registerSignup(
  db: Db,
  email: { raw: string; normalized: string },
  prefs: Preferences,
  origin: RequestOrigin,
): Promise<SignupDecision> {
  return db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('subscribers')
      .values({ email: email.raw.trim(), email_normalized: email.normalized, status: 'pending' })
      .onConflict((oc) => oc.column('email_normalized').doNothing())
      .returningAll()
      .executeTakeFirst();
    const subscriber =
      inserted ??
      (await trx
        .selectFrom('subscribers')
        .selectAll()
        .where('email_normalized', '=', email.normalized)
        .forUpdate()
        .executeTakeFirstOrThrow());
    const recent = await trx
      .selectFrom('subscribers')
      .select('id')
      .where('id', '=', subscriber.id)
      .where('confirmation_sent_at', '>', sql<Date>`now() - make_interval(hours => ${CONFIRMATION_MAIL_INTERVAL_HOURS})`)
      .executeTakeFirst();
    if (recent !== undefined) return { send: false };
    if (subscriber.status === 'pending') {
      const problem = await applyPreferences(trx, subscriber.id, prefs);
      if (problem !== undefined) throw new Error(`sign-up choices were not validated: ${problem.problem}`);
    }
    const signupId = await recordConsent(trx, subscriber.id, 'signup', origin, prefs);
    // The newest sign-up is the one a link can confirm: links mailed for earlier ones stop working.
    await trx
      .updateTable('subscribers')
      .set({ confirmation_sent_at: sql`now()`, pending_signup_id: signupId })
      .where('id', '=', subscriber.id)
      .execute();
    return {
      send: true,
      subscriber,
      signupId,
      alreadySubscribed: subscriber.status === 'active' || subscriber.status === 'paused',
      previousSentAt: subscriber.confirmation_sent_at,
    };
  });
}

/** The mail could not go out: let the person try again rather than wait a day. */
async function releaseConfirmationClaim(db: Db, subscriberId: number, previousSentAt: Date | null): Promise<void> {
  await db.updateTable('subscribers').set({ confirmation_sent_at: previousSentAt }).where('id', '=', subscriberId).execute();
}

/** A confirmation mail that a sign-up has claimed, ready to go. */
export interface PendingConfirmation {
  subscriberId: number;
  /** Sends it; a mail that fails (or throws) gives the claim back, so the person can try again at once. */
  send(): Promise<{ ok: true } | { ok: false; error: string }>;
}

/**
 * A sign-up from the web form: records it (see registerSignup) and returns the
 * confirmation mail to send, or undefined when this address was mailed recently. The
 * caller decides when it goes: the web sends it after answering, so that how long the
 * answer takes does not tell whether this address was mailed in the last day.
 */
export async function signUp(
  db: Db,
  mailer: Mailer,
  config: ConfigWithSecret,
  email: { raw: string; normalized: string },
  prefs: Preferences,
  origin: RequestOrigin,
): Promise<PendingConfirmation | undefined> {
  const decision = await registerSignup(db, email, prefs, origin);
  if (!decision.send) return undefined;
  const { subscriber, signupId, alreadySubscribed, previousSentAt } = decision;
  const send: PendingConfirmation['send'] = async () => {
    const sent = await sendConfirmationMail(db, mailer, config, {
      subscriberId: subscriber.id,
      signupId,
      email: subscriber.email,
      prefs,
      alreadySubscribed,
    }).catch((error: unknown) => ({ ok: false as const, error: error instanceof Error ? error.message : String(error) }));
    if (!sent.ok) await releaseConfirmationClaim(db, subscriber.id, previousSentAt);
    return sent;
  };
  return { subscriberId: subscriber.id, send };
}
