-- What the planet shows of a feed changed: a post came or changed, or the operator hid
-- the feed or edited its category. The web server's cached river pages and feeds out
-- hold while the sum over feeds stays the same, so a fetch's new posts show on the next
-- request. A counter per feed, bumped in the transaction that changes it: concurrent
-- fetches never wait on each other, and a reader sees the bump only with the posts.
ALTER TABLE feeds ADD COLUMN planet_version bigint NOT NULL DEFAULT 0;
