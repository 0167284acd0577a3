-- Spreadsheet imports (客户导入): one row per upload, processed by the
-- customers.import job. The upload is kept until the job has finished; the
-- error report stays for the importer to download. sqlite flavour: the
-- binary columns are BLOB. They come last so that reading an import's status
-- never walks past a large upload (SQLite stores a row's columns in order).

CREATE TABLE imports (
    id             TEXT PRIMARY KEY,
    kind           TEXT NOT NULL DEFAULT 'accounts',
    user_id        TEXT NOT NULL REFERENCES users(id),
    status         TEXT NOT NULL,               -- queued | running | done | failed
    phase          TEXT NOT NULL DEFAULT '',    -- validating | writing while running
    mode           TEXT NOT NULL,               -- preview | commit
    duplicates     TEXT NOT NULL,               -- skip | update | create
    filename       TEXT NOT NULL DEFAULT '',
    size_bytes     BIGINT NOT NULL DEFAULT 0,
    total_rows     INTEGER NOT NULL DEFAULT 0,
    processed_rows INTEGER NOT NULL DEFAULT 0,
    created_rows   INTEGER NOT NULL DEFAULT 0,
    updated_rows   INTEGER NOT NULL DEFAULT 0,
    skipped_rows   INTEGER NOT NULL DEFAULT 0,
    error_rows     INTEGER NOT NULL DEFAULT 0,
    result         TEXT NOT NULL DEFAULT '',    -- JSON: preview rows, row errors, file problem
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    finished_at    BIGINT,
    has_report     BOOLEAN NOT NULL DEFAULT FALSE,
    report         BLOB,                         -- the error report (.xlsx)
    data           BLOB                          -- the upload, until processed
);
CREATE INDEX imports_user ON imports (user_id, created_at, id);
CREATE INDEX imports_created ON imports (created_at, id);
