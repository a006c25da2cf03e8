import { existsSync } from 'node:fs';

/**
 * Settings from `./.env`, as .env.example suggests, put into process.env before the
 * configuration is read. A variable already set in the environment wins, even when
 * empty (Node's own loader never overwrites one). No file, nothing to do.
 */
export function loadEnvFile(file = '.env'): void {
  if (existsSync(file)) process.loadEnvFile(file);
}
