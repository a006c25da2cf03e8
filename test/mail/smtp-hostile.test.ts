import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import SMTPConnection from 'nodemailer/lib/smtp-connection';
import { createSmtpMailer } from '../../src/mail/transport.js';
import { makeCertificate, startHostileServer, type HostileServer, type HostileSession } from '../helpers/hostile-smtp.js';

/**
 * Servers (or men in the middle) that misbehave, against our client and, as the
 * reference, against nodemailer's own SMTPConnection with the same short timeouts.
 * Each case states what must hold for both; ours is then held to its own, stricter
 * outcome where the reference is weaker.
 */
const MESSAGE = Buffer.from('From: digest@example.org\r\nTo: reader@example.org\r\nSubject: Hello\r\n\r\nHello.\r\n');
const RECIPIENT = 'reader@example.org';
const TIMEOUTS = { greetingTimeoutMs: 600, commandTimeoutMs: 600, dataTimeoutMs: 2000 };
const certificate = makeCertificate('DNS:localhost,IP:127.0.0.1');

interface Outcome {
  ok: boolean;
  error: string;
  /** Ours only: whether the failure counts against the recipient. */
  permanent?: boolean;
}

interface Target {
  host: string;
  port: number;
  /** A server on loopback that stands for a remote host. */
  remote?: boolean;
  auth?: { user: string; pass: string };
}

async function ours(target: Target): Promise<Outcome> {
  const login = target.auth === undefined ? '' : `${target.auth.user}:${target.auth.pass}@`;
  const options = { ...TIMEOUTS, loopbackIsLocal: target.remote !== true };
  const mailer = createSmtpMailer(`smtp://${login}${target.host}:${target.port}?tls.rejectUnauthorized=false`, 1, options);
  try {
    const result = await mailer.send({ from: 'digest@example.org', to: RECIPIENT, chunks: [MESSAGE] });
    return result.ok ? { ok: true, error: '' } : { ok: false, error: result.error, permanent: result.permanent };
  } finally {
    await mailer.close();
  }
}

async function reference(target: Target): Promise<Outcome> {
  const connection = new SMTPConnection({
    host: target.host,
    port: target.port,
    tls: { rejectUnauthorized: false },
    greetingTimeout: TIMEOUTS.greetingTimeoutMs,
    connectionTimeout: TIMEOUTS.greetingTimeoutMs,
    socketTimeout: TIMEOUTS.dataTimeoutMs,
    logger: false,
  });
  // Errors come as events as well as callbacks; the first one decides.
  const failed = new Promise<Outcome>((resolve) => connection.on('error', (error: Error) => resolve({ ok: false, error: error.message })));
  const attempt = async (): Promise<Outcome> => {
    await new Promise<void>((resolve, reject) => connection.connect((error) => (error ? reject(error) : resolve())));
    if (target.auth !== undefined) {
      await new Promise<void>((resolve, reject) => connection.login(target.auth, (error) => (error ? reject(error) : resolve())));
    }
    await new Promise<void>((resolve, reject) =>
      connection.send({ from: 'digest@example.org', to: [RECIPIENT] }, MESSAGE, (error) => (error ? reject(error) : resolve())),
    );
    return { ok: true, error: '' };
  };
  try {
    return await Promise.race([attempt().catch((error: Error) => ({ ok: false, error: error.message })), failed]);
  } finally {
    connection.close();
  }
}

const clients = { ours, reference } as const;

/** Plays an ordinary server up to the command `until` (its line is returned unanswered). */
async function greetAndServeUntil(session: HostileSession, until: string, extensions = ['PIPELINING']): Promise<void> {
  session.write('220 hostile ESMTP\r\n');
  for (let line = await session.line(); line !== undefined; line = await session.line()) {
    const verb = line.slice(0, 4).toUpperCase();
    if (verb === until) return;
    if (verb === 'EHLO')
      session.write(['hostile', ...extensions].map((text, i, all) => `250${i < all.length - 1 ? '-' : ' '}${text}\r\n`).join(''));
    else session.write('250 ok\r\n');
  }
}

interface HostileCase {
  name: string;
  script: (session: HostileSession) => Promise<void>;
  /** Played as a remote host: our client is told not to treat the loopback peer as this machine. */
  remote?: boolean;
  auth?: Target['auth'];
  /** Holds for both clients. */
  safe(outcome: Outcome, server: HostileServer): void;
  /** Holds for ours. */
  ours(outcome: Outcome, server: HostileServer): void;
}

/** A reply past 1 MiB (all its lines) ends the connection, as nodemailer's maxResponseSize does. */
const refusedAsTooLong: Pick<HostileCase, 'safe' | 'ours'> = {
  safe(outcome) {
    assert.equal(outcome.ok, false);
  },
  ours(outcome) {
    assert.match(outcome.error, /reply is longer than/);
  },
};

