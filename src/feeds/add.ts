import type { Config } from '../config/config.js';
import type { Db } from '../db/connect.js';
import type { Feed } from '../db/schema.js';
import type { Problem } from '../problem.js';
import { COMMON_PATHS, discoverFeeds, type FeedCandidate } from './discover.js';
import { addFeed } from './store.js';

export type AddOutcome =
  | { kind: 'added'; feed: Feed; via?: FeedCandidate; note?: string }
  | { kind: 'choose'; pageUrl: string; candidates: FeedCandidate[] }
  | Problem;

export interface AddInput {
  url: string;
  categoryName: string;
  title?: string;
  /** 1-based, among the candidates a page names. */
  pick?: number;
}

/**
 * `feeds add`: a feed is added as it is; a web page's feed is found and added with the
 * page as its site, or, when the page names several, the caller chooses one (`pick`). A
 * document that lists feeds is refused: it belongs in `feeds import`. An address that
 * cannot be fetched now is added all the same, and its error shows after the next fetch.
 */
export async function addFeedAt(db: Db, config: Config, input: AddInput): Promise<AddOutcome> {
  const found = await discoverFeeds(config, input.url.trim());
  switch (found.kind) {
    case 'feed': {
      const feed = await addFeed(db, input);
      return 'problem' in feed ? feed : { kind: 'added', feed };
    }
    case 'unreachable': {
      const feed = await addFeed(db, input);
      return 'problem' in feed
        ? feed
        : { kind: 'added', feed, note: `could not fetch it now (${found.reason}); it is tried again on the next run` };
    }
    case 'feed-list':
      return { problem: found.reason };
    case 'not-a-feed':
      return { problem: `${input.url} is not a feed (${found.reason}) and not a web page` };
    case 'page':
      break;
  }
  const { candidates, pageUrl } = found;
  if (candidates.length === 0) {
    return {
      problem: `no feed found on ${pageUrl}: it names none (<link rel="alternate">, Link header) and none of ${COMMON_PATHS.join(' ')} is a feed`,
    };
  }
  if (input.pick !== undefined && (input.pick < 1 || input.pick > candidates.length)) {
    return { problem: `--pick must be 1 to ${candidates.length}` };
  }
  if (candidates.length > 1 && input.pick === undefined) return { kind: 'choose', pageUrl, candidates };
  const chosen = candidates[(input.pick ?? 1) - 1]!;
  const feed = await addFeed(db, { ...input, url: chosen.url, siteUrl: pageUrl });
  return 'problem' in feed ? feed : { kind: 'added', feed, via: chosen };
}
