import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkFormToken, FORM_TOKEN_SECONDS, isFormCookie, issueFormToken, newFormCookie } from '../../src/web/csrf.js';

const secret = 'form-secret-'.padEnd(40, 'f');
const now = new Date('2026-03-01T12:00:00Z');

test('a new form cookie is 22 URL-safe characters, random each time', () => {
  const cookie = newFormCookie();
  assert.equal(isFormCookie(cookie), true);
  assert.notEqual(newFormCookie(), cookie);
  for (const bad of [undefined, '', 'short', `${cookie}x`, cookie.slice(0, 21) + '/']) assert.equal(isFormCookie(bad), false, String(bad));
});

test('a token checks with its own cookie and secret until it expires', () => {
  const cookie = newFormCookie();
  const token = issueFormToken(secret, cookie, now);
  assert.equal(checkFormToken(secret, cookie, token, now), true);
  assert.equal(checkFormToken(secret, cookie, token, new Date(now.getTime() + FORM_TOKEN_SECONDS * 1000 - 1000)), true);
  assert.equal(checkFormToken(secret, cookie, token, new Date(now.getTime() + FORM_TOKEN_SECONDS * 1000)), false, 'expired');
  assert.equal(checkFormToken(secret, newFormCookie(), token, now), false, 'another cookie');
  assert.equal(checkFormToken('other-secret-'.padEnd(40, 'o'), cookie, token, now), false, 'another secret');
});

test('missing or altered tokens fail', () => {
  const cookie = newFormCookie();
  const token = issueFormToken(secret, cookie, now);
  const [expires, tag] = token.split('.') as [string, string];
  assert.equal(checkFormToken(secret, cookie, undefined, now), false);
  assert.equal(checkFormToken(secret, undefined, token, now), false);
  assert.equal(checkFormToken(secret, cookie, `${Number(expires) + 3600}.${tag}`, now), false, 'a later expiry is not signed');
  assert.equal(checkFormToken(secret, cookie, tag, now), false);
  assert.equal(checkFormToken(secret, cookie, `1e12.${tag}`, now), false);
});
