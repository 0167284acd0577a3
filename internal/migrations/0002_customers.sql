-- Customer archive (客户档案): accounts, contacts, activities and the 360° timeline.

CREATE TABLE accounts (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    name_key      TEXT NOT NULL,
    kind          TEXT NOT NULL,
    uscc          TEXT NOT NULL DEFAULT '',
    industry      TEXT NOT NULL DEFAULT '',
    size          TEXT NOT NULL DEFAULT '',
    province_code TEXT NOT NULL DEFAULT '',
    city_code     TEXT NOT NULL DEFAULT '',
    district_code TEXT NOT NULL DEFAULT '',
    address       TEXT NOT NULL DEFAULT '',
    source        TEXT NOT NULL DEFAULT '',
    level         TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL DEFAULT 'prospect',
    tags          TEXT NOT NULL DEFAULT '[]',
    owner_id      TEXT NOT NULL REFERENCES users(id),
    department_id TEXT REFERENCES departments(id),
    needs         TEXT NOT NULL DEFAULT '',
    concerns      TEXT NOT NULL DEFAULT '',
    opinions      TEXT NOT NULL DEFAULT '',
    suggestions   TEXT NOT NULL DEFAULT '',
    last_contact_at BIGINT,
    merged_into   TEXT,
    archived_at   BIGINT,
    created_by    TEXT NOT NULL DEFAULT '',
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX accounts_updated ON accounts (updated_at, id);
CREATE INDEX accounts_owner ON accounts (owner_id, updated_at);
CREATE INDEX accounts_department ON accounts (department_id, updated_at);
CREATE INDEX accounts_name_key ON accounts (name_key);
CREATE INDEX accounts_uscc ON accounts (uscc);
CREATE INDEX accounts_last_contact ON accounts (last_contact_at);

CREATE TABLE contacts (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    title         TEXT NOT NULL DEFAULT '',
    mobile        TEXT NOT NULL DEFAULT '',
    phone         TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL DEFAULT '',
    wechat        TEXT NOT NULL DEFAULT '',
    notes         TEXT NOT NULL DEFAULT '',
    owner_id      TEXT NOT NULL REFERENCES users(id),
    department_id TEXT REFERENCES departments(id),
    merged_into   TEXT,
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX contacts_mobile ON contacts (mobile);
CREATE INDEX contacts_email ON contacts (email);
CREATE INDEX contacts_updated ON contacts (updated_at, id);

-- A contact may belong to several accounts, with a role in each purchase.
CREATE TABLE account_contacts (
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    contact_id    TEXT NOT NULL REFERENCES contacts(id),
    purchase_role TEXT NOT NULL DEFAULT '',
    is_primary    BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (account_id, contact_id)
);
CREATE INDEX account_contacts_contact ON account_contacts (contact_id);

-- Logged calls, meetings, visits and notes (沟通记录).
CREATE TABLE activities (
    id            TEXT PRIMARY KEY,
    account_id    TEXT NOT NULL REFERENCES accounts(id),
    contact_id    TEXT,
    kind          TEXT NOT NULL,
    direction     TEXT NOT NULL DEFAULT '',
    occurred_at   BIGINT NOT NULL,
    duration_min  INTEGER NOT NULL DEFAULT 0,
    subject       TEXT NOT NULL DEFAULT '',
    summary       TEXT NOT NULL DEFAULT '',
    outcome       TEXT NOT NULL DEFAULT '',
    next_step     TEXT NOT NULL DEFAULT '',
    next_step_at  BIGINT,
    owner_id      TEXT NOT NULL REFERENCES users(id),
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX activities_account ON activities (account_id, occurred_at);

-- The 360° timeline: one row per thing that happened to an account. Every
-- capability appends its own kinds through the same table.
CREATE TABLE timeline_events (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    ref_type    TEXT NOT NULL DEFAULT '',
    ref_id      TEXT NOT NULL DEFAULT '',
    actor_id    TEXT NOT NULL DEFAULT '',
    occurred_at BIGINT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL DEFAULT '',
    data        TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX timeline_account ON timeline_events (account_id, occurred_at, id);
CREATE INDEX timeline_ref ON timeline_events (ref_type, ref_id);
