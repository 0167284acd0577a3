-- Issue 7, PostgreSQL only (SQLite keeps 0018's indexes, which its planner
-- uses well). At a million open tasks the tick took 280 ms a second, and a
-- reminder up to 9 s to go out, for two reasons:
--
-- 1. 0018's pending-work indexes led with the constant columns their
--    predicates fix (status, the NULL marker), for SQLite's planner.
--    PostgreSQL drops a condition the index predicate already implies from
--    the index condition, so only the time column (third or fourth) was
--    constrained and every tick scanned each index whole. Here the time
--    column leads, and "what is due by now" is a short range.
--
-- 2. tasks_due (status, due_at) competed with them and won: status is
--    'open' on nearly every row, so its correlation statistic is about 1 and
--    the planner costs the heap visits of that index as sequential reads.
--    The overdue and escalation rules then walked every overdue task, all
--    long since notified, to find none. It is replaced by an index of open
--    tasks by due time (as large as the open set, so never cheaper than the
--    pending subsets) and one for the other statuses.
DROP INDEX tasks_remind_pending;
DROP INDEX tasks_overdue_pending;
DROP INDEX tasks_escalate_pending;
DROP INDEX tasks_promise_pending;
DROP INDEX tasks_due;
CREATE INDEX tasks_remind_pending ON tasks (remind_at) WHERE status = 'open' AND reminded_at IS NULL AND remind_at IS NOT NULL;
CREATE INDEX tasks_overdue_pending ON tasks (due_at) WHERE status = 'open' AND overdue_notified_at IS NULL;
CREATE INDEX tasks_escalate_pending ON tasks (due_at) WHERE status = 'open' AND escalated_at IS NULL;
CREATE INDEX tasks_promise_pending ON tasks (due_at) WHERE status = 'open' AND promise_state = 'pending';
CREATE INDEX tasks_open_due ON tasks (due_at, id) WHERE status = 'open';
CREATE INDEX tasks_closed_due ON tasks (status, due_at, id) WHERE status <> 'open';
