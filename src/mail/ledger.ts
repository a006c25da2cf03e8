import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/connect.js';

/**
 * The deliveries table is the queue. A row is claimed (pending -> sending, with a
 * lease), sent, then marked. A process killed mid-send leaves rows 'sending' whose
 * lease runs out; they are claimed again, so nobody misses a digest. Claims use
 * FOR UPDATE SKIP LOCKED so that several instances share the work without
 * waiting on each other.
 */
export interface ClaimedDelivery {
  id: number;
  subscriber_id: number;
  edition_id: number;
  attempts: number;
  email: string;
  /** For the footer's "you chose … on <date>" (see render/personal.ts). */
  subscribed_at: Date;
  timezone: string;
  /** This process's clock when the claim was asked for: the lease ends no earlier than this plus its length. */
  claimedAt: number;
}

export async function claimDeliveries(db: Db, limit: number, leaseSeconds: number): Promise<ClaimedDelivery[]> {
  const claimedAt = Date.now();
  const { rows } = await sql<Omit<ClaimedDelivery, 'claimedAt'>>`
    WITH claimable AS (
      SELECT id FROM deliveries
      WHERE (status = 'pending' AND next_attempt_at <= now())
         OR (status = 'sending' AND lease_until < now())
      -- Index order only: a tie-break on id would sort every due row (100,000 planned
      -- together share one next_attempt_at) on each claim.
      ORDER BY next_attempt_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED
    )
    UPDATE deliveries d
    SET status = 'sending', attempts = d.attempts + 1,
        lease_until = now() + make_interval(secs => ${leaseSeconds})
    FROM claimable, subscribers s
    WHERE d.id = claimable.id AND s.id = d.subscriber_id
    RETURNING d.id, d.subscriber_id, d.edition_id, d.attempts, s.email,
              coalesce(s.confirmed_at, s.created_at) AS subscribed_at, s.timezone`.execute(db);
  return rows.map((row) => ({ ...row, claimedAt }));
}

export interface SentMark {
  id: number;
  messageId: string;
}

/**
 * Marks deliveries sent in one statement (the sender commits marks in groups, see
 * deliver.ts).
 *
 * On a Postgres server (`waitForFlush` false) without waiting for the WAL flush
 * (synchronous_commit off, for this transaction only): each sender waits for its
 * mark, and a busy disk's fsync held every SMTP connection idle (the
 * 100,000-message run went from 120 s to 200 s). The commit is still atomic and
 * ordered; only a crash of the database server itself can lose the marks of its
 * last few hundred milliseconds, and those messages would be sent again with the
 * same Message-ID. Embedded PGlite must wait: there the database dies with this
 * process, and a kill -9 lost unflushed marks (25 duplicates instead of at most
 * SMTP_POOL_SIZE).
 */
export async function markSent(db: Db, marks: SentMark[], waitForFlush: boolean): Promise<void> {
  if (marks.length === 0) return;
  // set_config(..., true) lasts to the end of this statement's own transaction, so it
  // governs its commit: one round trip, where BEGIN / SET LOCAL / COMMIT took four.
  await sql`
    WITH async_commit AS MATERIALIZED (SELECT set_config('synchronous_commit', ${waitForFlush ? 'on' : 'off'}, true))
    UPDATE deliveries d SET status = 'sent', sent_at = now(), message_id = m.message_id,
                            lease_until = NULL, last_error = NULL
    FROM unnest(${marks.map((m) => m.id)}::bigint[], ${marks.map((m) => m.messageId)}::text[]) AS m(id, message_id)
    WHERE d.id = m.id AND EXISTS (SELECT 1 FROM async_commit)`.execute(db);
}

export async function markForRetry(db: Db, id: number, error: string, delaySeconds: number): Promise<void> {
  await db
    .updateTable('deliveries')
    .set({
      status: 'pending',
      last_error: error,
      lease_until: null,
      next_attempt_at: sql<Date>`now() + make_interval(secs => ${delaySeconds})`,
    })
    .where('id', '=', id)
    .execute();
}

