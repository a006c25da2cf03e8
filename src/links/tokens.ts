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
  /** Confirm links only: the sign-up (consents.id) they confirm, so that they work for it alone. */
  signupId?: number;
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
  const fields = [claims.purpose, claims.subscriberId, claims.expiresAt ?? ''];
  if (claims.signupId !== undefined) fields.push(claims.signupId);
  const payload = Buffer.from(fields.join(':'), 'utf8').toString('base64url');
  return `${kid}.${payload}.${mac(keys.current, `${kid}.${payload}`)}`;
}

/**
 * Returns the claims of a genuine, unexpired token of the wanted purpose, else undefined.
 * MACs are compared as canonical strings in constant time: base64url decoding ignores
 * trailing bits, so comparing decoded bytes would accept altered tokens.
 */
export function verifyToken(keys: TokenKeys, token: string, purpose: TokenPurpose, now: Date = new Date()): TokenClaims | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [kid, payload, given] = parts as [string, string, string];
  const secret = [keys.current, keys.previous].find((s) => s !== undefined && keyId(s) === kid);
  if (secret === undefined) return undefined;
  const expected = mac(secret, `${kid}.${payload}`);
  if (!sameMac(given, expected)) return undefined;
  const fields = Buffer.from(payload, 'base64url').toString('utf8').split(':');
  // Confirm links carry a sign-up id (a fourth field); links mailed before it have three.
  if (fields[0] !== purpose || fields.length !== (purpose === 'confirm' ? 4 : 3)) return undefined;
  const subscriberId = positiveInteger(fields[1]);
  const expiresAt = fields[2] === '' ? undefined : positiveInteger(fields[2]);
  const signupId = fields[3] === undefined ? undefined : positiveInteger(fields[3]);
  if (subscriberId === undefined || (fields[2] !== '' && expiresAt === undefined) || (fields[3] !== undefined && signupId === undefined))
    return undefined;
  if (expiresAt !== undefined && !(expiresAt * 1000 > now.getTime())) return undefined;
  return {
    purpose,
    subscriberId,
    ...(expiresAt === undefined ? {} : { expiresAt }),
    ...(signupId === undefined ? {} : { signupId }),
  };
}

function positiveInteger(text: string | undefined): number | undefined {
  const value = text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : 0;
  return value > 0 ? value : undefined;
}

export function tokenKeys(config: { secret: string; secretPrevious?: string | undefined }): TokenKeys {
  return { current: config.secret, previous: config.secretPrevious };
}
