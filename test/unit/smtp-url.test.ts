import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseSmtpUrl } from '../../src/config/smtp-url.js';
import { isProblem } from '../../src/problem.js';

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
  assert.ok(!isProblem(endpoint));
  assert.equal(endpoint.host, '::1');
  assert.equal(endpoint.port, 2525);
});

test('requireTLS and tls.rejectUnauthorized options', () => {
  const strict = parseSmtpUrl('smtp://relay.example.org?requireTLS=true');
  assert.ok(!isProblem(strict));
  assert.equal(strict.requireTls, true);
  assert.equal(strict.verifyCertificate, true);
  const selfSigned = parseSmtpUrl('smtp://relay.example.org:25?requireTLS=false&tls.rejectUnauthorized=false');
  assert.ok(!isProblem(selfSigned));
  assert.equal(selfSigned.requireTls, false);
  assert.equal(selfSigned.verifyCertificate, false);
  assert.equal(selfSigned.port, 25);
});

test('what is wrong with a bad URL is said in words', () => {
  assert.deepEqual(parseSmtpUrl('relay.example.org:587'), { problem: 'must start with smtp:// or smtps://' });
  assert.deepEqual(parseSmtpUrl('not a url'), { problem: 'is not a URL (e.g. smtp://user:password@smtp.example.org:587)' });
  assert.deepEqual(parseSmtpUrl('http://relay.example.org'), { problem: 'must start with smtp:// or smtps://' });
  assert.deepEqual(parseSmtpUrl('smtp://'), { problem: 'has no host' });
  assert.deepEqual(parseSmtpUrl('smtp://relay.example.org?pool=true'), {
    problem: 'has an unknown option pool (known: requireTLS, tls.rejectUnauthorized)',
  });
  assert.deepEqual(parseSmtpUrl('smtp://relay.example.org?requireTLS=yes'), { problem: 'option requireTLS must be true or false' });
});
