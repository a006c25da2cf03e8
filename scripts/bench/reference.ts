import nodemailer from 'nodemailer';
import type { Config } from '../../src/config/config.js';
import type { Db } from '../../src/db/connect.js';
import { loadOrRender } from '../../src/jobs/send.js';
import { buildMessageTemplate, mailDate, personalize } from '../../src/mail/compose.js';
import { editionMessage } from '../../src/mail/deliver.js';
import { cpuSecondsSince } from './rss.js';
import { mailFromAddress, preferencesUrl, unsubscribeMailto, unsubscribeUrl, type LinkConfig } from '../../src/subscribers/links.js';

/** How many messages each edition has, so the reference sends the same mix. */
async function messagesPerEdition(db: Db): Promise<Array<{ edition_id: number; n: number }>> {
  return db
    .selectFrom('deliveries')
    .select(['edition_id', db.fn.countAll<number>().as('n')])
    .where('status', 'in', ['pending', 'sending', 'sent'])
    .groupBy('edition_id')
    .orderBy('edition_id')
    .execute() as Promise<Array<{ edition_id: number; n: number }>>;
}

/**
 * The machine's limit for our messages: each edition's message built and personalized
 * once, before the clock starts, then sent as raw bytes by nodemailer alone over a pool
 * of the same size, with no database and no per-message work. Sends half of each
 * edition's messages (`half`), so that it can run on both sides of our send. Enough messages are kept
 * queued that no pooled connection ever waits for one.
 */
export type Half = 'first' | 'second';

export async function sendPrebuilt(
  db: Db,
  config: Config & LinkConfig,
  smtpUrl: string,
  poolSize: number,
  half: Half,
): Promise<{ sent: number; seconds: number; cpuSeconds: number }> {
  const editions = await messagesPerEdition(db);
  const prebuilt = await Promise.all(editions.map(async ({ edition_id: editionId, n: all }) => {
    const n = half === 'first' ? Math.floor(all / 2) : all - Math.floor(all / 2);
    const template = await buildMessageTemplate(editionMessage(config, await loadOrRender(db, config, editionId)));
    const raw = personalize(template, {
      to: 'reader@bench.example',
      date: mailDate(new Date()),
      messageId: `fd.reference.${editionId}@bench.example`,
      unsubscribeUrl: unsubscribeUrl(config, 1),
      preferencesUrl: preferencesUrl(config, 1),
      unsubscribeMailto: unsubscribeMailto(config, 1),
    });
    return { raw, n };
  }));
  const transport = nodemailer.createTransport({ url: smtpUrl, pool: true, maxConnections: poolSize, maxMessages: Infinity } as Parameters<typeof nodemailer.createTransport>[0]);
  const from = mailFromAddress(config);
  const queue = prebuilt.flatMap(({ raw, n }) => Array.from({ length: n }, () => raw));
  let next = 0;
  let sent = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const sender = async () => {
    while (next < queue.length) {
      const index = next++;
      await transport.sendMail({ envelope: { from, to: [`reader${index}@bench.example`] }, raw: queue[index]! });
      sent += 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: poolSize * 4 }, sender));
    return { sent, seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSecondsSince(cpu) };
  } finally {
    transport.close();
  }
}
