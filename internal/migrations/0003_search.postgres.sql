-- Full-text search (package internal/platform/search), PostgreSQL flavour.
-- Tokens are made in Go (CJK bigrams, words, digit suffixes) and stored as a
-- tsvector literal with explicit positions (the same lexemes
-- to_tsvector('simple', tokens) gives, without depending on the parser or
-- the locale). seq = updated_at ms << 20 | a counter's low 20 bits orders
-- results newest first.

CREATE TABLE search_docs (
    doc_type   TEXT NOT NULL,
    doc_id     TEXT NOT NULL,
    account_id TEXT,
    title      TEXT NOT NULL DEFAULT '',
    snippet    TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    tsv        tsvector NOT NULL,
    PRIMARY KEY (doc_type, doc_id)
);
CREATE UNIQUE INDEX search_docs_seq ON search_docs (seq);
CREATE INDEX search_docs_account ON search_docs (account_id, seq);
-- fastupdate flushes caused 600 ms p99 spikes (shared/STACK.md).
CREATE INDEX search_docs_tsv ON search_docs USING gin (tsv) WITH (fastupdate = off);
-- With default statistics the planner misjudged rare words (100-330 ms);
-- with 10000 every two-character query stayed within ~2 ms (shared/STACK.md).
ALTER TABLE search_docs ALTER COLUMN tsv SET STATISTICS 10000;

-- Outbox: one row per change, written in the changing transaction and
-- drained by the search.index job. Rows are deleted by id once indexed.
CREATE TABLE search_dirty (
    id        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    doc_type  TEXT NOT NULL,
    doc_id    TEXT NOT NULL,
    queued_at BIGINT NOT NULL
);

-- Counter for the low bits of seq.
CREATE TABLE search_seq (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  BIGINT NOT NULL
);
INSERT INTO search_seq (id, n) VALUES (1, 0);
