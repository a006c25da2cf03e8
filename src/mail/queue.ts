import type { Db } from '../db/connect.js';
import { claimDeliveries, type ClaimedDelivery } from './ledger.js';

/**
 * The two pieces that keep the SMTP connections busy: claims taken ahead of the
 * senders, and marks committed in groups, so that no message waits for a database
 * round trip of its own.
 */
export interface ClaimSource {
  /** The next claimed delivery, or undefined when nothing is left to claim. */
  next(): Promise<ClaimedDelivery | undefined>;
  /** Stops claiming; returns the rows claimed that nobody took, to hand back. */
  close(): Promise<ClaimedDelivery[]>;
}

/**
 * Claims the next batch while the current one is being sent (when half of it is
 * taken). `batchSize` is asked before each claim, so the caller can keep a batch
 * well inside the lease at the rate it actually sends.
 */
export function claimAhead(db: Db, batchSize: () => number, leaseSeconds: number): ClaimSource {
  let buffer: ClaimedDelivery[] = [];
  let taken = 0;
  let exhausted = false;
  let failure: { error: unknown } | undefined;
  let refill: Promise<void> | undefined;
  let lastBatch = 0;

  const fill = (): Promise<void> =>
    (refill ??= claimDeliveries(db, (lastBatch = batchSize()), leaseSeconds)
      .then(
        (rows) => {
          buffer = buffer.slice(taken).concat(rows);
          taken = 0;
          if (rows.length === 0) exhausted = true;
        },
        (error: unknown) => {
          failure = { error };
        },
      )
      .finally(() => {
        refill = undefined;
      }));

  return {
    async next() {
      for (;;) {
        if (failure !== undefined) throw failure.error;
        if (taken < buffer.length) break;
        if (exhausted) return undefined;
        await fill();
      }
      if (!exhausted && buffer.length - taken <= lastBatch / 2) void fill();
      return buffer[taken++];
    },
    async close() {
      exhausted = true;
      await refill;
      const left = buffer.slice(taken);
      buffer = [];
      taken = 0;
      return left;
    },
  };
}

/**
 * Group commit: a flush first lets the event loop take in the I/O already waiting
 * (one turn, no timer), so that the other senders' replies add their items, then
 * writes all of them; items arriving while a flush runs go together in the next one.
 * Each caller's promise settles when the flush holding its item has committed (or
 * failed). Without that turn, embedded PGlite, which runs in this thread, finished
 * each flush before any other reply was read: groups of one, and 25% fewer messages
 * a second.
 */
export function groupCommit<T>(flush: (items: T[]) => Promise<void>): (item: T) => Promise<void> {
  let waiting: Array<{ item: T; resolve: () => void; reject: (error: unknown) => void }> = [];
  let flushing = false;
  const drain = async () => {
    flushing = true;
    while (waiting.length > 0) {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const group = waiting;
      waiting = [];
      try {
        await flush(group.map((w) => w.item));
        for (const w of group) w.resolve();
      } catch (error) {
        for (const w of group) w.reject(error);
      }
    }
    flushing = false;
  };
  return (item) =>
    new Promise<void>((resolve, reject) => {
      waiting.push({ item, resolve, reject });
      if (!flushing) void drain();
    });
}
