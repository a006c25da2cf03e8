import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import type { Config, ConfigWithSecret } from '../config/config.js';
import type { Db } from '../db/connect.js';
import type { Mailer } from '../mail/transport.js';
import { createContext, sendNotFound } from './context.js';
import { parseMultipartFields } from '../own/multipart.js';
import { registerConfirmRoutes } from './routes/confirm.js';
import { registerEditionRoutes } from './routes/edition.js';
import { registerHomeRoutes } from './routes/home.js';
import { registerPlanetRoutes } from './routes/planet.js';
import { registerPreferencesRoutes } from './routes/preferences.js';
import { registerStaticRoutes } from './routes/static.js';
import { registerUnsubscribeRoutes } from './routes/unsubscribe.js';
import { registerWebhookRoutes, type WebhookOptions } from './routes/webhooks.js';
import { sendPage } from './views.js';

export interface WebLimits {
  /** Largest request body accepted (413 beyond). */
  bodyBytes: number;
  /** Per client IP, every route together. */
  requestsPerMinute: number;
  /** Per client IP, sign-up form posts. */
  signupsPerHour: number;
}

export const DEFAULT_WEB_LIMITS: WebLimits = { bodyBytes: 16 * 1024, requestsPerMinute: 300, signupsPerHour: 20 };

export interface WebDeps {
  db: Db;
  /** OpenDatabase.turns: lets cached planet pages hold without a query while nothing ran. */
  turns?: () => number;
  /** After ensureSecret: links and form tokens are signed with config.secret. */
  config: ConfigWithSecret;
  mailer: Mailer;
  /** The process's pino logger; none when absent. */
  logger?: FastifyBaseLogger;
  limits?: Partial<WebLimits>;
  webhooks?: WebhookOptions;
}

/** A hop count trusts that many proxies in front of us (Fastify types lack the number form). */
function trustProxyOption(value: Config['trustProxy']) {
  return typeof value === 'number' ? (_address: string, hop: number) => hop < value : value;
}

/** Sign-up, confirmation, preferences and unsubscribe pages, and /healthz. Not yet listening. */
export async function buildWebServer(deps: WebDeps): Promise<FastifyInstance> {
  const limits = { ...DEFAULT_WEB_LIMITS, ...deps.limits };
  const ctx = createContext(deps.db, deps.config, deps.mailer, deps.turns);
  const app = Fastify({
    ...(deps.logger === undefined ? { logger: false } : { loggerInstance: deps.logger }),
    bodyLimit: limits.bodyBytes,
    trustProxy: trustProxyOption(deps.config.trustProxy),
  }) as unknown as FastifyInstance;

  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        // Posts on the river show their pictures from their own hosts, over https only.
        imgSrc: ["'self'", 'https:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    // Pages hold personal link tokens in their URLs: never send them on as a Referer.
    referrerPolicy: { policy: 'no-referrer' },
    frameguard: { action: 'deny' },
  });
  await app.register(cookie);
  await app.register(formbody);
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string' }, (request, body, done) => {
    done(null, parseMultipartFields(body as string, request.headers['content-type'] ?? ''));
  });
  await app.register(rateLimit, {
    max: limits.requestsPerMinute,
    timeWindow: '1 minute',
    errorResponseBuilder: (_request, context) =>
      Object.assign(new Error(`Too many requests: try again in ${context.after}.`), { statusCode: 429 }),
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    const status = error.statusCode ?? 500;
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    const message =
      status === 429
        ? error.message
        : status === 413
          ? 'That was more data than this form ever sends.'
          : status < 500
            ? 'The request could not be understood.'
            : 'Something went wrong on our side. Please try again later.';
    return sendPage(reply, ctx.site, 'error', { title: status === 429 ? 'Slow down' : 'Sorry', message }, status);
  });
  app.setNotFoundHandler((_request, reply) => sendNotFound(ctx, reply));

  app.get('/healthz', { config: { rateLimit: false } }, async (_request, reply) => {
    await sql`select 1`.execute(deps.db);
    return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send('ok');
  });
  await registerStaticRoutes(app);
  registerHomeRoutes(app, ctx, { signupsPerHour: limits.signupsPerHour });
  registerConfirmRoutes(app, ctx);
  registerUnsubscribeRoutes(app, ctx);
  registerPreferencesRoutes(app, ctx);
  registerEditionRoutes(app, ctx);
  if (deps.config.planetPublic) registerPlanetRoutes(app, ctx);
  registerWebhookRoutes(app, ctx, deps.webhooks);
  return app;
}
