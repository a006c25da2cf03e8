import { createHash } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import type { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config/config.js';
import type { SocketOptions } from '../own/pglite-gate.js';
import {
  acquireDataLock,
  busyMessage,
  internalSocketName,
  isAlive,
  publicSocketName,
  removeSocketFiles,
  SOCKET_PORT,
  type DataLock,
  type LockHolder,
} from './embedded-lock.js';
import type { Database } from './schema.js';

// Counts and bigserial ids fit easily in a double; strings for them would leak everywhere.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Db = Kysely<Database>;

export interface OpenDatabase {
  db: Db;
  /** 'server' through pg to DATABASE_URL, 'embedded' for PGlite in DATA_DIR. */
  mode: 'server' | 'embedded';
  /**
   * How this process reaches the data: 'server' (DATABASE_URL), 'direct' (PGlite in
   * this process), or 'socket' (pg over the Unix socket of the process serving the
   * folder, or of this process itself when it serves).
   */
  access: 'server' | 'direct' | 'socket';
  /** The socket directory when this process serves the embedded database. */
  socketDir: string | undefined;
  /**
   * How many times a client has been given the database since it opened, when every
   * client comes through this process (embedded, opened directly or served): while the
   * count stays the same, nothing ran, so nothing changed. Undefined for a Postgres
   * server or a socket client, where others write unseen.
   */
  turns?: () => number;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Pool size for a Postgres server. */
  poolSize?: number;
  /** Embedded only: also serve the database on a Unix socket to the other commands (`feed-digest serve`). */
  serve?: boolean;
  /** What this process runs, shown to a process refused the folder; defaults to the command line. */
  command?: string;
}

/** This process cannot use the embedded data folder; the message says why in one line. */
export class DataFolderBusyError extends Error {
  constructor(
    message: string,
    readonly holder: LockHolder,
  ) {
    super(message);
    this.name = 'DataFolderBusyError';
  }
}

export async function openDatabase(config: Config, options: OpenOptions = {}): Promise<OpenDatabase> {
  if (config.databaseUrl !== undefined) return openServer(config.databaseUrl, options.poolSize ?? 10);
  return openEmbedded(config.dataDir, options);
}

export function openServer(connectionString: string, poolSize: number): OpenDatabase {
  const pool = new pg.Pool({ connectionString, max: poolSize });
  return fromPool(pool, { mode: 'server', access: 'server' });
}

function fromPool(
  pool: pg.Pool,
  shape: Pick<OpenDatabase, 'mode' | 'access' | 'turns'> & { socketDir?: string },
  after: () => Promise<void> = async () => undefined,
): OpenDatabase {
  // An idle connection that the server closes (a restart, an administrator, a dropped
  // database) is discarded by the pool and the next query opens a new one. Without a
  // listener, pg raises it as an uncaught exception and the whole process dies.
  pool.on('error', () => {});
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    socketDir: undefined,
    ...shape,
    close: async () => {
      try {
        await db.destroy();
      } finally {
        await after();
      }
    },
  };
}

/**
 * Unix socket paths are limited to about 100 bytes; a deep data folder gets its
 * socket directory under the temp folder instead, named after the folder.
 */
function socketDirFor(dataDir: string): string {
  const inside = path.join(dataDir, 'socket');
  if (path.join(inside, publicSocketName).length <= 100) return inside;
  const hash = createHash('sha256').update(dataDir).digest('hex').slice(0, 16);
  return path.join(os.tmpdir(), `feed-digest-${hash}`);
}

/**
 * A pool of ONE connection: PGlite is one session behind the socket, and a second
 * connection of the same process would wait behind this process's own transaction.
 */
