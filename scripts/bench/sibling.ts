import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The path of a script next to `fromUrl` (an import.meta.url), with that file's own
 * extension: .js when the bench runs compiled (npm run bench), .ts through tsx.
 */
export function siblingScript(relativeName: string, fromUrl: string): string {
  return fileURLToPath(new URL(`${relativeName}${path.extname(fileURLToPath(fromUrl))}`, fromUrl));
}
