import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Subscriber } from '../../db/schema.js';
import { preferencesUrl } from '../../links/urls.js';
import { changeStatus } from '../../subscribers/status.js';
import { formIsGenuine, formToken, originOf, sendFormExpired, sendNotFound, subscriberFor, type WebContext } from '../context.js';
import { asFormBody, field } from '../forms.js';
import { sendPage } from '../views.js';

type TokenParams = { Params: { token: string } };

/** RFC 8058: the body a mail provider POSTs for one-click unsubscribe. */
export function isOneClick(body: unknown): boolean {
  return field(asFormBody(body), 'List-Unsubscribe') === 'One-Click';
}

function sendUnsubscribePage(ctx: WebContext, request: FastifyRequest, reply: FastifyReply, subscriber: Subscriber, notice?: string) {
  return sendPage(reply, ctx.site, 'unsubscribe', {
    title: subscriber.status === 'unsubscribed' ? 'You are unsubscribed' : 'Unsubscribe',
    email: subscriber.email,
    unsubscribed: subscriber.status === 'unsubscribed',
    // Resubscribing without a new double opt-in is for those who once confirmed.
    canResubscribe: subscriber.confirmed_at !== null,
    notice,
    preferencesUrl: preferencesUrl(ctx.config, subscriber.id),
    csrf: formToken(ctx, request, reply),
  });
}

export function registerUnsubscribeRoutes(app: FastifyInstance, ctx: WebContext): void {
  app.get<TokenParams>('/unsubscribe/:token', async (request, reply) => {
    const subscriber = await subscriberFor(ctx, request.params.token, 'unsubscribe');
    if (subscriber === undefined) return sendNotFound(ctx, reply);
    return sendUnsubscribePage(ctx, request, reply, subscriber);
  });

  app.post<TokenParams>(
    '/unsubscribe/:token',
    // Providers send one-clicks for many people from few addresses; a valid token is the
    // only thing that changes anything here, and a forged one costs one HMAC.
    { config: { rateLimit: { hook: 'preHandler', allowList: (request: FastifyRequest) => isOneClick(request.body) } } },
    async (request, reply) => {
      const subscriber = await subscriberFor(ctx, request.params.token, 'unsubscribe');
      if (subscriber === undefined) return sendNotFound(ctx, reply);
      if (isOneClick(request.body)) {
        // The token is the authentication: no cookie, no form token, no redirect; repeats are harmless.
        await changeStatus(ctx.db, subscriber.id, 'unsubscribe', originOf(request, 'one-click'));
        return reply.code(200).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send('Unsubscribed.\n');
      }
      if (!formIsGenuine(ctx, request)) return sendFormExpired(ctx, reply);
      const action = field(asFormBody(request.body), 'action') === 'resubscribe' ? 'resubscribe' : 'unsubscribe';
      const changed = await changeStatus(ctx.db, subscriber.id, action, originOf(request, 'web'));
      const now = changed ?? subscriber;
      const notice = now.status === 'unsubscribed' ? 'You will get no more digests.' : 'Welcome back: your digests start again.';
      return sendUnsubscribePage(ctx, request, reply, now, notice);
    },
  );
}
