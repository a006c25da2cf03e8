import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/config.js';

/** MAIL_FROM is the sender of every message: a server refusing it would refuse them all, so it is checked at start. */
function problems(mailFrom: string): string[] {
  try {
    loadConfig({ MAIL_FROM: mailFrom });
    return [];
  } catch (error) {
    assert.ok(error instanceof ConfigError);
    return error.problems;
  }
}

test('a MAIL_FROM address with non-ASCII characters is refused at start, with what to do', () => {
  for (const mailFrom of ['Digest <dïgest@example.org>', 'digest@bücher.example']) {
    const found = problems(mailFrom);
    assert.equal(found.length, 1, mailFrom);
    assert.match(found[0]!, /must be plain ASCII.*xn--/);
  }
});

test('a MAIL_FROM with a control character is refused at start', () => {
  for (const mailFrom of ['Digest <digest@example.org>\r\nBcc: x@example.org', 'Dig\test <digest@example.org>', 'digest\x00@example.org']) {
    assert.match(problems(mailFrom)[0] ?? '', /control character/, JSON.stringify(mailFrom));
  }
});

test('a name in any script before a plain address is fine', () => {
  for (const mailFrom of ['Café Überblick <digest@example.org>', 'digest@xn--bcher-kva.example', '"Planet, Digest" <digest@example.org>']) {
    assert.deepEqual(problems(mailFrom), [], mailFrom);
  }
});
