import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Built } from './planet-build.js';

interface Entry {
  /** Encoded once, and compressed once: a cached page is sent many times. */
  body: Buffer;
  gzipped: Buffer;
  type: string;
  lastModified: Date;
  etag: string;
  expires: number;
  /** The content version it was built at: a newer one makes it stale at once. */
  version: string;
}

/**
 * Reads `read()` for many callers at once, each getting a value read after it asked: a
 * caller who comes while a read runs waits for the next one, which every caller that
 * came meanwhile shares. So at most two reads are under way, however many requests.
 */
export function sharedFreshRead<T>(read: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  let queued: Promise<T> | undefined;
  const launch = () => {
    const reading = read();
    running = reading;
    const done = () => {
      if (running === reading) running = undefined;
    };
    reading.then(done, done);
    return reading;
  };
  return () => {
    if (queued !== undefined) return queued;
    if (running === undefined) return launch();
    const after = () => {
      queued = undefined;
      return launch();
    };
    queued = running.then(after, after);
    return queued;
  };
}

/**
 * The content version, read as sharedFreshRead does, except when the database says
 * nothing ran since the last read but the read itself (`turns`, see OpenDatabase):
 * then that value still holds, and an idle planet answers from memory alone.
 */
export function contentVersion(read: () => Promise<string>, turns: (() => number) | undefined): () => Promise<string> {
  const shared = sharedFreshRead(async () => {
    const at = turns?.();
    return { at, value: await read() };
  });
  let last: { at: number | undefined; value: string } | undefined;
  return async () => {
    if (last?.at !== undefined && turns?.() === last.at + 1) return last.value;
    last = await shared();
    return last.value;
  };
}

/**
 * Public pages and feeds, built once and served from memory for `seconds`, with an
 * ETag (a hash of the body, so every instance agrees) and Last-Modified for 304s.
 * An entry holds only while `version()` (the content version) is what it was built
 * at: the posts of a fetch show on the next request, not a minute later. Requests
 * for the same page while it is being built wait for that one build.
 * Bounded: the oldest entry goes when it is full (older pages make new keys).
 */
export class ResponseCache {
  private readonly entries = new Map<string, Entry>();
  private readonly building = new Map<string, Promise<Entry | undefined>>();
  constructor(
    private readonly seconds: number,
    /** The content version, read for each request (see contentVersion). */
    private readonly version: () => Promise<string>,
    private readonly maxEntries = 1000,
  ) {}

  async get(key: string, build: () => Promise<Built | undefined>): Promise<Entry | undefined> {
    const hit = this.entries.get(key);
    let version: string;
    try {
      // Nothing is kept without a cache time, so there is no version to compare.
      version = this.seconds > 0 ? await this.version() : '';
    } catch (error) {
      // Database unreachable: the page as last built beats an error page (RFC 5861's stale-if-error).
      if (hit !== undefined) return hit;
      throw error;
    }
    if (hit !== undefined && hit.expires > Date.now() && hit.version === version) return hit;
    const buildKey = `${version} ${key}`;
    let pending = this.building.get(buildKey);
    if (pending === undefined) {
      pending = build().then((built) => (built === undefined ? undefined : this.keep(key, built, version)));
      this.building.set(buildKey, pending);
      void pending.finally(() => this.building.delete(buildKey)).catch(() => {});
    }
    return pending;
  }

  private keep(key: string, built: Built, version: string): Entry {
    const body = Buffer.from(built.body);
    const entry: Entry = {
      body,
      gzipped: gzipSync(body),
      type: built.type,
      lastModified: built.lastModified,
      etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`,
      expires: Date.now() + this.seconds * 1000,
      version,
    };
    if (this.seconds > 0) {
      this.entries.delete(key);
      if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(key, entry);
    }
    return entry;
  }
}

/** The gzipped representation's ETag: another body, so another tag. */
const gzipTag = (etag: string) => `${etag.slice(0, -1)}-gz"`;

/** True when the client's copy is current (RFC 9110: If-None-Match wins over If-Modified-Since). */
function isFresh(request: FastifyRequest, entry: Entry): boolean {
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    return ifNoneMatch.split(',').some((tag) => {
      const trimmed = tag.trim().replace(/^W\//, '');
      return trimmed === '*' || trimmed === entry.etag || trimmed === gzipTag(entry.etag);
    });
  }
  const since = request.headers['if-modified-since'];
  if (since === undefined || entry.lastModified.getTime() === 0) return false;
  const sinceMs = Date.parse(since);
  return Number.isFinite(sinceMs) && Math.floor(entry.lastModified.getTime() / 1000) * 1000 <= sinceMs;
}

/** Whether the client takes gzip (q=0 refuses it). */
function acceptsGzip(request: FastifyRequest): boolean {
  const header = request.headers['accept-encoding'];
  return header !== undefined && /(?:^|,)\s*gzip\s*(?:;\s*q=(?!0(?:\.0*)?\s*(?:,|$))[\d.]+)?\s*(?:,|$)/i.test(header);
}

export function sendCached(request: FastifyRequest, reply: FastifyReply, entry: Entry, maxAgeSeconds: number): FastifyReply {
  const gzip = acceptsGzip(request);
  reply
    .header('etag', gzip ? gzipTag(entry.etag) : entry.etag)
    .header('cache-control', `public, max-age=${maxAgeSeconds}`)
    .header('vary', 'accept-encoding');
  if (entry.lastModified.getTime() > 0) reply.header('last-modified', entry.lastModified.toUTCString());
  if (isFresh(request, entry)) return reply.code(304).send();
  if (gzip) reply.header('content-encoding', 'gzip');
  return reply.type(entry.type).send(gzip ? entry.gzipped : entry.body);
}
