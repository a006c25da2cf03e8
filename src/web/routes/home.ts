import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Preferences } from '../../subscribers/preferences.js';
import { CONFIRM_LINK_HOURS } from '../../links/urls.js';
import { signUp, type PendingConfirmation } from '../../subscribers/signup.js';
import { normalizeEmail } from '../../subscribers/store.js';
import { loadCatalog, type CatalogCategory } from '../../feeds/catalog.js';
import { choicesView, formIsGenuine, formToken, originOf, sendFormExpired, type WebContext } from '../context.js';
import { asFormBody, checkTimeZoneInDatabase, field, readPreferences, type FieldErrors } from '../forms.js';
import { sendPage } from '../views.js';

/** Bots fill every field; people never see this one. */
export const HONEYPOT_FIELD = 'website';

export interface SignupRouteOptions {
  /** Per IP, on top of the global limit. */
  signupsPerHour: number;
}

function defaultPreferences(ctx: WebContext, catalog: CatalogCategory[]): Preferences {
  return {
    categories: catalog.map((c) => c.name),
    timezone: ctx.config.defaultTimezone,
    deliveryHour: ctx.config.defaultDeliveryHour,
    frequency: 'daily',
    weeklyDay: 1,
  };
}

interface HomeForm {
  email: string;
  prefs: Preferences;
  fieldErrors: FieldErrors;
  /** Only a fresh form takes the browser's zone: a resubmitted one keeps what was chosen. */
  detectZone: boolean;
}

function sendHome(ctx: WebContext, request: FastifyRequest, reply: FastifyReply, catalog: CatalogCategory[], form: HomeForm, status = 200) {
  return sendPage(
    reply,
    ctx.site,
    'home',
    {
      title: 'Subscribe',
      section: 'subscribe',
      catalog,
      email: form.email,
      detectZone: form.detectZone,
      choices: choicesView(catalog, form.prefs, form.fieldErrors, false),
      fieldErrors: form.fieldErrors,
      csrf: formToken(ctx, request, reply),
      honeypot: HONEYPOT_FIELD,
    },
    status,
  );
}

/**
 * Confirmation mails go out after the answer, never before it (see signUp). Closing the
 * server waits for them.
 */
function confirmationMailer(app: FastifyInstance) {
  const inFlight = new Set<Promise<void>>();
  app.addHook('onClose', async () => {
    await Promise.all(inFlight);
  });
  async function mail(confirmation: PendingConfirmation, log: FastifyBaseLogger): Promise<void> {
    const sent = await confirmation.send();
    if (!sent.ok)
      log.warn(
        { subscriberId: confirmation.subscriberId, error: sent.error },
        'confirmation mail not sent; the sign-up can be tried again at once',
      );
  }
  return (confirmation: PendingConfirmation, log: FastifyBaseLogger): void => {
    const sending = mail(confirmation, log).catch((error: unknown) => log.error({ err: error }, 'confirmation mail failed'));
    inFlight.add(sending);
    void sending.finally(() => inFlight.delete(sending));
  };
}

export function registerHomeRoutes(app: FastifyInstance, ctx: WebContext, options: SignupRouteOptions): void {
  const mailConfirmation = confirmationMailer(app);

  const showForm = async (request: FastifyRequest, reply: FastifyReply) => {
    const catalog = await loadCatalog(ctx.db);
    return sendHome(ctx, request, reply, catalog, {
      email: '',
      prefs: defaultPreferences(ctx, catalog),
      fieldErrors: {},
      detectZone: true,
    });
  };
  app.get('/subscribe', showForm);
  // With the planet public, / is the river (routes/planet.ts); a private digest opens on the form.
  if (!ctx.site.planet) app.get('/', showForm);

  app.post('/subscribe', { config: { rateLimit: { max: options.signupsPerHour, timeWindow: '1 hour' } } }, async (request, reply) => {
    if (!formIsGenuine(ctx, request)) return sendFormExpired(ctx, reply);
    const body = asFormBody(request.body);
    const email = field(body, 'email').trim();
    const checkInbox = () => sendPage(reply, ctx.site, 'check-inbox', { title: 'Check your inbox', email, hours: CONFIRM_LINK_HOURS });
    // A filled honeypot gets the ordinary answer, so a bot learns nothing to adapt to.
    if (field(body, HONEYPOT_FIELD) !== '') return checkInbox();

    const catalog = await loadCatalog(ctx.db);
    const { prefs, fieldErrors } = readPreferences(
      body,
      catalog.map((c) => c.name),
      defaultPreferences(ctx, catalog),
    );
    await checkTimeZoneInDatabase(ctx.db, prefs, fieldErrors);
    const normalized = normalizeEmail(email);
    if (normalized === undefined) fieldErrors.email = 'Enter an email address like name@example.org.';
    if (normalized === undefined || Object.keys(fieldErrors).length > 0) {
      return sendHome(ctx, request, reply, catalog, { email, prefs, fieldErrors, detectZone: false }, 400);
    }

    const confirmation = await signUp(ctx.db, ctx.mailer, ctx.config, { raw: email, normalized }, prefs, originOf(request, 'web'));
    if (confirmation !== undefined) mailConfirmation(confirmation, request.log);
    // The same answer, at once, whether the address is new, pending, subscribed or mailed today.
    return checkInbox();
  });
}
