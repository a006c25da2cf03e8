import type { ConfigWithSecret } from '../config/config.js';
import type { Db } from '../db/connect.js';
import { buildDigestHeadOfItems } from '../digest/build.js';
import { pendingItemIdsFor } from '../digest/plan.js';
import { renderDigest, type RenderedDigest } from '../render/digest.js';
import { fillPersonalValues, personalValues } from '../render/personal.js';
import { findSubscriberByEmail } from '../subscribers/store.js';
import { renderContext } from './send.js';

export type PreviewOutcome =
  { kind: 'digest'; digest: RenderedDigest; postCount: number } | { kind: 'empty' } | { kind: 'unknown-subscriber' };

/** The digest a subscriber would get if it were sent now, with their own links; nothing is written. */
export async function previewDigest(db: Db, config: ConfigWithSecret, email: string, now = new Date()): Promise<PreviewOutcome> {
  const subscriber = await findSubscriberByEmail(db, email);
  if (subscriber === undefined) return { kind: 'unknown-subscriber' };
  const itemIds = await pendingItemIdsFor(db, subscriber.id);
  if (itemIds.length === 0) return { kind: 'empty' };
  const categories = await db
    .selectFrom('subscriber_categories')
    .select('category_id')
    .where('subscriber_id', '=', subscriber.id)
    .execute();
  const digest = await buildDigestHeadOfItems(db, itemIds, {
    editionId: 0,
    editionKey: 'preview',
    date: now,
    timeZone: subscriber.timezone,
    categoryIds: categories.map((c) => c.category_id),
  });
  const rendered = await renderDigest(digest, renderContext(config, config.baseUrl, now));
  const values = personalValues(config, {
    id: subscriber.id,
    subscribedAt: subscriber.confirmed_at ?? subscriber.created_at,
    timeZone: subscriber.timezone,
  });
  const fill = (body: string) => fillPersonalValues(body, rendered.slotNonce, values);
  return {
    kind: 'digest',
    postCount: digest.postCount,
    digest: { ...rendered, html: fill(rendered.html), text: fill(rendered.text) },
  };
}
