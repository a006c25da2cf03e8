import { isIP } from 'node:net';
import path from 'node:path';
import { parseSmtpUrl } from './smtp-url.js';

/**
 * Everything the program reads from the environment, validated once at start.
 * This module is the only reader of process.env; everything else receives a Config.
 */
export interface Config {
  /** Postgres server URL; undefined means embedded PGlite in dataDir. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** SMTP server (see smtp-url.ts); undefined means .eml files in outboxDir. */
  smtpUrl: string | undefined;
  outboxDir: string;
  smtpPoolSize: number;
  /** Messages per second across this process; 0 means no limit. */
  sendRateLimit: number;
  mailFrom: string;
  /** Shown in the digest's title and the web pages. */
  siteName: string;
  baseUrl: string;
  /** Undefined until resolved by ensureSecret in embedded mode. */
  secret: string | undefined;
  /** Older secret still accepted for links already mailed (key rotation). */
  secretPrevious: string | undefined;
  fetchTimeoutMs: number;
  fetchConcurrency: number;
  fetchPerHost: number;
  fetchMaxBytes: number;
  fetchMaxItems: number;
  fetchIntervalMinutes: number;
  /**
   * Feeds on loopback, private, link-local and other internal addresses are refused
   * (the first URL and every redirect, after DNS) unless allowed here: true allows them
   * all, a list allows those addresses or CIDRs only.
   */
  fetchAllowPrivate: boolean | string[];
  host: string;
  port: number;
  /**
   * Which proxies' X-Forwarded-For to believe for the client IP (rate limits, consent
   * records): false (none), true (any), a hop count, or addresses/CIDRs.
   */
  trustProxy: boolean | number | string[];
  logLevel: string;
  defaultTimezone: string;
  defaultDeliveryHour: number;
  /** How often `serve` looks for feeds to fetch and digests to send. */
  schedulerTickSeconds: number;
  /** How long a claimed delivery stays claimed before another instance may take it over. */
  sendLeaseSeconds: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

class Reader {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  string(key: string, fallback: string): string {
    const value = this.env[key]?.trim();
    return value ? value : fallback;
  }

  optional(key: string): string | undefined {
    const value = this.env[key]?.trim();
    return value ? value : undefined;
  }

