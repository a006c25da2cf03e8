import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { buildMessageTemplate, personalize } from '../../src/mail/compose.js';
import { PLACEHOLDERS } from '../../src/render/digest.js';

const longUrl = `https://digest.example.org/unsubscribe/${'A1b2_C3-'.repeat(12)}`;

async function personalized() {
  const line = 'x'.repeat(73);
  const template = await buildMessageTemplate({
    from: 'Planet Digest <digest@example.org>',
    subject: 'Planet Digest: 3 new posts — café',
    html: `<p>${line}<a href="${PLACEHOLDERS.unsubscribeUrl}">Unsubscribe</a> · <a href="${PLACEHOLDERS.preferencesUrl}">Preferences</a> café</p>`,
    text: `Über ${line}\nUnsubscribe: ${PLACEHOLDERS.unsubscribeUrl}\nPreferences: ${PLACEHOLDERS.preferencesUrl}\n`,
    listId: 'Planet Digest <digest.example.org>',
    unsubscribeMailto: true,
  });
  return Buffer.concat(personalize(template, {
    to: 'ada@example.org',
    date: 'Wed, 25 Nov 2026 07:00:00 +0000',
    messageId: 'fd.1.2@example.org',
    unsubscribeUrl: longUrl,
    preferencesUrl: 'https://digest.example.org/preferences/p=q',
    unsubscribeMailto: 'mailto:digest@example.org?subject=unsubscribe%20t',
  }));
}

test('personalizing a built message puts each value in, decodes to the same text, and keeps every line within 76 characters', async () => {
  const raw = await personalized();
  const body = raw.toString('latin1').split('\r\n\r\n').slice(1).join('\r\n\r\n');
  const longest = Math.max(...body.split('\r\n').map((line) => line.length));
  assert.ok(longest <= 76, `a body line has ${longest} characters`);
  assert.doesNotMatch(raw.toString('latin1'), /[^\r]\n/, 'every line ends in CRLF');

  const parsed = await simpleParser(raw);
  assert.equal(parsed.messageId, '<fd.1.2@example.org>');
  assert.equal(parsed.subject, 'Planet Digest: 3 new posts — café');
  assert.match(parsed.html || '', new RegExp(`<a href="${longUrl}">Unsubscribe</a>`));
  assert.match(parsed.html || '', /href="https:\/\/digest\.example\.org\/preferences\/p=q"/, 'an "=" in a value is encoded, not taken for QP');
  assert.match(parsed.text ?? '', new RegExp(`^Unsubscribe: ${longUrl}$`, 'm'));
  assert.match(parsed.text ?? '', /^Über x{73}$/m);
  assert.match(raw.toString('latin1'), /^List-Unsubscribe: <https:\/\/digest\.example\.org\/unsubscribe\/[^>]+>, <mailto:[^>]+>$/m);
});