/**
 * Hands claimed rows back untouched (the SMTP server is down, stopping, a claim held
 * too long): the attempt does not count. Only rows still under this claim: every claim
 * adds one to attempts, so a row whose lease ran out and that another instance took
 * since has moved on and is left alone.
 */
export async function releaseClaims(
  db: Db,
  claims: Array<Pick<ClaimedDelivery, 'id' | 'attempts'>>,
  error: string,
  delaySeconds: number,
): Promise<void> {
  if (claims.length === 0) return;
  await sql`
    UPDATE deliveries d
    SET status = 'pending', last_error = ${error}, lease_until = NULL, attempts = greatest(d.attempts - 1, 0),
        next_attempt_at = now() + make_interval(secs => ${delaySeconds})
    FROM unnest(${claims.map((c) => c.id)}::bigint[], ${claims.map((c) => c.attempts)}::int[]) AS c(id, attempts)
    WHERE d.id = c.id AND d.attempts = c.attempts AND d.status = 'sending'`.execute(db);
}

/** A delivery that will not be tried again. */
export async function markFailed(db: Db, id: number, error: string): Promise<void> {
  await db.updateTable('deliveries').set({ status: 'failed', last_error: error, lease_until: null }).where('id', '=', id).execute();
}

export interface SentDelivery {
  id: number;
  edition_id: number;
  subscriber_id: number;
  subscribed_at: Date;
  timezone: string;
}

/** The last digest sent to this address since `since`, if any (the demo previews it). */
export async function lastSentTo(db: Db, emailNormalized: string, since: Date): Promise<SentDelivery | undefined> {
  return db
    .selectFrom('deliveries as d')
    .innerJoin('subscribers as s', 's.id', 'd.subscriber_id')
    .select([
      'd.id',
      'd.edition_id',
      'd.subscriber_id',
      's.timezone',
      sql<Date>`coalesce(s.confirmed_at, s.created_at)`.as('subscribed_at'),
    ])
    .where('s.email_normalized', '=', emailNormalized)
    .where('d.status', '=', 'sent')
    .where('d.sent_at', '>=', since)
    .where('d.edition_id', 'is not', null)
    .orderBy('d.id', 'desc')
    .$narrowType<{ edition_id: number }>()
    .executeTakeFirst();
}

export interface QueueStats {
  /** Waiting to be sent (pending or claimed). */
  queued: number;
  sentToday: number;
  failedToday: number;
  retrying: number;
}

/** "Today" is the last 24 hours: the operator's zone is not the subscribers'. */
export async function queueStats(db: Db): Promise<QueueStats> {
  const { rows } = await sql<QueueStats>`
    SELECT count(*) FILTER (WHERE status IN ('pending', 'sending')) AS queued,
           count(*) FILTER (WHERE status = 'sent' AND sent_at > now() - interval '24 hours') AS "sentToday",
           count(*) FILTER (WHERE status = 'failed' AND created_at > now() - interval '24 hours') AS "failedToday",
           count(*) FILTER (WHERE status = 'pending' AND attempts > 0) AS retrying
    FROM deliveries WHERE status IN ('pending', 'sending') OR created_at > now() - interval '48 hours'`.execute(db);
  return rows[0]!;
}

/**
 * This installation's random part of every Message-ID (an install's ledger ids start at
 * 1 like every other's, and receivers drop repeated ids as duplicates). Made once by
 * whichever instance asks first; every instance on the database reads the same one, so
 * a delivery keeps its Message-ID whoever resends it.
 */
export async function messageIdKey(db: Db): Promise<string> {
  await db
    .insertInto('settings')
    .values({ name: 'message_id_key', value: randomBytes(6).toString('hex') })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .execute();
  const row = await db.selectFrom('settings').select('value').where('name', '=', 'message_id_key').executeTakeFirstOrThrow();
  return row.value;
}
