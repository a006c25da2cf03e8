import { loadConfig, type Config } from '../config/config.js';
import { ensureSecret } from '../config/secret.js';
import { openDatabase, type Db, type OpenDatabase } from '../db/connect.js';
import { migrateToLatest } from '../db/migrate.js';
import type { SendConfig } from '../jobs/send.js';

export interface CommandContext {
  config: SendConfig;
  db: Db;
  database: OpenDatabase;
}

/**
 * Opens what a command needs and always closes it. Embedded databases are migrated
 * on open (a new user should not need a step); a server is migrated by `migrate`,
 * run once by the operator, so that instances never race on schema changes.
 */
export async function withContext<T>(
  run: (context: CommandContext) => Promise<T>,
  options: { serve?: boolean; config?: Config } = {},
): Promise<T> {
  const config = await ensureSecret(options.config ?? loadConfig());
  const database = await openDatabase(config, { serve: options.serve });
  try {
    if (database.mode === 'embedded') await migrateToLatest(database.db);
    return await run({ config, db: database.db, database });
  } finally {
    await database.close();
  }
}
