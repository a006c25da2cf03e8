import pino, { type Logger } from 'pino';
import type { Config } from '../config/config.js';

/** Structured logs: one JSON object a line on stderr; stdout stays for command output. */
export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({ level: config.logLevel, base: { app: 'feed-digest' } }, pino.destination(2));
}

export type { Logger };
