import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseFeedDate } from '../../src/feeds/dates.js';

/** Cases beyond test/feeds/normalize.test.ts's: named zones, two-digit years, what is refused. */
const iso = (raw: string | undefined) => parseFeedDate(raw)?.toISOString();

test('named zones of the RFC 822 family and beyond, in either case', () => {
  assert.equal(iso('Sat, 01 Jun 2024 09:00:00 PDT'), '2024-06-01T16:00:00.000Z');
  assert.equal(iso('Sat, 01 Jun 2024 09:00:00 cest'), '2024-06-01T07:00:00.000Z');
  assert.equal(iso('Sat, 01 Jun 2024 09:00:00 AEST'), '2024-05-31T23:00:00.000Z');
  assert.equal(iso('Sat, 01 Jun 2024 09:00:00 IST'), '2024-06-01T03:30:00.000Z');
  assert.equal(iso('2024-06-01T09:00:00 JST'), '2024-06-01T00:00:00.000Z');
});

test('numeric offsets with or without a colon, and short hours', () => {
  assert.equal(iso('2024-06-01T09:00:00+05:30'), '2024-06-01T03:30:00.000Z');
  assert.equal(iso('2024-06-01T09:00:00-0330'), '2024-06-01T12:30:00.000Z');
  assert.equal(iso('1 Jun 2024 9:05 +0100'), '2024-06-01T08:05:00.000Z');
});

test('two-digit years: below 50 is this century, the rest the last one', () => {
  assert.equal(iso('01 Jun 24 00:00 GMT'), '2024-06-01T00:00:00.000Z');
  assert.equal(iso('01 Jun 49 00:00 GMT'), '2049-06-01T00:00:00.000Z');
  assert.equal(iso('01 Jun 99 00:00 GMT'), '1999-06-01T00:00:00.000Z');
});

test('spaces are forgiven; forms like ctime fall back to V8', () => {
  assert.equal(iso('  Sat,   01 Jun 2024\n09:00:00   GMT '), '2024-06-01T09:00:00.000Z');
  assert.equal(iso('Sun Jan 4 16:29:06 PST 2004'), '2004-01-05T00:29:06.000Z');
});

test('impossible parts and unknown zones give no date rather than a wrong one', () => {
  assert.equal(iso('2024-13-01T00:00:00Z'), undefined);
  assert.equal(iso('2024-06-32T00:00:00Z'), undefined);
  assert.equal(iso('2024-06-01T25:00:00Z'), undefined);
  assert.equal(iso('2024-06-01T09:00:00 XYZ'), undefined);
  assert.equal(iso('01 Foo 2024 00:00 GMT'), undefined);
  assert.equal(iso(undefined), undefined);
  assert.equal(iso('   '), undefined);
});
