import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SMTPServerAuthentication, SMTPServerAuthenticationResponse } from 'smtp-server';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_CLIENT_OPTIONS } from '../../src/own/smtp/connection.js';
import { createSmtpMailer, type SendResult } from '../../src/mail/transport.js';
import { makeCertificate } from '../helpers/hostile-smtp.js';
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

async function sendOne(
  url: string,
  raw = MESSAGE,
  to = 'reader@example.org',
  options = DEFAULT_CLIENT_OPTIONS,
  deadline?: number,
): Promise<SendResult> {
  const mailer = createSmtpMailer(url, 1, options);
  try {
    return await mailer.send({ from: 'digest@example.org', to, chunks: [raw], deadline });
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
  (
    auth: SMTPServerAuthentication,
    _session: unknown,
    callback: (error: Error | null | undefined, response?: SMTPServerAuthenticationResponse) => void,
  ) =>
    auth.username === user && auth.password === password
      ? callback(null, { user: auth.username })
      : callback(new Error('Invalid username or password'));

test('STARTTLS is used when offered; the certificate is checked unless the URL says otherwise', async () => {
  await withSink({ server: { disabledCommands: [] } }, async (sink) => {
    const sent = await sendOne(`${sink.url}?tls.rejectUnauthorized=false`);
    assert.equal(sent.ok, true);
    assert.equal(sink.received[0]?.secure, true, 'the message came over TLS');

    const checked = failure(await sendOne(sink.url));
    assert.match(checked.error, /certificate/);
    assert.equal(checked.permanent, false);
    assert.equal(checked.pause, true, 'a certificate the client refuses pauses sending, it bounces nobody');
    assert.equal(sink.received.length, 1);
  });
});

test('under STARTTLS to an IP address, the certificate must name that address', async () => {
  for (const [altNames, trusted] of [
    ['DNS:localhost', false],
    ['IP:127.0.0.1', true],
  ] as const) {
    const { key, cert } = makeCertificate(altNames);
    await withSink({ server: { disabledCommands: [], key, cert } }, async (sink) => {
      const result = await sendOne(sink.url, MESSAGE, 'reader@example.org', { ...DEFAULT_CLIENT_OPTIONS, ca: cert });
      if (trusted) assert.equal(result.ok, true, JSON.stringify(result));
      else
        assert.match(
          failure(result).error,
          /IP: 127\.0\.0\.1 is not in the cert's list/,
          'a certificate for localhost is not one for 127.0.0.1',
        );
      assert.equal(sink.received.length, trusted ? 1 : 0);
    });
  }
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
    assert.equal(refused.pause, true);
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
      assert.equal(wrong.pause, true);

      const anonymous = failure(await sendOne(sink.url));
      assert.match(anonymous.error, /^530 /, 'without a login the server refuses MAIL FROM');
      assert.deepEqual([anonymous.permanent, anonymous.pause], [false, true], 'a refused sender bounces nobody: sending pauses');
      assert.equal(sink.received.length, 1);
    });
  });
}

