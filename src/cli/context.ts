import { ConfigError, loadConfig, type Config, type ConfigWithSecret } from '../config/config.js';
import { ensureSecret } from '../config/secret.js';
import { openDatabase, type Db, type OpenDatabase } from '../db/connect.js';
import { migrateToLatest } from '../db/migrate.js';

/**
 * The operator's templates are tried before anything else: a broken one is a configuration
 * error. The built-in ones are tested with the program, so a command without TEMPLATES_DIR
 * loads no renderer (it and the mail modules it brings take about 0.3 s to import).
 */
async function checkTemplates(config: Config): Promise<void> {
  if (config.templatesDir === undefined) return;
  const [{ renderContext }, { prepareTemplates }, { TemplateError }] = await Promise.all([
    import('../jobs/send.js'),
    import('../render/digest.js'),
    import('../render/templates.js'),
  ]);
  try {
    await prepareTemplates(config.templatesDir, renderContext(config, config.baseUrl, new Date()));
  } catch (error) {
    if (error instanceof TemplateError) throw new ConfigError([`TEMPLATES_DIR: ${error.message}`]);
    throw error;
  }
}

export interface CommandContext {
  config: ConfigWithSecret;
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
  const loaded = options.config ?? loadConfig();
  await checkTemplates(loaded);
  const config = await ensureSecret(loaded);
  const database = await openDatabase(config, { serve: options.serve });
  try {
    if (database.mode === 'embedded') await migrateToLatest(database.db);
    return await run({ config, db: database.db, database });
  } finally {
    await database.close();
  }
}
