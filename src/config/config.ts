import { readFileSync, statSync } from 'node:fs';
import { isIP } from 'node:net';
import path from 'node:path';
import { parseDkimKey, type DkimSettings } from '../own/dkim.js';
import { isProblem } from '../problem.js';
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
  /** BCP 47 locale of the dates in digests, e.g. en-GB, en-US, de-DE. */
  digestLocale: string;
  /** Postal address printed in every digest's footer (CAN-SPAM), if set. */
  postalAddress: string | undefined;
  /** A folder whose templates replace the built-in ones of the same path (email/…, web/…). */
  templatesDir: string | undefined;
  /** false: no river, feeds out, sources or archive on the web (a private digest); sign-up still works. */
  planetPublic: boolean;
  /** The zone of the river's day headings and times. */
  siteTimezone: string;
  /** Posts per river page. */
  planetPageSize: number;
  /** How long a rendered planet page or feed is served from memory before it is built again. */
  planetCacheSeconds: number;
  /** Envelope sender base: each digest goes out as <local>+<signed token>@<domain> (VERP). */
  bounceAddress: string;
  /** Base of the List-Unsubscribe mailto: address, tagged the same way. */
  unsubscribeAddress: string;
  /** Mailbox that `serve` polls for bounces, complaints and mailed unsubscribes. */
  inboundImapUrl: string | undefined;
  inboundProcessedFolder: string;
  inboundUnrecognizedFolder: string;
  /** True when an MTA pipes mail for those addresses to `feed-digest inbound`. */
  inboundPipe: boolean;
  /** Soft bounces within bounceSoftDays that stop an address. */
  bounceSoftLimit: number;
  bounceSoftDays: number;
  /** Sign every message with DKIM; undefined when DKIM_DOMAIN is unset. */
  dkim: DkimSettings | undefined;
  /** Bounce and complaint webhooks per provider; a provider left undefined answers 404. */
  webhooks: WebhookSettings;
}

/** The configuration with its secret known (ensureSecret): what jobs, pages and mails use. */
export type ConfigWithSecret = Config & { secret: string };

export interface WebhookSettings {
  /** Amazon SES through SNS: the topics we accept, and whether to confirm a subscription by ourselves. */
  ses: { topicArns: string[]; confirmSubscriptions: boolean } | undefined;
  mailgun: { signingKey: string } | undefined;
  /** Postmark sends these as HTTP basic auth (set them in the webhook URL there). */
  postmark: { user: string; password: string } | undefined;
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

  boolean(key: string, fallback: boolean): boolean {
    const raw = this.optional(key)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (raw === 'true' || raw === '1' || raw === 'yes') return true;
    if (raw === 'false' || raw === '0' || raw === 'no') return false;
    this.problems.push(`${key}=${raw} must be true or false`);
    return fallback;
  }

