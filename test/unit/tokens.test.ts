import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mac, sameMac, signToken, verifyToken, type TokenKeys } from '../../src/links/tokens.js';

const keys: TokenKeys = { current: 'current-secret-'.padEnd(40, 'c') };
const now = new Date('2026-03-01T12:00:00Z');
const inAnHour = Math.floor(now.getTime() / 1000) + 3600;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A token with this payload text, correctly signed: for payloads signToken would never write. */
function forged(payloadText: string): string {
  const kid = signToken(keys, { purpose: 'confirm', subscriberId: 1 }).split('.')[0]!;
  const payload = Buffer.from(payloadText, 'utf8').toString('base64url');
  return `${kid}.${payload}.${mac(keys.current, `${kid}.${payload}`)}`;
}

test('a signed token verifies to its claims; one without expiry carries no expiresAt', () => {
  const confirm = signToken(keys, { purpose: 'confirm', subscriberId: 42, expiresAt: inAnHour, signupId: 9 });
  assert.match(confirm, /^[\w-]+\.[\w-]+\.[\w-]{22}$/, 'URL-safe, three parts');
  assert.deepEqual(verifyToken(keys, confirm, 'confirm', now), { purpose: 'confirm', subscriberId: 42, expiresAt: inAnHour, signupId: 9 });
  const unsubscribe = signToken(keys, { purpose: 'unsubscribe', subscriberId: 7 });
  assert.deepEqual(verifyToken(keys, unsubscribe, 'unsubscribe', new Date('2100-01-01T00:00:00Z')), {
    purpose: 'unsubscribe',
    subscriberId: 7,
  });
});

test('a token is good for its own purpose only', () => {
  const token = signToken(keys, { purpose: 'preferences', subscriberId: 42 });
  assert.equal(verifyToken(keys, token, 'unsubscribe', now), undefined);
  assert.equal(verifyToken(keys, token, 'confirm', now), undefined);
});

test('a token expires at its expiry second, not after', () => {
  const token = signToken(keys, { purpose: 'confirm', subscriberId: 42, expiresAt: inAnHour, signupId: 9 });
  assert.ok(verifyToken(keys, token, 'confirm', new Date(inAnHour * 1000 - 1)));
  assert.equal(verifyToken(keys, token, 'confirm', new Date(inAnHour * 1000)), undefined);
});

test('after a rotation the previous secret still verifies; an unknown secret does not', () => {
  const old = signToken({ current: 'old-secret-'.padEnd(40, 'o') }, { purpose: 'unsubscribe', subscriberId: 3 });
  assert.deepEqual(verifyToken({ ...keys, previous: 'old-secret-'.padEnd(40, 'o') }, old, 'unsubscribe', now), {
    purpose: 'unsubscribe',
    subscriberId: 3,
  });
  assert.equal(verifyToken(keys, old, 'unsubscribe', now), undefined);
});

test('any other last character of the MAC is refused, even those that decode to the same bytes', () => {
  const token = signToken(keys, { purpose: 'unsubscribe', subscriberId: 42 });
  const body = token.slice(0, -1);
  const accepted = [...BASE64URL].filter((char) => verifyToken(keys, body + char, 'unsubscribe', now) !== undefined);
  assert.deepEqual(accepted, [token.at(-1)]);
});

test('an altered payload, a MAC from another payload, or a malformed token is refused', () => {
  const token = signToken(keys, { purpose: 'unsubscribe', subscriberId: 42 });
  const [kid, , tag] = token.split('.') as [string, string, string];
  const other = Buffer.from('unsubscribe:43:', 'utf8').toString('base64url');
  assert.equal(verifyToken(keys, `${kid}.${other}.${tag}`, 'unsubscribe', now), undefined);
  for (const bad of ['', token.replace(/\./g, ''), `${token}.x`, token.split('.').slice(0, 2).join('.')]) {
    assert.equal(verifyToken(keys, bad, 'unsubscribe', now), undefined, bad);
  }
});

test('a correctly signed payload with a bad subscriber id or shape is still refused', () => {
  assert.deepEqual(
    verifyToken(keys, forged('confirm:5::9'), 'confirm', now),
    { purpose: 'confirm', subscriberId: 5, signupId: 9 },
    'the forging helper is sound',
  );
  const bad = [
    'confirm:0::9',
    'confirm:-1::9',
    'confirm:1.5::9',
    'confirm:abc::9',
    'confirm:5',
    'confirm:5::',
    'confirm:5::9:',
    `confirm:5:${inAnHour}x:9`,
    'confirm:5::0x9',
  ];
  // A confirm link without its sign-up (as mailed before links were bound to one) no longer confirms.
  for (const payload of [...bad, 'confirm:5:']) {
    assert.equal(verifyToken(keys, forged(payload), 'confirm', now), undefined, payload);
  }
});

test('MACs compare as whole strings', () => {
  const tag = mac(keys.current, 'something');
  assert.equal(tag.length, 22);
  assert.equal(sameMac(tag, tag), true);
  assert.equal(sameMac(tag.slice(0, 21), tag), false);
  assert.equal(sameMac(`${tag}A`, tag), false);
  assert.notEqual(mac(keys.current, 'something else'), tag);
});
