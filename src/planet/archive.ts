import { sql } from 'kysely';
import type { Db } from '../db/connect.js';

export interface ArchivedEdition {
  id: number;
  key: string;
  createdAt: Date;
  postCount: number;
  categoryTitles: string[];
}

/**
 * Past editions, newest first, that hold only public categories. Editions are shared
 * by everyone with the same choices and carry no personal data.
 */
export async function listPublicEditions(
  db: Db,
  options: { beforeId?: number; limit: number },
): Promise<{ editions: ArchivedEdition[]; olderId: number | undefined }> {
  let query = db
    .selectFrom('editions as e')
    .select([
      'e.id',
      'e.key',
      'e.created_at',
      sql<number>`cardinality(e.item_ids)`.as('post_count'),
      sql<string[]>`array(select c.title from categories c where c.id = any(e.category_ids) order by c.title)`.as('category_titles'),
    ])
    .where(sql<boolean>`cardinality(e.item_ids) > 0`)
    .where(sql<boolean>`not exists (select 1 from categories c where c.id = any(e.category_ids) and not c.public)`);
  if (options.beforeId !== undefined) query = query.where('e.id', '<', options.beforeId);
  const rows = await query
    .orderBy('e.id', 'desc')
    .limit(options.limit + 1)
    .execute();
  const editions = rows.slice(0, options.limit).map((row) => ({
    id: row.id,
    key: row.key,
    createdAt: new Date(row.created_at),
    postCount: Number(row.post_count),
    categoryTitles: row.category_titles,
  }));
  return { editions, olderId: rows.length > options.limit ? editions.at(-1)?.id : undefined };
}
