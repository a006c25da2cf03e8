import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Subscriber } from '../../db/schema.js';
import { unsubscribeUrl } from '../../links/urls.js';
import { describeSchedule } from '../../digest/schedule.js';
import { preferencesOf, savePreferences, type Preferences } from '../../subscribers/preferences.js';
import { changeStatus, type StatusAction } from '../../subscribers/status.js';
import { subscriberCategoryNames } from '../../subscribers/store.js';
import { loadCatalog, type CatalogCategory } from '../../feeds/catalog.js';
import {
  choicesView,
  formIsGenuine,
  formToken,
  originOf,
  sendFormExpired,
  sendNotFound,
  subscriberFor,
  type WebContext,
} from '../context.js';
import { asFormBody, checkTimeZoneInDatabase, field, readPreferences, type FieldErrors } from '../forms.js';
import { sendPage } from '../views.js';

type TokenParams = { Params: { token: string }; Querystring: { done?: string } };

const STATUS_ACTIONS: readonly StatusAction[] = ['pause', 'resume', 'unsubscribe', 'resubscribe'];

// A Map, not an object: `?done=constructor` must not find Object.prototype's members.
const NOTICES = new Map<string, string>([
  ['saved', 'Your choices are saved.'],
  ['pause', 'Your digests are paused. Resume them whenever you like.'],
  ['resume', 'Your digests are back on.'],
  ['unsubscribe', 'You are unsubscribed and will get no more digests.'],
  ['resubscribe', 'Welcome back: your digests start again.'],
]);

const STATUS_LABELS: Record<Subscriber['status'], string> = {
  pending: 'Waiting for you to confirm your email address',
  active: 'Subscribed',
  paused: 'Paused: no digests until you resume',
  unsubscribed: 'Unsubscribed',
  bounced: 'Stopped: our emails to this address bounced',
};

interface PreferencesForm {
  prefs: Preferences;
  fieldErrors: FieldErrors;
  notice?: string | undefined;
}

function sendPreferencesPage(
  ctx: WebContext,
  request: FastifyRequest,
  reply: FastifyReply,
  subscriber: Subscriber,
  catalog: CatalogCategory[],
  form: PreferencesForm,
  status = 200,
) {
  return sendPage(
    reply,
    ctx.site,
    'preferences',
    {
      title: 'Your preferences',
      email: subscriber.email,
      status: subscriber.status,
      statusLabel: STATUS_LABELS[subscriber.status],
      schedule: describeSchedule(preferencesOf(subscriber, [])),
      canResubscribe: subscriber.confirmed_at !== null,
      notice: form.notice,
      choices: choicesView(catalog, form.prefs, form.fieldErrors, true),
      fieldErrors: form.fieldErrors,
      unsubscribeUrl: unsubscribeUrl(ctx.config, subscriber.id),
      csrf: formToken(ctx, request, reply),
    },
    status,
  );
}

export function registerPreferencesRoutes(app: FastifyInstance, ctx: WebContext): void {
  app.get<TokenParams>('/preferences/:token', async (request, reply) => {
    const subscriber = await subscriberFor(ctx, request.params.token, 'preferences');
    if (subscriber === undefined) return sendNotFound(ctx, reply);
    const prefs = preferencesOf(subscriber, await subscriberCategoryNames(ctx.db, subscriber.id));
    const notice = NOTICES.get(String(request.query.done ?? ''));
    return sendPreferencesPage(ctx, request, reply, subscriber, await loadCatalog(ctx.db), { prefs, fieldErrors: {}, notice });
  });

  app.post<TokenParams>('/preferences/:token', async (request, reply) => {
    const { token } = request.params;
    const subscriber = await subscriberFor(ctx, token, 'preferences');
    if (subscriber === undefined) return sendNotFound(ctx, reply);
    if (!formIsGenuine(ctx, request)) return sendFormExpired(ctx, reply);
    const body = asFormBody(request.body);
    const action = field(body, 'action');
    // Post, redirect, get: a reload does not post again, and the page shows the stored state.
    const done = (what: string) => reply.redirect(`${ctx.site.base}/preferences/${token}?done=${what}`, 303);

    const statusAction = STATUS_ACTIONS.find((a) => a === action);
    if (statusAction !== undefined) {
      await changeStatus(ctx.db, subscriber.id, statusAction, originOf(request, 'web'));
      return done(statusAction);
    }
    const catalog = await loadCatalog(ctx.db);
    const current = preferencesOf(subscriber, await subscriberCategoryNames(ctx.db, subscriber.id));
    const { prefs, fieldErrors } = readPreferences(
      body,
      catalog.map((c) => c.name),
      current,
    );
    await checkTimeZoneInDatabase(ctx.db, prefs, fieldErrors);
    const problem =
      Object.keys(fieldErrors).length === 0 ? await savePreferences(ctx.db, subscriber.id, prefs, originOf(request, 'web')) : undefined;
    if (problem !== undefined) fieldErrors.categories = 'Choose at least one category.';
    if (Object.keys(fieldErrors).length > 0) {
      return sendPreferencesPage(ctx, request, reply, subscriber, catalog, { prefs, fieldErrors }, 400);
    }
    return done('saved');
  });
}
