import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSmtpUrl } from '../../src/config/smtp-url.js';

test('smtp:// defaults to port 587 with opportunistic STARTTLS and verified certificates', () => {
  assert.deepEqual(parseSmtpUrl('smtp://relay.example.org'), {
    host: 'relay.example.org',
    port: 587,
    implicitTls: false,
    requireTls: false,
    verifyCertificate: true,
    user: undefined,
    password: undefined,
  });
});

test('smtps:// defaults to 465 with TLS from the first byte; user and password are percent-decoded', () => {
  assert.deepEqual(parseSmtpUrl('smtps://digest%40example.org:p%3As%20w%2Frd@mail.example.org'), {
    host: 'mail.example.org',
    port: 465,
    implicitTls: true,
    requireTls: false,
    verifyCertificate: true,
    user: 'digest@example.org',
    password: 'p:s w/rd',
  });
});

test('an explicit port and an IPv6 host in brackets', () => {
  const endpoint = parseSmtpUrl('smtp://[::1]:2525');
  assert.ok(typeof endpoint !== 'string');
  assert.equal(endpoint.host, '::1');
  assert.equal(endpoint.port, 2525);
});

test('requireTLS and tls.rejectUnauthorized options', () => {
  const strict = parseSmtpUrl('smtp://relay.example.org?requireTLS=true');
  assert.ok(typeof strict !== 'string');
  assert.equal(strict.requireTls, true);
  assert.equal(strict.verifyCertificate, true);
  const selfSigned = parseSmtpUrl('smtp://relay.example.org:25?requireTLS=false&tls.rejectUnauthorized=false');
  assert.ok(typeof selfSigned !== 'string');
  assert.equal(selfSigned.requireTls, false);
  assert.equal(selfSigned.verifyCertificate, false);
  assert.equal(selfSigned.port, 25);
});

test('what is wrong with a bad URL is said in words', () => {
  assert.equal(parseSmtpUrl('relay.example.org:587'), 'must start with smtp:// or smtps://');
  assert.equal(parseSmtpUrl('not a url'), 'is not a URL (e.g. smtp://user:password@smtp.example.org:587)');
  assert.equal(parseSmtpUrl('http://relay.example.org'), 'must start with smtp:// or smtps://');
  assert.equal(parseSmtpUrl('smtp://'), 'has no host');
  assert.equal(parseSmtpUrl('smtp://relay.example.org?pool=true'), 'has an unknown option pool (known: requireTLS, tls.rejectUnauthorized)');
  assert.equal(parseSmtpUrl('smtp://relay.example.org?requireTLS=yes'), 'option requireTLS must be true or false');
});
