import type { FastifyInstance } from 'fastify';
import { loadConfig, type ConfigWithSecret } from '../../src/config/config.js';
import { createSmtpMailer, type Mailer } from '../../src/mail/transport.js';
import type { WebhookOptions } from '../../src/web/routes/webhooks.js';
import { buildWebServer, type WebLimits } from '../../src/web/server.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { seedCategory, seedFeed, seedItem } from '../helpers/seed.js';
import { startSmtpSink, type SmtpSink, type SmtpSinkOptions } from '../helpers/smtp.js';

/** The web server on 127.0.0.1, with a fresh database and a real SMTP server behind it. */
export interface WebHarness {
  database: TestDatabase;
  sink: SmtpSink;
  mailer: Mailer;
  config: ConfigWithSecret;
  app: FastifyInstance;
  baseUrl: string;
  close(): Promise<void>;
}

export const TEST_SECRET = 'web-test-secret-'.padEnd(48, 'z');

export interface WebOptions {
  limits?: Partial<WebLimits>;
  /** More settings, as environment variables. */
  env?: Record<string, string>;
  webhooks?: WebhookOptions;
  sink?: SmtpSinkOptions;
}

export async function startWeb(options: WebOptions = {}): Promise<WebHarness> {
  const database = await createTestDatabase();
  const sink = await startSmtpSink(options.sink);
  const mailer = createSmtpMailer(sink.url, 1);
  const config: ConfigWithSecret = {
    ...loadConfig({ SECRET: TEST_SECRET, SITE_NAME: 'Planet Digest', MAIL_FROM: 'Planet Digest <digest@digest.example>', ...options.env }),
    secret: TEST_SECRET,
  };
  const app = await buildWebServer({
    db: database.db,
    turns: database.turns,
    config,
    mailer,
    limits: options.limits,
    webhooks: options.webhooks,
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  // Links in mails must point at this server, whose port is known only now.
  config.baseUrl = `http://127.0.0.1:${port}`;
  return {
    database,
    sink,
    mailer,
    config,
    app,
    baseUrl: config.baseUrl,
    async close() {
      await app.close();
      await mailer.close();
      await sink.close();
      await database.close();
    },
  };
}

/** Two categories with feeds and posts, modelled on the planet page. */
export async function seedCatalog(harness: WebHarness): Promise<void> {
  const { db } = harness.database;
  const thinktime = await seedCategory(harness.database.db, 'thinktime', 'Thinktime');
  await db
    .updateTable('categories')
    .set({ description: 'Essays and notes from Planet Linux Australia, Seth Godin and friends.' })
    .where('id', '=', thinktime)
    .execute();
  const tech = await seedCategory(db, 'tech', 'Tech & Code');
  await db.updateTable('categories').set({ description: 'Web standards, browsers and programming.' }).where('id', '=', tech).execute();
  const planet = await seedFeed(db, thinktime, 'Planet Linux Australia');
  await seedFeed(db, thinktime, 'Seth Godin');
  const alist = await seedFeed(db, tech, 'A List Apart');
  for (let i = 0; i < 3; i += 1) await seedItem(db, planet);
  await seedItem(db, alist);
}

export interface Response {
  status: number;
  headers: Headers;
  body: string;
}

/**
 * A cookie-keeping HTTP client for the pages (one browser, without the browser): the
 * abuse tests need raw control over cookies, form tokens and bodies.
 */
export class FormClient {
  cookie: string | undefined;
  constructor(readonly baseUrl: string) {}

  url(path: string): string {
    return path.startsWith('http') ? path : `${this.baseUrl}${path}`;
  }

  async get(path: string): Promise<Response> {
    return this.send(path, { method: 'GET' });
  }

  /** A urlencoded form POST; pass a string body to send it as it is. */
  async post(path: string, form: Record<string, string | string[]> | string, headers: Record<string, string> = {}): Promise<Response> {
    const body = typeof form === 'string' ? form : encodeForm(form);
    return this.send(path, { method: 'POST', body, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } });
  }

  private async send(path: string, init: RequestInit): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookie !== undefined) headers.set('cookie', this.cookie);
    const response = await fetch(this.url(path), { ...init, headers, redirect: 'manual' });
    const setCookie = response.headers.get('set-cookie');
    if (setCookie) this.cookie = setCookie.split(';')[0];
    return { status: response.status, headers: response.headers, body: await response.text() };
  }
}

export function encodeForm(form: Record<string, string | string[]>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(form)) {
    for (const one of Array.isArray(value) ? value : [value]) params.append(name, one);
  }
  return params.toString();
}

export function csrfOf(html: string): string {
  const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
  if (token === undefined) throw new Error('no form token on the page');
  return token;
}

export function signupForm(email: string, csrf: string, extra: Record<string, string | string[]> = {}): Record<string, string | string[]> {
  return { _csrf: csrf, email, categories: ['thinktime', 'tech'], hour: '7', timezone: 'Europe/Berlin', website: '', ...extra };
}

/** The link of the given kind in a received mail's text part. */
export function linkIn(text: string, kind: 'confirm' | 'preferences' | 'unsubscribe'): string {
  const link = new RegExp(`https?://\\S+/${kind}/[A-Za-z0-9_.-]+`).exec(text)?.[0];
  if (link === undefined) throw new Error(`no ${kind} link in:\n${text}`);
  return link;
}
