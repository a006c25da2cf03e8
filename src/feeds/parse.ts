import type { Problem } from '../problem.js';
import { rejectText } from './parse/detect.js';
import { looksLikeJson, parseJsonFeed } from './parse/jsonfeed.js';
import type { RawFeed } from './parse/model.js';
import { repairXml } from './parse/repair.js';
import { parseXmlFeed } from './parse/xml.js';

export { rejectBytes } from './parse/detect.js';
export type { RawFeed, RawItem } from './parse/model.js';

/**
 * Text to a RawFeed, in the steps Miniflux's parser takes: tell the format (JSON Feed, or
 * XML that is RSS, Atom or RDF; anything else is rejected with a reason), repair what a
 * forgiving reader accepts (parse/repair.ts), parse (parse/xml.ts, parse/jsonfeed.ts), and
 * map the parser's nodes to plain strings (parse/map.ts, parse/media.ts).
 */
export async function parseFeed(text: string, maxItems: number): Promise<RawFeed | Problem> {
  if (looksLikeJson(text)) return parseJsonFeed(text, maxItems);
  const rejected = rejectText(text);
  if (rejected !== undefined) return { problem: rejected };
  return parseXmlFeed(repairXml(text), maxItems);
}
