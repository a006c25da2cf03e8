import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type Mail from 'nodemailer/lib/mailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Config } from '../config/config.js';
import { parseSmtpUrl } from '../config/smtp-url.js';
import { isProblem } from '../problem.js';
import { createDkimSigner, type DkimSigner } from '../own/dkim.js';
import { DEFAULT_CLIENT_OPTIONS, SmtpConnection, type SmtpClientOptions, type TransactionResult } from '../own/smtp/connection.js';
import type { Reply } from '../own/smtp/replies.js';

/** One message ready for the wire: the envelope and the whole RFC 5322 text, in chunks to write one after the other. */
export interface OutgoingMessage {
  /** The envelope sender (MAIL FROM), per message. */
  from: string;
  to: string;
  chunks: readonly Buffer[];
  /** When to stop waiting for the server (a time in ms): the end of the delivery's lease. */
  deadline?: number;
}

/**
 * A recipient refused while we sent: a 5xx to RCPT TO, or one about the recipient after
 * the message (one recipient per transaction, so that reply is about them). Refusals of
 * us (the sender, the message's size or content, a policy) pause sending instead.
 */
export interface SmtpRefusal {
  code: number;
  /** The reply's lines without their codes, joined by "\n". */
  text: string;
  command: 'rcpt' | 'data';
}

/**
 * Sending outcomes are values: a 5xx for the recipient is `permanent`, with the reply for
 * the bounce rules to judge (handed in by jobs/send.ts); `pause` means the fault is not the
 * recipient's (the server is down or refuses us, our sender or our message): sending
 * pauses and this message waits; otherwise try again later.
 */
export type SendResult =
  | { ok: true; response: string }
  | { ok: false; permanent: false; pause: boolean; error: string }
  | { ok: false; permanent: true; pause: false; error: string; refusal: SmtpRefusal };

export interface Mailer {
  kind: 'smtp' | 'outbox';
  /** Where the mail goes, for messages to the operator. */
  describe: string;
  send(message: OutgoingMessage): Promise<SendResult>;
  close(): Promise<void>;
}

export function createMailer(config: Config): Mailer {
  const mailer =
    config.smtpUrl !== undefined
      ? createSmtpMailer(config.smtpUrl, config.smtpPoolSize, DEFAULT_CLIENT_OPTIONS)
      : createOutboxMailer(config.outboxDir);
  return config.dkim === undefined ? mailer : signingMailer(mailer, createDkimSigner(config.dkim));
}

/** A mailer that signs every message it sends: digests and confirmations alike. */
export function signingMailer(mailer: Mailer, signer: DkimSigner): Mailer {
  return { ...mailer, send: (message) => mailer.send({ ...message, chunks: signer(message.chunks) }) };
}

/**
 * Up to `poolSize` connections, each carrying one message at a time and kept open
 * between messages. A connection found dead when it is taken from the pool (the server
 * dropped it while idle) is replaced once, before any of the message went out.
 */
export function createSmtpMailer(smtpUrl: string, poolSize: number, options: SmtpClientOptions = DEFAULT_CLIENT_OPTIONS): Mailer {
  const endpoint = parseSmtpUrl(smtpUrl);
  if (isProblem(endpoint)) throw new Error(`SMTP_URL ${endpoint.problem}`);
  const idle: SmtpConnection[] = [];
  const slots = semaphore(poolSize);
  const transact = async (connection: SmtpConnection, message: OutgoingMessage) => {
    const result = await connection.send(message.from, message.to, message.chunks, message.deadline);
    if (connection.alive) idle.push(connection);
    else await connection.close();
    return result;
  };
  return {
    kind: 'smtp',
    describe: `SMTP ${endpoint.host}:${endpoint.port}`,
    send: (message) =>
      slots(async () => {
        let reused = idle.pop();
        while (reused !== undefined && !reused.alive) {
          await reused.close();
          reused = idle.pop();
        }
        if (reused !== undefined) {
          const result = await transact(reused, message);
          if (result.code !== 0 || result.dataSent) return sendResult(result);
        }
        const opened = await SmtpConnection.open(endpoint, options);
        return sendResult(opened instanceof SmtpConnection ? await transact(opened, message) : opened);
      }),
    async close() {
      await Promise.all(idle.splice(0).map((connection) => connection.close()));
    },
  };
}

