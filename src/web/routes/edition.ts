import type { FastifyInstance } from 'fastify';
import { buildDigestByKey } from '../../digest/build.js';
import { sendNotFound, type WebContext } from '../context.js';
import { editionView } from '../planet-pages.js';
import { sendPage } from '../views.js';

/**
 * A digest on the web, whole: where "View in your browser" and each category's
 * "Also new" line lead (to its anchor). The key is the edition's content hash, so
 * only people who got the edition can find it; the page holds no personal links.
 */
export function registerEditionRoutes(app: FastifyInstance, ctx: WebContext): void {
  app.get<{ Params: { key: string } }>('/editions/:key', async (request, reply) => {
    const digest = /^[A-Za-z0-9_-]{43}$/.test(request.params.key) ? await buildDigestByKey(ctx.db, request.params.key) : undefined;
    if (digest === undefined) return sendNotFound(ctx, reply);
    // Posts' pictures live on their sites, always https (see feeds/normalize.ts): the one
    // thing this page loads from elsewhere. The rest of the policy stays as the server set it.
    const policy = reply.getHeader('content-security-policy');
    if (typeof policy === 'string') reply.header('content-security-policy', policy.replace(/img-src 'self'/, "img-src 'self' https:"));
    return sendPage(reply, ctx.site, 'edition', editionView(digest, ctx.config.digestLocale));
  });
}
