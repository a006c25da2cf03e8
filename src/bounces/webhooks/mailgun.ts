import { createHmac, timingSafeEqual } from 'node:crypto';
import type { InboundOutcome } from '../apply.js';
import { stringAt, valueAt } from './json.js';
import type { DeliveryOfSender } from './verp.js';

/**
 * Mailgun webhooks, verified as Mailgun documents it: the body's "signature" holds a
 * timestamp, a random token and the hex HMAC-SHA256 of timestamp + token under the
 * webhook signing key. A call older (or newer) than MAX_SKEW_SECONDS is refused, and
 * so is a token seen within that window: a captured call cannot be played again.
 */
const MAX_SKEW_SECONDS = 300;

export interface MailgunVerifier {
  /** Undefined when the call is genuine and new; else why not. */
  problem(body: unknown, now?: number): string | undefined;
}

export function mailgunVerifier(signingKey: string): MailgunVerifier {
  /** Tokens seen, with when they may be forgotten (their timestamp is out of range by then). */
  const seen = new Map<string, number>();
  const forgetOld = (now: number) => {
    for (const [token, until] of seen) if (until < now) seen.delete(token);
  };
  return {
    problem(body, now = Date.now()) {
      const timestamp = stringAt(body, 'signature', 'timestamp');
      const token = stringAt(body, 'signature', 'token');
      const signature = stringAt(body, 'signature', 'signature');
      if (timestamp === undefined || token === undefined || signature === undefined) return 'no signature';
      const expected = createHmac('sha256', signingKey)
        .update(timestamp + token)
        .digest('hex');
      if (signature.length !== expected.length || !timingSafeEqual(Buffer.from(signature), Buffer.from(expected))) return 'bad signature';
      const skew = Math.abs(now / 1000 - Number(timestamp));
      if (!(skew <= MAX_SKEW_SECONDS)) return `timestamp ${timestamp} is out of range`;
      forgetOld(now);
      if (seen.has(token)) return 'token already used';
      seen.set(token, now + 2 * MAX_SKEW_SECONDS * 1000);
      return undefined;
    },
  };
}

/**
 * The event as an outcome: "failed" is a hard bounce when its severity is permanent,
 * else soft; "complained" a complaint; "unsubscribed" (Mailgun's own unsubscribe
 * link) an unsubscribe; "delivered" a delivery. Opens, clicks and the rest: none.
 */
export function mailgunOutcome(body: unknown, deliveryOf: DeliveryOfSender): InboundOutcome | undefined {
  const event = valueAt(body, 'event-data');
  const name = stringAt(event, 'event');
  const kind =
    name === 'failed'
      ? stringAt(event, 'severity') === 'permanent'
        ? 'hard'
        : 'soft'
      : name === 'complained'
        ? 'complaint'
        : name === 'unsubscribed'
          ? 'unsubscribe'
          : name === 'delivered'
            ? 'delivered'
            : undefined;
  if (kind === undefined) return undefined;
  const email = stringAt(event, 'recipient');
  const code = stringAt(event, 'delivery-status', 'code');
  const diagnostic = stringAt(event, 'delivery-status', 'description') || stringAt(event, 'delivery-status', 'message');
  const eventId = stringAt(event, 'id');
  return {
    kind,
    email,
    deliveryId: deliveryOf(stringAt(event, 'envelope', 'sender')),
    messageId: stringAt(event, 'message', 'headers', 'message-id'),
    status: stringAt(event, 'delivery-status', 'enhanced-code') ?? code,
    diagnostic,
    source: 'mailgun',
    evidence: `Mailgun ${name}${kind === 'hard' || kind === 'soft' ? ` (${stringAt(event, 'severity')}, ${stringAt(event, 'reason') ?? 'no reason'})` : ''} for ${email}${diagnostic ? `: ${code ?? ''} ${diagnostic}` : ''}`,
    eventKey: eventId === undefined ? undefined : `mailgun:${eventId}`,
  };
}
