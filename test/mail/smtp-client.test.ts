import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SMTPServerAuthentication, SMTPServerAuthenticationResponse } from 'smtp-server';
import { createSmtpMailer, type SendResult } from '../../src/mail/transport.js';
import { startSmtpSink, type SmtpSink, type SmtpSinkOptions } from '../helpers/smtp.js';

const MESSAGE = Buffer.from('From: digest@example.org\r\nTo: reader@example.org\r\nSubject: Hello\r\n\r\nHello.\r\n');

async function withSink(options: SmtpSinkOptions, run: (sink: SmtpSink) => Promise<void>): Promise<void> {
  const sink = await startSmtpSink(options);
  try {
    await run(sink);
  } finally {
    await sink.close();
  }
}

async function sendOne(url: string, raw = MESSAGE, to = 'reader@example.org'): Promise<SendResult> {
  const mailer = createSmtpMailer(url, 1);
  try {
    return await mailer.send({ from: 'digest@example.org', to, chunks: [raw] });
  } finally {
    await mailer.close();
  }
}

function failure(result: SendResult) {
  assert.equal(result.ok, false, 'the send fails');
  return result;
}

const login =
  (user: string, password: string) =>
  (auth: SMTPServerAuthentication, _session: unknown, callback: (error: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void) =>
    auth.username === user && auth.password === password ? callback(null, { user: auth.username }) : callback(new Error('Invalid username or password'));

test('STARTTLS is used when offered; the certificate is checked unless the URL says otherwise', async () => {
  await withSink({ server: { disabledCommands: [] } }, async (sink) => {
    const sent = await sendOne(`${sink.url}?tls.rejectUnauthorized=false`);
    assert.equal(sent.ok, true);
    assert.equal(sink.received[0]?.secure, true, 'the message came over TLS');

    const checked = failure(await sendOne(sink.url));
    assert.match(checked.error, /certificate/);
    assert.equal(checked.permanent, false);
    assert.equal(checked.serverDown, true, 'a certificate the client refuses pauses sending, it bounces nobody');
    assert.equal(sink.received.length, 1);
  });
});

test('smtps:// speaks TLS from the first byte', async () => {
  await withSink({ server: { secure: true } }, async (sink) => {
    const sent = await sendOne(`smtps://127.0.0.1:${sink.port}?tls.rejectUnauthorized=false`);
    assert.equal(sent.ok, true);
    assert.equal(sink.received[0]?.secure, true);
  });
});

test('requireTLS refuses a server without STARTTLS, and nothing is sent in the clear', async () => {
  await withSink({}, async (sink) => {
    const refused = failure(await sendOne(`${sink.url}?requireTLS=true`));
    assert.match(refused.error, /does not offer STARTTLS/);
    assert.equal(refused.serverDown, true);
    assert.equal(sink.received.length, 0);
  });
});

for (const method of ['PLAIN', 'LOGIN']) {
  test(`AUTH ${method} with the URL's user and password (percent-encoded); a wrong password pauses sending`, async () => {
    const server = { authMethods: [method], authOptional: false, allowInsecureAuth: true, onAuth: login('digest', 'p@ss word') };
    await withSink({ server }, async (sink) => {
      const sent = await sendOne(`smtp://digest:p%40ss%20word@127.0.0.1:${sink.port}`);
      assert.equal(sent.ok, true, JSON.stringify(sent));
      assert.equal(sink.received[0]?.user, 'digest');

      const wrong = failure(await sendOne(`smtp://digest:wrong@127.0.0.1:${sink.port}`));
      assert.match(wrong.error, /^535 /);
      assert.equal(wrong.permanent, false, 'a login the server refuses is no bounce of the recipient');
      assert.equal(wrong.serverDown, true);

      const anonymous = failure(await sendOne(sink.url));
      assert.match(anonymous.error, /^530 /, 'without a login the server refuses MAIL FROM');
      assert.deepEqual([anonymous.permanent, anonymous.serverDown], [false, true], 'a refused sender bounces nobody: sending pauses');
      assert.equal(sink.received.length, 1);
    });
  });
}

for (const pipelining of [true, false]) {
  test(`${pipelining ? 'with' : 'without'} PIPELINING: a refused recipient is a bounce, and the connection goes on to the next`, async () => {
    const options = { server: { hidePIPELINING: !pipelining }, onRecipient: (address: string) => (address.startsWith('gone') ? { code: 550, message: 'No such user' } : undefined) };
    await withSink(options, async (sink) => {
      const mailer = createSmtpMailer(sink.url, 1);
      try {
        const send = (to: string) => mailer.send({ from: 'digest@example.org', to, chunks: [MESSAGE] });
        assert.equal((await send('first@example.org')).ok, true);
        const bounced = failure(await send('gone@example.org'));
        assert.equal(bounced.permanent, true);
        assert.equal(bounced.serverDown, false);
        assert.match(bounced.error, /^550 /);
        assert.equal((await send('Last@Example.ORG')).ok, true);
        assert.deepEqual(sink.received.map((mail) => mail.envelopeTo[0]), ['first@example.org', 'Last@example.org']);
      } finally {
        await mailer.close();
      }
    });
  });
}

test('message bytes arrive as they were, whatever their dots and line ends', async () => {
  await withSink({}, async (sink) => {
    const body = '.starts with a dot\r\n..two dots\r\nbare\nline feed\rand carriage return\r\n.\r\nends without a line break';
    const raw = Buffer.from(`Subject: dots\r\n\r\n${body}`);
    assert.equal((await sendOne(sink.url, raw)).ok, true);
    const expected = `Subject: dots\r\n\r\n${body.replace(/\r\n|\r|\n/g, '\r\n')}\r\n`;
    assert.equal(sink.received[0]?.raw.toString('latin1'), expected, 'the server unstuffs every dot we stuffed; bare line ends became CRLF');
  });
});

test("a message over the server's SIZE limit is refused before it is sent", async () => {
  await withSink({ server: { size: 1000 } }, async (sink) => {
    const raw = Buffer.concat([MESSAGE, Buffer.from('x'.repeat(75).concat('\r\n').repeat(20))]);
    const refused = failure(await sendOne(sink.url, raw));
    assert.match(refused.error, /^552 .*at most 1000/);
    assert.equal(refused.permanent, true);
    assert.equal((await sendOne(sink.url)).ok, true, 'a small one goes through');
  });
});

test('connections are kept open between messages; one the server closed while idle is replaced without a failure', async () => {
  await withSink({}, async (sink) => {
    const mailer = createSmtpMailer(sink.url, 2);
    try {
      const send = () => mailer.send({ from: 'digest@example.org', to: 'reader@example.org', chunks: [MESSAGE] });
      for (let i = 0; i < 5; i++) assert.equal((await send()).ok, true);
      sink.dropConnections();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal((await send()).ok, true, 'the dropped connection is not an outage');
      assert.equal(sink.received.length, 6);
      const sessions = sink.received.map((mail) => mail.sessionId);
      assert.equal(new Set(sessions.slice(0, 5)).size, 1, 'one after the other, five messages share one connection');
      assert.notEqual(sessions[5], sessions[0], 'the last one came on a new connection');
    } finally {
      await mailer.close();
    }
  });
});

test('an address that could smuggle commands is refused without touching the server', async () => {
  await withSink({}, async (sink) => {
    const refused = failure(await sendOne(sink.url, MESSAGE, 'reader@example.org>\r\nRCPT TO:<victim@example.org'));
    assert.equal(refused.permanent, true);
    assert.equal(sink.received.length, 0);
  });
});
