import assert from 'node:assert/strict';
import { test } from 'node:test';
import { simpleParser } from 'mailparser';
import { buildMessageTemplate, personalize } from '../../src/mail/compose.js';
import { newSlotNonce, placeholders } from '../../src/render/personal.js';

const longUrl = `https://digest.example.org/unsubscribe/${'A1b2_C3-'.repeat(12)}`;

const values = {
  to: 'ada@example.org',
  date: 'Wed, 25 Nov 2026 07:00:00 +0000',
  messageId: 'fd.1.2@example.org',
  unsubscribeUrl: longUrl,
  preferencesUrl: 'https://digest.example.org/preferences/p=q',
  unsubscribeMailto: 'mailto:digest@example.org?subject=unsubscribe%20t',
  subscribedOn: '3 March 2026',
};

async function personalized() {
  const line = 'x'.repeat(73);
  const nonce = newSlotNonce();
  const slots = placeholders(nonce);
  const template = await buildMessageTemplate({
    from: 'Planet Digest <digest@example.org>',
    subject: 'Planet Digest: 3 new posts — café',
    html: `<p>${line}<a href="${slots.unsubscribeUrl}">Unsubscribe</a> · <a href="${slots.preferencesUrl}">Preferences</a> café</p>`,
    text: `Über ${line}\nUnsubscribe: ${slots.unsubscribeUrl}\nPreferences: ${slots.preferencesUrl}\nSince ${slots.subscribedOn}\n`,
    listId: 'Planet Digest <digest.example.org>',
    unsubscribeMailto: true,
    slotNonce: nonce,
  });
  return Buffer.concat(personalize(template, values));
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
  assert.match(
    parsed.html || '',
    /href="https:\/\/digest\.example\.org\/preferences\/p=q"/,
    'an "=" in a value is encoded, not taken for QP',
  );
  assert.match(parsed.text ?? '', new RegExp(`^Unsubscribe: ${longUrl}$`, 'm'));
  assert.match(parsed.text ?? '', /^Since 3 March 2026$/m);
  assert.match(parsed.text ?? '', /^Über x{73}$/m);
  assert.match(
    raw.toString('latin1').replace(/\r\n /g, ' '),
    /^List-Unsubscribe: <https:\/\/digest\.example\.org\/unsubscribe\/[^>]+>, <mailto:[^>]+>$/m,
  );
});

test("feed or admin text cannot produce a placeholder or a marker: the old fixed ones and another rendering's stay as they are", async () => {
  const nonce = newSlotNonce();
  const other = placeholders(newSlotNonce());
  const hostile = [
    '{{preferences_url}}',
    '{{unsubscribe_url}}',
    'FD_HTML_BODY',
    'FD_TEXT_BODY',
    'FD_UNSUBSCRIBE_URL',
    'recipient@feed-digest.invalid',
    other.preferencesUrl,
    `FD-${'0'.repeat(24)}-unsubscribeUrl`,
  ].join(' ');
  const template = await buildMessageTemplate({
    from: 'Planet Digest <digest@example.org>',
    subject: `News FD_HTML_BODY FD_TEXT_BODY ${other.unsubscribeUrl}`,
    html: `<p><a href="https://evil.example/?${hostile}">post</a> <a href="${placeholders(nonce).preferencesUrl}">Preferences</a></p>`,
    text: `https://evil.example/?${hostile}\n`,
    listId: 'Planet Digest <digest.example.org>',
    unsubscribeMailto: true,
    slotNonce: nonce,
  });
  const raw = Buffer.concat(personalize(template, values));
  const parsed = await simpleParser(raw);
  assert.equal(parsed.subject, `News FD_HTML_BODY FD_TEXT_BODY ${other.unsubscribeUrl}`, 'the whole subject, and only it, is the subject');
  for (const body of [parsed.html || '', parsed.text ?? '']) {
    assert.ok(body.includes(hostile), 'the hostile text arrives unchanged');
    assert.equal(body.split(longUrl).length - 1, 0, 'no unsubscribe link was put into feed text');
  }
  assert.equal((parsed.html || '').split('https://digest.example.org/preferences/p=q').length - 1, 1, 'the one real placeholder is filled');
});
