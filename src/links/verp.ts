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

function tagged(base: string, purpose: AddressPurpose, id: number, secret: string): string {
  const at = base.lastIndexOf('@');
  return `${base.slice(0, at)}+${PREFIX[purpose]}${id}-${tagMac(secret, purpose, id)}${base.slice(at)}`;
}

/** The envelope sender of one delivery. */
export function bounceAddress(config: AddressConfig, deliveryId: number): string {
  return tagged(config.bounceAddress, 'bounce', deliveryId, config.secret);
}

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
    const purpose: AddressPurpose = match[1]!.toLowerCase() === 'b' ? 'bounce' : 'unsubscribe';
    const id = Number(match[2]);
    if (!Number.isSafeInteger(id) || id <= 0) continue;
    const given = match[3]!.toLowerCase();
    const genuine = [keys.current, keys.previous].some((secret) => secret !== undefined && sameMac(given, tagMac(secret, purpose, id)));
    if (genuine && !found.some((t) => t.purpose === purpose && t.id === id)) found.push({ purpose, id });
  }
  return found;
}
