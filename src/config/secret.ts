import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config, ConfigWithSecret } from './config.js';

/**
 * In embedded mode a new user should not have to invent a secret: one is made on
 * first use and kept in the data folder (mode 0600) so that links stay valid.
 */
export async function ensureSecret(config: Config): Promise<ConfigWithSecret> {
  if (config.secret !== undefined) return config as ConfigWithSecret;
  const file = path.join(config.dataDir, 'secret');
  try {
    const stored = (await readFile(file, 'utf8')).trim();
    if (stored.length >= 32) return { ...config, secret: stored };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(config.dataDir, { recursive: true });
  const secret = randomBytes(32).toString('hex');
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return { ...config, secret: (await readFile(file, 'utf8')).trim() };
}
