-- Follow-ups (跟进): tasks, promises to customers, revisit plans, in-app
-- notifications and delivery channels (email, WeCom, DingTalk, Feishu).

CREATE TABLE tasks (
    id                  TEXT PRIMARY KEY,
    title               TEXT NOT NULL,
    kind                TEXT NOT NULL,
    priority            TEXT NOT NULL DEFAULT 'normal',
    status              TEXT NOT NULL DEFAULT 'open',
    due_at              BIGINT NOT NULL,
    remind_at           BIGINT,
    owner_id            TEXT NOT NULL REFERENCES users(id),
    department_id       TEXT,
    account_id          TEXT,
    ref_type            TEXT NOT NULL DEFAULT '',
    ref_id              TEXT NOT NULL DEFAULT '',
    notes               TEXT NOT NULL DEFAULT '',
    result              TEXT NOT NULL DEFAULT '',
    source              TEXT NOT NULL DEFAULT 'manual',
    is_promise          BOOLEAN NOT NULL DEFAULT FALSE,
    promise_text        TEXT NOT NULL DEFAULT '',
    promised_to         TEXT NOT NULL DEFAULT '',
    promise_state       TEXT NOT NULL DEFAULT '',
    met_at              BIGINT,
    evidence            TEXT NOT NULL DEFAULT '',
    completed_at        BIGINT,
    reminded_at         BIGINT,
    overdue_notified_at BIGINT,
    escalated_at        BIGINT,
    created_by          TEXT NOT NULL DEFAULT '',
    version             BIGINT NOT NULL DEFAULT 1,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL
);
CREATE INDEX tasks_owner_open ON tasks (owner_id, status, due_at);
CREATE INDEX tasks_remind ON tasks (status, remind_at);
CREATE INDEX tasks_due ON tasks (status, due_at);
CREATE INDEX tasks_account ON tasks (account_id, status);
CREATE INDEX tasks_promise ON tasks (is_promise, promise_state, due_at);

CREATE TABLE revisit_plans (
    level         TEXT PRIMARY KEY,
    interval_days INTEGER NOT NULL,
    enabled       BOOLEAN NOT NULL DEFAULT TRUE,
    version       BIGINT NOT NULL DEFAULT 1,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE notifications (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    event      TEXT NOT NULL,
    title      TEXT NOT NULL,
    body       TEXT NOT NULL DEFAULT '',
    link       TEXT NOT NULL DEFAULT '',
    dedupe_key TEXT UNIQUE,
    read_at    BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX notifications_user ON notifications (user_id, created_at);

CREATE TABLE notification_channels (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    kind       TEXT NOT NULL,
    target     TEXT NOT NULL,
    secret     TEXT NOT NULL DEFAULT '',
    events     TEXT NOT NULL DEFAULT '[]',
    enabled    BOOLEAN NOT NULL DEFAULT TRUE,
    version    BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX notification_channels_user ON notification_channels (user_id);

CREATE TABLE deliveries (
    id              TEXT PRIMARY KEY,
    notification_id TEXT NOT NULL REFERENCES notifications(id),
    channel_id      TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    delivered_at    BIGINT,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    UNIQUE (notification_id, channel_id)
);
CREATE INDEX deliveries_status ON deliveries (status, created_at);

CREATE TABLE calendar_feeds (
    user_id    TEXT PRIMARY KEY REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);
