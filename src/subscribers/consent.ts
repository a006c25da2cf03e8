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
): Promise<void> {
  await db
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
    .execute();
}

/** The choices of the latest sign-up, which confirming applies. */
export async function latestSignupChoices(db: Db, subscriberId: number): Promise<unknown> {
  const row = await db
    .selectFrom('consents')
    .select('choices')
    .where('subscriber_id', '=', subscriberId)
    .where('action', '=', 'signup')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.choices;
}
