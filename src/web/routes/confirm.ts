import type { FastifyInstance } from 'fastify';
import type { Subscriber } from '../../db/schema.js';
import { confirmSubscription, pendingSignupSubscriber } from '../../subscribers/confirm.js';
import { preferencesUrl } from '../../links/urls.js';
import { describeSchedule } from '../../digest/schedule.js';
import { preferencesOf } from '../../subscribers/preferences.js';
import { categoryTitles } from '../../feeds/store.js';
import { subscriberCategoryNames } from '../../subscribers/store.js';
import { tokenKeys, verifyToken } from '../../links/tokens.js';
import { formIsGenuine, formToken, originOf, sendFormExpired, sendNotFound, type WebContext } from '../context.js';
import { sendPage } from '../views.js';

type TokenParams = { Params: { token: string } };

/**
 * The sign-up a confirm link names and its subscriber, while that sign-up is still waiting.
 * A used or replaced link gets the same 404 as a forged one.
 */
async function pendingSignupFor(ctx: WebContext, token: string): Promise<{ subscriber: Subscriber; signupId: number } | undefined> {
  const claims = verifyToken(tokenKeys(ctx.config), token, 'confirm');
  if (claims?.signupId === undefined) return undefined;
  const subscriber = await pendingSignupSubscriber(ctx.db, claims.subscriberId, claims.signupId);
  return subscriber === undefined ? undefined : { subscriber, signupId: claims.signupId };
}

export function registerConfirmRoutes(app: FastifyInstance, ctx: WebContext): void {
  // Mail scanners open links: GET only shows the button.
  app.get<TokenParams>('/confirm/:token', async (request, reply) => {
    const pending = await pendingSignupFor(ctx, request.params.token);
    if (pending === undefined) return sendNotFound(ctx, reply);
    return sendPage(reply, ctx.site, 'confirm', {
      title: 'Confirm your subscription',
      email: pending.subscriber.email,
      csrf: formToken(ctx, request, reply),
    });
  });

  app.post<TokenParams>('/confirm/:token', async (request, reply) => {
    const pending = await pendingSignupFor(ctx, request.params.token);
    if (pending === undefined) return sendNotFound(ctx, reply);
    if (!formIsGenuine(ctx, request)) return sendFormExpired(ctx, reply);
    const confirmed = await confirmSubscription(ctx.db, pending.subscriber.id, pending.signupId, originOf(request, 'web'));
    if (confirmed === undefined) return sendNotFound(ctx, reply);
    const categories = await subscriberCategoryNames(ctx.db, confirmed.id);
    return sendPage(reply, ctx.site, 'confirmed', {
      title: 'You are subscribed',
      email: confirmed.email,
      schedule: describeSchedule(preferencesOf(confirmed, categories)),
      categories: await categoryTitles(ctx.db, categories),
      preferencesUrl: preferencesUrl(ctx.config, confirmed.id),
    });
  });
}
