/**
 * The benchmark's outside world, run in its own process so that neither its CPU nor its
 * memory is charged to the pipeline under test: an HTTP server of generated planet-style
 * feeds (with ETags, so a refresh answers 304) and an SMTP sink that counts and discards.
 * Started by scripts/bench/run.ts with fork(); answers 'count' messages over IPC.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { feedEtag, feedXml } from './feeds.js';

export interface ServersReady {
  type: 'ready';
  feedBase: string;
  smtpUrl: string;
}

export interface SinkCount {
  type: 'count';
  messages: number;
  bytes: number;
}

const generatedAt = new Date(Number(process.argv[2] ?? Date.now()));
const postsPerFeed = Number(process.argv[3] ?? 20);

const http = createServer((request, response) => {
  const id = Number(/^\/feeds\/(\d+)\.xml$/.exec(request.url ?? '')?.[1]);
  if (!Number.isInteger(id)) {
    response.writeHead(404).end();
    return;
  }
  const etag = feedEtag(id);
  if (request.headers['if-none-match'] === etag) {
    response.writeHead(304, { etag }).end();
    return;
  }
  response.writeHead(200, { 'content-type': 'application/rss+xml; charset=utf-8', etag });
  response.end(feedXml(id, generatedAt, postsPerFeed));
});

let messages = 0;
let bytes = 0;
const smtp = new SMTPServer({
  authOptional: true,
  disabledCommands: ['STARTTLS'],
  disableReverseLookup: true,
  logger: false,
  size: 50 * 1024 * 1024,
  onData(stream, _session, callback) {
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    stream.on('end', () => {
      messages += 1;
      callback();
    });
  },
});

await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
const ready: ServersReady = {
  type: 'ready',
  feedBase: `http://127.0.0.1:${(http.address() as AddressInfo).port}/feeds/`,
  smtpUrl: `smtp://127.0.0.1:${(smtp.server.address() as AddressInfo).port}`,
};
process.send!(ready);
process.on('message', (message: { type: string }) => {
  if (message.type === 'count') process.send!({ type: 'count', messages, bytes } satisfies SinkCount);
});
// The parent going away (even killed) closes the IPC channel: stop with it.
process.on('disconnect', () => {
  http.close();
  smtp.close(() => process.exit(0));
  http.closeAllConnections();
});
