import type { FastifyInstance } from 'fastify';
import { confirmSubscription } from '../../subscribers/confirm.js';
import { preferencesUrl } from '../../subscribers/links.js';
import { describeSchedule, preferencesOf } from '../../subscribers/preferences.js';
import { categoryTitles, subscriberCategoryNames } from '../../subscribers/store.js';
import { formIsGenuine, formToken, originOf, sendFormExpired, sendNotFound, subscriberFor, type WebContext } from '../context.js';
import { sendPage } from '../views.js';

type TokenParams = { Params: { token: string } };

export function registerConfirmRoutes(app: FastifyInstance, ctx: WebContext): void {
  // Mail scanners open links: GET only shows the button.
  app.get<TokenParams>('/confirm/:token', async (request, reply) => {
    const subscriber = await subscriberFor(ctx, request.params.token, 'confirm');
    if (subscriber === undefined) return sendNotFound(ctx, reply);
    return sendPage(reply, ctx.site, 'confirm', {
      title: 'Confirm your subscription',
      email: subscriber.email,
      csrf: formToken(ctx, request, reply),
    });
  });

  app.post<TokenParams>('/confirm/:token', async (request, reply) => {
    const subscriber = await subscriberFor(ctx, request.params.token, 'confirm');
    if (subscriber === undefined) return sendNotFound(ctx, reply);
    if (!formIsGenuine(ctx, request)) return sendFormExpired(ctx, reply);
    const confirmed = await confirmSubscription(ctx.db, subscriber.id, originOf(request, 'web'));
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

