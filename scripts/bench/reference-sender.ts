/**
 * The reference's sending half, in a process of its own (forked by reference.ts): gets
 * one ReferenceJob over IPC, sends every message with nodemailer's pooled transport,
 * answers with a ReferenceResult and exits. Enough messages are kept queued that no
 * pooled connection ever waits for one.
 */
import nodemailer from 'nodemailer';
import { cpuSecondsSince } from './rss.js';

export interface ReferenceJob {
  smtpUrl: string;
  poolSize: number;
  from: string;
  /** Each message base64-encoded, and how many times to send it. */
  messages: Array<{ raw: string; n: number }>;
}

export interface ReferenceResult {
  sent: number;
  seconds: number;
  cpuSeconds: number;
}

async function send(job: ReferenceJob): Promise<ReferenceResult> {
  const transport = nodemailer.createTransport({
    url: job.smtpUrl,
    pool: true,
    maxConnections: job.poolSize,
    maxMessages: Infinity,
  } as Parameters<typeof nodemailer.createTransport>[0]);
  const queue = job.messages.flatMap(({ raw, n }) => {
    const bytes = Buffer.from(raw, 'base64');
    return Array.from({ length: n }, () => bytes);
  });
  let next = 0;
  let sent = 0;
  const started = performance.now();
  const cpu = process.cpuUsage();
  const sender = async () => {
    while (next < queue.length) {
      const index = next++;
      await transport.sendMail({ envelope: { from: job.from, to: [`reader${index}@bench.example`] }, raw: queue[index]! });
      sent += 1;
    }
  };
  try {
    await Promise.all(Array.from({ length: job.poolSize * 4 }, sender));
    return { sent, seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSecondsSince(cpu) };
  } finally {
    transport.close();
  }
}

process.once('message', (job: ReferenceJob) => {
  send(job).then(
    (result) => process.send!(result),
    (error: unknown) => {
      console.error('reference sender:', error);
      process.exit(1);
    },
  );
});
process.on('disconnect', () => process.exit(0));
