import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/** A real SMTP server on 127.0.0.1 that keeps what it receives, for tests. */
export interface ReceivedMail {
  envelopeTo: string[];
  raw: Buffer;
  parsed: ParsedMail;
}

export interface SmtpSink {
  port: number;
  /** SMTP_URL for the program under test. */
  url: string;
  received: ReceivedMail[];
  /** Resolves when at least n messages have arrived (rejects after timeoutMs). */
  waitFor(n: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  /**
   * Decides each message's fate before it is stored: undefined accepts it; an object
   * answers with that SMTP reply code; 'drop' closes the connection without a reply.
   */
  onMessage?: (envelopeTo: string[], index: number) => { code: number; message: string } | 'drop' | undefined;
}

export async function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const received: ReceivedMail[] = [];
  const waiters: Array<() => void> = [];
  let index = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    disableReverseLookup: true,
    logger: false,
    size: 50 * 1024 * 1024,
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
        const verdict = options.onMessage?.(envelopeTo, index++);
        if (verdict === 'drop') {
          (session as unknown as { _socket?: { destroy(): void } })._socket?.destroy();
          return;
        }
        if (verdict !== undefined) {
          callback(Object.assign(new Error(verdict.message), { responseCode: verdict.code }));
          return;
        }
        const raw = Buffer.concat(chunks);
        simpleParser(raw).then((parsed) => {
          received.push({ envelopeTo, raw, parsed });
          for (const wake of waiters.splice(0)) wake();
          callback();
        }, callback);
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as { port: number }).port;
  return {
    port,
    url: `smtp://127.0.0.1:${port}`,
    received,
    async waitFor(n, timeoutMs = 10_000) {
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
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
