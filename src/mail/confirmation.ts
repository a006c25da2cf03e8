import { randomBytes } from 'node:crypto';
import { mailDomain, mailFromAddress, type ConfigWithSecret } from '../config/config.js';
import type { Db } from '../db/connect.js';
import { composeMessage, type Mailer, type SendResult } from './transport.js';
import { compileMjml } from '../render/mjml.js';
import { markupTemplates, textTemplates } from '../render/templates.js';
import { describeSchedule, type Schedule } from '../digest/schedule.js';
import { categoryTitles } from '../feeds/store.js';
import { CONFIRM_LINK_HOURS, confirmUrl, preferencesUrl } from '../links/urls.js';

const CONFIRMATION_SEND_MS = 60_000;

export interface ConfirmationRequest {
  subscriberId: number;
  /** The sign-up the link confirms (see registerSignup). */
  signupId: number;
  email: string;
  /** The sign-up's choices (category names). */
  prefs: Schedule & { categories: string[] };
  /** Active or paused already: the mail explains that confirming replaces their settings. */
  alreadySubscribed: boolean;
}

export interface RenderedMail {
  subject: string;
  html: string;
  text: string;
}

export async function renderConfirmationMail(
  db: Db,
  config: ConfigWithSecret,
  request: ConfirmationRequest,
  now: Date = new Date(),
): Promise<RenderedMail> {
  const expiresAt = new Date(now.getTime() + CONFIRM_LINK_HOURS * 3600_000);
  const titles = await categoryTitles(db, request.prefs.categories);
  const subject = request.alreadySubscribed
    ? `Confirm your new settings for ${config.siteName}`
    : `Confirm your subscription to ${config.siteName}`;
  const view = {
    subject,
    heading: request.alreadySubscribed ? 'Confirm your new settings' : 'Please confirm your subscription',
    preheader: `One click and your ${request.prefs.frequency} digest starts. The link works for ${CONFIRM_LINK_HOURS} hours.`,
    siteName: config.siteName,
    baseUrl: config.baseUrl,
    email: request.email,
    categories: titles,
    schedule: describeSchedule(request.prefs),
    confirmUrl: confirmUrl(config, request.subscriberId, request.signupId, expiresAt),
    preferencesUrl: request.alreadySubscribed ? preferencesUrl(config, request.subscriberId) : undefined,
    expiresHours: CONFIRM_LINK_HOURS,
    alreadySubscribed: request.alreadySubscribed,
  };
  const html = await compileMjml(markupTemplates.render('./email/confirm.mjml.eta', view));
  const text = textTemplates.render('./email/confirm.txt.eta', view);
  return { subject, html, text };
}

export async function sendConfirmationMail(
  db: Db,
  mailer: Mailer,
  config: ConfigWithSecret,
  request: ConfirmationRequest,
): Promise<SendResult> {
  const mail = await renderConfirmationMail(db, config, request);
  const raw = await composeMessage({
    from: config.mailFrom,
    to: request.email,
    subject: mail.subject,
    html: mail.html,
    text: mail.text,
    messageId: `<confirm.${request.subscriberId}.${randomBytes(8).toString('hex')}@${mailDomain(config)}>`,
    // A transactional mail: no auto-replies (RFC 3834).
    headers: { 'Auto-Submitted': 'auto-generated' },
  });
  // A server that takes the data and never answers must not hold a sign-up (or a shutdown) for 10 minutes.
  return mailer.send({ from: mailFromAddress(config), to: request.email, chunks: [raw], deadline: Date.now() + CONFIRMATION_SEND_MS });
}
