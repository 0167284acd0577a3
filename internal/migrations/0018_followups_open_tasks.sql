-- Issue 7 follow-ups, performance. Partial indexes over open tasks only, so
-- that what "my day" and the reminder tick read stays proportional to what
-- they return, not to everything an owner (or the whole company) has open.
--
-- "My day": the owner's open tasks in (due_at, id) order, the exact order
-- the sections are listed in, so each section is a bounded index range scan
-- (no sort) and each count an index-only range count; and the owner's open
-- promises on their own (formerly a scan of every open task to find them).
CREATE INDEX tasks_open_owner ON tasks (owner_id, due_at, id) WHERE status = 'open';
CREATE INDEX tasks_open_promises ON tasks (owner_id, due_at, id) WHERE status = 'open' AND is_promise = TRUE;

-- The tick's rules look for open tasks whose marker is still unset. With the
-- (status, remind_at) and (status, due_at) indexes they walked past every
-- open task already reminded or notified (a million overdue tasks are a
-- million rows to skip each second); these hold only the pending ones. The
-- leading constant columns are for SQLite, which keeps no statistics here:
-- its planner counts the equality terms an index matches, and without them
-- it preferred (status, due_at) to a partial index on due_at alone.
CREATE INDEX tasks_remind_pending ON tasks (status, reminded_at, remind_at) WHERE status = 'open' AND reminded_at IS NULL AND remind_at IS NOT NULL;
CREATE INDEX tasks_overdue_pending ON tasks (status, overdue_notified_at, due_at) WHERE status = 'open' AND overdue_notified_at IS NULL;
CREATE INDEX tasks_escalate_pending ON tasks (status, escalated_at, due_at) WHERE status = 'open' AND escalated_at IS NULL;
CREATE INDEX tasks_promise_pending ON tasks (status, promise_state, is_promise, due_at) WHERE status = 'open' AND promise_state = 'pending';
-- Only the reminder rule used this one.
DROP INDEX tasks_remind;
