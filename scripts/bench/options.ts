import { parseArgs } from 'node:util';

export interface BenchOptions {
  feeds: number;
  subscribers: number;
  combos: number;
  backend: 'pglite' | 'postgres' | 'both';
  json: boolean;
  /** Sign every message with DKIM (an RSA-2048 key made for the run). */
  dkim: boolean;
  /** Posts in each generated feed: 20 by default, the shape of issue 17's reference feeds (about 97 KB). */
  postsPerFeed: number;
}

/** A small default that finishes in about a minute on two cores. */
export function benchOptions(args: string[]): BenchOptions {
  const { values } = parseArgs({
    args,
    options: {
      feeds: { type: 'string', default: '100' },
      subscribers: { type: 'string', default: '5000' },
      combos: { type: 'string', default: '12' },
      backend: { type: 'string', default: 'both' },
      json: { type: 'boolean', default: false },
      dkim: { type: 'boolean', default: false },
      'posts-per-feed': { type: 'string', default: '20' },
    },
  });
  const whole = (name: string, raw: string, min: number): number => {
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be a whole number of at least ${min} (got ${raw})`);
    return value;
  };
  if (!['pglite', 'postgres', 'both'].includes(values.backend))
    throw new Error(`--backend must be pglite, postgres or both (got ${values.backend})`);
  return {
    feeds: whole('feeds', values.feeds, 1),
    subscribers: whole('subscribers', values.subscribers, 1),
    combos: whole('combos', values.combos, 1),
    backend: values.backend as BenchOptions['backend'],
    json: values.json,
    dkim: values.dkim,
    postsPerFeed: whole('posts-per-feed', values['posts-per-feed'], 1),
  };
}

/** The same options as command-line flags, for a child run on one backend. */
export function optionArgs(options: BenchOptions, backend: 'pglite' | 'postgres'): string[] {
  return [
    '--feeds',
    String(options.feeds),
    '--subscribers',
    String(options.subscribers),
    '--combos',
    String(options.combos),
    '--backend',
    backend,
    '--posts-per-feed',
    String(options.postsPerFeed),
    ...(options.dkim ? ['--dkim'] : []),
  ];
}
