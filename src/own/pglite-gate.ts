/*
 * Serves an open PGlite over the Postgres wire protocol on a Unix socket, for
 * `feed-digest serve` and every other process on the same data folder. A gate of our
 * own in front of PGlite's socket server, because that library alone lets one
 * client's query run on another's statement.
 *
 * What @electric-sql/pglite-socket 0.2.17 does (read in its source and measured):
 * - It accepts `maxConnections` clients (default 1; extra ones get a plain-text
 *   "Too many connections" and are closed), and all of them share PGlite's ONE
 *   session. Messages from all clients go through one queue, one message at a time.
 * - Inside an explicit transaction it serves only the client that opened it, and
 *   rolls that transaction back when the client disconnects.
 * - But it interleaves clients between the messages of one extended-protocol query
 *   (Parse, Bind, Describe, Execute, Sync), which is what pg sends for every query
 *   with parameters, i.e. every kysely query. When a message is split over socket
 *   reads (a 3 MB insert), another client's Parse lands between this client's Parse
 *   and Bind: measured, 10 of 10 concurrent 3 MB inserts failed with "invalid input
 *   syntax for type integer" because they were bound to the other client's statement.
 * - It accepts any user name and password.
 *
 * So clients never reach it directly. This module's gate listens on the public
 * socket (directory 0700, socket 0600: only this user) and forwards one client's
 * messages at a time, in whole units that end with Sync or Query, and keeps the
 * gate with that client until PGlite reports ReadyForQuery with the session idle
 * (not inside a transaction). Other clients wait their turn instead of failing,
 * like pgbouncer's transaction pooling. A client that disconnects inside a
 * transaction has it rolled back before the next client goes. A client that sits
 * idle inside a transaction while others wait is disconnected after
 * `idleInTransactionMs`, like Postgres's idle_in_transaction_session_timeout.
 * Left shared, as on any pooled connection: session settings (SET) and named
 * prepared statements; feed-digest uses neither.
 */
