-- Inquiries (咨询, regulations 4, 5, 6 and 9): conversations with customers on
-- any channel, their messages, assignment rules, response targets (SLA) with
-- breach history, canned answers, per-user read markers and availability.

CREATE TABLE inquiries (
    id             TEXT PRIMARY KEY,
    subject        TEXT NOT NULL,
    channel        TEXT NOT NULL,
    priority       TEXT NOT NULL DEFAULT 'normal',
    status         TEXT NOT NULL,
    -- active is status NOT IN (resolved, closed): inbox views list active
    -- inquiries, and an index on a boolean beats IN over four statuses.
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    account_id     TEXT,
    contact_id     TEXT,
    customer_name  TEXT NOT NULL DEFAULT '',
    customer_email TEXT NOT NULL DEFAULT '',
    customer_phone TEXT NOT NULL DEFAULT '',
    assignee_id    TEXT,
    -- department_id is the team that handles the inquiry (data scope).
    department_id  TEXT,
    mailbox_id     TEXT NOT NULL DEFAULT '',
    created_by     TEXT NOT NULL DEFAULT '',
    message_count  INTEGER NOT NULL DEFAULT 0,
    last_message_at BIGINT NOT NULL,
    last_inbound_at BIGINT,
    -- Response targets, all in business time on the work calendar.
    sla_policy_id      TEXT,
    first_response_due BIGINT,
    first_response_at  BIGINT,
    next_response_due  BIGINT,
    resolution_due     BIGINT,
    resolved_at        BIGINT,
    paused_at          BIGINT,
    paused_ms          BIGINT NOT NULL DEFAULT 0,
    -- due_at/due_kind: the earliest unmet target (what the list shows);
    -- warn_at/breach_at: when the SLA job must act next (NULL = nothing).
    due_at         BIGINT,
    due_kind       TEXT NOT NULL DEFAULT '',
    warn_at        BIGINT,
    breach_at      BIGINT,
    warned_due     BIGINT,
    -- Consultation record (咨询记录), required to close.
    question       TEXT NOT NULL DEFAULT '',
    answer         TEXT NOT NULL DEFAULT '',
    outcome        TEXT NOT NULL DEFAULT '',
    follow_up_at   BIGINT,
    follow_up_task_id TEXT,
    closed_at      BIGINT,
    closed_by      TEXT NOT NULL DEFAULT '',
    version        BIGINT NOT NULL DEFAULT 1,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
-- One index per inbox view, each ending in the list order so a page of 50
-- is an index range scan whatever the table size.
CREATE INDEX inquiries_assignee ON inquiries (assignee_id, active, last_message_at, id);
CREATE INDEX inquiries_department ON inquiries (department_id, active, last_message_at, id);
CREATE INDEX inquiries_status ON inquiries (status, last_message_at, id);
CREATE INDEX inquiries_last_message ON inquiries (last_message_at, id);
CREATE INDEX inquiries_due ON inquiries (active, due_at, id);
CREATE INDEX inquiries_account ON inquiries (account_id, last_message_at);
CREATE INDEX inquiries_warn ON inquiries (warn_at);
CREATE INDEX inquiries_breach ON inquiries (breach_at);

CREATE TABLE inquiry_messages (
    id          TEXT PRIMARY KEY,
    inquiry_id  TEXT NOT NULL REFERENCES inquiries(id),
    kind        TEXT NOT NULL,
    direction   TEXT NOT NULL,
    author_id   TEXT NOT NULL DEFAULT '',
    author_name TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    html        TEXT NOT NULL DEFAULT '',
    attachments TEXT NOT NULL DEFAULT '',
    mentions    TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL DEFAULT '',
    -- Email threading: our or the sender's Message-ID (NULL when none, so
    -- the unique index only guards real ids) and the parent's id.
    message_id  TEXT,
    in_reply_to TEXT NOT NULL DEFAULT '',
    -- Communication-standards result of an outgoing message (QA later).
    check_result TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX inquiry_messages_inquiry ON inquiry_messages (inquiry_id, created_at, id);
CREATE UNIQUE INDEX inquiry_messages_message_id ON inquiry_messages (message_id);

-- Per-user read markers: an inquiry is unread when a customer wrote after
-- the user last opened it.
CREATE TABLE inquiry_reads (
    user_id    TEXT NOT NULL,
    inquiry_id TEXT NOT NULL,
    read_at    BIGINT NOT NULL,
    PRIMARY KEY (user_id, inquiry_id)
);

-- Agents: availability for round-robin assignment, and the email signature.
CREATE TABLE inquiry_agents (
    user_id    TEXT PRIMARY KEY REFERENCES users(id),
    available  BOOLEAN NOT NULL DEFAULT FALSE,
    signature  TEXT NOT NULL DEFAULT '',
    version    BIGINT NOT NULL DEFAULT 1,
    updated_at BIGINT NOT NULL
);

-- Assignment rules, tried in position order; the first that matches wins.
CREATE TABLE inquiry_rules (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    position      INTEGER NOT NULL DEFAULT 0,
    channel       TEXT NOT NULL DEFAULT '',
    priority      TEXT NOT NULL DEFAULT '',
    department_id TEXT NOT NULL REFERENCES departments(id),
    strategy      TEXT NOT NULL,
    user_id       TEXT,
    -- rr_seq is bumped with UPDATE … RETURNING in the creating transaction,
    -- so concurrent creators each get their own turn.
    rr_seq        BIGINT NOT NULL DEFAULT 0,
    enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE sla_policies (
    id                 TEXT PRIMARY KEY,
    name               TEXT NOT NULL,
    channel            TEXT NOT NULL DEFAULT '',
    priority           TEXT NOT NULL DEFAULT '',
    first_response_min INTEGER NOT NULL,
    next_response_min  INTEGER NOT NULL,
    resolution_min     INTEGER NOT NULL,
    warn_before_min    INTEGER NOT NULL DEFAULT 30,
    enabled            BOOLEAN NOT NULL DEFAULT TRUE,
    version            BIGINT NOT NULL DEFAULT 1,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL
);
CREATE UNIQUE INDEX sla_policies_match ON sla_policies (channel, priority);
-- The catch-all policy: reply within one business hour, again within four,
-- resolve within five business days (of 8 hours).
INSERT INTO sla_policies (id, name, channel, priority, first_response_min, next_response_min, resolution_min, warn_before_min, enabled, created_at, updated_at)
VALUES ('default', '默认响应时限', '', '', 60, 240, 2400, 15, TRUE, 0, 0);

-- Breach history: one row per missed target and due time, written once
-- however many instances run the SLA job.
CREATE TABLE sla_breaches (
    id          TEXT PRIMARY KEY,
    inquiry_id  TEXT NOT NULL REFERENCES inquiries(id),
    target      TEXT NOT NULL,
    due_at      BIGINT NOT NULL,
    breached_at BIGINT NOT NULL,
    assignee_id TEXT NOT NULL DEFAULT '',
    escalated_to TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX sla_breaches_once ON sla_breaches (inquiry_id, target, due_at);

-- Canned answers (常用语) and product facts, with {{variables}}.
CREATE TABLE canned_answers (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL DEFAULT 'answer',
    scope         TEXT NOT NULL,
    owner_id      TEXT NOT NULL,
    department_id TEXT,
    title         TEXT NOT NULL,
    shortcut      TEXT NOT NULL DEFAULT '',
    body          TEXT NOT NULL,
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX canned_answers_scope ON canned_answers (scope, department_id);
CREATE INDEX canned_answers_owner ON canned_answers (owner_id);
