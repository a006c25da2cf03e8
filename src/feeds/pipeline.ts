import { decodeFeed } from './decode.js';
import { feedInfo, normalizeItems, prepareItem, type FeedInfo, type PreparedItem } from './normalize.js';
import { parseFeed, rejectBytes } from './parse.js';
import { sanitizeContent } from './sanitize.js';

export type IngestOutcome =
  | { kind: 'ingested'; info: FeedInfo; items: PreparedItem[]; encoding: string; dropped: number }
  | { kind: 'rejected'; reason: string };

export interface IngestOptions {
  maxItems: number;
  now: Date;
}

/** Fetched bytes to storable posts: decode, parse, normalize, sanitize (last, on each post). */
export async function ingestFeed(bytes: Uint8Array, contentType: string | undefined, documentUrl: string, options: IngestOptions): Promise<IngestOutcome> {
  const rejected = rejectBytes(bytes);
  if (rejected !== undefined) return { kind: 'rejected', reason: rejected };
  const decoded = decodeFeed(bytes, contentType);
  const parsed = await parseFeed(decoded.text, options.maxItems);
  if (parsed.kind === 'rejected') return parsed;
  const items = normalizeItems(parsed.feed, documentUrl, options.now)
    .map((item) => prepareItem(item, sanitizeContent(item.html, item.contentBase)));
  return { kind: 'ingested', info: feedInfo(parsed.feed, documentUrl), items, encoding: decoded.encoding, dropped: parsed.feed.dropped };
}
