import type { Config } from '../config/config.js';
import { signToken, tokenKeys, type TokenPurpose } from './tokens.js';

/** What signing a link needs: the config after ensureSecret has resolved the secret. */
export type LinkConfig = Pick<Config, 'baseUrl' | 'secretPrevious'> & { secret: string };

/** Confirmation links stop working after this long (the sign-up is purged after 7 days). */
export const CONFIRM_LINK_HOURS = 72;

function linkToken(config: LinkConfig, purpose: TokenPurpose, subscriberId: number): string {
  return signToken(tokenKeys(config), { purpose, subscriberId });
}

/** Works once, and only while this sign-up is the one waiting (see confirmSubscription). */
export function confirmUrl(config: LinkConfig, subscriberId: number, signupId: number, expiresAt: Date): string {
  const token = signToken(tokenKeys(config), {
    purpose: 'confirm',
    subscriberId,
    signupId,
    expiresAt: Math.floor(expiresAt.getTime() / 1000),
  });
  return `${config.baseUrl}/confirm/${token}`;
}

/** Never expires: RFC 8058 one-click and old digests must keep working. */
export function unsubscribeUrl(config: LinkConfig, subscriberId: number): string {
  return `${config.baseUrl}/unsubscribe/${linkToken(config, 'unsubscribe', subscriberId)}`;
}

export function preferencesUrl(config: LinkConfig, subscriberId: number): string {
  return `${config.baseUrl}/preferences/${linkToken(config, 'preferences', subscriberId)}`;
}
