-- Rate limits that must hold across instances (the public web chat's writes
-- on PostgreSQL, where a load balancer spreads one address over several
-- instances, each with its own in-memory buckets). One row per limited key:
-- the GCRA "theoretical arrival time" (tat, ms) and whether the last request
-- was refused. A row whose tat has passed is the same as no row, so the
-- hourly sweep deletes those.
CREATE TABLE rate_buckets (
    bucket TEXT NOT NULL,
    key    TEXT NOT NULL,
    tat    BIGINT NOT NULL,
    denied BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (bucket, key)
);
CREATE INDEX rate_buckets_tat ON rate_buckets (tat);
