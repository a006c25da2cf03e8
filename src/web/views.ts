import path from 'node:path';
import type { FastifyReply } from 'fastify';
import { templatesDir } from '../paths.js';
import { serverLinker, type Linker } from './links.js';
import { templateEngine } from '../render/templates.js';

/** Page templates escape every value by default; only the layout inserts the rendered body raw. TEMPLATES_DIR/web/ overrides them. */
const pages = templateEngine(path.join(templatesDir, 'web'), { autoEscape: true });

export interface Site {
  siteName: string;
  /** BASE_URL's path ('' or '/digest'), so pages work behind a proxy that mounts us on a sub-path. */
  base: string;
  /** Whether the river, feeds out, sources and archive are on the web (PLANET_PUBLIC). */
  planet: boolean;
  links: Linker;
}

export type PageName =
  | 'home'
  | 'check-inbox'
  | 'confirm'
  | 'confirmed'
  | 'unsubscribe'
  | 'preferences'
  | 'edition'
  | 'river'
  | 'sources'
  | 'editions'
  | 'not-found'
  | 'error';

export function renderPage(site: Site, page: PageName, data: { title: string } & Record<string, unknown>): string {
  return pages.render(`./${page}.eta`, { ...site, ...data });
}

export function sendPage(
  reply: FastifyReply,
  site: Site,
  page: PageName,
  data: { title: string } & Record<string, unknown>,
  status = 200,
): FastifyReply {
  const html = renderPage(site, page, data);
  return (
    reply
      .code(status)
      .type('text/html; charset=utf-8')
      // Pages carry form tokens and personal link tokens: never kept by a cache.
      .header('cache-control', 'no-store')
      .send(html)
  );
}

export function siteOf(config: { siteName: string; baseUrl: string; planetPublic: boolean }): Site {
  const base = new URL(config.baseUrl).pathname.replace(/\/+$/, '');
  return { siteName: config.siteName, base, planet: config.planetPublic, links: serverLinker(base) };
}
