-- A refusal while sending is now judged and ruled on like any other bounce (a hard one
-- stops the address at once, soft ones after BOUNCE_SOFT_LIMIT within BOUNCE_SOFT_DAYS,
-- each recorded in bounce_events): the old count of hard bounces in a row goes.
ALTER TABLE subscribers DROP COLUMN bounce_count;