  integer(key: string, fallback: number, min: number, max: number): number {
    const raw = this.optional(key);
    if (raw === undefined) return fallback;
    // Decimal digits only: Number() would also take 0x10, 1e3 or 0b1.
    const value = /^\d+$/.test(raw) ? Number(raw) : NaN;
    if (!(value >= min && value <= max)) {
      this.problems.push(`${key}=${raw} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return value;
  }

  url(key: string, fallback: string | undefined, protocols: string[]): string | undefined {
    const raw = this.optional(key) ?? fallback;
    if (raw === undefined) return undefined;
    try {
      const url = new URL(raw);
      if (!protocols.includes(url.protocol)) {
        this.problems.push(`${key} must start with ${protocols.map((p) => `${p}//`).join(' or ')} (got ${url.protocol}//)`);
      }
    } catch {
      this.problems.push(`${key}=${raw} is not a valid URL`);
    }
    return raw;
  }
}

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const MAIL_FROM_PATTERN = /^(?:[^<>]*<[^\s<>@]+@[^\s<>@]+>|[^\s<>@]+@[^\s<>@]+)$/;

export function loadConfig(env: Env = process.env): Config {
  const read = new Reader(env);
  const baseUrl = read.url('BASE_URL', 'http://localhost:8080', ['http:', 'https:'])!.replace(/\/+$/, '');
  const siteName = read.string('SITE_NAME', 'feed-digest');
  const mailFrom = read.string('MAIL_FROM', `${siteName.replace(/[<>"@]/g, '')} <digest@${hostOf(baseUrl)}>`);
  if (!MAIL_FROM_PATTERN.test(mailFrom)) {
    read.problems.push(`MAIL_FROM=${mailFrom} must be an address like "Digest <digest@example.org>"`);
  }
  const secret = read.optional('SECRET');
  const databaseUrl = read.url('DATABASE_URL', undefined, ['postgres:', 'postgresql:']);
  if (secret !== undefined && secret.length < 32) {
    read.problems.push('SECRET must be at least 32 characters (try: openssl rand -hex 32)');
  }
  if (secret === undefined && databaseUrl !== undefined) {
    read.problems.push('SECRET is required with DATABASE_URL, so that every instance signs links alike (try: openssl rand -hex 32)');
  }
  const defaultTimezone = read.string('DEFAULT_TIMEZONE', 'UTC');
  if (!isTimeZone(defaultTimezone)) {
    read.problems.push(`DEFAULT_TIMEZONE=${defaultTimezone} is not an IANA time zone (e.g. Europe/Berlin)`);
  }
  const smtpUrl = read.optional('SMTP_URL');
  const smtpProblem = smtpUrl === undefined ? undefined : parseSmtpUrl(smtpUrl);
  if (typeof smtpProblem === 'string') read.problems.push(`SMTP_URL ${smtpProblem}`);
  const logLevel = read.string('LOG_LEVEL', 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    read.problems.push(`LOG_LEVEL=${logLevel} must be one of fatal, error, warn, info, debug, trace, silent`);
  }

  const config: Config = {
    databaseUrl,
    dataDir: path.resolve(read.string('DATA_DIR', './data')),
    smtpUrl,
    outboxDir: path.resolve(read.string('OUTBOX_DIR', './outbox')),
    smtpPoolSize: read.integer('SMTP_POOL_SIZE', 4, 1, 50),
    sendRateLimit: read.integer('SEND_RATE_LIMIT', 0, 0, 100_000),
    mailFrom,
    siteName,
    baseUrl,
    secret,
    secretPrevious: read.optional('SECRET_PREVIOUS'),
    fetchTimeoutMs: read.integer('FETCH_TIMEOUT_MS', 20_000, 100, 600_000),
    fetchConcurrency: read.integer('FETCH_CONCURRENCY', 16, 1, 256),
    fetchPerHost: read.integer('FETCH_PER_HOST', 2, 1, 64),
    fetchMaxBytes: read.integer('FETCH_MAX_BYTES', 10 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    fetchMaxItems: read.integer('FETCH_MAX_ITEMS', 500, 1, 100_000),
    fetchIntervalMinutes: read.integer('FETCH_INTERVAL_MINUTES', 60, 1, 7 * 24 * 60),
    fetchAllowPrivate: parseAllowPrivate(read),
    host: read.string('HOST', '127.0.0.1'),
    port: read.integer('PORT', 8080, 0, 65_535),
    trustProxy: parseTrustProxy(read.optional('TRUST_PROXY')),
    logLevel,
    defaultTimezone,
    defaultDeliveryHour: read.integer('DEFAULT_DELIVERY_HOUR', 7, 0, 23),
    schedulerTickSeconds: read.integer('SCHEDULER_TICK_SECONDS', 30, 1, 3600),
    sendLeaseSeconds: read.integer('SEND_LEASE_SECONDS', 300, 5, 86_400),
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}

function parseAllowPrivate(read: Reader): boolean | string[] {
  const value = read.optional('FETCH_ALLOW_PRIVATE');
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  const ranges = value.split(',').map((part) => part.trim()).filter(Boolean);
  const bad = ranges.filter((range) => !isAddressRange(range));
  if (bad.length > 0) read.problems.push(`FETCH_ALLOW_PRIVATE must be true, false or comma-separated addresses/CIDRs (bad: ${bad.join(', ')})`);
  return ranges;
}

function isAddressRange(range: string): boolean {
  const [address = '', prefix, ...rest] = range.split('/');
  const version = isIP(address);
  if (version === 0 || rest.length > 0) return false;
  return prefix === undefined || (/^\d{1,3}$/.test(prefix) && Number(prefix) <= (version === 4 ? 32 : 128));
}

function parseTrustProxy(value: string | undefined): boolean | number | string[] {
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  if (/^\d+$/.test(value)) return Number(value);
  return value.split(',').map((part) => part.trim()).filter(Boolean);
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname || 'localhost';
  } catch {
    return 'localhost';
  }
}

/** The domain used for Message-IDs and List-Id: our own, taken from BASE_URL. */
export function mailDomain(config: Config): string {
  return hostOf(config.baseUrl);
}
