import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type Mail from 'nodemailer/lib/mailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Config } from '../config/config.js';
import { parseSmtpUrl } from '../config/smtp-url.js';
import { createDkimSigner, signingMailer } from './dkim.js';
import { SmtpConnection, type TransactionResult } from './smtp/connection.js';
import type { Reply } from './smtp/replies.js';

/** One message ready for the wire: the envelope and the whole RFC 5322 text, in chunks to write one after the other. */
export interface OutgoingMessage {
  from: string;
  to: string;
  chunks: readonly Buffer[];
}

/**
 * Sending outcomes are values: a 4xx or a dropped connection is `transient` (try
 * again later), a 5xx for the recipient is `permanent` (a hard bounce).
 */
export type SendResult =
  | { ok: true; response: string }
  | { ok: false; permanent: boolean; serverDown: boolean; error: string };

export interface Mailer {
  kind: 'smtp' | 'outbox';
  /** Where the mail goes, for messages to the operator. */
  describe: string;
  send(message: OutgoingMessage): Promise<SendResult>;
  close(): Promise<void>;
}

export function createMailer(config: Config): Mailer {
  const mailer = config.smtpUrl !== undefined
    ? createSmtpMailer(config.smtpUrl, config.smtpPoolSize)
    : createOutboxMailer(config.outboxDir);
  return config.dkim === undefined ? mailer : signingMailer(mailer, createDkimSigner(config.dkim));
}

/**
 * Up to `poolSize` connections, each carrying one message at a time and kept open
 * between messages. A connection found dead when it is taken from the pool (the server
 * dropped it while idle) is replaced once, before any of the message went out.
 */
export function createSmtpMailer(smtpUrl: string, poolSize: number): Mailer {
  const endpoint = parseSmtpUrl(smtpUrl);
  if (typeof endpoint === 'string') throw new Error(`SMTP_URL ${endpoint}`);
  const idle: SmtpConnection[] = [];
  const slots = semaphore(poolSize);
  const transact = async (connection: SmtpConnection, message: OutgoingMessage) => {
    const result = await connection.send(message.from, message.to, message.chunks);
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
        const opened = await SmtpConnection.open(endpoint);
        return sendResult(opened instanceof SmtpConnection ? await transact(opened, message) : opened);
      }),
    async close() {
      await Promise.all(idle.splice(0).map((connection) => connection.close()));
    },
  };
}

/**
 * A reply as an outcome: 2xx sent; no reply, 421, or a refusal before the recipient
 * (greeting, TLS, login, sender: the server's problem or ours, never the recipient's)
 * pauses sending; otherwise 5xx is a bounce and 4xx a retry later.
 */
function sendResult(reply: Reply | TransactionResult): SendResult {
  if (reply.code >= 200 && reply.code < 300) return { ok: true, response: `${reply.code} ${reply.text}` };
  const error = (reply.code === 0 ? reply.text : `${reply.code} ${reply.text}`).split('\n')[0]!.slice(0, 500);
  const beforeRecipient = !('step' in reply) || reply.step === 'sender';
  if (reply.code === 0 || reply.code === 421 || beforeRecipient) return { ok: false, permanent: false, serverDown: true, error };
  return { ok: false, permanent: reply.code >= 500, serverDown: false, error };
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
