import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseMultipartFields } from '../../src/own/multipart.js';

test("RFC 8058's own one-click example, whose delimiter lines drop the two leading dashes", () => {
  const body =
    '---FormBoundaryjWmhtjORrn\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n---FormBoundaryjWmhtjORrn--\r\n';
  assert.deepEqual(parseMultipartFields(body, 'multipart/form-data; boundary=---FormBoundaryjWmhtjORrn'), {
    'List-Unsubscribe': 'One-Click',
  });
});

test('a browser-style body with several fields, a quoted boundary and LF line ends', () => {
  const body = [
    '--XyZ',
    'Content-Disposition: form-data; name="a"',
    '',
    'first',
    '--XyZ',
    'content-disposition: form-data; name="b"',
    '',
    'two\nlines',
    '--XyZ--',
    '',
  ].join('\n');
  assert.deepEqual(parseMultipartFields(body, 'multipart/form-data; boundary="XyZ"; charset=utf-8'), { a: 'first', b: 'two\nlines' });
});

test('file parts and parts without a name are skipped', () => {
  const body = [
    '--7MA4YWxkTrZu0gW',
    'Content-Disposition: form-data; name="upload"; filename="x.txt"',
    'Content-Type: text/plain',
    '',
    'file contents',
    '--7MA4YWxkTrZu0gW',
    'Content-Disposition: form-data',
    '',
    'nameless',
    '--7MA4YWxkTrZu0gW',
    'Content-Disposition: form-data; name="List-Unsubscribe"',
    '',
    'One-Click',
    '--7MA4YWxkTrZu0gW--',
  ].join('\r\n');
  assert.deepEqual(parseMultipartFields(body, 'multipart/form-data; boundary=7MA4YWxkTrZu0gW'), { 'List-Unsubscribe': 'One-Click' });
});

test('no boundary in the Content-Type means no fields', () => {
  assert.deepEqual(parseMultipartFields('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nx\r\n--b--', 'multipart/form-data'), {});
});
