import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ConfigWithSecret } from '../config/config.js';
import type { Db } from '../db/connect.js';
import type { ConsentChannel, Subscriber } from '../db/schema.js';
import type { Mailer } from '../mail/transport.js';
import type { RequestOrigin } from '../subscribers/consent.js';
import { formatHour, WEEKDAYS } from '../digest/schedule.js';
import type { Preferences } from '../subscribers/preferences.js';
import { getSubscriber } from '../subscribers/store.js';
import { tokenKeys, verifyToken, type TokenPurpose } from '../links/tokens.js';
import type { CatalogCategory } from '../feeds/catalog.js';
import { checkFormToken, FORM_COOKIE, isFormCookie, issueFormToken, newFormCookie } from './csrf.js';
import { asFormBody, field, type FieldErrors } from './forms.js';
import { sendPage, siteOf, type Site } from './views.js';

/** What every route needs, built once per server. */
export interface WebContext {
  db: Db;
  config: ConfigWithSecret;
  mailer: Mailer;
  site: Site;
  /** The database's turn count when every client comes through this process (OpenDatabase.turns). */
  turns?: () => number;
}

export function createContext(db: Db, config: ConfigWithSecret, mailer: Mailer, turns?: () => number): WebContext {
  return { db, config, mailer, site: siteOf(config), turns };
}

export function originOf(request: FastifyRequest, channel: ConsentChannel): RequestOrigin {
  return { channel, ip: request.ip, userAgent: request.headers['user-agent'] ?? null };
}

/** The form token for this browser, setting the cookie it is bound to when missing. */
export function formToken(ctx: WebContext, request: FastifyRequest, reply: FastifyReply): string {
  let cookie = request.cookies[FORM_COOKIE];
  if (!isFormCookie(cookie)) {
    cookie = newFormCookie();
    reply.setCookie(FORM_COOKIE, cookie, {
      path: ctx.site.base || '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: ctx.config.baseUrl.startsWith('https:'),
    });
  }
  return issueFormToken(ctx.config.secret, cookie);
}

export function formIsGenuine(ctx: WebContext, request: FastifyRequest): boolean {
  return checkFormToken(ctx.config.secret, request.cookies[FORM_COOKIE], field(asFormBody(request.body), '_csrf'));
}

export function sendFormExpired(ctx: WebContext, reply: FastifyReply): FastifyReply {
  return sendPage(
    reply,
    ctx.site,
    'error',
    {
      title: 'This form has expired',
      message: 'The form was open too long, or your browser did not keep its cookie. Go back, reload the page and try again.',
    },
    403,
  );
}

export function sendNotFound(ctx: WebContext, reply: FastifyReply): FastifyReply {
  return sendPage(reply, ctx.site, 'not-found', { title: 'Link not found' }, 404);
}

/**
 * The subscriber a link token names, or undefined for a forged, altered, expired or
 * stale token: every one of these gets the same 404, so a token reveals nothing.
 */
export async function subscriberFor(ctx: WebContext, token: string, purpose: TokenPurpose): Promise<Subscriber | undefined> {
  const claims = verifyToken(tokenKeys(ctx.config), token, purpose);
  return claims === undefined ? undefined : getSubscriber(ctx.db, claims.subscriberId);
}

const ZONES = ['UTC', ...Intl.supportedValuesOf('timeZone')];

/** The view model of the choices fields (templates/web/_choices.eta). */
export function choicesView(catalog: CatalogCategory[], prefs: Preferences, fieldErrors: FieldErrors, withSchedule: boolean) {
  return {
    categories: catalog.map((c) => ({ name: c.name, title: c.title, checked: prefs.categories.includes(c.name) })),
    hours: Array.from({ length: 24 }, (_, hour) => ({ value: hour, label: formatHour(hour), selected: hour === prefs.deliveryHour })),
    // A zone set elsewhere (an alias such as US/Eastern) stays selectable.
    zones: (ZONES.includes(prefs.timezone) ? ZONES : [prefs.timezone, ...ZONES]).map((zone) => ({
      value: zone,
      selected: zone === prefs.timezone,
    })),
    weekdays: WEEKDAYS.map((label, index) => ({ value: index + 1, label, selected: index + 1 === prefs.weeklyDay })),
    frequency: prefs.frequency,
    withSchedule,
    fieldErrors,
  };
}
