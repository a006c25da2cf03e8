-- A post whose guid changes while its link stays is the same post: the feeds stage looks
-- up a feed's items by link before inserting, so that it is never stored (and mailed) twice.
CREATE INDEX items_feed_url_idx ON items (feed_id, url);
