import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFeed } from '../../src/feeds/decode.js';
import { fixture, ingested } from './fixtures.js';

const cases: Array<[string, string]> = [
  ['windows-1252', 'Caf\u00e9 \u201cquoted\u201d \u20ac'],
  ['iso-8859-2', '\u017b\u00f3\u0142w'],
  ['koi8-r', '\u041f\u0440\u0438\u0432\u0435\u0442'],
  ['windows-1251', '\u041f\u0440\u0438\u0432\u0435\u0442'],
  ['big5', '\u4e2d\u6587'],
  ['shift_jis', '\u65e5\u672c\u8a9e'],
  ['euc-jp', '\u65e5\u672c\u8a9e'],
  ['euc-kr', '\ud55c\uad6d\uc5b4'],
  ['utf-16le', 'Unicode \u2603'],
  ['utf-16be', 'Unicode \u2603'],
  ['utf-32le', 'Unicode \u2603'],
  ['utf-32be', 'Unicode \u2603'],
];

for (const [charset, title] of cases) {
  test(`decodes ${charset} from its XML declaration (or BOM / byte pattern)`, async () => {
    const feed = await ingested(`encoding/${charset}.xml`);
    assert.equal(feed.info.title, title);
    assert.equal(feed.items[0]?.title, title);
  });
}

test('the HTTP charset wins over the XML declaration', async () => {
  const feed = await ingested('encoding/conflict-http-1251.xml', 'text/xml; charset="windows-1251"');
  assert.equal(feed.info.title, '\u041f\u0440\u0438\u0432\u0435\u0442');
});

test('a UTF-8 declaration on bytes that are not UTF-8 gives way to windows-1252', async () => {
  assert.equal((await ingested('encoding/lying-utf8.xml')).info.title, 'Caf\u00e9 \u201cquoted\u201d \u20ac');
});

test('undeclared non-UTF-8 bytes read as windows-1252 (0x80-0x9F included)', async () => {
  assert.equal((await ingested('encoding/undeclared-1252.xml')).info.title, 'Caf\u00e9 \u201cquoted\u201d \u20ac');
});

test('an HTTP charset that cannot be right for UTF-16 bytes is ignored', () => {
  const decoded = decodeFeed(fixture('encoding/utf-16le.xml'), 'text/xml; charset=iso-8859-1');
  assert.equal(decoded.encoding, 'utf-16le');
});

test('a BOM beats the HTTP charset', () => {
  const decoded = decodeFeed(fixture('encoding/utf-16be.xml'), 'application/xml; charset=utf-8');
  assert.equal(decoded.encoding, 'utf-16be');
  assert.ok(decoded.text.startsWith('<?xml'));
});
