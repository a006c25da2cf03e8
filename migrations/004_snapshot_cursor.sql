-- A subscriber's cursor becomes the whole snapshot of their last planning
-- ('xmin:xmax:xip,...'), not just its xmin. With only xmin, one long transaction
-- anywhere on the server (xids are shared by every database) held back every post
-- committed after it began, and digests went out without them for a day. A post is
-- new when it was not visible in the cursor's snapshot and is visible in the
-- planner's: exact, whatever else runs. An old xid8 cursor x means the snapshot 'x:x:'.
ALTER TABLE subscribers
  ALTER COLUMN items_cursor TYPE text
  USING CASE WHEN items_cursor IS NULL THEN NULL ELSE items_cursor::text || ':' || items_cursor::text || ':' END;
