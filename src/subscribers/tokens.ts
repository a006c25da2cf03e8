import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed link tokens: `<kid>.<payload>.<mac>`, all base64url, so a token is safe
 * in a URL path and in quoted-printable mail bodies without escaping.
 * The key id lets a rotated-out secret (SECRET_PREVIOUS) still verify old links.
 */
export type TokenPurpose = 'confirm' | 'unsubscribe' | 'preferences';

export interface TokenClaims {
  purpose: TokenPurpose;
  subscriberId: number;
  /** Unix seconds; absent for links that do not expire (unsubscribe must keep working). */
  expiresAt?: number;
}

export interface TokenKeys {
  current: string;
  previous?: string | undefined;
}

const MAC_LENGTH = 22; // 128 bits of HMAC-SHA256 in base64url

function keyId(secret: string): string {
  return createHash('sha256').update(`feed-digest key id:${secret}`).digest('base64url').slice(0, 6);
}

/** A truncated HMAC-SHA256 of `signed`, base64url: also used for the web forms' tokens. */
export function mac(secret: string, signed: string): string {
  return createHmac('sha256', secret).update(signed).digest('base64url').slice(0, MAC_LENGTH);
}

/** Constant-time comparison of two canonical MAC strings (see verifyToken for why strings). */
export function sameMac(given: string, expected: string): boolean {
  return given.length === expected.length && timingSafeEqual(Buffer.from(given), Buffer.from(expected));
}

export function signToken(keys: TokenKeys, claims: TokenClaims): string {
  const kid = keyId(keys.current);
  const payload = Buffer.from(
    [claims.purpose, claims.subscriberId, claims.expiresAt ?? ''].join(':'),
    'utf8',
  ).toString('base64url');
  return `${kid}.${payload}.${mac(keys.current, `${kid}.${payload}`)}`;
}

/**
 * Returns the claims of a genuine, unexpired token of the wanted purpose, else undefined.
 * MACs are compared as canonical strings in constant time: base64url decoding ignores
 * trailing bits, so comparing decoded bytes would accept altered tokens.
 */
export function verifyToken(
  keys: TokenKeys,
  token: string,
  purpose: TokenPurpose,
  now: Date = new Date(),
): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [kid, payload, given] = parts as [string, string, string];
  const secret = [keys.current, keys.previous].find((s) => s !== undefined && keyId(s) === kid);
  if (secret === undefined) return undefined;
  const expected = mac(secret, `${kid}.${payload}`);
  if (!sameMac(given, expected)) return undefined;
  const fields = Buffer.from(payload, 'base64url').toString('utf8').split(':');
  if (fields.length !== 3 || fields[0] !== purpose) return undefined;
  const subscriberId = Number(fields[1]);
  const expiresAt = fields[2] === '' ? undefined : Number(fields[2]);
  if (!Number.isSafeInteger(subscriberId) || subscriberId <= 0) return undefined;
  if (expiresAt !== undefined && !(expiresAt * 1000 > now.getTime())) return undefined;
  return { purpose, subscriberId, ...(expiresAt === undefined ? {} : { expiresAt }) };
}

export function tokenKeys(config: { secret: string; secretPrevious?: string | undefined }): TokenKeys {
  return { current: config.secret, previous: config.secretPrevious };
}
