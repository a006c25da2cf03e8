import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../../config/config.js';
import { openDatabase } from '../../db/connect.js';
import { migrateToLatest } from '../../db/migrate.js';
import { bounceRates, describeRates } from '../../bounces/stats.js';
import { listFeeds } from '../../feeds/store.js';
import { queueStats } from '../../mail/ledger.js';
import { createMailer, type Mailer } from '../../mail/transport.js';
import { previewDigest } from '../../jobs/preview.js';
import { describeFetch, describeSend, describeTick, fetchJob, runJob, sendJob } from '../../jobs/run.js';
import { recentRuns } from '../../jobs/runs.js';
import { withContext, type CommandContext } from '../context.js';
import { CliProblem, printTable } from '../output.js';

async function withMailer<T>(context: CommandContext, run: (mailer: Mailer) => Promise<T>): Promise<T> {
  const mailer = createMailer(context.config);
  try {
    return await run(mailer);
  } finally {
    await mailer.close();
  }
}

export function registerJobCommands(program: Command): void {
  program
    .command('migrate')
    .description('create or update the database schema (run once after each upgrade)')
    .action(async () => {
      const database = await openDatabase(loadConfig());
      try {
        const { applied } = await migrateToLatest(database.db);
        console.log(applied.length > 0 ? `Applied ${applied.join(', ')}.` : 'The schema is up to date.');
      } finally {
        await database.close();
      }
    });

  program
    .command('fetch')
    .description('fetch every enabled feed now and store new posts')
    .option('--due', 'only the feeds whose next fetch time has come')
    .action((options: { due?: boolean }) =>
      withContext(async (context) => {
        describeFetch(await fetchJob(context.db, context.config, { onlyDue: options.due })).forEach((l) => console.log(l));
      }),
    );

  program
    .command('send')
    .description('send the digests that are due (each subscriber at their own hour)')
    .action(() =>
      withContext((context) =>
        withMailer(context, async (mailer) => {
          describeSend(await sendJob(context.db, context.config, mailer, { databaseMode: context.database.mode }), mailer).forEach((l) =>
            console.log(l),
          );
        }),
      ),
    );

  program
    .command('run')
    .description('one scheduler tick: fetch the due feeds, send the due digests, purge stale sign-ups (e.g. from cron)')
    .action(() =>
      withContext((context) =>
        withMailer(context, async (mailer) => {
          const summary = await runJob(context.db, context.config, mailer, { databaseMode: context.database.mode });
          describeTick(summary, mailer).forEach((l) => console.log(l));
          // Failed feeds and bounces are recorded and shown by status; only a mail server
          // that cannot be reached makes the run incomplete (EX_TEMPFAIL, for cron).
          if (summary.sent?.delivered.paused) process.exitCode = 75;
        }),
      ),
    );

  program
    .command('preview')
    .description('write the HTML and text of the digest a subscriber would get now; sends nothing')
    .requiredOption('--subscriber <email>', 'whose digest')
    .option('--out <dir>', 'folder for preview.html and preview.txt', '.')
    .action((options: { subscriber: string; out: string }) =>
      withContext(async ({ db, config }) => {
        const preview = await previewDigest(db, config, options.subscriber);
        if (preview.kind === 'unknown-subscriber') throw new CliProblem(`no subscriber ${options.subscriber}`);
        if (preview.kind === 'empty') {
          console.log(`No new posts for ${options.subscriber} since their last digest.`);
          return;
        }
        await mkdir(options.out, { recursive: true });
        const html = path.join(options.out, 'preview.html');
        const text = path.join(options.out, 'preview.txt');
        await writeFile(html, preview.digest.html);
        await writeFile(text, preview.digest.text);
        console.log(`${preview.digest.subject}\nWrote ${html} and ${text}.`);
      }),
    );

  program
    .command('status')
    .description('feeds with their last fetch and error, the delivery queue, bounce and complaint rates, recent runs')
    .option('--json', 'print JSON')
    .action((options: { json?: boolean }) =>
      withContext(async ({ db }) => {
        const [feeds, queue, runs, ...rates] = await Promise.all([
          listFeeds(db),
          queueStats(db),
          recentRuns(db),
          bounceRates(db, 7),
          bounceRates(db, 30),
        ]);
        if (options.json) {
          console.log(JSON.stringify({ feeds, queue, runs, bounces: rates }, null, 2));
          return;
        }
        const failing = feeds.filter((f) => f.last_status === 'error' || f.disabled_at !== null);
        console.log(
          `Feeds: ${feeds.length} (${failing.length} failing or disabled). Queue: ${queue.queued} waiting (${queue.retrying} retrying); last 24 h: ${queue.sentToday} sent, ${queue.failedToday} failed.`,
        );
        describeRates(rates).forEach((line) => console.log(line));
        console.log('');
        printTable(feeds, [
          { header: 'CATEGORY', value: (f) => f.category },
          { header: 'FEED', value: (f) => f.title ?? f.url },
          { header: 'POSTS', value: (f) => f.items },
          { header: 'LAST FETCH', value: (f) => f.last_fetched_at },
          {
            header: 'STATUS',
            value: (f) =>
              f.disabled_at
                ? `disabled: ${f.disabled_reason}`
                : f.last_status === 'error'
                  ? `error: ${f.last_error}`
                  : (f.last_status ?? 'never fetched'),
          },
        ]);
        console.log('');
        printTable(runs, [
          { header: 'RUN', value: (r) => r.kind },
          { header: 'STARTED', value: (r) => r.started_at },
          { header: 'FINISHED', value: (r) => r.finished_at ?? 'running or killed' },
          { header: 'SUMMARY', value: (r) => JSON.stringify(r.summary) },
        ]);
      }),
    );
}
