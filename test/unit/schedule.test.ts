import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loadConfig } from '../../src/config/config.js';
import { nextFetchAt } from '../../src/feeds/schedule.js';

const config = loadConfig({ FETCH_INTERVAL_MINUTES: '60' });
const now = new Date('2026-03-01T12:00:00Z');
const HOUR = 3600_000;
const waitOf = (at: Date) => (at.getTime() - now.getTime()) / HOUR;

test('a healthy feed with no hints is fetched again after the configured interval', () => {
  assert.equal(waitOf(nextFetchAt(config, now, 0)), 1);
  assert.equal(waitOf(nextFetchAt(loadConfig({ FETCH_INTERVAL_MINUTES: '15' }), now, 0)), 0.25);
});

test('a feed or server asking for longer gets it: ttl, max-age, Retry-After, whichever is longest', () => {
  assert.equal(waitOf(nextFetchAt(config, now, 0, { ttlMinutes: 180 })), 3);
  assert.equal(waitOf(nextFetchAt(config, now, 0, { maxAgeSeconds: 7200 })), 2);
  assert.equal(waitOf(nextFetchAt(config, now, 0, { retryAfter: new Date(now.getTime() + 5 * HOUR) })), 5);
  assert.equal(
    waitOf(nextFetchAt(config, now, 0, { ttlMinutes: 120, maxAgeSeconds: 4 * 3600, retryAfter: new Date(now.getTime() + 3 * HOUR) })),
    4,
  );
});

test('asking for less than the interval, or a Retry-After in the past, never fetches sooner', () => {
  assert.equal(waitOf(nextFetchAt(config, now, 0, { ttlMinutes: 5, maxAgeSeconds: 60 })), 1);
  assert.equal(waitOf(nextFetchAt(config, now, 0, { retryAfter: new Date(now.getTime() - 10 * HOUR) })), 1);
});

test('no hint pushes the next fetch past a day', () => {
  assert.equal(waitOf(nextFetchAt(config, now, 0, { ttlMinutes: 7 * 24 * 60 })), 24);
  assert.equal(waitOf(nextFetchAt(config, now, 0, { maxAgeSeconds: 31_536_000 })), 24);
  assert.equal(waitOf(nextFetchAt(config, now, 0, { retryAfter: new Date('2030-01-01T00:00:00Z') })), 24);
});

test('failures in a row double the wait (1, 2, 4, 8 hours ...) up to a day, however many there are', () => {
  assert.deepEqual(
    [1, 2, 3, 4, 5].map((failures) => waitOf(nextFetchAt(config, now, failures))),
    [1, 2, 4, 8, 16],
  );
  assert.equal(waitOf(nextFetchAt(config, now, 6)), 24);
  assert.equal(waitOf(nextFetchAt(config, now, 1000)), 24);
});

test('after failures the longer of the backoff and the hint wins', () => {
  assert.equal(waitOf(nextFetchAt(config, now, 3, { ttlMinutes: 120 })), 4);
  assert.equal(waitOf(nextFetchAt(config, now, 2, { retryAfter: new Date(now.getTime() + 6 * HOUR) })), 6);
});
