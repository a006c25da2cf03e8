import type { Db } from '../db/connect.js';
import type { ConsentAction, ConsentChannel } from '../db/schema.js';

/** Who asked, as far as the request tells: kept with each consent record. */
export interface RequestOrigin {
  channel: ConsentChannel;
  ip: string | null;
  userAgent: string | null;
}

export async function recordConsent(
  db: Db,
  subscriberId: number,
  action: ConsentAction,
  origin: RequestOrigin,
  choices: object = {},
): Promise<number> {
  const row = await db
    .insertInto('consents')
    .values({
      subscriber_id: subscriberId,
      action,
      channel: origin.channel,
      ip: origin.ip,
      // Bounded: the header is attacker-controlled and this is evidence, not a log.
      user_agent: origin.userAgent?.slice(0, 512) ?? null,
      choices: JSON.stringify(choices),
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

/** The choices of one sign-up of this subscriber, which confirming it applies. */
export async function signupChoices(db: Db, subscriberId: number, signupId: number): Promise<unknown> {
  const row = await db
    .selectFrom('consents')
    .select('choices')
    .where('id', '=', signupId)
    .where('subscriber_id', '=', subscriberId)
    .where('action', '=', 'signup')
    .executeTakeFirst();
  return row?.choices;
}