function socketPool(socketDir: string): pg.Pool {
  // The server accepts any user; naming one keeps pg from reading USER/PGUSER.
  return new pg.Pool({ host: socketDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres', max: 1 });
}

/** Opens the embedded data folder directly, serves it, or reaches the process that serves it. */
export async function openEmbedded(
  dataDir: string,
  options: Pick<OpenOptions, 'serve' | 'command'> & SocketOptions = {},
): Promise<OpenDatabase> {
  const folder = path.resolve(dataDir);
  await mkdir(folder, { recursive: true, mode: 0o700 });
  const socketDir = options.serve ? socketDirFor(folder) : null;
  for (;;) {
    const taken = await acquireDataLock(folder, { socketDir, command: options.command });
    if ('release' in taken) return openLocked(folder, taken, socketDir, options);
    const holder = taken.heldBy;
    if (options.serve || holder.socketDir === null) throw new DataFolderBusyError(busyMessage(dataDir, holder), holder);
    if (await socketAnswers(holder, holder.socketDir))
      return fromPool(socketPool(holder.socketDir), { mode: 'embedded', access: 'socket' });
    // The holder stopped, or still starts up: look again.
  }
}

/**
 * V8 compiles PGlite's 9 MB of WebAssembly quickly (Liftoff), then again with its
 * optimizing compiler, in background threads, every function that ran a little: 0.3 s of
 * CPU that a command of a few queries never gets back. A budget about 50 times the
 * default leaves to the optimizer only what runs long (a fetch, a send, serve); measured,
 * 200,000 inserted rows and 200 grouped scans of them took as long as with the default.
 * Process-wide, but PGlite's is the only WebAssembly that runs long here.
 */
function tierUpOnlyLongRunningWasm(): void {
  v8.setFlagsFromString('--wasm-tiering-budget=100000000');
}

/**
 * shared_buffers is 128 MB by default, and PGlite touches it at start: 110 MB of RSS more
 * than 16 MB. Pages beyond it come from the OS page cache, which measured as fast as the
 * default for 200,000 inserted rows (50 MB) and 200 grouped scans of them.
 */
const pgliteSettings = ['-c', 'shared_buffers=16MB'];

async function openLocked(folder: string, lock: DataLock, socketDir: string | null, options: SocketOptions): Promise<OpenDatabase> {
  let pglite: PGlite | undefined;
  try {
    // PGlite (about 40 MB) loads only in embedded mode, never beside a Postgres server.
    const [{ PGlite }, { createPgConfig }, { serveOverSocket }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('@electric-sql/pglite/node-postgres'),
      import('../own/pglite-gate.js'),
    ]);
    tierUpOnlyLongRunningWasm();
    pglite = await PGlite.create(path.join(folder, 'pgdata'), { startParams: [...PGlite.defaultStartParams, ...pgliteSettings] });
    if (socketDir === null) {
      // PGlite is one session: a pool of one, through its own pg shim, so the dialect
      // and types are exactly those of a Postgres server.
      const pool = new pg.Pool({ ...createPgConfig(pglite), max: 1 });
      let turns = 0;
      pool.on('acquire', () => turns++);
      const opened = pglite;
      return fromPool(pool, { mode: 'embedded', access: 'direct', turns: () => turns }, async () => {
        await opened.close();
        await lock.release();
      });
    }
    const sockets = {
      dir: socketDir,
      publicPath: path.join(socketDir, publicSocketName),
      internalPath: path.join(socketDir, internalSocketName),
      remove: () => removeSocketFiles(socketDir),
    };
    const service = await serveOverSocket(pglite, sockets, options);
    const opened = pglite;
    // This process goes through the socket too: mixing in-process and socket access loses writes.
    return fromPool(socketPool(socketDir), { mode: 'embedded', access: 'socket', socketDir, turns: service.turns }, async () => {
      await service.close();
      await opened.close();
      await lock.release();
    });
  } catch (error) {
    await pglite?.close();
    await lock.release();
    throw error;
  }
}

/**
 * Waits while a live serving process is still starting (lock taken, socket not yet
 * listening); false once that process is gone.
 */
async function socketAnswers(holder: LockHolder, socketDir: string): Promise<boolean> {
  for (;;) {
    const client = new pg.Client({ host: socketDir, port: SOCKET_PORT, user: 'postgres', database: 'postgres' });
    try {
      await client.connect();
      await client.end();
      return true;
    } catch (error) {
      await client.end().catch(() => undefined);
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ECONNREFUSED') throw error;
      if (!isAlive(holder)) return false;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