  /**
   * A bare ASCII address whose local part leaves room for a VERP tag (local parts hold 64).
   * A default is checked only when asked: one taken from a value already reported as bad
   * would only repeat that problem.
   */
  taggableAddress(key: string, fallback: string, checkFallback: boolean): string {
    const given = this.optional(key);
    const value = given ?? fallback;
    if ((given !== undefined || checkFallback) && !/^[A-Za-z0-9._+-]{1,24}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*$/.test(value)) {
      this.problems.push(
        `${key}=${value}${given === undefined ? ' (the default)' : ''} must be a plain address like bounces@example.org (local part: up to 24 of A-Z a-z 0-9 . _ + -)`,
      );
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

function isLocale(locale: string): boolean {
  try {
    return Intl.DateTimeFormat.supportedLocalesOf([locale]).length === 1;
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
  const mailFromProblem = checkMailFrom(mailFrom);
  if (mailFromProblem !== undefined) read.problems.push(mailFromProblem);
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
  const siteTimezone = read.string('SITE_TIMEZONE', 'UTC');
  if (!isTimeZone(siteTimezone)) {
    read.problems.push(`SITE_TIMEZONE=${siteTimezone} is not an IANA time zone (e.g. Australia/Sydney)`);
  }
  const smtpUrl = read.optional('SMTP_URL');
  const smtpEndpoint = smtpUrl === undefined ? undefined : parseSmtpUrl(smtpUrl);
  if (isProblem(smtpEndpoint)) read.problems.push(`SMTP_URL ${smtpEndpoint.problem}`);
  const logLevel = read.string('LOG_LEVEL', 'info');
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    read.problems.push(`LOG_LEVEL=${logLevel} must be one of fatal, error, warn, info, debug, trace, silent`);
  }

  const bounceAddress = read.taggableAddress('BOUNCE_ADDRESS', bareAddress(mailFrom), mailFromProblem === undefined);
  const inboundImapUrl = read.url('INBOUND_IMAP_URL', undefined, ['imap:', 'imaps:']);
  const digestLocale = read.string('DIGEST_LOCALE', 'en-GB');
  if (!isLocale(digestLocale))
    read.problems.push(`DIGEST_LOCALE=${digestLocale} is not a locale this Node knows (e.g. en-GB, en-US, de-DE)`);
  const templatesDir = read.optional('TEMPLATES_DIR');
  if (templatesDir !== undefined && !statSync(templatesDir, { throwIfNoEntry: false })?.isDirectory()) {
    read.problems.push(`TEMPLATES_DIR=${templatesDir} is not a folder`);
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
    planetPublic: read.boolean('PLANET_PUBLIC', true),
    siteTimezone,
    planetPageSize: read.integer('PLANET_PAGE_SIZE', 30, 1, 200),
    planetCacheSeconds: read.integer('PLANET_CACHE_SECONDS', 60, 0, 86_400),
    bounceAddress,
    unsubscribeAddress: read.taggableAddress('UNSUBSCRIBE_ADDRESS', bounceAddress, false),
    inboundImapUrl,
    inboundProcessedFolder: read.string('INBOUND_PROCESSED_FOLDER', 'Processed'),
    inboundUnrecognizedFolder: read.string('INBOUND_UNRECOGNIZED_FOLDER', 'Unrecognized'),
    inboundPipe: read.boolean('INBOUND_PIPE', false),
    bounceSoftLimit: read.integer('BOUNCE_SOFT_LIMIT', 3, 1, 100),
    bounceSoftDays: read.integer('BOUNCE_SOFT_DAYS', 30, 1, 365),
    dkim: readDkim(read),
    webhooks: readWebhooks(read),
    digestLocale,
    postalAddress: read.optional('POSTAL_ADDRESS'),
    templatesDir: templatesDir === undefined ? undefined : path.resolve(templatesDir),
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return config;
}

/**
 * Every message goes out with this sender: one the server refuses would refuse them all.
 * The address must be plain ASCII (servers without SMTPUTF8 refuse anything else, and
 * an international domain has an ASCII xn-- form); the name may be in any script; no
 * control character anywhere (a line break would end the header).
 */
function checkMailFrom(mailFrom: string): string | undefined {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what this refuses
  if (/[\x00-\x1f\x7f]/.test(mailFrom)) return `MAIL_FROM=${JSON.stringify(mailFrom)} has a control character (a line break or tab?)`;
  if (!MAIL_FROM_PATTERN.test(mailFrom)) return `MAIL_FROM=${mailFrom} must be an address like "Digest <digest@example.org>"`;
  const address = /<([^<>]+)>$/.exec(mailFrom)?.[1] ?? mailFrom;
  if (/[^\x21-\x7e]/.test(address)) {
    return `MAIL_FROM=${mailFrom}: the address ${address} must be plain ASCII (write an international domain in its xn-- form); the name before it may use any letters`;
  }
  return undefined;
}

const DOMAIN_PATTERN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i;
const SELECTOR_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/** All three DKIM settings or none; the key is read and checked now, not at the first send. */
function readDkim(read: Reader): DkimSettings | undefined {
  const domain = read.optional('DKIM_DOMAIN');
  const selector = read.optional('DKIM_SELECTOR');
  const keyFile = read.optional('DKIM_PRIVATE_KEY_FILE');
  if (domain === undefined && selector === undefined && keyFile === undefined) return undefined;
  const missing = [
    ['DKIM_DOMAIN', domain],
    ['DKIM_SELECTOR', selector],
    ['DKIM_PRIVATE_KEY_FILE', keyFile],
  ]
    .filter(([, value]) => value === undefined)
    .map(([key]) => key);
  if (missing.length > 0) {
    read.problems.push(`DKIM needs DKIM_DOMAIN, DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE together (missing: ${missing.join(', ')})`);
    return undefined;
  }
  const before = read.problems.length;
  if (!DOMAIN_PATTERN.test(domain!)) read.problems.push(`DKIM_DOMAIN=${domain} is not a domain name like example.org`);
  if (!SELECTOR_PATTERN.test(selector!))
    read.problems.push(`DKIM_SELECTOR=${selector} must be letters, digits and hyphens, like digest2026`);
  let pem: Buffer | undefined;
  try {
    pem = readFileSync(keyFile!);
  } catch (error) {
    read.problems.push(`DKIM_PRIVATE_KEY_FILE=${keyFile} cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const privateKey = pem === undefined ? undefined : parseDkimKey(pem);
  if (isProblem(privateKey)) read.problems.push(`DKIM_PRIVATE_KEY_FILE=${keyFile} ${privateKey.problem}`);
  if (read.problems.length > before || privateKey === undefined || isProblem(privateKey)) return undefined;
  return { domain: domain!.toLowerCase(), selector: selector!, privateKey };
}

const TOPIC_ARN_PATTERN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;

function readWebhooks(read: Reader): WebhookSettings {
  const topics = read
    .optional('WEBHOOK_SES_TOPIC_ARN')
    ?.split(',')
    .map((arn) => arn.trim())
    .filter(Boolean);
  for (const arn of topics ?? []) {
    if (!TOPIC_ARN_PATTERN.test(arn))
      read.problems.push(`WEBHOOK_SES_TOPIC_ARN: ${arn} is not an SNS topic ARN like arn:aws:sns:eu-west-1:123456789012:ses-feedback`);
  }
  const signingKey = read.optional('WEBHOOK_MAILGUN_SIGNING_KEY');
  const user = read.optional('WEBHOOK_POSTMARK_USER');
  const password = read.optional('WEBHOOK_POSTMARK_PASSWORD');
  if ((user === undefined) !== (password === undefined)) {
    read.problems.push('WEBHOOK_POSTMARK_USER and WEBHOOK_POSTMARK_PASSWORD go together');
  } else if (password !== undefined && password.length < 16) {
    read.problems.push('WEBHOOK_POSTMARK_PASSWORD must be at least 16 characters (try: openssl rand -hex 16)');
  }
  return {
    ses:
      topics === undefined || topics.length === 0
        ? undefined
        : { topicArns: topics, confirmSubscriptions: read.boolean('WEBHOOK_SES_CONFIRM_SUBSCRIPTIONS', false) },
    mailgun: signingKey === undefined ? undefined : { signingKey },
    postmark: user === undefined || password === undefined ? undefined : { user, password },
  };
}

function parseAllowPrivate(read: Reader): boolean | string[] {
  const value = read.optional('FETCH_ALLOW_PRIVATE');
  if (value === undefined || value === 'false') return false;
  if (value === 'true') return true;
  const ranges = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
  const bad = ranges.filter((range) => !isAddressRange(range));
  if (bad.length > 0)
    read.problems.push(`FETCH_ALLOW_PRIVATE must be true, false or comma-separated addresses/CIDRs (bad: ${bad.join(', ')})`);
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
  return value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean);
}

/** The bare address of a "Name <a@b>" value ("Digest <d@x.org>" gives "d@x.org"). */
export function bareAddress(value: string): string {
  return /<([^<>]+)>\s*$/.exec(value)?.[1] ?? value.trim();
}

/** The bare address of MAIL_FROM ("Digest <d@x.org>" gives "d@x.org"): the envelope sender of our own mails. */
export function mailFromAddress(config: Pick<Config, 'mailFrom'>): string {
  return bareAddress(config.mailFrom);
}

/** Mail to the List-Unsubscribe mailto: reaches us only when something reads that mailbox. */
export function inboundDoorOpen(config: Pick<Config, 'inboundImapUrl' | 'inboundPipe'>): boolean {
  return config.inboundImapUrl !== undefined || config.inboundPipe;
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