for (const pipelining of [true, false]) {
  test(`${pipelining ? 'with' : 'without'} PIPELINING: a refused recipient is a bounce, and the connection goes on to the next`, async () => {
    const options = {
      server: { hidePIPELINING: !pipelining },
      onRecipient: (address: string) => (address.startsWith('gone') ? { code: 550, message: 'No such user' } : undefined),
    };
    await withSink(options, async (sink) => {
      const mailer = createSmtpMailer(sink.url, 1);
      try {
        const send = (to: string) => mailer.send({ from: 'digest@example.org', to, chunks: [MESSAGE] });
        assert.equal((await send('first@example.org')).ok, true);
        const bounced = failure(await send('gone@example.org'));
        assert.equal(bounced.permanent, true);
        assert.equal(bounced.pause, false);
        assert.match(bounced.error, /^550 /);
        assert.equal((await send('Last@Example.ORG')).ok, true);
        assert.deepEqual(
          sink.received.map((mail) => mail.envelopeTo[0]),
          ['first@example.org', 'Last@example.org'],
        );
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
    assert.equal(
      sink.received[0]?.raw.toString('latin1'),
      expected,
      'the server unstuffs every dot we stuffed; bare line ends became CRLF',
    );
  });
});

test("a message over the server's SIZE limit is refused before it is sent, and bounces nobody", async () => {
  await withSink({ server: { size: 1000 } }, async (sink) => {
    const raw = Buffer.concat([MESSAGE, Buffer.from('x'.repeat(75).concat('\r\n').repeat(20))]);
    const refused = failure(await sendOne(sink.url, raw));
    assert.match(refused.error, /^552 .*at most 1000/);
    assert.deepEqual([refused.permanent, refused.pause], [false, true], 'the message is too big, not the recipient wrong: sending pauses');
    assert.equal((await sendOne(sink.url)).ok, true, 'a small one goes through');
  });
});

test('refusals that concern our sender or our message pause sending; only those about the recipient bounce', async () => {
  const verdicts: Record<string, { code: number; message: string }> = {
    'big@example.org': { code: 552, message: '5.3.4 Message too big for system' },
    'spam@example.org': { code: 554, message: 'Transaction failed: content rejected' },
    'policy@example.org': { code: 550, message: '5.7.1 Message rejected by policy' },
    'unknown@example.org': { code: 550, message: '5.1.1 No such user' },
    'full@example.org': { code: 552, message: '5.2.2 Mailbox full' },
  };
  const onRecipient = (address: string) =>
    address === 'relay@example.org' ? { code: 554, message: '5.7.1 Relay access denied' } : undefined;
  await withSink({ onRecipient, onMessage: (to) => verdicts[to[0]!], server: { hideSMTPUTF8: true } }, async (sink) => {
    const mailer = createSmtpMailer(sink.url, 1);
    try {
      const outcome = async (to: string, from = 'digest@example.org') => {
        const result = failure(await mailer.send({ from, to, chunks: [MESSAGE] }));
        return result.permanent ? 'bounce' : result.pause ? 'pause' : 'retry';
      };
      assert.equal(await outcome('big@example.org'), 'pause');
      assert.equal(await outcome('spam@example.org'), 'pause');
      assert.equal(await outcome('policy@example.org'), 'pause');
      assert.equal(await outcome('relay@example.org'), 'pause', 'relaying denied is our configuration, not the recipient');
      assert.equal(await outcome('unknown@example.org'), 'bounce');
      assert.equal(await outcome('full@example.org'), 'bounce');
      assert.equal(await outcome('reader@example.org', 'dïgest@example.org'), 'pause', 'a non-ASCII sender without SMTPUTF8');
      assert.equal(await outcome('reader@example.org', 'digest\x01@example.org'), 'pause', 'a sender with a control character');
      assert.equal(await outcome('rëader@example.org'), 'bounce', 'a recipient the server cannot take (no SMTPUTF8)');
      assert.equal(sink.received.length, 0);
    } finally {
      await mailer.close();
    }
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

test("the reply after the final dot may take longer than a command's time limit", async () => {
  const options = { ...DEFAULT_CLIENT_OPTIONS, commandTimeoutMs: 1000, dataTimeoutMs: 60_000 };
  await withSink({ onMessage: () => sleep(2500).then(() => undefined) }, async (sink) => {
    const sent = await sendOne(sink.url, MESSAGE, 'reader@example.org', options);
    assert.equal(sent.ok, true, JSON.stringify(sent));
  });
});

test("the wait after the final dot ends with the delivery's lease, however long RFC 5321 allows", async () => {
  await withSink({ onMessage: () => new Promise<undefined>(() => {}) }, async (sink) => {
    const late = failure(await sendOne(sink.url, MESSAGE, 'reader@example.org', DEFAULT_CLIENT_OPTIONS, Date.now() + 1000));
    assert.match(late.error, /lease/);
    assert.deepEqual([late.permanent, late.pause], [false, true], 'an answer that never came: tried again, nobody bounced');
  });
});
