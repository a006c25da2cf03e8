import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseCursor, planetVersion } from '../../planet/river.js';
import { sendNotFound, type WebContext } from '../context.js';
import {
  buildEditions,
  buildFeed,
  buildPublicOpml,
  buildRiver,
  buildSources,
  type Built,
  type PlanetBuildOptions,
} from '../planet-build.js';
import type { PlanetSite } from '../planet-pages.js';
import { contentVersion, ResponseCache, sendCached } from '../response-cache.js';

type Query = { before?: string; page?: string };
type Params = { name: string };

function pageNumberOf(query: Query): number {
  const page = Number(query.page);
  return Number.isInteger(page) && page >= 2 && page <= 1_000_000 ? page : 2;
}

/**
 * The planet: the river of posts at / and /c/<category>, Atom and JSON feeds of each,
 * the sources with OPML, and the archive of editions. Public pages with no cookies or
 * tokens, so they are cached in memory and answer conditional requests with 304.
 */
export function registerPlanetRoutes(app: FastifyInstance, ctx: WebContext): void {
  const { config } = ctx;
  const site: PlanetSite = { ...ctx.site, timezone: config.siteTimezone };
  const cache = new ResponseCache(
    config.planetCacheSeconds,
    contentVersion(() => planetVersion(ctx.db), ctx.turns),
  );
  // BASE_URL is read per build: the test harness learns its port after start.
  const options = (): PlanetBuildOptions => ({ pageSize: config.planetPageSize, baseUrl: config.baseUrl });

  const serve = async (request: FastifyRequest, reply: FastifyReply, build: () => Promise<Built | undefined>) => {
    const entry = await cache.get(request.url, build);
    return entry === undefined ? sendNotFound(ctx, reply) : sendCached(request, reply, entry, config.planetCacheSeconds);
  };

  const river =
    (category: (request: FastifyRequest<{ Querystring: Query; Params: Params }>) => string | undefined) =>
    async (request: FastifyRequest<{ Querystring: Query; Params: Params }>, reply: FastifyReply) => {
      const before = parseCursor(request.query.before);
      if (before === 'invalid') return sendNotFound(ctx, reply);
      const pageNumber = before === undefined ? 1 : pageNumberOf(request.query);
      return serve(request, reply, () => buildRiver(ctx.db, site, options(), { category: category(request), before, pageNumber }));
    };
  app.get<{ Querystring: Query; Params: Params }>(
    '/',
    river(() => undefined),
  );
  app.get<{ Querystring: Query; Params: Params }>(
    '/c/:name',
    river((request) => request.params.name),
  );

  for (const format of ['atom', 'json'] as const) {
    app.get(`/feed.${format}`, (request, reply) => serve(request, reply, () => buildFeed(ctx.db, site, options(), format)));
    app.get<{ Params: Params }>(`/c/:name/feed.${format}`, (request, reply) =>
      serve(request, reply, () => buildFeed(ctx.db, site, options(), format, request.params.name)),
    );
  }

  app.get('/sources', (request, reply) => serve(request, reply, () => buildSources(ctx.db, site, new Date())));
  app.get('/opml', (request, reply) => serve(request, reply, () => buildPublicOpml(ctx.db, site)));
  app.get<{ Params: Params }>('/c/:name/opml', (request, reply) =>
    serve(request, reply, () => buildPublicOpml(ctx.db, site, request.params.name)),
  );

  app.get<{ Querystring: Query }>('/editions', (request, reply) => {
    const raw = request.query.before;
    if (raw !== undefined && !/^\d{1,10}$/.test(raw)) return sendNotFound(ctx, reply);
    return serve(request, reply, () =>
      buildEditions(ctx.db, site, { beforeId: raw === undefined ? undefined : Number(raw), pageNumber: 1 }),
    );
  });
}
