import type { Config, ConfigWithSecret } from '../config/config.js';
import type { Db } from '../db/connect.js';
import { buildDigestHead, digestHeadReader } from '../digest/build.js';
import type { Digest } from '../digest/model.js';
import { planDeliveries, type PlanSummary } from '../digest/plan.js';
import { deliverQueue, type DeliverOptions, type DeliverSummary } from '../mail/deliver.js';
import type { Mailer } from '../mail/transport.js';
import { renderDigest, type RenderContext, type RenderedDigest } from '../render/digest.js';
import { loadRenderedEdition, saveRenderedEdition, unrenderedEditionIds } from '../render/store.js';
import { refusalRules } from '../bounces/refusal.js';

export type SendOptions = Omit<DeliverOptions, 'loadEdition' | 'recipientRefused'> & { now?: Date };

export interface SendSummary {
  planned: PlanSummary;
  rendered: number;
  delivered: DeliverSummary;
}

export function renderContext(config: Config, onlineUrl: string, now: Date): RenderContext {
  return {
    siteName: config.siteName,
    baseUrl: config.baseUrl,
    onlineUrl,
    now,
    locale: config.digestLocale,
    postalAddress: config.postalAddress,
  };
}

/** Renders an edition once and stores it; rendering and sending stay separate, retryable steps. */
export async function renderEdition(
  db: Db,
  config: Config,
  editionId: number,
  now = new Date(),
  readHead: (editionId: number) => Promise<Digest> = (id) => buildDigestHead(db, id),
): Promise<RenderedDigest> {
  const digest = await readHead(editionId);
  const rendered = await renderDigest(digest, renderContext(config, `${config.baseUrl}/editions/${digest.editionKey}`, now));
  await saveRenderedEdition(db, editionId, rendered);
  return rendered;
}

export async function renderPendingEditions(db: Db, config: Config, now = new Date()): Promise<number> {
  const ids = await unrenderedEditionIds(db);
  const readHead = digestHeadReader(db);
  for (const id of ids) await renderEdition(db, config, id, now, readHead);
  return ids.length;
}

/** The stored rendering of an edition, rendered now if nobody has yet: what deliverQueue needs as loadEdition. */
export async function loadOrRender(db: Db, config: Config, editionId: number): Promise<RenderedDigest> {
  return (await loadRenderedEdition(db, editionId)) ?? renderEdition(db, config, editionId);
}

/** Plan who is owed a digest, render the editions, then work the delivery queue. */
export async function sendDueDigests(db: Db, config: ConfigWithSecret, mailer: Mailer, options: SendOptions = {}): Promise<SendSummary> {
  const now = options.now ?? new Date();
  const planned = await planDeliveries(db, now);
  const rendered = await renderPendingEditions(db, config, now);
  const delivered = await deliverQueue(db, config, mailer, {
    ...options,
    loadEdition: (editionId) => loadOrRender(db, config, editionId),
    recipientRefused: refusalRules(config),
  });
  return { planned, rendered, delivered };
}
