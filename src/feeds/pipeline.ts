import { isProblem } from '../problem.js';
import { decodeFeed } from './decode.js';
import { feedInfo, normalizeItems, prepareItem, type FeedInfo, type NormalizedItem, type PreparedItem } from './normalize.js';
import { parseFeed, rejectBytes } from './parse.js';

export type ReadOutcome =
  { kind: 'read'; info: FeedInfo; items: NormalizedItem[]; encoding: string; dropped: number } | { kind: 'rejected'; reason: string };

export type IngestOutcome =
  { kind: 'ingested'; info: FeedInfo; items: PreparedItem[]; encoding: string; dropped: number } | { kind: 'rejected'; reason: string };

export interface IngestOptions {
  maxItems: number;
  now: Date;
}

/**
 * Fetched bytes to normalized posts: decode, parse, normalize. Not yet sanitized: the
 * refresh sanitizes only the posts that are new or changed (see storeItems).
 */
export async function readFeed(
  bytes: Uint8Array,
  contentType: string | undefined,
  documentUrl: string,
  options: IngestOptions,
): Promise<ReadOutcome> {
  const rejected = rejectBytes(bytes);
  if (rejected !== undefined) return { kind: 'rejected', reason: rejected };
  const decoded = decodeFeed(bytes, contentType);
  const feed = await parseFeed(decoded.text, options.maxItems);
  if (isProblem(feed)) return { kind: 'rejected', reason: feed.problem };
  const items = normalizeItems(feed, documentUrl, options.now);
  return { kind: 'read', info: feedInfo(feed, documentUrl), items, encoding: decoded.encoding, dropped: feed.dropped };
}

/** Fetched bytes to storable posts, every one sanitized: the whole path, for checks of what a feed yields. */
export async function ingestFeed(
  bytes: Uint8Array,
  contentType: string | undefined,
  documentUrl: string,
  options: IngestOptions,
): Promise<IngestOutcome> {
  const read = await readFeed(bytes, contentType, documentUrl, options);
  if (read.kind === 'rejected') return read;
  return { ...read, kind: 'ingested', items: read.items.map(prepareItem) };
}
