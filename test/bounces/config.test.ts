import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, inboundDoorOpen, loadConfig } from '../../src/config/config.js';

test('inbound settings: defaults, and every bad value listed at once', () => {
  const defaults = loadConfig({ MAIL_FROM: 'Planet <digest@example.org>' });
  assert.equal(defaults.bounceAddress, 'digest@example.org');
  assert.equal(defaults.unsubscribeAddress, 'digest@example.org');
  assert.deepEqual(
    [defaults.bounceSoftLimit, defaults.bounceSoftDays, defaults.inboundProcessedFolder, defaults.inboundUnrecognizedFolder],
    [3, 30, 'Processed', 'Unrecognized'],
  );
  assert.equal(inboundDoorOpen(defaults), false, 'no mailto: while nothing reads that mail');
  assert.equal(inboundDoorOpen(loadConfig({ INBOUND_PIPE: 'true' })), true);
  assert.equal(inboundDoorOpen(loadConfig({ INBOUND_IMAP_URL: 'imaps://u:p@imap.example.org/INBOX' })), true);

  assert.throws(
    () =>
      loadConfig({
        MAIL_FROM: 'Planet <a-very-long-newsletter-sender-name@example.org>',
        UNSUBSCRIBE_ADDRESS: 'not an address',
        INBOUND_IMAP_URL: 'https://imap.example.org',
        INBOUND_PIPE: 'maybe',
        BOUNCE_SOFT_LIMIT: '0',
      }),
    (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.deepEqual(
        error.problems.map((p) => p.split(/[= ]/)[0]),
        ['BOUNCE_ADDRESS', 'INBOUND_IMAP_URL', 'UNSUBSCRIBE_ADDRESS', 'INBOUND_PIPE', 'BOUNCE_SOFT_LIMIT'],
      );
      assert.match(error.message, /BOUNCE_ADDRESS=a-very-long-newsletter-sender-name@example\.org \(the default\) must be a plain address/);
      return true;
    },
  );
});
