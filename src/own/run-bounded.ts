/*
 * Thirty lines rather than a dependency: p-limit and p-queue bound one count, so a bound per
 * host as well needs a limiter per host nested inside a shared one; this loop keeps both
 * bounds and the given order in one place.
 */
/**
 * Runs `work` over `tasks` with at most `total` at once and at most `perKey` at once for
 * tasks that share a key (a host), keeping the given order otherwise.
 */
export async function runBounded<T, R>(
  tasks: T[],
  options: { total: number; perKey: number; keyOf: (task: T) => string },
  work: (task: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(tasks.length);
  const pending = tasks.map((task, index) => ({ task, index, key: options.keyOf(task) }));
  const running = new Map<string, number>();
  let active = 0;

  return new Promise((resolve, reject) => {
    const startMore = () => {
      if (pending.length === 0 && active === 0) return resolve(results);
      for (let i = 0; i < pending.length && active < options.total;) {
        const next = pending[i]!;
        if ((running.get(next.key) ?? 0) >= options.perKey) {
          i++;
          continue;
        }
        pending.splice(i, 1);
        active++;
        running.set(next.key, (running.get(next.key) ?? 0) + 1);
        work(next.task).then((result) => {
          results[next.index] = result;
          active--;
          running.set(next.key, running.get(next.key)! - 1);
          startMore();
        }, reject);
      }
    };
    startMore();
  });
}
