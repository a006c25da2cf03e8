import { Agent, fetch, type Response } from 'undici';
import type { Config } from '../config/config.js';
import { addressPolicy, guardedLookup, urlProblem, type AddressPolicy } from './address.js';
import { resolveUrl } from './sanitize.js';

/** What HTTP said about caching, for the feed's schedule. */
export interface CacheHints {
  /** Seconds the response may be reused (Cache-Control max-age, else Expires minus Date). */
  maxAgeSeconds?: number;
}

export type FetchResult =
  | {
      kind: 'ok';
      bytes: Uint8Array;
      contentType: string | undefined;
      etag: string | null;
      lastModified: string | null;
      finalUrl: string;
      /** The Content-Location header as sent: see documentBase. */
      contentLocation: string | undefined;
      /** Set when every redirect on the way was permanent (301/308): the feed has moved. */
      permanentRedirect?: string;
      cacheHints: CacheHints;
      /** The Link header as sent (RFC 8288): a page may name its feeds there. */
      link: string | undefined;
    }
  | { kind: 'not_modified'; permanentRedirect?: string; cacheHints: CacheHints }
  | { kind: 'error'; reason: string; status?: number; retryAfter?: Date; permanentRedirect?: string };

export interface Validators {
  etag: string | null;
  lastModified: string | null;
}

const MAX_REDIRECTS = 5;
const PERMANENT = new Set([301, 308]);

export function userAgent(config: Config): string {
  return `feed-digest/0.1 (+${config.baseUrl})`;
}

function parseRetryAfter(value: string | null, now: Date): Date | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return new Date(now.getTime() + Number(text) * 1000);
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

function cacheHints(headers: Headers): CacheHints {
  const maxAge = headers.get('cache-control')?.match(/(?:^|,)\s*(?:s-)?max-age\s*=\s*"?(\d+)/i)?.[1];
  if (maxAge !== undefined) return { maxAgeSeconds: Number(maxAge) };
  const expires = Date.parse(headers.get('expires') ?? '');
  const date = Date.parse(headers.get('date') ?? '') || Date.now();
  return Number.isNaN(expires) ? {} : { maxAgeSeconds: Math.max(0, Math.round((expires - date) / 1000)) };
}

/**
 * undici's own fetch and Agent (not Node's bundled copy, whose Agent is not exported), so
 * that every connection resolves its host through the guarded lookup. One per config:
 * its connections are reused across feeds.
 */
const agents = new WeakMap<Config, { policy: AddressPolicy; agent: Agent }>();

function connectorFor(config: Config): { policy: AddressPolicy; agent: Agent } {
  let connector = agents.get(config);
  if (connector === undefined) {
    const policy = addressPolicy(config);
    connector = { policy, agent: new Agent({ connect: { lookup: guardedLookup(policy) } }) };
    agents.set(config, connector);
  }
  return connector;
}

function describe(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return `timed out after ${timeoutMs} ms`;
  }
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : undefined;
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- the rule is wrong here: tsc needs it for .code
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return (code ? `${code}: ` : '') + (cause?.message ?? (error instanceof Error ? error.message : String(error))).split('\n')[0];
}

/**
 * What a fetched document's relative links resolve against: the Content-Location the server
 * gave (resolved against the URL fetched; only http or https), else that URL.
 */
export function documentBase(url: string, contentLocation: string | undefined): string {
  return resolveUrl(contentLocation, url) ?? url;
}

class TooLarge extends Error {}

/**
 * The body, cancelled as soon as it passes the cap: a Content-Length cannot be trusted to
 * tell. With `cut`, the bytes up to the cap are kept instead (a web page's head is enough).
 */
async function readCapped(response: Response, maxBytes: number, cut: boolean): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length'));
  if (declared > maxBytes && !cut) {
    await response.body?.cancel();
    throw new TooLarge();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (response.body === null) return new Uint8Array();
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel();
      if (!cut) throw new TooLarge();
      chunks.push(value.subarray(0, value.byteLength - (total - maxBytes)));
      return Buffer.concat(chunks, maxBytes);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/**
 * One conditional GET. Redirects are followed here (at most 5) so that a permanent move
 * can be reported and every hop checked (http or https, and no internal address: see
 * address.ts); one deadline covers connecting, every redirect and the whole body, so a
 * server that trickles bytes cannot hold a fetch open. Content-Encoding (gzip, deflate, br)
 * is undone by fetch itself.
 */
export async function fetchFeed(
  config: Config,
  url: string,
  validators: Validators,
  now = new Date(),
  options: { cutAtMaxBytes?: boolean } = {},
): Promise<FetchResult> {
  const signal = AbortSignal.timeout(config.fetchTimeoutMs);
  const headers: Record<string, string> = {
    'user-agent': userAgent(config),
    accept:
      'application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5',
  };
  if (validators.etag) headers['if-none-match'] = validators.etag;
  if (validators.lastModified) headers['if-modified-since'] = validators.lastModified;

  const { policy, agent } = connectorFor(config);
  let current = url;
  let allPermanent = true;
  try {
    for (let hop = 0; ; hop++) {
      // A refused hop is an error of this fetch: its URL is never stored as the feed's new home.
      const refused = urlProblem(policy, current);
      if (refused !== undefined) return { kind: 'error', reason: hop === 0 ? refused : `redirect to ${current} refused: ${refused}` };
      const response = await fetch(current, { headers, redirect: 'manual', signal, dispatcher: agent });
      const moved = (): string | undefined => (allPermanent && current !== url ? current : undefined);
      if (response.status >= 300 && response.status < 400 && response.status !== 304) {
        await response.body?.cancel();
        const location = response.headers.get('location');
        if (location === null) return { kind: 'error', reason: `HTTP ${response.status} without a Location`, status: response.status };
        if (hop >= MAX_REDIRECTS) return { kind: 'error', reason: `more than ${MAX_REDIRECTS} redirects`, status: response.status };
        allPermanent &&= PERMANENT.has(response.status);
        current = new URL(location, current).href;
        continue;
      }
      if (response.status === 304) {
        await response.body?.cancel();
        return { kind: 'not_modified', permanentRedirect: moved(), cacheHints: cacheHints(response.headers) };
      }
      if (!response.ok) {
        await response.body?.cancel();
        return {
          kind: 'error',
          reason: `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`,
          status: response.status,
          retryAfter: parseRetryAfter(response.headers.get('retry-after'), now),
          permanentRedirect: moved(),
        };
      }
      const bytes = await readCapped(response, config.fetchMaxBytes, options.cutAtMaxBytes ?? false);
      return {
        kind: 'ok',
        bytes,
        contentType: response.headers.get('content-type') ?? undefined,
        etag: response.headers.get('etag'),
        lastModified: response.headers.get('last-modified'),
        finalUrl: current,
        contentLocation: response.headers.get('content-location') ?? undefined,
        permanentRedirect: moved(),
        cacheHints: cacheHints(response.headers),
        link: response.headers.get('link') ?? undefined,
      };
    }
  } catch (error) {
    if (error instanceof TooLarge) return { kind: 'error', reason: `larger than ${config.fetchMaxBytes} bytes` };
    return { kind: 'error', reason: describe(error, config.fetchTimeoutMs) };
  }
}
