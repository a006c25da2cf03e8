import type { Db } from '../db/connect.js';

/** A record of each job run, for `feed-digest status` and for operators reading the database. */
export async function startRun(db: Db, kind: string): Promise<number> {
  const row = await db.insertInto('runs').values({ kind }).returning('id').executeTakeFirstOrThrow();
  return row.id;
}

export async function finishRun(db: Db, id: number, summary: unknown): Promise<void> {
  await db
    .updateTable('runs')
    .set({ finished_at: new Date(), summary: JSON.stringify(summary) })
    .where('id', '=', id)
    .execute();
}

export async function recentRuns(db: Db, limit = 5) {
  return db.selectFrom('runs').selectAll().orderBy('id', 'desc').limit(limit).execute();
}
