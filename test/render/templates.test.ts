import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { prepareTemplates, renderDigest } from '../../src/render/digest.js';
import { markupTemplates, setTemplatesOverride, TemplateError } from '../../src/render/templates.js';
import { templatesDir } from '../../src/paths.js';
import { runCli } from '../helpers/cli.js';
import { seedBusyDay } from '../digest/busy-day.js';
import { createTestDatabase, type TestDatabase } from '../helpers/db.js';
import { buildDigest } from '../../src/digest/build.js';
import { serverLinker } from '../../src/web/links.js';

const context = {
  siteName: 'Planet',
  baseUrl: 'https://digest.example.org',
  onlineUrl: 'https://digest.example.org/editions/k',
  locale: 'en-GB',
};
let work: string;
let database: TestDatabase;
before(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), 'feed-digest-templates-'));
  database = await createTestDatabase();
});
after(async () => {
  setTemplatesOverride(undefined);
  await database.close();
  await rm(work, { recursive: true, force: true });
});

async function folderWith(name: string, files: Record<string, string>): Promise<string> {
  const dir = path.join(work, name);
  for (const [file, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), text);
  }
  return dir;
}

test('TEMPLATES_DIR replaces one template; the others stay built in', async () => {
  const dir = await folderWith('own', {
    'email/digest.txt.eta': 'Our own digest: <%= it.postCount %> posts, <%= it.categories.length %> categories.\n',
  });
  await prepareTemplates(dir, context);
  const { db } = database;
  const subscriberCategories = await seedBusyDay(db);
  assert.ok(subscriberCategories.length > 0);
  const items = await db.selectFrom('items').select('id').execute();
  const edition = await db
    .insertInto('editions')
    .values({ key: 'k'.repeat(43), category_ids: [], item_ids: items.map((i) => i.id) })
    .returning('id')
    .executeTakeFirstOrThrow();
  const rendered = await renderDigest(await buildDigest(db, edition.id), { ...context, now: new Date() });
  assert.equal(rendered.text, `Our own digest: ${items.length} posts, 5 categories.\n`);
  assert.match(rendered.html, /<h1[^>]*>Planet<\/h1>/, 'the HTML template is still the built-in one');
  setTemplatesOverride(undefined);
});

test('a web template can be replaced too, and still finds the built-in layout', async () => {
  const dir = await folderWith('web', { 'web/not-found.eta': "<% layout('./layout.eta') %><p>Lost? Our own page.</p>" });
  setTemplatesOverride(dir);
  const { templateEngine } = await import('../../src/render/templates.js');
  const pages = templateEngine(path.join(templatesDir, 'web'), { autoEscape: true });
  const html = pages.render('./not-found.eta', { title: 'Not found', siteName: 'Planet', base: '', planet: true, links: serverLinker('') });
  assert.match(html, /Lost\? Our own page\./);
  assert.match(html, /<!doctype html>/, 'wrapped in the built-in layout');
  setTemplatesOverride(undefined);
  assert.doesNotMatch(
    markupTemplates.render('./email/confirm.mjml.eta', {
      subject: 's',
      heading: 'h',
      preheader: 'p',
      siteName: 'P',
      baseUrl: 'https://x.example',
      email: 'a@b.example',
      categories: [],
      schedule: 'daily',
      confirmUrl: 'https://x.example/c',
      expiresHours: 72,
      alreadySubscribed: false,
    }),
    /Our own/,
  );
});

test('a template that does not compile, or fails on a digest, stops the program at start with the file named', async () => {
  const broken = await folderWith('broken', { 'email/digest.mjml.eta': '<mjml><mj-body><% if ( %></mj-body></mjml>' });
  await assert.rejects(
    prepareTemplates(broken, context),
    (error: Error) => error instanceof TemplateError && /digest\.mjml\.eta does not compile/.test(error.message),
  );
  const failing = await folderWith('failing', { 'email/digest.txt.eta': '<%= it.nothing.here %>' });
  await assert.rejects(
    prepareTemplates(failing, context),
    (error: Error) => error instanceof TemplateError && /fail on a sample digest/.test(error.message),
  );
  setTemplatesOverride(undefined);

  const result = await runCli(['status'], { TEMPLATES_DIR: broken, DATA_DIR: path.join(work, 'data') }, work);
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /TEMPLATES_DIR: template .*broken\/email\/digest\.mjml\.eta does not compile/);
  assert.equal(await readFile(path.join(work, 'data', 'secret'), 'utf8').catch(() => 'none'), 'none', 'nothing was opened');
});
