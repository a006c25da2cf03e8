import type { Db } from '../db/connect.js';
import { buildDigestOfItems } from '../digest/build.js';
import { pendingItemIdsFor } from '../digest/plan.js';
import { fillPlaceholders, renderDigest, type RenderedDigest } from '../render/digest.js';
import { preferencesUrl, unsubscribeUrl } from '../subscribers/links.js';
import { findSubscriberByEmail } from '../subscribers/store.js';
import type { SendConfig } from './send.js';

export type PreviewOutcome =
  | { kind: 'digest'; digest: RenderedDigest; postCount: number }
  | { kind: 'empty' }
  | { kind: 'unknown-subscriber' };

/** The digest a subscriber would get if it were sent now, with their own links; nothing is written. */
export async function previewDigest(db: Db, config: SendConfig, email: string, now = new Date()): Promise<PreviewOutcome> {
  const subscriber = await findSubscriberByEmail(db, email);
  if (subscriber === undefined) return { kind: 'unknown-subscriber' };
  const itemIds = await pendingItemIdsFor(db, subscriber.id);
  if (itemIds.length === 0) return { kind: 'empty' };
  const digest = await buildDigestOfItems(db, itemIds, { editionId: 0, editionKey: 'preview' });
  const rendered = await renderDigest(digest, {
    siteName: config.siteName,
    baseUrl: config.baseUrl,
    onlineUrl: config.baseUrl,
    now,
  });
  const links = { unsubscribeUrl: unsubscribeUrl(config, subscriber.id), preferencesUrl: preferencesUrl(config, subscriber.id) };
  return {
    kind: 'digest',
    postCount: digest.postCount,
    digest: { subject: rendered.subject, html: fillPlaceholders(rendered.html, links), text: fillPlaceholders(rendered.text, links) },
  };
}
