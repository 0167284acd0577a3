-- Quotes (报价, regulations 1, 2 and 7): product catalog, price lists,
-- numbered and versioned quotes with exact fen totals, approval rules by
-- authority, approval steps, and tokenised acceptance links.

CREATE TABLE products (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL,
    code_key    TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    spec        TEXT NOT NULL DEFAULT '',
    unit        TEXT NOT NULL DEFAULT '',
    list_price  BIGINT NOT NULL,
    cost        BIGINT,
    tax_rate_bp INTEGER NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX products_name ON products (name, id);

CREATE TABLE price_lists (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    valid_from TEXT NOT NULL DEFAULT '',
    valid_to   TEXT NOT NULL DEFAULT '',
    active     BOOLEAN NOT NULL DEFAULT TRUE,
    version    BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE price_list_items (
    price_list_id TEXT NOT NULL REFERENCES price_lists(id),
    product_id    TEXT NOT NULL REFERENCES products(id),
    price         BIGINT NOT NULL,
    PRIMARY KEY (price_list_id, product_id)
);

-- One row per number prefix ("QT-2026-"): incremented in the transaction
-- that creates the quote, so numbers are gap-free and unique.
CREATE TABLE quote_counters (
    prefix TEXT PRIMARY KEY,
    value  BIGINT NOT NULL
);

CREATE TABLE quotes (
    id                   TEXT PRIMARY KEY,
    number               TEXT NOT NULL,
    version_no           INTEGER NOT NULL,
    root_id              TEXT NOT NULL,
    is_current           BOOLEAN NOT NULL DEFAULT TRUE,
    status               TEXT NOT NULL,
    title                TEXT NOT NULL DEFAULT '',
    account_id           TEXT NOT NULL,
    opportunity_id       TEXT NOT NULL DEFAULT '',
    owner_id             TEXT NOT NULL REFERENCES users(id),
    department_id        TEXT,
    price_list_id        TEXT NOT NULL DEFAULT '',
    currency             TEXT NOT NULL,
    valid_until          TEXT NOT NULL DEFAULT '',
    payment_terms        TEXT NOT NULL DEFAULT '',
    delivery_terms       TEXT NOT NULL DEFAULT '',
    notes                TEXT NOT NULL DEFAULT '',
    overall_discount_bp  INTEGER NOT NULL DEFAULT 0,
    gross                BIGINT NOT NULL DEFAULT 0,
    subtotal             BIGINT NOT NULL DEFAULT 0,
    overall_discount     BIGINT NOT NULL DEFAULT 0,
    net                  BIGINT NOT NULL DEFAULT 0,
    tax                  BIGINT NOT NULL DEFAULT 0,
    total                BIGINT NOT NULL DEFAULT 0,
    cost                 BIGINT NOT NULL DEFAULT 0,
    cost_known           BOOLEAN NOT NULL DEFAULT FALSE,
    margin_bp            INTEGER NOT NULL DEFAULT 0,
    max_line_discount_bp INTEGER NOT NULL DEFAULT 0,
    line_count           INTEGER NOT NULL DEFAULT 0,
    approval_round       INTEGER NOT NULL DEFAULT 0,
    submitted_at         BIGINT,
    approved_at          BIGINT,
    sent_at              BIGINT,
    answered_at          BIGINT,
    created_by           TEXT NOT NULL DEFAULT '',
    version              BIGINT NOT NULL DEFAULT 1,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL,
    UNIQUE (number, version_no)
);
CREATE INDEX quotes_owner ON quotes (owner_id, created_at);
CREATE INDEX quotes_department ON quotes (department_id, created_at);
CREATE INDEX quotes_account ON quotes (account_id, created_at);
CREATE INDEX quotes_list ON quotes (created_at, id);
CREATE INDEX quotes_root ON quotes (root_id, version_no);
CREATE INDEX quotes_status ON quotes (status, created_at);

CREATE TABLE quote_lines (
    id          TEXT PRIMARY KEY,
    quote_id    TEXT NOT NULL REFERENCES quotes(id),
    position    INTEGER NOT NULL,
    product_id  TEXT NOT NULL DEFAULT '',
    code        TEXT NOT NULL DEFAULT '',
    name        TEXT NOT NULL,
    spec        TEXT NOT NULL DEFAULT '',
    unit        TEXT NOT NULL DEFAULT '',
    qty_milli   BIGINT NOT NULL,
    unit_price  BIGINT NOT NULL,
    list_price  BIGINT NOT NULL DEFAULT 0,
    discount_bp INTEGER NOT NULL DEFAULT 0,
    tax_rate_bp INTEGER NOT NULL DEFAULT 0,
    unit_cost   BIGINT,
    amount      BIGINT NOT NULL,
    net         BIGINT NOT NULL,
    tax         BIGINT NOT NULL,
    total       BIGINT NOT NULL
);
CREATE INDEX quote_lines_quote ON quote_lines (quote_id, position);

-- Approval by authority (regulation 1: act within your permissions).
-- Rules with the same step run in parallel (all must approve); higher steps
-- wait for lower ones.
CREATE TABLE approval_rules (
    id            TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    condition     TEXT NOT NULL,
    threshold     BIGINT NOT NULL,
    applies_role  TEXT NOT NULL DEFAULT '',
    applies_department_id TEXT NOT NULL DEFAULT '',
    step          INTEGER NOT NULL DEFAULT 1,
    approver_kind TEXT NOT NULL,
    approver_role TEXT NOT NULL DEFAULT '',
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);

CREATE TABLE quote_approvals (
    id               TEXT PRIMARY KEY,
    quote_id         TEXT NOT NULL REFERENCES quotes(id),
    round            INTEGER NOT NULL,
    rule_id          TEXT NOT NULL,
    rule_name        TEXT NOT NULL,
    reason           TEXT NOT NULL DEFAULT '',
    step             INTEGER NOT NULL,
    approver_kind    TEXT NOT NULL,
    approver_role    TEXT NOT NULL DEFAULT '',
    approver_user_id TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'pending',
    decided_by       TEXT NOT NULL DEFAULT '',
    decided_at       BIGINT,
    comment          TEXT NOT NULL DEFAULT '',
    created_at       BIGINT NOT NULL,
    UNIQUE (quote_id, round, rule_id)
);
CREATE INDEX quote_approvals_pending ON quote_approvals (status, approver_role, approver_user_id);

CREATE TABLE quote_links (
    id          TEXT PRIMARY KEY,
    quote_id    TEXT NOT NULL REFERENCES quotes(id),
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  BIGINT NOT NULL,
    email       TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL,
    answered_at BIGINT,
    answer      TEXT NOT NULL DEFAULT '',
    comment     TEXT NOT NULL DEFAULT '',
    answered_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX quote_links_quote ON quote_links (quote_id);
