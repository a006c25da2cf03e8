import { readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import type { Db } from '../../db/connect.js';
import { demoCategories, demoFeeds } from '../../demo/content.js';
import { startDemoFeedServer, type DemoFeedServer } from '../../demo/server.js';
import { loadConfig } from '../../config/config.js';
import { addCategory, addFeed, moveFeeds } from '../../feeds/store.js';
import { describeTick, runJob } from '../../jobs/run.js';
import { lastSentTo } from '../../mail/ledger.js';
import { createMailer } from '../../mail/transport.js';
import { fillPersonalValues, personalValues } from '../../render/personal.js';
import { loadRenderedEdition } from '../../render/store.js';
import type { LinkConfig } from '../../links/urls.js';
import { addSubscriber } from '../../subscribers/store.js';
import { buildStaticSite } from '../../web/site-build.js';
import { withContext } from '../context.js';

export const DEMO_SUBSCRIBER = 'demo@example.org';

/** The demo's posts are dated from its first run, so a later run finds nothing new. */
async function demoAnchor(dataDir: string): Promise<Date> {
  const file = path.join(dataDir, 'demo-anchor');
  try {
    return new Date((await readFile(file, 'utf8')).trim());
  } catch {
    const now = new Date();
    await mkdir(dataDir, { recursive: true });
    await writeFile(file, `${now.toISOString()}\n`);
    return now;
  }
}

/**
 * The demo server gets a new port each run; its feeds are found by path and
 * pointed at the current port, so they stay the same feeds with the same posts,
 * and made due, so that each demo run fetches them.
 */
async function ensureDemoData(db: Db, server: DemoFeedServer): Promise<void> {
  for (const category of demoCategories) await addCategory(db, category);
  for (const feed of demoFeeds) {
    const url = server.urlOf(feed);
    const moved = await moveFeeds(db, `^http://127\\.0\\.0\\.1:\\d+/${feed.slug}\\.xml$`, url);
    if (moved === 0) await addFeed(db, { url, categoryName: feed.category });
  }
  await addSubscriber(db, { email: DEMO_SUBSCRIBER, categoryNames: demoCategories.map((c) => c.name) });
}

/** An .html beside the .eml files, for a look in a browser. */
async function writeHtmlPreview(
  db: Db,
  config: LinkConfig & { digestLocale: string },
  outboxDir: string,
  since: Date,
): Promise<string | undefined> {
  const delivery = await lastSentTo(db, DEMO_SUBSCRIBER, since);
  if (delivery === undefined) return undefined;
  const rendered = await loadRenderedEdition(db, delivery.edition_id);
  if (rendered === undefined) return undefined;
  const file = path.join(outboxDir, `digest-${delivery.id}.html`);
  const values = personalValues(config, {
    id: delivery.subscriber_id,
    subscribedAt: delivery.subscribed_at,
    timeZone: delivery.timezone,
  });
  await writeFile(file, fillPersonalValues(rendered.html, rendered.slotNonce, values));
  return file;
}

async function filesWrittenSince(dir: string, since: Date, extension: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const files = [];
  for (const name of names.filter((n) => n.endsWith(extension))) {
    const file = path.join(dir, name);
    if ((await stat(file)).mtime >= since) files.push(file);
  }
  return files;
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('offline demo: serve sample feeds locally, fetch them and mail a digest to the outbox')
    // The demo's feeds are served from 127.0.0.1: it allows that address, and only that, for itself.
    .action(() =>
      withContext(
        async ({ db, config, database }) => {
          const server = await startDemoFeedServer(await demoAnchor(config.dataDir));
          const mailer = createMailer(config);
          const started = new Date();
          try {
            await ensureDemoData(db, server);
            console.log(
              `Demo feeds served at ${server.origin}; database in ${database.mode === 'server' ? 'DATABASE_URL' : config.dataDir}.`,
            );
            const summary = await runJob(db, config, mailer, { databaseMode: database.mode });
            describeTick(summary, mailer).forEach((line) => console.log(line));
            if (mailer.kind === 'outbox' && (summary.sent?.delivered.sent ?? 0) > 0) {
              const preview = await writeHtmlPreview(db, config, config.outboxDir, started);
              for (const file of await filesWrittenSince(config.outboxDir, started, '.eml'))
                console.log(`Wrote ${path.relative(process.cwd(), file)}`);
              if (preview) console.log(`Wrote ${path.relative(process.cwd(), preview)} (open it in a browser)`);
            }
            if (config.planetPublic) {
              const siteDir = path.join(config.outboxDir, 'site');
              await buildStaticSite(db, config, siteDir, { pages: 3, now: new Date() });
              console.log(
                `Wrote the planet's pages and feeds to ${path.relative(process.cwd(), siteDir)}/ (open ${path.relative(process.cwd(), path.join(siteDir, 'index.html'))} in a browser)`,
              );
            }
          } finally {
            await mailer.close();
            await server.close();
          }
        },
        { config: { ...loadConfig(), fetchAllowPrivate: ['127.0.0.1'] } },
      ),
    );
}
