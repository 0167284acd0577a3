-- Organisation, identity, sessions, API tokens, audit log, jobs, idempotency.

CREATE TABLE settings (
    key        TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE departments (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    parent_id  TEXT REFERENCES departments(id),
    manager_id TEXT,
    sort_order INTEGER NOT NULL DEFAULT 0,
    version    BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX departments_sibling_name ON departments (COALESCE(parent_id, ''), name);

CREATE TABLE roles (
    name        TEXT PRIMARY KEY,
    data_scope  TEXT NOT NULL,
    permissions TEXT NOT NULL,
    builtin     BOOLEAN NOT NULL DEFAULT TRUE,
    version     BIGINT NOT NULL DEFAULT 1,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE users (
    id              TEXT PRIMARY KEY,
    username        TEXT NOT NULL,
    username_key    TEXT NOT NULL UNIQUE,
    display_name    TEXT NOT NULL,
    email           TEXT NOT NULL DEFAULT '',
    mobile          TEXT NOT NULL DEFAULT '',
    department_id   TEXT REFERENCES departments(id),
    password_hash   TEXT NOT NULL,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    locale          TEXT NOT NULL DEFAULT 'zh-CN',
    totp_secret     TEXT NOT NULL DEFAULT '',
    totp_enabled    BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step  BIGINT NOT NULL DEFAULT 0,
    failed_logins   INTEGER NOT NULL DEFAULT 0,
    locked_until    BIGINT,
    last_login_at   BIGINT,
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX users_department ON users (department_id);
CREATE INDEX users_created ON users (created_at, id);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users(id),
    role    TEXT NOT NULL REFERENCES roles(name),
    PRIMARY KEY (user_id, role)
);
CREATE INDEX user_roles_role ON user_roles (role);

-- Records shared with named collaborators beyond their owner's data scope.
CREATE TABLE record_shares (
    record_type TEXT NOT NULL,
    record_id   TEXT NOT NULL,
    user_id     TEXT NOT NULL REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (record_type, record_id, user_id)
);
CREATE INDEX record_shares_user ON record_shares (user_id, record_type);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expiry ON sessions (expires_at);

CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE idempotency_keys (
    owner        TEXT NOT NULL,
    key          TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    status       INTEGER NOT NULL DEFAULT 0,
    headers      TEXT NOT NULL DEFAULT '',
    body         TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (owner, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Append-only audit log. entry_mac (HMAC of the row's content) is written in
-- the same transaction as the change; seq, prev_hash and hash are filled in
-- later, in commit order, by the sealing job, so busy writers never queue
-- behind one chain head.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    seq         BIGINT UNIQUE,
    at          BIGINT NOT NULL,
    actor_id    TEXT NOT NULL DEFAULT '',
    actor_name  TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL,
    entity_type TEXT NOT NULL DEFAULT '',
    entity_id   TEXT NOT NULL DEFAULT '',
    ip          TEXT NOT NULL DEFAULT '',
    request_id  TEXT NOT NULL DEFAULT '',
    changes     TEXT NOT NULL DEFAULT '',
    detail      TEXT NOT NULL DEFAULT '',
    entry_mac   TEXT NOT NULL,
    prev_hash   TEXT,
    hash        TEXT
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_unsealed ON audit_log (at, id) WHERE seq IS NULL;
CREATE INDEX audit_log_entity ON audit_log (entity_type, entity_id, at);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at);
CREATE INDEX audit_log_action ON audit_log (action, at);

-- Durable jobs. unique_key de-duplicates scheduled runs across instances.
CREATE TABLE jobs (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    payload      TEXT NOT NULL DEFAULT '{}',
    status       TEXT NOT NULL DEFAULT 'pending',
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL DEFAULT 10,
    run_at       BIGINT NOT NULL,
    locked_by    TEXT NOT NULL DEFAULT '',
    locked_until BIGINT,
    last_error   TEXT NOT NULL DEFAULT '',
    unique_key   TEXT UNIQUE,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    finished_at  BIGINT
);
CREATE INDEX jobs_ready ON jobs (status, run_at);
CREATE INDEX jobs_kind ON jobs (kind, status);