const cases: HostileCase[] = [
  {
    name: 'STARTTLS response injection: replies appended in plaintext after the 220 are never read',
    async script(session) {
      await greetAndServeUntil(session, 'STAR', ['PIPELINING', 'STARTTLS']);
      // What a man in the middle appends: a reply for each of the next commands, then
      // half a line that a careless client would put before the first reply over TLS.
      session.write(
        '220 ready to start TLS\r\n250-injected\r\n250 PIPELINING\r\n250 injected MAIL\r\n250 injected RCPT\r\n250 injected DATA\r\n250-STARTTLS',
      );
      await session.startTls();
      await session.serve();
    },
    safe(outcome, server) {
      const delivered = server.messages.filter((m) => m.to.join() === RECIPIENT && m.secure);
      if (outcome.ok) assert.equal(delivered.length, 1, 'reported sent only if the server received it, over TLS');
      assert.equal(server.messages.length, delivered.length, 'nothing else was sent');
    },
    ours(outcome) {
      assert.equal(outcome.ok, false, 'a server that sends anything after its 220 to STARTTLS is not trusted');
      assert.match(outcome.error, /STARTTLS/);
      assert.equal(outcome.permanent, false);
    },
  },
  {
    name: 'out of sequence: 250 to DATA is no success, the connection is dropped',
    async script(session) {
      await greetAndServeUntil(session, 'DATA');
      session.write('250 not really\r\n');
      for (let line = await session.line(); line !== undefined; line = await session.line()) session.write('500 what?\r\n');
    },
    safe(outcome) {
      assert.equal(outcome.ok, false, 'no 354: no message was taken');
    },
    ours(outcome) {
      assert.match(outcome.error, /DATA/);
      assert.equal(outcome.permanent, false, 'retried, never a bounce');
    },
  },
  {
    name: 'out of sequence: an extra reply after 354 is not taken as the answer to the message',
    async script(session) {
      await greetAndServeUntil(session, 'DATA');
      session.write('354 go ahead\r\n250 accepted (not really)\r\n');
      await session.data();
      session.write('554 refused\r\n');
      await session.serve();
    },
    // The reference (nodemailer 10.6) takes the extra 250 as the answer and reports the message sent.
    safe() {},
    ours(outcome) {
      assert.equal(outcome.ok, false, 'the server refused the message');
      assert.match(outcome.error, /protocol error/);
      assert.equal(outcome.permanent, false);
    },
  },
  {
    name: 'a greeting trickled one byte at a time still times out',
    async script(session) {
      for (const byte of `220 ${'slow'.repeat(20)}\r\n`) {
        if (session.closed) return;
        session.write(byte);
        await sleep(100);
      }
      await session.serve();
    },
    safe(outcome) {
      assert.equal(outcome.ok, false, 'the greeting took longer than the greeting timeout');
    },
    ours(outcome) {
      assert.match(outcome.error, /greeting/);
    },
  },
  {
    name: 'a server that never answers',
    async script() {},
    safe(outcome) {
      assert.equal(outcome.ok, false);
    },
    ours(outcome) {
      assert.match(outcome.error, /greeting/);
    },
  },
  {
    name: '354, then the connection closes after the data',
    async script(session) {
      await greetAndServeUntil(session, 'DATA');
      session.write('354 go ahead\r\n');
      await session.data();
      session.destroy();
    },
    safe(outcome) {
      assert.equal(outcome.ok, false, 'no final reply: not sent');
    },
    ours(outcome) {
      assert.equal(outcome.permanent, false, 'tried again later');
    },
  },
  {
    name: 'a reply of 2 MiB is refused, not buffered',
    async script(session) {
      await greetAndServeUntil(session, 'EHLO');
      session.write(`250-${'x'.repeat(1000)}\r\n`.repeat(2100));
      session.write('250 PIPELINING\r\n');
      await session.serve();
    },
    ...refusedAsTooLong,
  },
  {
    name: 'a line of 2 MiB without a line end is refused, not buffered',
    async script(session) {
      session.write(`220 ${'x'.repeat(2 * 1024 * 1024)}`);
      await session.line();
    },
    ...refusedAsTooLong,
  },
  {
    name: 'no STARTTLS and AUTH configured, on a remote host: the password never goes out in the clear',
    remote: true,
    auth: { user: 'digest', pass: 'secret-password' },
    async script(session) {
      await greetAndServeUntil(session, 'AUTH', ['PIPELINING', 'AUTH PLAIN']);
      session.write('235 accepted\r\n');
      await session.serve();
    },
    safe() {},
    ours(outcome, server) {
      assert.equal(outcome.ok, false);
      assert.match(outcome.error, /TLS/);
      assert.equal(outcome.permanent, false, 'pauses sending');
      assert.deepEqual(
        server.lines.filter((line) => /^AUTH/i.test(line)),
        [],
        'no AUTH command was sent',
      );
    },
  },
];

for (const hostile of cases) {
  for (const [name, client] of Object.entries(clients)) {
    test(`${hostile.name} (${name})`, async (t) => {
      const server = await startHostileServer(hostile.script, { certificate });
      try {
        const outcome = await client({ host: '127.0.0.1', port: server.port, auth: hostile.auth, remote: hostile.remote });
        t.diagnostic(`${name}: ${outcome.ok ? 'sent' : `failed: ${outcome.error.slice(0, 120)}`}`);
        if (hostile.auth !== undefined)
          t.diagnostic(`${name}: AUTH sent in the clear: ${server.lines.some((line) => /^AUTH/i.test(line))}`);
        hostile.safe(outcome, server);
        if (client === ours) hostile.ours(outcome, server);
      } finally {
        await server.close();
      }
    });
  }
}
