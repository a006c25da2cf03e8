import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';

/** A real SMTP server on 127.0.0.1 that keeps what it receives, for tests. */
export interface ReceivedMail {
  envelopeFrom: string;
  envelopeTo: string[];
  raw: Buffer;
  parsed: ParsedMail;
  /** Whether the message came over TLS, and who logged in to send it. */
  secure: boolean;
  user: unknown;
  /** smtp-server's id of the connection that carried the message. */
  sessionId: string;
}

export interface SmtpSink {
  port: number;
  /** SMTP_URL for the program under test. */
  url: string;
  received: ReceivedMail[];
  /** Messages whose data has arrived but which are not answered yet, now and at most so far. */
  inFlight: { now: number; max: number };
  /** Resolves when at least n messages have arrived (rejects after timeoutMs). */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** Closes every client connection from the server's side, as an idle timeout would. */
  dropConnections(): void;
  close(): Promise<void>;
}

export type SmtpReply = { code: number; message: string };
export type Verdict = SmtpReply | 'drop' | undefined;

export interface SmtpSinkOptions {
  /**
   * Decides each message's fate before it is stored: undefined accepts it; an object
   * answers with that SMTP reply code; 'drop' closes the connection without a reply.
   * A promise makes the server slow (the answer waits for it).
   */
  onMessage?: (envelopeTo: string[], index: number) => Verdict | Promise<Verdict>;
  /** Answers RCPT TO: undefined accepts the address, a reply rejects it (like an unknown mailbox). */
  onRecipient?: (address: string) => SmtpReply | undefined;
  /** Listen on this port (a server coming back where it was); default: any free port. */
  port?: number;
  /** smtp-server options over the defaults (TLS, AUTH, size...). */
  server?: Partial<SMTPServerOptions>;
}

function smtpError(reply: SmtpReply): Error {
  return Object.assign(new Error(reply.message), { responseCode: reply.code });
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const inFlight = { now: 0, max: 0 };
  const waiters: Array<() => void> = [];
  let index = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    size: 50 * 1024 * 1024,
    // close() waits this long for clients to leave before it drops them (default 30 s): a
    // test that closes the sink before its mailer, which keeps idle connections, would wait.
    closeTimeout: 100,
    ...options.server,
    onRcptTo(address, _session, callback) {
      const reply = options.onRecipient?.(address.address);
      callback(reply === undefined ? undefined : smtpError(reply));
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on(
        'end',
        () =>
          void (async () => {
            const envelopeFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
            const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
            inFlight.max = Math.max(inFlight.max, ++inFlight.now);
            const answer = (error?: Error) => {
              inFlight.now -= 1;
              callback(error);
            };
            const verdict = await options.onMessage?.(envelopeTo, index++);
            if (verdict === 'drop') {
              inFlight.now -= 1;
              // The session is a plain object: the socket belongs to the connection holding it.
              for (const connection of connections()) if (connection.session === session) connection._socket.destroy();
              return;
            }
            if (verdict !== undefined) {
              answer(smtpError(verdict));
              return;
            }
            const raw = Buffer.concat(chunks);
            simpleParser(raw).then((parsed) => {
              received.push({ envelopeFrom, envelopeTo, raw, parsed, secure: session.secure, user: session.user, sessionId: session.id });
              for (const wake of waiters.splice(0)) wake();
              answer();
            }, answer);
          })(),
      );
    },
  });
  const connections = () => (server as unknown as { connections: Set<{ session: unknown; _socket: { destroy(): void } }> }).connections;
  // A client that goes away (a killed sender, a dropped test connection) is not an error of the sink.
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    inFlight,
    async waitFor(n, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (received.length < n) {
        if (Date.now() > deadline) throw new Error(`expected ${n} messages, got ${received.length}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 100);
        });
      }
      return received;
    },
    dropConnections() {
      for (const connection of connections()) connection._socket.destroy();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
