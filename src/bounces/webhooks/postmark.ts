import { createHash, timingSafeEqual } from 'node:crypto';
import type { BounceKind } from '../../db/schema.js';
import type { InboundOutcome } from '../apply.js';
import { POSTMARK_DELIVERY_KEY } from '../../links/verp.js';
import { stringAt, valueAt } from './json.js';
import type { DeliveryOfTag } from './verp.js';

/**
 * Postmark webhooks. Postmark signs nothing: its documentation secures a webhook with
 * HTTP basic auth, the user and password written into the webhook URL
 * (https://user:password@host/webhooks/postmark). A replayed call is acted on once
 * (each event carries its id, kept as the outcome's event key).
 */
export function postmarkAuthorized(authorization: string | undefined, user: string, password: string): boolean {
  const expected = `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
  // Digests have one length, so the comparison takes the same time whatever was sent.
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(authorization ?? ''), digest(expected));
}

/** Bounce types (Postmark's "Type") that say something about the address. */
const BOUNCE_KINDS: Record<string, BounceKind> = {
  HardBounce: 'hard',
  BadEmailAddress: 'hard',
  SoftBounce: 'soft',
  Transient: 'soft',
  DnsError: 'soft',
  InboxFull: 'soft',
  SpamComplaint: 'complaint',
  Unsubscribe: 'unsubscribe',
  AutoResponder: 'auto-reply',
};

/**
 * Bounce, SpamComplaint and Delivery records as outcomes; a SubscriptionChange that
 * suppresses an address at the recipient's request is an unsubscribe. Postmark reports
 * neither our envelope sender nor our Message-ID (its MessageID is its own), but hands
 * back the metadata we sent (X-PM-Metadata-fd-delivery, see src/mail/compose.ts): its
 * signed tag names the delivery. Only an event without a genuine one (a message sent
 * before the setting, or not a digest) falls back to the address.
 */
export function postmarkOutcome(body: unknown, deliveryOf: DeliveryOfTag): InboundOutcome | undefined {
  const record = stringAt(body, 'RecordType');
  const type = stringAt(body, 'Type');
  const email = stringAt(body, 'Email') ?? stringAt(body, 'Recipient');
  const details = stringAt(body, 'Details');
  const id = stringAt(body, 'ID');
  const kind: BounceKind | undefined =
    record === 'Bounce' || record === 'SpamComplaint'
      ? BOUNCE_KINDS[type ?? '']
      : record === 'Delivery'
        ? 'delivered'
        : record === 'SubscriptionChange' &&
            valueAt(body, 'SuppressSending') === true &&
            stringAt(body, 'SuppressionReason') === 'ManualSuppression'
          ? 'unsubscribe'
          : undefined;
  if (kind === undefined || email === undefined) return undefined;
  return {
    kind,
    email,
    deliveryId: deliveryOf(stringAt(body, 'Metadata', POSTMARK_DELIVERY_KEY)),
    diagnostic: details,
    source: 'postmark',
    evidence: `Postmark ${record}${type ? ` ${type}` : ''} for ${email}${details ? `: ${details}` : ''}`,
    eventKey: `postmark:${record}:${id ?? stringAt(body, 'MessageID')}:${email}`,
  };
}
