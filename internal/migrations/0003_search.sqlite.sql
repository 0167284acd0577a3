-- Full-text search (package internal/platform/search), SQLite flavour.
-- Tokens are made in Go (CJK bigrams, words, digit suffixes) and stored
-- space-joined in a contentless FTS5 table whose rowid is search_docs.seq.
-- seq = updated_at ms << 20 | a counter's low 20 bits, so FTS5 returns
-- matches newest first (ORDER BY rowid DESC) and stops after a page.

CREATE TABLE search_docs (
    doc_type   TEXT NOT NULL,
    doc_id     TEXT NOT NULL,
    account_id TEXT,
    title      TEXT NOT NULL DEFAULT '',
    snippet    TEXT NOT NULL DEFAULT '',
    updated_at BIGINT NOT NULL,
    seq        BIGINT NOT NULL,
    PRIMARY KEY (doc_type, doc_id)
);
CREATE UNIQUE INDEX search_docs_seq ON search_docs (seq);
CREATE INDEX search_docs_account ON search_docs (account_id, seq);

-- remove_diacritics 0: the Go tokenizer has already folded case and
-- diacritics; FTS5 only splits at the spaces between tokens.
CREATE VIRTUAL TABLE search_fts USING fts5(
    tokens,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 0'
);

-- Outbox: one row per change, written in the changing transaction and
-- drained by the search.index job. Rows are deleted by id once indexed.
CREATE TABLE search_dirty (
    id        INTEGER PRIMARY KEY,
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
