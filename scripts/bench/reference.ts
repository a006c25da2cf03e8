import { fork } from 'node:child_process';
import { inboundDoorOpen, type Config } from '../../src/config/config.js';
import type { Db } from '../../src/db/connect.js';
import { loadOrRender } from '../../src/jobs/send.js';
import { buildMessageTemplate, mailDate, personalize } from '../../src/mail/compose.js';
import { editionMessage } from '../../src/mail/deliver.js';
import type { ReferenceJob, ReferenceResult } from './reference-sender.js';
import { siblingScript } from './sibling.js';
import { bounceAddress, unsubscribeMailto } from '../../src/links/verp.js';
import type { LinkConfig } from '../../src/links/urls.js';
import { personalValues } from '../../src/render/personal.js';

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
 * edition's messages (`half`), so that it can run on both sides of our send. The
 * sending runs in a process of its own (reference-sender.ts), so that its memory and
 * garbage never count in our pipeline's peak RSS.
 */
export type Half = 'first' | 'second';

/** nodemailer's pooled transport (reference-sender.ts), or raw pipelined sockets with no per-message work (raw-sender.ts): the machine's limit. */
export type Sender = 'nodemailer' | 'raw';

export async function sendPrebuilt(
  db: Db,
  config: Config & LinkConfig,
  smtpUrl: string,
  poolSize: number,
  half: Half,
  sender: Sender,
): Promise<ReferenceResult> {
  const editions = await messagesPerEdition(db);
  const messages = await Promise.all(
    editions.map(async ({ edition_id: editionId, n: all }) => {
      const n = half === 'first' ? Math.floor(all / 2) : all - Math.floor(all / 2);
      const template = await buildMessageTemplate(
        editionMessage(config, await loadOrRender(db, config, editionId), inboundDoorOpen(config)),
      );
      const raw = Buffer.concat(
        personalize(template, {
          to: 'reader@bench.example',
          date: mailDate(new Date()),
          messageId: `fd.reference.${editionId}@bench.example`,
          unsubscribeMailto: inboundDoorOpen(config) ? unsubscribeMailto(config, 1) : '',
          ...personalValues(config, { id: 1, subscribedAt: new Date(), timeZone: 'UTC' }),
        }),
      );
      return { raw: raw.toString('base64'), n };
    }),
  );
  const job: ReferenceJob = { smtpUrl, poolSize, from: bounceAddress(config, 1), messages };
  const script = siblingScript(sender === 'raw' ? './raw-sender' : './reference-sender', import.meta.url);
  const child = fork(script, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const answer = new Promise<ReferenceResult>((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`the reference sender exited with ${code}`)));
  });
  child.send(job);
  const result = await answer;
  child.disconnect();
  return result;
}
