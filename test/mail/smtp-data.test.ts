import assert from 'node:assert/strict';
import { test } from 'node:test';
import { smtpData } from '../../src/own/smtp/data.js';

const wire = (...chunks: string[]) => Buffer.concat(smtpData(chunks.map((chunk) => Buffer.from(chunk, 'latin1')))).toString('latin1');

test('DATA encoding looks across chunk boundaries: a split CRLF stays one, a dot at a chunk that starts a line is stuffed', () => {
  assert.equal(wire('a\r', '\nb'), 'a\r\nb\r\n.\r\n');
  assert.equal(wire('line\r\n', '.dot\r\n'), 'line\r\n..dot\r\n.\r\n');
  assert.equal(wire('no line start', '.dot'), 'no line start.dot\r\n.\r\n');
  assert.equal(wire('.first\r\n.', '', '.\r\n'), '..first\r\n...\r\n.\r\n');
  assert.equal(wire('bare\n', '.dot\r'), 'bare\r\n..dot\r\n.\r\n');
});

test('a message already in wire form goes out without a copy', () => {
  const chunk = Buffer.from('Subject: x\r\n\r\nbody\r\n');
  const data = smtpData([chunk]);
  assert.equal(data[0], chunk, 'the same buffer, not a copy');
  assert.equal(data.length, 2);
});

test("an edition's long segment, scanned once and remembered, is encoded alike in every message", () => {
  const segment = Buffer.from(`${'x'.repeat(2000)}\r\n.dot\r\n`);
  const encode = (value: string) => Buffer.concat(smtpData([segment, Buffer.from(value)])).toString('latin1');
  const expected = `${'x'.repeat(2000)}\r\n..dot\r\n`;
  assert.equal(encode('first\r\n'), `${expected}first\r\n.\r\n`);
  assert.equal(encode('.second\r\n'), `${expected}..second\r\n.\r\n`, 'the value after it still starts a line');
  assert.equal(encode('\nbare'), `${expected}\r\nbare\r\n.\r\n`, 'a bare LF in a value is still found');
});
