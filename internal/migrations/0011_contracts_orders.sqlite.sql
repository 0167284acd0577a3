-- Contracts (合同, regulation 2 第十条, regulation 7), payment plans and
-- receipts (回款), invoice information (开票信息), and e-commerce orders with
-- confirmation, abnormal-order review by the team leader and returns
-- (regulation 5, 第十一条–第十六条).
-- sqlite flavour: attachment bytes are BLOB (BYTEA on PostgreSQL); the rest
-- of the two files is identical.

-- One row per expanded number pattern ("HT-2026-{SEQ5}"): incremented in the
-- transaction that creates the contract, so numbers are gap-free and unique.
CREATE TABLE contract_counters (
    pattern TEXT PRIMARY KEY,
    value   BIGINT NOT NULL
);

CREATE TABLE contracts (
    id                   TEXT PRIMARY KEY,
    number               TEXT NOT NULL UNIQUE,
    title                TEXT NOT NULL,
    account_id           TEXT NOT NULL REFERENCES accounts(id),
    opportunity_id       TEXT,
    quote_id             TEXT,
    signatory_contact_id TEXT,
    our_entity           TEXT NOT NULL DEFAULT '',
    signing_date         TEXT NOT NULL DEFAULT '',
    start_date           TEXT NOT NULL DEFAULT '',
    end_date             TEXT NOT NULL DEFAULT '',
    delivery_deadline    TEXT NOT NULL DEFAULT '',
    amount_fen           BIGINT NOT NULL,
    currency             TEXT NOT NULL DEFAULT 'CNY',
    received_fen         BIGINT NOT NULL DEFAULT 0,
    status               TEXT NOT NULL,
    terminate_reason     TEXT NOT NULL DEFAULT '',
    payment_terms        TEXT NOT NULL DEFAULT '',
    delivery_terms       TEXT NOT NULL DEFAULT '',
    notes                TEXT NOT NULL DEFAULT '',
    owner_id             TEXT NOT NULL REFERENCES users(id),
    department_id        TEXT REFERENCES departments(id),
    signed_by            TEXT NOT NULL DEFAULT '',
    signed_at            BIGINT,
    created_by           TEXT NOT NULL DEFAULT '',
    version              BIGINT NOT NULL DEFAULT 1,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX contracts_owner ON contracts (owner_id);
CREATE INDEX contracts_department ON contracts (department_id);
CREATE INDEX contracts_account ON contracts (account_id);
CREATE INDEX contracts_updated ON contracts (updated_at, id);

CREATE TABLE contract_lines (
    contract_id    TEXT NOT NULL REFERENCES contracts(id),
    line_no        INTEGER NOT NULL,
    name           TEXT NOT NULL,
    spec           TEXT NOT NULL DEFAULT '',
    unit           TEXT NOT NULL DEFAULT '',
    qty_milli      BIGINT NOT NULL,
    unit_price_fen BIGINT NOT NULL,
    discount_bp    INTEGER NOT NULL DEFAULT 0,
    tax_rate_bp    INTEGER NOT NULL DEFAULT 0,
    total_fen      BIGINT NOT NULL,
    PRIMARY KEY (contract_id, line_no)
);

-- Pre-signing checklist (regulation 2: the contract's legality and validity
-- must be ensured before signing).
CREATE TABLE contract_checklist (
    contract_id TEXT NOT NULL REFERENCES contracts(id),
    item_key    TEXT NOT NULL,
    required    BOOLEAN NOT NULL,
    checked     BOOLEAN NOT NULL DEFAULT FALSE,
    checked_by  TEXT NOT NULL DEFAULT '',
    checked_at  BIGINT,
    note        TEXT NOT NULL DEFAULT '',
    sort_order  INTEGER NOT NULL,
    PRIMARY KEY (contract_id, item_key)
);

CREATE TABLE contract_attachments (
    id           TEXT PRIMARY KEY,
    contract_id  TEXT NOT NULL REFERENCES contracts(id),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    data         BLOB NOT NULL
);
CREATE INDEX contract_attachments_contract ON contract_attachments (contract_id);

CREATE TABLE instalments (
    id                  TEXT PRIMARY KEY,
    contract_id         TEXT NOT NULL REFERENCES contracts(id),
    seq                 INTEGER NOT NULL,
    due_date            TEXT NOT NULL,
    amount_fen          BIGINT NOT NULL,
    paid_fen            BIGINT NOT NULL DEFAULT 0,
    note                TEXT NOT NULL DEFAULT '',
    overdue_notified_at BIGINT
);
CREATE INDEX instalments_contract ON instalments (contract_id, seq);
CREATE INDEX instalments_due ON instalments (due_date);

CREATE TABLE receipts (
    id          TEXT PRIMARY KEY,
    contract_id TEXT NOT NULL REFERENCES contracts(id),
    received_on TEXT NOT NULL,
    amount_fen  BIGINT NOT NULL,
    method      TEXT NOT NULL,
    reference   TEXT NOT NULL DEFAULT '',
    note        TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  BIGINT NOT NULL
);
CREATE INDEX receipts_contract ON receipts (contract_id, received_on);

CREATE TABLE receipt_allocations (
    receipt_id    TEXT NOT NULL REFERENCES receipts(id),
    instalment_id TEXT NOT NULL REFERENCES instalments(id),
    amount_fen    BIGINT NOT NULL,
    PRIMARY KEY (receipt_id, instalment_id)
);
CREATE INDEX receipt_allocations_instalment ON receipt_allocations (instalment_id);

CREATE TABLE invoice_profiles (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts(id),
    title        TEXT NOT NULL,
    tax_number   TEXT NOT NULL,
    address      TEXT NOT NULL DEFAULT '',
    phone        TEXT NOT NULL DEFAULT '',
    bank_name    TEXT NOT NULL DEFAULT '',
    bank_account TEXT NOT NULL DEFAULT '',
    is_default   BOOLEAN NOT NULL DEFAULT FALSE,
    version      BIGINT NOT NULL DEFAULT 1,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX invoice_profiles_account ON invoice_profiles (account_id);

CREATE TABLE invoice_requests (
    id           TEXT PRIMARY KEY,
    contract_id  TEXT NOT NULL REFERENCES contracts(id),
    receipt_id   TEXT REFERENCES receipts(id),
    profile_id   TEXT NOT NULL REFERENCES invoice_profiles(id),
    amount_fen   BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL,
    invoice_no   TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT '',
    requested_by TEXT NOT NULL DEFAULT '',
    version      BIGINT NOT NULL DEFAULT 1,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL
);
CREATE INDEX invoice_requests_contract ON invoice_requests (contract_id);

-- E-commerce orders (regulation 5). flag_reasons is a JSON array of rule
-- keys; review_status is '' (not flagged), pending, approved or rejected.
CREATE TABLE shop_orders (
    id              TEXT PRIMARY KEY,
    order_no        TEXT NOT NULL UNIQUE,
    buyer           TEXT NOT NULL DEFAULT '',
    consignee       TEXT NOT NULL DEFAULT '',
    phone           TEXT NOT NULL DEFAULT '',
    province        TEXT NOT NULL DEFAULT '',
    city            TEXT NOT NULL DEFAULT '',
    district        TEXT NOT NULL DEFAULT '',
    address_detail  TEXT NOT NULL DEFAULT '',
    address_key     TEXT NOT NULL DEFAULT '',
    amount_fen      BIGINT NOT NULL,
    paid_at         BIGINT,
    buyer_message   TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL,
    flag_reasons    TEXT NOT NULL DEFAULT '[]',
    review_status   TEXT NOT NULL DEFAULT '',
    reviewed_by     TEXT NOT NULL DEFAULT '',
    reviewed_at     BIGINT,
    review_comment  TEXT NOT NULL DEFAULT '',
    checklist       TEXT NOT NULL DEFAULT '{}',
    confirm_message TEXT NOT NULL DEFAULT '',
    confirmed_by    TEXT NOT NULL DEFAULT '',
    confirmed_at    BIGINT,
    account_id      TEXT REFERENCES accounts(id),
    owner_id        TEXT NOT NULL REFERENCES users(id),
    department_id   TEXT REFERENCES departments(id),
    source          TEXT NOT NULL,
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);
CREATE INDEX shop_orders_queue ON shop_orders (status, paid_at, id);
CREATE INDEX shop_orders_address ON shop_orders (address_key, paid_at);
CREATE INDEX shop_orders_owner ON shop_orders (owner_id);
CREATE INDEX shop_orders_department ON shop_orders (department_id);
CREATE INDEX shop_orders_account ON shop_orders (account_id) WHERE account_id IS NOT NULL;

CREATE TABLE shop_order_items (
    order_id       TEXT NOT NULL REFERENCES shop_orders(id),
    line_no        INTEGER NOT NULL,
    name           TEXT NOT NULL,
    spec           TEXT NOT NULL DEFAULT '',
    qty            BIGINT NOT NULL,
    unit_price_fen BIGINT NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

CREATE TABLE shop_order_returns (
    id            TEXT PRIMARY KEY,
    order_id      TEXT NOT NULL REFERENCES shop_orders(id),
    kind          TEXT NOT NULL,
    reason        TEXT NOT NULL,
    platform_rule TEXT NOT NULL,
    status        TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT '',
    created_by    TEXT NOT NULL DEFAULT '',
    version       BIGINT NOT NULL DEFAULT 1,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX shop_order_returns_order ON shop_order_returns (order_id);
