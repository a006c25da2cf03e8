/**
 * The machine's limit for delivery, in a process of its own (forked by reference.ts): the
 * same pre-built messages as the nodemailer reference, written to the sink over raw
 * pipelined sockets with no per-message work. Everything a message needs (its envelope
 * commands, its dot-stuffed body and the final dot) is built once, before the clock starts;
 * per message the sender only writes those buffers and counts replies. Gets one
 * ReferenceJob over IPC and answers with a ReferenceResult, like reference-sender.ts.
 */
import { connect, type Socket } from 'node:net';
import type { ReferenceJob, ReferenceResult } from './reference-sender.js';
import { cpuSecondsSince } from './rss.js';

/** SMTP's data transparency (a leading dot doubled) and CRLF ends, done once per distinct message. */
function dataBytes(raw: Buffer): Buffer {
  const lines = raw.toString('latin1').replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..');
  return Buffer.from(`${lines.endsWith('\r\n') ? lines : `${lines}\r\n`}.\r\n`, 'latin1');
}

/**
 * One connection: after EHLO, sends an envelope (MAIL, RCPT, DATA pipelined), and on each
 * 354 the body together with the next envelope, so every round trip carries a message.
 * Resolves with the count of messages the sink accepted.
 */
function sendOver(url: URL, envelope: Buffer, take: () => Buffer | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(Number(url.port), url.hostname);
    socket.setNoDelay(true);
    let pending = '';
    let phase: 'greeting' | 'ehlo' | 'sending' = 'greeting';
    let inData = false;
    let sent = 0;
    let current = take();
    const finish = () => {
      socket.end('QUIT\r\n');
      resolve(sent);
    };
    socket.on('error', reject);
    socket.setEncoding('latin1').on('data', (chunk: string) => {
      pending += chunk;
      let end: number;
      while ((end = pending.indexOf('\r\n')) !== -1) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 2);
        if (line[3] === '-') continue;
        const code = line.slice(0, 3);
        if (code[0] !== '2' && code !== '354') return reject(new Error(`sink answered: ${line}`));
        if (phase === 'greeting') {
          phase = 'ehlo';
          socket.write('EHLO bench.example\r\n');
        } else if (phase === 'ehlo') {
          phase = 'sending';
          if (current === undefined) return finish();
          socket.write(envelope);
        } else if (code === '354') {
          const next = take();
          inData = true;
          // Corked: the body and the next envelope leave in one writev, neither copied.
          socket.cork();
          socket.write(current!);
          if (next !== undefined) socket.write(envelope);
          socket.uncork();
          current = next;
        } else if (inData) {
          // The answer to a message's final dot; the answers to MAIL and RCPT need nothing.
          inData = false;
          sent++;
          if (current === undefined) return finish();
        }
      }
    });
  });
}

async function send(job: ReferenceJob): Promise<ReferenceResult> {
  const url = new URL(job.smtpUrl);
  const envelope = Buffer.from(`MAIL FROM:<${job.from}>\r\nRCPT TO:<reader@bench.example>\r\nDATA\r\n`, 'latin1');
  const queue = job.messages.flatMap(({ raw, n }) => {
    const bytes = dataBytes(Buffer.from(raw, 'base64'));
    return Array.from({ length: n }, () => bytes);
  });
  let next = 0;
  const take = () => (next < queue.length ? queue[next++] : undefined);
  const started = performance.now();
  const cpu = process.cpuUsage();
  const counts = await Promise.all(Array.from({ length: job.poolSize }, () => sendOver(url, envelope, take)));
  return { sent: counts.reduce((a, b) => a + b, 0), seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSecondsSince(cpu) };
}

process.once('message', (job: ReferenceJob) => {
  send(job).then(
    (result) => process.send!(result),
    (error: unknown) => {
      console.error('raw sender:', error);
      process.exit(1);
    },
  );
});
process.on('disconnect', () => process.exit(0));
