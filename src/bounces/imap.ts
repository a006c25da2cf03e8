import { isIP } from 'node:net';
import { ImapFlow } from 'imapflow';
import type { Config } from '../config/config.js';
import type { Db } from '../db/connect.js';
import type { Logger } from '../log/logger.js';
import { handleInbound, type InboundConfig, type InboundResult } from './inbound.js';

/**
 * The second inbound door: `serve` reads the mailbox of INBOUND_IMAP_URL
 * (imap://user:password@host:143/INBOX, or imaps:// on 993), handles each message
 * like `feed-digest inbound` does, and moves it out of the way: to
 * INBOUND_PROCESSED_FOLDER when it carries one of our genuine tags (a bounce,
 * complaint, unsubscribe, auto-reply or delay warning about one of our digests),
 * else to INBOUND_UNRECOGNIZED_FOLDER for a human to look at. A message is moved only after its outcome has committed, and the same
 * report seen twice acts once, so a crash in between costs nothing.
 */
export type ImapConfig = InboundConfig & Pick<Config, 'inboundImapUrl' | 'inboundProcessedFolder' | 'inboundUnrecognizedFolder'>;

export interface PollSummary {
  messages: number;
  processed: number;
  unrecognized: number;
  /** Each handled message, for metrics and logs. */
  results: InboundResult[];
}

/** At most this many messages per poll, so that one tick stays short; the next poll takes the rest. */
const BATCH = 200;
/** A message bigger than this is not fetched whole: bounces that matter are small. */
const MAX_SOURCE_BYTES = 10 * 1024 * 1024;

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

export function imapClient(url: string): { client: ImapFlow; mailbox: string } {
  const parsed = new URL(url);
  const secure = parsed.protocol === 'imaps:';
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const client = new ImapFlow({
    host,
    port: parsed.port === '' ? (secure ? 993 : 143) : Number(parsed.port),
    secure,
    // The password never crosses a network in the clear: STARTTLS is required, except on loopback.
    doSTARTTLS: secure ? undefined : !isLoopback(host),
    auth: { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) },
    logger: false,
    connectionTimeout: 30_000,
    greetingTimeout: 16_000,
    socketTimeout: 120_000,
  });
  const mailbox = decodeURIComponent(parsed.pathname.replace(/^\/+/, '')) || 'INBOX';
  return { client, mailbox };
}

/** One poll of the mailbox: the function the scheduler calls on each tick. */
export async function pollMailbox(db: Db, config: ImapConfig, logger?: Logger): Promise<PollSummary> {
  const summary: PollSummary = { messages: 0, processed: 0, unrecognized: 0, results: [] };
  if (config.inboundImapUrl === undefined) return summary;
  const { client, mailbox } = imapClient(config.inboundImapUrl);
  // imapflow reports a dropped connection as an event as well as a rejected command.
  client.on('error', (error: unknown) => logger?.warn({ err: error }, 'IMAP connection error'));
  await client.connect();
  try {
    for (const folder of [config.inboundProcessedFolder, config.inboundUnrecognizedFolder]) await client.mailboxCreate(folder);
    const lock = await client.getMailboxLock(mailbox);
    try {
      const mailboxState = client.mailbox;
      if (mailboxState === false || mailboxState.exists === 0) return summary;
      const messages: Array<{ uid: number; source: Buffer }> = [];
      for await (const message of client.fetch(`1:${Math.min(mailboxState.exists, BATCH)}`, {
        uid: true,
        size: true,
        source: { maxLength: MAX_SOURCE_BYTES },
      })) {
        if (message.source !== undefined) messages.push({ uid: message.uid, source: message.source });
      }
      for (const { uid, source } of messages) {
        const result = await handleInbound(db, config, source, 'imap');
        const recognized = result.tag !== undefined;
        await client.messageMove(String(uid), recognized ? config.inboundProcessedFolder : config.inboundUnrecognizedFolder, { uid: true });
        summary.messages += 1;
        summary[recognized ? 'processed' : 'unrecognized'] += 1;
        summary.results.push(result);
        logger?.info(
          {
            job: 'inbound',
            source: 'imap',
            uid,
            kind: result.classification.kind,
            action: result.applied.action,
            tag: result.tag,
            summary: result.classification.summary,
          },
          recognized ? 'inbound mail handled' : 'inbound mail not recognized: moved aside',
        );
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  return summary;
}
