import { createReadStream, createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { createMailer } from '../../mail/transport.js';
import { pacer } from '../../mail/deliver.js';
import { subscribersCsv } from '../../subscribers/export.js';
import { ImportError, importSubscribers, sendImportConfirmations, unmailedPendingIds } from '../../subscribers/import.js';
import { addSubscriber, listSubscribers, removeSubscriber } from '../../subscribers/store.js';
import { withContext } from '../context.js';
import { CliProblem, printRows, unwrap } from '../output.js';

/** Decimal digits only: Number() would take '0x10' as 16 and '' as 0. */
function parseHour(value: string): number {
  const hour = /^\d{1,2}$/.test(value) ? Number(value) : NaN;
  if (!(hour >= 0 && hour <= 23)) throw new CliProblem(`--hour must be 0 to 23, got "${value}"`);
  return hour;
}

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const WEEKDAY_NAMES = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];

function parseWeekday(value: string): number {
  // "mon", "mond" or "monday", not "monster": only the first three letters used to count.
  const typed = value.trim().toLowerCase();
  const day = typed.length >= 3 ? WEEKDAY_NAMES.findIndex((name) => name.startsWith(typed)) + 1 : 0;
  if (day === 0) throw new CliProblem(`--weekly takes a weekday (mon ... sun), got ${value}`);
  return day;
}

export function registerSubscriberCommands(program: Command): void {
  const subscribers = program.command('subscribers').description('manage the people who get digests');

  subscribers
    .command('add <email>')
    .description('add a confirmed subscriber (the operator vouches for consent)')
    .requiredOption('--categories <names>', 'comma-separated category names, e.g. thinktime,releases')
    .option('--timezone <zone>', 'IANA time zone for the delivery hour (default: DEFAULT_TIMEZONE)')
    .option('--hour <hour>', 'local hour the digest is sent, 0-23 (default: DEFAULT_DELIVERY_HOUR)', parseHour)
    .option('--weekly <weekday>', 'send weekly on this day instead of daily', parseWeekday)
    .action((email: string, options: { categories: string; timezone?: string; hour?: number; weekly?: number }) =>
      withContext(async ({ db, config }) => {
        const subscriber = unwrap(
          await addSubscriber(db, {
            email,
            categoryNames: options.categories
              .split(',')
              .map((c) => c.trim())
              .filter(Boolean),
            timezone: options.timezone ?? config.defaultTimezone,
            deliveryHour: options.hour ?? config.defaultDeliveryHour,
            ...(options.weekly === undefined ? {} : { frequency: 'weekly' as const, weeklyDay: options.weekly }),
          }),
        );
        console.log(`Added ${subscriber.email} (active).`);
      }),
    );

  subscribers
    .command('list')
    .description('list subscribers with their status (pending, active, paused, unsubscribed, bounced)')
    .option('--json', 'print JSON')
    .option('--status <status>', 'only subscribers with this status')
    .action((options: { json?: boolean; status?: string }) =>
      withContext(async ({ db }) => {
        const rows = await listSubscribers(db, { status: options.status });
        printRows(
          rows,
          [
            { header: 'EMAIL', value: (s) => s.email },
            { header: 'STATUS', value: (s) => s.status },
            { header: 'CATEGORIES', value: (s) => s.categories },
            {
              header: 'SCHEDULE',
              value: (s) =>
                `${s.frequency === 'weekly' ? `${WEEKDAYS[s.weekly_day - 1]} ` : ''}${String(s.delivery_hour).padStart(2, '0')}:00 ${s.timezone}`,
            },
            { header: 'NEXT DIGEST', value: (s) => (s.status !== 'active' ? '' : (s.next_digest_at ?? 'never: unknown time zone')) },
            { header: 'SINCE', value: (s) => s.confirmed_at ?? s.created_at },
          ],
          options,
        );
      }),
    );

  subscribers
    .command('remove <email>')
    .description('delete a subscriber and their delivery history')
    .action((email: string) =>
      withContext(async ({ db }) => {
        if (!(await removeSubscriber(db, email))) throw new CliProblem(`no subscriber ${email}`);
        console.log(`Removed ${email}.`);
      }),
    );

  subscribers
    .command('import <file>')
    .description(
      'add subscribers from CSV (email, categories, timezone, hour, frequency, weekly_day, consent_source, consent_date): pending, with a confirmation mail each',
    )
    .option('--confirmed', 'they confirmed elsewhere: add them active, recording consent_source and consent_date')
    .option('--consent-source <text>', 'with --confirmed, for rows without a consent_source')
    .option('--json', 'print the report as JSON')
    .action((file: string, options: { confirmed?: boolean; consentSource?: string; json?: boolean }) =>
      withContext(async ({ db, config }) => {
        let report;
        try {
          report = await importSubscribers(db, createReadStream(file), {
            confirmed: options.confirmed === true,
            consentSource: options.consentSource,
            defaultTimezone: config.defaultTimezone,
            defaultDeliveryHour: config.defaultDeliveryHour,
            file,
          });
        } catch (error) {
          if (
            error instanceof ImportError ||
            (error as NodeJS.ErrnoException).code === 'ENOENT' ||
            (error as { code?: string }).code?.startsWith('CSV_')
          ) {
            throw new CliProblem(
              `${file}: ${(error as Error).message} (rows before it, if any, were imported: fix the file and import it again)`,
            );
          }
          throw error;
        }
        const unmailed = await unmailedPendingIds(db);
        let mailed = { sent: 0, failed: 0 };
        if (unmailed.length > 0) {
          const mailer = createMailer(config);
          try {
            mailed = await sendImportConfirmations(db, mailer, config, unmailed, pacer(config.sendRateLimit));
          } finally {
            await mailer.close();
          }
        }
        const { pendingIds, ...summary } = report;
        if (options.json) console.log(JSON.stringify({ ...summary, pending: pendingIds.length, confirmations: mailed }, null, 2));
        else {
          console.log(
            `Read ${report.rows} rows: added ${report.added} (${pendingIds.length} pending), ${report.existing} already there, ${report.rejected.length} rejected.`,
          );
          if (mailed.sent + mailed.failed > 0)
            console.log(
              `Confirmation mails: ${mailed.sent} sent${mailed.failed > 0 ? `, ${mailed.failed} failed (sent on the next import)` : ''}.`,
            );
          for (const { line, reason } of report.rejected) console.log(`  line ${line}: ${reason}`);
        }
        if (report.rejected.length > 0)
          throw new CliProblem(
            `${report.rejected.length} row${report.rejected.length === 1 ? '' : 's'} rejected: fix them and import the file again (rows already added stay as they are)`,
          );
      }),
    );

  subscribers
    .command('export [file]')
    .description('write all subscribers as CSV (to stdout without a file)')
    .action((file: string | undefined) =>
      withContext(async ({ db }) => {
        const out = file === undefined ? process.stdout : createWriteStream(file);
        for await (const chunk of subscribersCsv(db)) {
          if (!out.write(chunk)) await once(out, 'drain');
        }
        if (file !== undefined) {
          out.end();
          await once(out, 'finish');
          console.error(`Wrote ${file}.`);
        }
      }),
    );
}