/**
 * A reply as an outcome: sent only when the data went out and the final reply is 2xx.
 * No reply, 421, or anything refused before the recipient (greeting, TLS, login,
 * sender) pauses sending, and so does a 5xx that concerns us or the message rather
 * than the recipient; otherwise 5xx is a refusal of the recipient and 4xx a retry later.
 */
function sendResult(reply: Reply | TransactionResult): SendResult {
  const transaction = 'step' in reply ? reply : undefined;
  if (transaction?.dataSent && reply.code >= 200 && reply.code < 300) return { ok: true, response: `${reply.code} ${reply.text}` };
  const error = (reply.code === 0 ? reply.text : `${reply.code} ${reply.text}`).split('\n')[0]!.slice(0, 500);
  if (transaction === undefined || reply.code < 400 || reply.code === 421 || transaction.step === 'sender') {
    return { ok: false, permanent: false, pause: true, error };
  }
  if (reply.code < 500) return { ok: false, permanent: false, pause: false, error };
  if (!concernsRecipient(transaction)) return { ok: false, permanent: false, pause: true, error };
  const command = transaction.step === 'recipient' ? 'rcpt' : 'data';
  return { ok: false, permanent: true, pause: false, error, refusal: { code: reply.code, text: reply.text, command } };
}

/**
 * Whether a refusal is about the recipient (then a 5xx is their bounce, hard or soft) rather
 * than our sender, our message (size, content) or the relay's policy. The enhanced
 * status code decides when the server gives one (RFC 3463): addressing (X.1), mailbox
 * (X.2) and routing (X.4) are the recipient's, except the sender's address (X.1.7,
 * X.1.8) and the message's length (X.2.3); mail system (X.3), protocol (X.5), content
 * (X.6) and policy (X.7, e.g. relaying denied) are ours. Without one, a refused RCPT is
 * the recipient's and a refused message ours.
 */
function concernsRecipient(result: TransactionResult): boolean {
  const enhanced = /^[245]\.(\d{1,3})\.(\d{1,3})(?:\s|$)/.exec(result.text);
  if (enhanced === null) return result.step === 'recipient';
  const [subject, detail] = [Number(enhanced[1]), Number(enhanced[2])];
  if (subject === 1) return detail !== 7 && detail !== 8;
  if (subject === 2) return detail !== 3;
  return subject === 4;
}

/** Runs at most `size` tasks at once, the rest in the order they came. */
function semaphore(size: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: Array<() => void> = [];
  return async (task) => {
    if (running >= size) await new Promise<void>((resolve) => queue.push(resolve));
    else running += 1;
    try {
      return await task();
    } finally {
      const next = queue.shift();
      if (next === undefined) running -= 1;
      else next();
    }
  };
}

/** With no SMTP server: each message becomes an .eml file that any mail program opens. */
export function createOutboxMailer(outboxDir: string): Mailer {
  let ready: Promise<unknown> | undefined;
  return {
    kind: 'outbox',
    describe: `outbox folder ${outboxDir}`,
    async send(message) {
      ready ??= mkdir(outboxDir, { recursive: true });
      await ready;
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const who = message.to.replace(/[^A-Za-z0-9@._-]/g, '_');
      const file = path.join(outboxDir, `${stamp}-${who}-${randomBytes(3).toString('hex')}.eml`);
      await writeFile(file, message.chunks);
      return { ok: true, response: `written to ${file}` };
    },
    async close() {},
  };
}

/** Builds a whole message from nodemailer's options, for mails sent once (confirmations). */
export function composeMessage(options: Mail.Options): Promise<Buffer> {
  return new MailComposer(options).compile().build();
}
