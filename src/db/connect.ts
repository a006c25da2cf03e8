import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import { createPgConfig } from '@electric-sql/pglite/node-postgres';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Config } from '../config/config.js';
import type { Database } from './schema.js';

// Counts and bigserial ids fit easily in a double; strings for them would leak everywhere.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));

export type Db = Kysely<Database>;

export interface OpenDatabase {
  db: Db;
  /** 'server' through pg to DATABASE_URL, 'embedded' for PGlite in DATA_DIR. */
  mode: 'server' | 'embedded';
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Pool size for a Postgres server. */
  poolSize?: number;
}

export async function openDatabase(config: Config, options: OpenOptions = {}): Promise<OpenDatabase> {
  if (config.databaseUrl !== undefined) return openServer(config.databaseUrl, options.poolSize ?? 10);
  return openEmbedded(config.dataDir);
}

export function openServer(connectionString: string, poolSize: number): OpenDatabase {
  const pool = new pg.Pool({ connectionString, max: poolSize });
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, mode: 'server', close: () => db.destroy() };
}

export async function openEmbedded(dataDir: string): Promise<OpenDatabase> {
  await mkdir(dataDir, { recursive: true });
  const pglite = await PGlite.create(`${dataDir}/pgdata`);
  // PGlite is one session: a pool of one, through its own pg shim, so the dialect
  // and types are exactly those of a Postgres server.
  const pool = new pg.Pool({ ...createPgConfig(pglite), max: 1 } as pg.PoolConfig);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    mode: 'embedded',
    close: async () => {
      await db.destroy();
      await pglite.close();
    },
  };
}
