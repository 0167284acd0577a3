-- Inbox views for people who see part of the inbox (issue 4: a page of 50
-- at 1M messages in ≤ 15 ms p99). The list reads each branch of the
-- caller's scope — assigned to me, my departments, unassigned in my
-- department — through its own index in list order, 51 rows each, and
-- merges them (inquiries.List). The "breaching" view is ordered by due
-- time, so the assignee and department branches need that order too;
-- only inquiries with a due time are in those indexes, and only unassigned
-- ones in the last two.
CREATE INDEX inquiries_assignee_due ON inquiries (assignee_id, active, due_at, id) WHERE due_at IS NOT NULL;
CREATE INDEX inquiries_department_due ON inquiries (department_id, active, due_at, id) WHERE due_at IS NOT NULL;
CREATE INDEX inquiries_unassigned ON inquiries (department_id, active, last_message_at, id) WHERE assignee_id IS NULL;
CREATE INDEX inquiries_unassigned_due ON inquiries (department_id, active, due_at, id) WHERE assignee_id IS NULL AND due_at IS NOT NULL;
