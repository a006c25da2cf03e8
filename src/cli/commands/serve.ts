import type { Command } from 'commander';
import { createLogger } from '../../log/logger.js';
import { createMailer } from '../../mail/transport.js';
import { withContext } from '../context.js';

/**
 * The long-running service: web pages, /healthz and /metrics, and the scheduler.
 * SIGTERM or SIGINT: stop taking work, let in-flight sends finish, close cleanly.
 */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('run the web server and the scheduler (fetches due feeds, sends due digests)')
    .option('--no-scheduler', 'web pages only: another instance or cron does the sending')
    .action((options: { scheduler: boolean }) =>
      withContext(
        async ({ db, config, database }) => {
          // The web stack loads only here, so that the other commands start quickly.
          const [{ buildWebServer }, { registerMetricsRoute }, { Metrics }, { startScheduler }] = await Promise.all([
            import('../../web/server.js'),
            import('../../web/routes/metrics.js'),
            import('../../scheduler/metrics.js'),
            import('../../scheduler/scheduler.js'),
          ]);
          const logger = createLogger(config);
          const mailer = createMailer(config);
          const metrics = new Metrics(db);
          const app = await buildWebServer({ db, config, mailer, logger, turns: database.turns });
          registerMetricsRoute(app, metrics);
          // Listen for the stop signal before anything can announce readiness.
          const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
            process.once('SIGTERM', () => resolve('SIGTERM'));
            process.once('SIGINT', () => resolve('SIGINT'));
          });
          const address = await app.listen({ host: config.host, port: config.port });
          const scheduler = options.scheduler
            ? startScheduler({ db, config, mailer, logger, metrics, databaseMode: database.mode })
            : undefined;
          logger.info(
            {
              address,
              baseUrl: config.baseUrl,
              database: database.mode,
              access: database.access,
              mail: mailer.describe,
              scheduler: Boolean(scheduler),
              inbound: config.inboundImapUrl !== undefined ? 'imap' : config.inboundPipe ? 'pipe' : 'none',
            },
            `feed-digest serving on ${address}`,
          );
          const signal = await stopSignal;
          logger.info({ signal }, 'stopping: finishing in-flight sends');
          await scheduler?.stop();
          await app.close();
          await mailer.close();
          logger.info('stopped');
        },
        { serve: true },
      ),
    );
}
