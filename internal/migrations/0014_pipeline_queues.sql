-- Review queues of the pipeline UI (GET /solutions?status=submitted,
-- GET /demos?status=requested): the few versions and requests waiting for a
-- department head are found by status instead of scanning every solution
-- and demo ever recorded.
CREATE INDEX solutions_status ON solutions (status, submitted_at);
CREATE INDEX demos_status ON demos (status, created_at);
