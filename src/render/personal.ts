import { randomBytes } from 'node:crypto';
import { preferencesUrl, unsubscribeUrl, type LinkConfig } from '../links/urls.js';
import { dateFormatter } from './dates.js';

/**
 * The one home of the values that differ per subscriber in a digest's body. An
 * edition is rendered once with a placeholder for each; delivery, previews and the
 * demo fill them with `personalValues`. Adding one means adding it here and using
 * `it.personal.<name>` in a template, nothing else.
 */
export const PERSONAL_VALUE_NAMES = ['unsubscribeUrl', 'preferencesUrl', 'subscribedOn'] as const;
export type PersonalValueName = (typeof PERSONAL_VALUE_NAMES)[number];
export type PersonalValues = Record<PersonalValueName, string>;

export interface PersonalSubject {
  id: number;
  /** When they subscribed (confirmed, else added). */
  subscribedAt: Date;
  timeZone: string;
}

export function personalValues(config: LinkConfig & { digestLocale: string }, subscriber: PersonalSubject): PersonalValues {
  return {
    unsubscribeUrl: unsubscribeUrl(config, subscriber.id),
    preferencesUrl: preferencesUrl(config, subscriber.id),
    subscribedOn: dateFormatter(config.digestLocale, subscriber.timeZone, 'day').format(subscriber.subscribedAt),
  };
}

/**
 * A rendering's placeholders carry a random nonce: feed and admin text cannot
 * guess it, so no post, title or link can produce a placeholder that delivery
 * would fill with a subscriber's signed links. Letters, digits and "-" only: they
 * pass HTML escaping, MJML and quoted-printable unchanged.
 */
export function newSlotNonce(): string {
  return randomBytes(12).toString('hex');
}

export function placeholders(nonce: string): PersonalValues {
  return Object.fromEntries(PERSONAL_VALUE_NAMES.map((name) => [name, `FD-${nonce}-${name}`])) as PersonalValues;
}

/** Puts one subscriber's values into a rendered body (previews, the demo's HTML file). */
export function fillPersonalValues(body: string, nonce: string, values: PersonalValues): string {
  const marks = placeholders(nonce);
  return PERSONAL_VALUE_NAMES.reduce((text, name) => text.replaceAll(marks[name], values[name]), body);
}
