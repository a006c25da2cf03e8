import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import nodemailer from 'nodemailer';
import type Mail from 'nodemailer/lib/mailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { Config } from '../config/config.js';

/** One message ready for the wire: the envelope and the whole RFC 5322 text. */
export interface OutgoingMessage {
  from: string;
  to: string;
  raw: Buffer | string;
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
  return config.smtpUrl !== undefined
    ? createSmtpMailer(config.smtpUrl, config.smtpPoolSize)
    : createOutboxMailer(config.outboxDir);
}

export function createSmtpMailer(smtpUrl: string, poolSize: number): Mailer {
  const url = new URL(smtpUrl);
  const transport = nodemailer.createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections: poolSize,
    // The default (100) reconnects every 100 messages: a waste on a big morning run.
    maxMessages: Infinity,
    connectionTimeout: 15_000,
    greetingTimeout: 15_000,
    socketTimeout: 60_000,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  return {
    kind: 'smtp',
    describe: `SMTP ${url.hostname}:${url.port || (url.protocol === 'smtps:' ? 465 : 587)}`,
    async send(message) {
      try {
        const info = await transport.sendMail({
          envelope: { from: message.from, to: [message.to] },
          raw: message.raw,
        });
        if (info.rejected.length > 0) return { ok: false, permanent: true, serverDown: false, error: String(info.response) };
        return { ok: true, response: String(info.response) };
      } catch (error) {
        return classifySmtpError(error);
      }
    },
    async close() {
      transport.close();
    },
  };
}

export function classifySmtpError(error: unknown): SendResult & { ok: false } {
  const { responseCode, response, message } = error as { responseCode?: number; response?: string; message?: string };
  const text = (response ?? message ?? String(error)).split('\n')[0]!.slice(0, 500);
  const permanent = typeof responseCode === 'number' && responseCode >= 500 && responseCode < 600;
  // No reply code means the connection failed; 421 means the server is closing it.
  const serverDown = typeof responseCode !== 'number' || responseCode === 421;
  return {
    ok: false,
    permanent,
    serverDown,
    error: responseCode ? `${responseCode} ${text.replace(/^\d{3}\s*/, '')}` : text,
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
      await writeFile(file, message.raw);
      return { ok: true, response: `written to ${file}` };
    },
    async close() {},
  };
}

/** Builds a whole message from nodemailer's options, for mails sent once (confirmations). */
export function composeMessage(options: Mail.Options): Promise<Buffer> {
  return new MailComposer(options).compile().build();
}
