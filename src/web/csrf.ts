import { randomBytes } from 'node:crypto';
import { mac, sameMac } from '../links/tokens.js';

/**
 * Form tokens bound to a random cookie (double submit, signed): a page embeds
 * `<expiry>.<mac of cookie and expiry>`, and a POST must bring both the cookie and a
 * matching, unexpired token. Another site can neither read the token nor set our
 * cookie, and nothing is stored on the server.
 */
export const FORM_COOKIE = 'fd_form';
export const FORM_TOKEN_SECONDS = 24 * 3600;
const COOKIE_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export function newFormCookie(): string {
  return randomBytes(16).toString('base64url');
}

export function isFormCookie(value: string | undefined): value is string {
  return value !== undefined && COOKIE_PATTERN.test(value);
}

export function issueFormToken(secret: string, cookie: string, now: Date = new Date()): string {
  const expires = Math.floor(now.getTime() / 1000) + FORM_TOKEN_SECONDS;
  return `${expires}.${mac(secret, `form:${cookie}:${expires}`)}`;
}

export function checkFormToken(secret: string, cookie: string | undefined, token: string | undefined, now: Date = new Date()): boolean {
  if (!isFormCookie(cookie) || token === undefined) return false;
  const [expires, given] = token.split('.');
  if (expires === undefined || given === undefined || !/^\d{1,12}$/.test(expires)) return false;
  if (Number(expires) * 1000 <= now.getTime()) return false;
  return sameMac(given, mac(secret, `form:${cookie}:${expires}`));
}