import { chmod, lstat, mkdir } from 'node:fs/promises';
import net from 'node:net';
import type { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface SocketService {
  /** How many times a client has been given the gate: each exchange or transaction is one. */
  turns: () => number;
  close(): Promise<void>;
}

/** Where the two sockets live; their names and their clean-up are the caller's (src/db/embedded-lock.ts). */
export interface GateSockets {
  /** The folder of both, made this user's alone (0700). */
  dir: string;
  /** Where clients connect. */
  publicPath: string;
  /** Where the library listens; only the gate connects there. */
  internalPath: string;
  /** Removes both socket files: a killed server leaves them behind, and listening on them again would fail. */
  remove(): Promise<void>;
}

export interface SocketOptions {
  /** Disconnect a client idle inside a transaction for this long while others wait. */
  idleInTransactionMs?: number;
}

const SSL_REQUEST_CODE = 80877103;
const CANCEL_REQUEST_CODE = 80877102;
const READY_FOR_QUERY = 0x5a; // 'Z'
const ERROR_RESPONSE = 0x45; // 'E'
const TERMINATE = 0x58; // 'X'
/** Frames after which PGlite answers ReadyForQuery: Query, Sync. */
const SYNC_POINTS = new Set([0x51, 0x53]);
/** Other frames that end a unit to forward: Flush, and COPY data, done and fail. */
const UNIT_ENDS = new Set([0x48, 0x64, 0x63, 0x66]);
/** Query 'ROLLBACK', as the wire protocol frames it. */
const ROLLBACK = Buffer.concat([Buffer.from('Q'), Buffer.from([0, 0, 0, 13]), Buffer.from('ROLLBACK\0')]);

class Gate {
  private owner: Session | undefined;
  private readonly waiting: Session[] = [];
  turns = 0;

  constructor(readonly idleInTransactionMs: number) {}

  get hasWaiters(): boolean {
    return this.waiting.length > 0;
  }

  request(session: Session): void {
    if (this.owner === session) session.forward();
    else if (this.owner === undefined) this.grant(session);
    else if (!this.waiting.includes(session)) this.waiting.push(session);
  }

  release(session: Session): void {
    const index = this.waiting.indexOf(session);
    if (index >= 0) this.waiting.splice(index, 1);
    if (this.owner !== session) return;
    this.owner = undefined;
    const next = this.waiting.shift();
    if (next !== undefined) this.grant(next);
    else if (session.hasUnit()) this.grant(session);
  }

  private grant(session: Session): void {
    this.turns++;
    this.owner = session;
    session.forward();
  }
}

/** One client connection, with its own connection to the library's server behind the gate. */
interface Frame {
  bytes: Buffer;
  /** PGlite answers it with ReadyForQuery: the startup message, Query, Sync. */
  syncPoint: boolean;
  unitEnd: boolean;
}

class Session {
  private readonly queued: Frame[] = [];
  private partial: Buffer = Buffer.alloc(0);
  private started = false;
  private awaiting = 0;
  private idle = true;
  private closing = false;
  private closed = false;
  private answeredStartup = false;
  private idleTimer: NodeJS.Timeout | undefined;
  // ReadyForQuery tracking in the server's byte stream: header bytes of the current frame, bytes left to skip.
  private head: number[] = [];
  private skip = 0;

  constructor(
    private readonly client: net.Socket,
    private readonly upstream: net.Socket,
    private readonly gate: Gate,
  ) {
    client.on('data', (chunk) => this.fromClient(chunk));
    upstream.on('data', (chunk) => this.fromServer(chunk));
    client.on('close', () => this.clientGone());
    upstream.on('close', () => this.destroy());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  }

  hasUnit(): boolean {
    return this.queued.some((frame) => frame.unitEnd);
  }

  /** Sends queued frames up to the last complete unit; only the gate's owner calls this. */
  forward(): void {
    this.clearIdleTimer();
    const last = this.queued.findLastIndex((frame) => frame.unitEnd);
    if (last < 0) {
      if (this.awaiting === 0 && this.idle) this.gate.release(this);
      return;
    }
    for (const frame of this.queued.splice(0, last + 1)) {
      if (frame.syncPoint) this.awaiting++;
      this.upstream.write(frame.bytes);
    }
  }

  private fromClient(chunk: Buffer): void {
    this.partial = this.partial.length === 0 ? chunk : Buffer.concat([this.partial, chunk]);
    for (;;) {
      const startup = !this.started;
      const headerLength = startup ? 8 : 5;
      if (this.partial.length < headerLength) break;
      const length = startup ? this.partial.readInt32BE(0) : this.partial.readInt32BE(1) + 1;
      if (this.partial.length < length) break;
      const frame = this.partial.subarray(0, length);
      this.partial = this.partial.subarray(length);
      if (startup && frame.readInt32BE(4) === SSL_REQUEST_CODE) {
        this.client.write('N'); // no TLS on a local socket; the client goes on in plain text
      } else if (startup && frame.readInt32BE(4) === CANCEL_REQUEST_CODE) {
        this.client.destroy(); // PGlite has no backend to cancel
        return;
      } else if (!startup && frame[0] === TERMINATE) {
        this.client.end();
        return;
      } else {
        const type = startup ? undefined : frame[0]!;
        const syncPoint = type === undefined || SYNC_POINTS.has(type);
        this.queued.push({ bytes: Buffer.from(frame), syncPoint, unitEnd: syncPoint || UNIT_ENDS.has(type) });
        this.started = true;
      }
    }
    if (this.hasUnit()) this.gate.request(this);
  }

  private fromServer(chunk: Buffer): void {
    if (!this.closing) this.client.write(chunk);
    for (let i = 0; i < chunk.length;) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - i);
        this.skip -= n;
        i += n;
        continue;
      }
      this.head.push(chunk[i++]!);
      if (this.head.length < 5) continue;
      const type = this.head[0];
      if (type === READY_FOR_QUERY && this.head.length === 6) {
        this.readyForQuery(this.head[5] === 0x49); // 'I': idle, not in a transaction
        this.head = [];
      } else if (type !== READY_FOR_QUERY) {
        const length = Buffer.from(this.head.slice(1, 5)).readUInt32BE(0);
        // A failed startup ends with an ErrorResponse and no ReadyForQuery.
        if (type === ERROR_RESPONSE && !this.answeredStartup) this.readyForQuery(true);
        this.skip = length - 4;
        this.head = [];
      }
    }
  }

  private readyForQuery(idle: boolean): void {
    this.answeredStartup = true;
    this.awaiting = Math.max(0, this.awaiting - 1);
    this.idle = idle;
    if (this.awaiting > 0) return;
    if (this.closing) return this.finishClosing();
    if (idle) {
      // Let waiting clients go between this client's transactions; it queues again if it has more.
      this.gate.release(this);
    } else if (this.hasUnit()) {
      this.forward();
    } else {
      this.armIdleTimer();
    }
  }

  private armIdleTimer(): void {
    this.idleTimer = setTimeout(() => {
      if (this.gate.hasWaiters) this.client.destroy();
      else this.armIdleTimer();
    }, this.gate.idleInTransactionMs);
    this.idleTimer.unref();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
    this.idleTimer = undefined;
  }

  /** A client gone mid-transaction: roll back before anyone else runs, then let the next one go. */
  private clientGone(): void {
    if (this.closed) return;
    this.closing = true;
    this.clearIdleTimer();
    this.queued.length = 0;
    if (this.awaiting === 0) this.finishClosing();
  }

  private finishClosing(): void {
    if (!this.idle && !this.upstream.destroyed) {
      this.idle = true;
      this.awaiting = 1;
      this.upstream.write(ROLLBACK);
      return;
    }
    this.destroy();
  }

  destroy(): void {
    if (this.closed) return;
    this.closed = true;
    this.clearIdleTimer();
    this.client.destroy();
    this.upstream.destroy();
    this.gate.release(this);
  }
}

/** The socket directory must be ours and closed to others, whoever created it. */
async function privateDirectory(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const info = await lstat(dir);
  if (!info.isDirectory() || (process.getuid !== undefined && info.uid !== process.getuid())) {
    throw new Error(`${dir} is not a directory owned by this user; remove it`);
  }
  await chmod(dir, 0o700);
}

function listen(server: net.Server, file: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(file, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

export async function serveOverSocket(pglite: PGlite, sockets: GateSockets, options: SocketOptions = {}): Promise<SocketService> {
  const { dir, publicPath, internalPath } = sockets;
  await privateDirectory(dir);
  await sockets.remove(); // left by a killed server; the caller holds the lock
  await privateDirectory(dir);
  // Only the gate connects here, one connection per client: the limit is the gate's to keep.
  const library = new PGLiteSocketServer({ db: pglite, path: internalPath, maxConnections: 10_000 });
  await library.start();
  await chmod(internalPath, 0o600);

  const gate = new Gate(options.idleInTransactionMs ?? 60_000);
  const sessions = new Set<Session>();
  const server = net.createServer((client) => {
    const upstream = net.createConnection(internalPath);
    const session = new Session(client, upstream, gate);
    sessions.add(session);
    client.on('close', () => sessions.delete(session));
  });
  await listen(server, publicPath);
  await chmod(publicPath, 0o600);

  return {
    turns: () => gate.turns,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const session of sessions) session.destroy();
      await closed;
      await library.stop();
      await sockets.remove();
    },
  };
}
