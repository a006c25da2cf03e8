import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { templatesDir } from '../../paths.js';

const FILES: Record<string, string> = {
  'style.css': 'text/css; charset=utf-8',
  'tz.js': 'text/javascript; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

/**
 * The stylesheet, the time-zone script and the icon, read once and served from memory. Three small
 * files do not justify @fastify/static; the CSP allows scripts and styles from 'self' only.
 */
export async function registerStaticRoutes(app: FastifyInstance): Promise<void> {
  const contents = new Map<string, Buffer>();
  for (const name of Object.keys(FILES)) contents.set(name, await readFile(path.join(templatesDir, 'web', 'static', name)));
  app.get<{ Params: { file: string } }>('/static/:file', async (request, reply) => {
    const body = contents.get(request.params.file);
    const type = FILES[request.params.file];
    if (body === undefined || type === undefined) return reply.callNotFound();
    return reply.type(type).header('cache-control', 'public, max-age=3600').send(body);
  });
}
