import type { Config } from '../config/config.js';
import { mac, sameMac, type TokenKeys } from './tokens.js';

/**
 * Signed, tagged addresses (VERP): each digest's envelope sender is
 * `<local>+b<delivery id>-<mac>@<domain>` of BOUNCE_ADDRESS, so a bounce names its
 * delivery without our trusting anything the bounce says about the recipient; the
 * List-Unsubscribe mailto: is `<local>+u<subscriber id>-<mac>@<domain>` of
 * UNSUBSCRIBE_ADDRESS. The MAC is the link tokens' HMAC (SECRET, and SECRET_PREVIOUS
 * after a rotation) in lower-case hex: mail systems may change the case of a local
 * part, and base64 would not survive that. 96 bits, so the tag fits in a local part
 * (64 characters) after a 24-character base.
 */
export type AddressPurpose = 'bounce' | 'unsubscribe';

const PREFIX: Record<AddressPurpose, string> = { bounce: 'b', unsubscribe: 'u' };
const MAC_HEX = 24;
const TAG = /\+([bu])(\d{1,15})-([0-9a-f]{24})@/gi;

export type AddressConfig = Pick<Config, 'bounceAddress' | 'unsubscribeAddress' | 'secretPrevious'> & { secret: string };

function tagMac(secret: string, purpose: AddressPurpose, id: number): string {
  return Buffer.from(mac(secret, `address:${purpose}:${id}`), 'base64url')
    .toString('hex')
    .slice(0, MAC_HEX);
}

function tag(purpose: AddressPurpose, id: number, secret: string): string {
  return `${PREFIX[purpose]}${id}-${tagMac(secret, purpose, id)}`;
}

function tagged(base: string, purpose: AddressPurpose, id: number, secret: string): string {
  const at = base.lastIndexOf('@');
  return `${base.slice(0, at)}+${tag(purpose, id, secret)}${base.slice(at)}`;
}

/** The envelope sender of one delivery. */
export function bounceAddress(config: AddressConfig, deliveryId: number): string {
  return tagged(config.bounceAddress, 'bounce', deliveryId, config.secret);
}

/**
 * The delivery's tag alone (`b<id>-<mac>`), for a provider that hands a value of ours back
 * with its events but not the envelope sender (Postmark's metadata).
 */
export function deliveryTag(config: AddressConfig, deliveryId: number): string {
  return tag('bounce', deliveryId, config.secret);
}

/** The Postmark metadata key (at most 20 characters) that carries deliveryTag: X-PM-Metadata-fd-delivery. */
export const POSTMARK_DELIVERY_KEY = 'fd-delivery';

/** The List-Unsubscribe mailto: of one subscriber (RFC 2369; the subject is a courtesy, the address decides). */
export function unsubscribeMailto(config: AddressConfig, subscriberId: number): string {
  return `mailto:${tagged(config.unsubscribeAddress, 'unsubscribe', subscriberId, config.secret)}?subject=unsubscribe`;
}

export interface AddressToken {
  purpose: AddressPurpose;
  id: number;
}

/**
 * The genuine tags in a text (addresses, header values, a whole message), in order of
 * appearance, without repeats. A tag whose MAC does not verify is not returned.
 */
export function verifiedTags(keys: TokenKeys, text: string): AddressToken[] {
  const found: AddressToken[] = [];
  for (const match of text.matchAll(TAG)) {
    const token = genuineTag(keys, match);
    if (token !== undefined && !found.some((t) => t.purpose === token.purpose && t.id === token.id)) found.push(token);
  }
  return found;
}

/** A bare tag (`b<id>-<mac>`, see deliveryTag) when it is genuine. */
export function verifiedTag(keys: TokenKeys, value: string): AddressToken | undefined {
  const match = BARE_TAG.exec(value.trim());
  return match === null ? undefined : genuineTag(keys, match);
}

const BARE_TAG = /^([bu])(\d{1,15})-([0-9a-f]{24})$/i;

/** The token a tag's parts (prefix, id, MAC) name, when the MAC is ours (SECRET or SECRET_PREVIOUS). */
function genuineTag(keys: TokenKeys, [, prefix, digits, givenMac]: RegExpMatchArray | RegExpExecArray): AddressToken | undefined {
  const purpose: AddressPurpose = prefix!.toLowerCase() === 'b' ? 'bounce' : 'unsubscribe';
  const id = Number(digits);
  if (!Number.isSafeInteger(id) || id <= 0) return undefined;
  const given = givenMac!.toLowerCase();
  const genuine = [keys.current, keys.previous].some((secret) => secret !== undefined && sameMac(given, tagMac(secret, purpose, id)));
  return genuine ? { purpose, id } : undefined;
}
