import { sql, type RawBuilder } from 'kysely';

/**
 * When is a post new for a subscriber? This module is the one answer.
 *
 * A subscriber's cursor (subscribers.items_cursor) is the database snapshot
 * (pg_current_snapshot) taken when their last digest was planned. A post is new to them
 * when its inserting transaction (items.created_xid) was not visible in that snapshot
 * and is visible in the planner's. Sequence ids or timestamps would not do: with several
 * writers, a post with a smaller id can commit after a digest read a larger one. A
 * snapshot, unlike its xmin alone, is not held back by a long transaction elsewhere on
 * the server. (Migration 004 turned the older xid8 cursor x into the snapshot 'x:x:'.)
 *
 * The rules:
 * - a subscriber who becomes active (added, imported, confirmed) starts now, and so does
 *   one imported as paused: their first digest holds the posts that arrived after they joined;
 * - resuming or resubscribing starts now too: the posts of the months away are not
 *   mailed as one huge digest;
 * - a subscriber who is already active keeps their cursor, so confirming again skips nothing;
 * - only a digest actually planned moves the cursor (to the planner's snapshot);
 * - a feed's first fetch is a baseline: only its posts of the last 24 hours are mailable.
 */

/** The snapshot now: as a cursor, everything visible in it is not new any more. */
export const currentCursor = sql<string>`pg_current_snapshot()::text`;

/** The cursor a new subscriber row starts with: now when they start active, none while they wait. */
export function startingCursor(active: boolean): RawBuilder<string> | null {
  return active ? currentCursor : null;
}

/** For a subscriber who becomes active: one already active keeps their cursor, anyone else starts now. */
export const cursorOnActivation = sql<string>`case when status = 'active' then items_cursor else ${currentCursor} end`;

/**
 * The ids of the mailable, unfiltered posts of the given categories that are new between
 * two snapshots. The feeds' ids are gathered first (an init plan) rather than joined: right
 * after a big first fetch the statistics still say items is empty, and the join then ran
 * one scan of the whole new range per feed (400 ms per group at 1,000 feeds, not 10 ms).
 */
export function newItemIdsBetween(categoryIds: number[], from: string, to: string): RawBuilder<{ id: number }> {
  // The xmin bound only narrows the index scan; the visibility tests decide.
  return sql<{ id: number }>`
    SELECT i.id FROM items i
    WHERE i.feed_id = ANY(ARRAY(SELECT f.id FROM feeds f WHERE f.category_id = ANY(${categoryIds}::int[]))) AND i.mailable AND i.filtered_by IS NULL
      AND i.created_xid >= pg_snapshot_xmin(${from}::pg_snapshot)
      AND NOT pg_visible_in_snapshot(i.created_xid, ${from}::pg_snapshot)
      AND pg_visible_in_snapshot(i.created_xid, ${to}::pg_snapshot)
    ORDER BY i.id`;
}

/** On a feed's first fetch, posts older than this are stored but never mailed (no flood). */
const BASELINE_WINDOW_MS = 24 * 60 * 60 * 1000;

/** Whether a post stored now can ever be mailed: always, except the old posts of a feed's first fetch. */
export function isMailable(publishedAt: Date | null, options: { baseline: boolean; now: Date }): boolean {
  return !options.baseline || (publishedAt !== null && publishedAt.getTime() >= options.now.getTime() - BASELINE_WINDOW_MS);
}
