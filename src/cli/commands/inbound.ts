import type { Command } from 'commander';
import { handleInbound, readInbound, describeReading } from '../../bounces/inbound.js';
import { ConfigError, loadConfig } from '../../config/config.js';
import { ensureSecret } from '../../config/secret.js';
import { createLogger } from '../../log/logger.js';
import { withContext } from '../context.js';

/** sysexits.h: what an MTA's pipe delivery understands (75 makes it try again later). */
const EX_DATAERR = 65;
const EX_TEMPFAIL = 75;
const EX_CONFIG = 78;

/** Bounces quote the original message; the part that matters comes first. */
const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buffer = chunk as Buffer;
    if (size < MAX_MESSAGE_BYTES) chunks.push(buffer.subarray(0, MAX_MESSAGE_BYTES - size));
    size += buffer.length;
  }
  return Buffer.concat(chunks);
}

interface InboundOptions {
  classify?: boolean;
  json?: boolean;
  recipient?: string;
}

export function registerInboundCommand(program: Command): void {
  program
    .command('inbound')
    .description('read one bounce, complaint or unsubscribe mail on stdin and act on it (for an MTA pipe or procmail)')
    .option('--classify', 'only print what the message is; change nothing')
    .option('--json', 'with --classify: print JSON')
    .option('--recipient <address>', 'the envelope recipient, when the MTA passes it (e.g. Postfix $ORIGINAL_RECIPIENT)')
    .action(async (options: InboundOptions) => {
      let config;
      try {
        config = await ensureSecret(loadConfig());
      } catch (error) {
        if (!(error instanceof ConfigError)) throw error;
        console.error(`feed-digest: ${error.message}`);
        process.exitCode = EX_CONFIG;
        return;
      }
      const raw = await readStdin();
      if (raw.length === 0) {
        console.error('feed-digest: no message on stdin');
        process.exitCode = EX_DATAERR;
        return;
      }
      if (options.classify) {
        const reading = await readInbound(config, raw, 'mail', options.recipient);
        const described = describeReading(reading) as { kind: string; summary: string };
        console.log(options.json ? JSON.stringify(described, null, 2) : `${described.kind}: ${described.summary}`);
        return;
      }
      const logger = createLogger(config);
      try {
        await withContext(
          async (context) => {
            const result = await handleInbound(context.db, context.config, raw, 'mail', options.recipient);
            logger.info(
              {
                job: 'inbound',
                kind: result.classification.kind,
                action: result.applied.action,
                tag: result.tag,
                summary: result.classification.summary,
              },
              result.applied.action === 'ignored' ? 'inbound mail ignored' : 'inbound mail applied',
            );
          },
          { config },
        );
      } catch (error) {
        // The database is away (or worse): the MTA keeps the message and tries again,
        // rather than bouncing a bounce into the void.
        logger.error({ err: error }, 'inbound mail not handled; the MTA will try again');
        process.exitCode = EX_TEMPFAIL;
      }
    });
}
