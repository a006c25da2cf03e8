import type { FastifyInstance } from 'fastify';
import { buildDigestByKey } from '../../digest/build.js';
import { sendNotFound, type WebContext } from '../context.js';
import { sendPage } from '../views.js';

const dateFormat = new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });

/**
 * A digest on the web, whole: where "N more posts" in an email leads. The key is
 * the edition's content hash, so only people who got the edition can find it; the
 * page holds no personal links.
 */
export function registerEditionRoutes(app: FastifyInstance, ctx: WebContext): void {
  app.get<{ Params: { key: string } }>('/editions/:key', async (request, reply) => {
    const digest = /^[A-Za-z0-9_-]{43}$/.test(request.params.key) ? await buildDigestByKey(ctx.db, request.params.key) : undefined;
    if (digest === undefined) return sendNotFound(ctx, reply);
    return sendPage(reply, ctx.site, 'edition', {
      title: `${digest.postCount} new post${digest.postCount === 1 ? '' : 's'}`,
      categories: digest.categories.map((category) => ({
        title: category.title,
        sources: category.sources.map((source) => ({
          title: source.title,
          siteUrl: source.siteUrl,
          posts: source.posts.map((post) => ({
            ...post,
            meta: [post.author, dateFormat.format(post.date)].filter(Boolean).join(' · '),
          })),
        })),
      })),
    });
  });
}
