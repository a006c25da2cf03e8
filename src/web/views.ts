import path from 'node:path';
import type { FastifyReply } from 'fastify';
import { templatesDir } from '../paths.js';
import { templateEngine } from '../render/templates.js';

/** Page templates escape every value by default; only the layout inserts the rendered body raw. TEMPLATES_DIR/web/ overrides them. */
const pages = templateEngine(path.join(templatesDir, 'web'), { autoEscape: true });

export interface Site {
  siteName: string;
  /** BASE_URL's path ('' or '/digest'), so pages work behind a proxy that mounts us on a sub-path. */
  base: string;
}

export type PageName =
  | 'home'
  | 'check-inbox'
  | 'confirm'
  | 'confirmed'
  | 'unsubscribe'
  | 'preferences'
  | 'edition'
  | 'not-found'
  | 'error';

export function sendPage(reply: FastifyReply, site: Site, page: PageName, data: { title: string } & Record<string, unknown>, status = 200): FastifyReply {
  const html = pages.render(`./${page}.eta`, { ...site, ...data });
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    // Pages carry form tokens and personal link tokens: never kept by a cache.
    .header('cache-control', 'no-store')
    .send(html);
}

export function siteOf(config: { siteName: string; baseUrl: string }): Site {
  return { siteName: config.siteName, base: new URL(config.baseUrl).pathname.replace(/\/+$/, '') };
}
