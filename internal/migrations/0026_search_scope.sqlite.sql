-- Nothing on SQLite: its search walks FTS5's matches newest first and checks
-- each against the account (12 ms p95 for a two-character word at 1M
-- documents); the PostgreSQL flavour of this migration explains why that
-- side copies the account's scope into search_docs.
SELECT 1;
