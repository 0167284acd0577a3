-- Every reply to a customer (and every logged call, meeting or visit) asks
-- for the account's open promises to mark them kept (followups,
-- customerContacted), inside the write transaction. Without an index on the
-- account among open promises the planner took tasks_promise
-- (is_promise, promise_state, due_at) and walked every pending promise of
-- every account, with a temporary table for the IN list, on the single
-- SQLite writer; this holds open promises only, so it stays small and the
-- lookup reads just the account's.
CREATE INDEX tasks_account_promises ON tasks (account_id, created_at) WHERE status = 'open' AND is_promise = TRUE;
