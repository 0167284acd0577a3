-- Opportunity pipeline (商机, regulations 2, 7, 8, 9): pipelines and stages
-- with gate criteria, opportunities with stage history, market research,
-- competitors, requirements with feasibility, technical support requests,
-- versioned solutions with attachments, demos/trials and negotiations.
-- sqlite flavour: attachment bytes are BLOB (BYTEA on PostgreSQL); the rest
-- of the two files is identical.

CREATE TABLE pipelines (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    name_en    TEXT NOT NULL DEFAULT '',
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    sort_order INTEGER NOT NULL DEFAULT 0,
    version    BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- gates is a JSON array of {"condition": key, "n": N} from the condition
-- catalogue (package pipeline, gates.go).
CREATE TABLE pipeline_stages (
    id          TEXT PRIMARY KEY,
    pipeline_id TEXT NOT NULL REFERENCES pipelines(id),
    name        TEXT NOT NULL,
    name_en     TEXT NOT NULL DEFAULT '',
    position    INTEGER NOT NULL,
    probability INTEGER NOT NULL,
    gates       TEXT NOT NULL DEFAULT '[]',
    version     BIGINT NOT NULL DEFAULT 1,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX pipeline_stages_pipeline ON pipeline_stages (pipeline_id, position);

-- Regulation 2, 第五条: 市场调研、需求分析、方案设计、报价及谈判、签约.
INSERT INTO pipelines (id, name, name_en, is_default, sort_order, created_at, updated_at)
    VALUES ('00000000-0000-7000-8000-000000000001', '售前流程', 'Presales process', TRUE, 0, 0, 0);
INSERT INTO pipeline_stages (id, pipeline_id, name, name_en, position, probability, gates, created_at, updated_at) VALUES
    ('00000000-0000-7000-8000-000000000011', '00000000-0000-7000-8000-000000000001', '市场调研', 'Market research', 1, 10, '[]', 0, 0),
    ('00000000-0000-7000-8000-000000000012', '00000000-0000-7000-8000-000000000001', '需求分析', 'Needs analysis', 2, 20, '[{"condition":"has_research_note","n":1}]', 0, 0),
    ('00000000-0000-7000-8000-000000000013', '00000000-0000-7000-8000-000000000001', '方案设计', 'Solution design', 3, 40, '[{"condition":"min_requirements_analysed","n":1}]', 0, 0),
    ('00000000-0000-7000-8000-000000000014', '00000000-0000-7000-8000-000000000001', '报价及谈判', 'Quotation & negotiation', 4, 60, '[{"condition":"approved_solution","n":1}]', 0, 0),
    ('00000000-0000-7000-8000-000000000015', '00000000-0000-7000-8000-000000000001', '签约', 'Signing', 5, 80, '[{"condition":"has_negotiation_record","n":1}]', 0, 0);

-- amount is fen; expected_close is YYYY-MM-DD (sorts and groups by month as
-- text on both databases). rank orders cards inside a column (smaller
-- first); a card moved into a column goes to its top.
CREATE TABLE opportunities (
    id                    TEXT PRIMARY KEY,
    account_id            TEXT NOT NULL REFERENCES accounts(id),
    pipeline_id           TEXT NOT NULL REFERENCES pipelines(id),
    stage_id              TEXT NOT NULL REFERENCES pipeline_stages(id),
    name                  TEXT NOT NULL,
    amount                BIGINT NOT NULL DEFAULT 0,
    currency              TEXT NOT NULL DEFAULT 'CNY',
    expected_close        TEXT NOT NULL DEFAULT '',
    probability           INTEGER NOT NULL,
    probability_set       BOOLEAN NOT NULL DEFAULT FALSE,
    source                TEXT NOT NULL DEFAULT 'other',
    source_inquiry_id     TEXT NOT NULL DEFAULT '',
    owner_id              TEXT NOT NULL REFERENCES users(id),
    department_id         TEXT,
    next_step             TEXT NOT NULL DEFAULT '',
    status                TEXT NOT NULL DEFAULT 'open',
    close_reason          TEXT NOT NULL DEFAULT '',
    lost_to_id            TEXT,
    closed_at             BIGINT,
    stage_entered_at      BIGINT NOT NULL,
    rank                  BIGINT NOT NULL,
    created_by            TEXT NOT NULL DEFAULT '',
    version               BIGINT NOT NULL DEFAULT 1,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
-- The board: open deals of one pipeline column by column in (rank, id) order;
-- amount, probability, owner and department ride along so column totals
-- (plain and weighted) and the per-row scope check (owner, department,
-- shares by id)
-- are read from the index alone.
CREATE INDEX opportunities_board ON opportunities (pipeline_id, status, stage_id, rank, id, amount, probability, owner_id, department_id);
CREATE INDEX opportunities_owner ON opportunities (owner_id, status);
CREATE INDEX opportunities_department ON opportunities (department_id, status);
CREATE INDEX opportunities_account ON opportunities (account_id);
CREATE INDEX opportunities_close ON opportunities (status, expected_close);
CREATE INDEX opportunities_updated ON opportunities (updated_at, id);
CREATE INDEX opportunities_stage ON opportunities (stage_id);

CREATE TABLE opportunity_stage_history (
    id              TEXT PRIMARY KEY,
    opportunity_id  TEXT NOT NULL REFERENCES opportunities(id),
    stage_id        TEXT NOT NULL,
    stage_name      TEXT NOT NULL,
    entered_at      BIGINT NOT NULL,
    left_at         BIGINT,
    entered_by      TEXT NOT NULL DEFAULT '',
    override_reason TEXT NOT NULL DEFAULT '',
    note            TEXT NOT NULL DEFAULT ''
);
CREATE INDEX opportunity_stage_history_opp ON opportunity_stage_history (opportunity_id, entered_at);

CREATE TABLE competitors (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    website    TEXT NOT NULL DEFAULT '',
    strengths  TEXT NOT NULL DEFAULT '',
    weaknesses TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL DEFAULT '',
    version    BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX competitors_name ON competitors (name);

CREATE TABLE competitor_prices (
    id             TEXT PRIMARY KEY,
    competitor_id  TEXT NOT NULL REFERENCES competitors(id),
    product        TEXT NOT NULL,
    amount         BIGINT NOT NULL,
    currency       TEXT NOT NULL DEFAULT 'CNY',
    seen_on        TEXT NOT NULL,
    source         TEXT NOT NULL DEFAULT '',
    opportunity_id TEXT,
    created_by     TEXT NOT NULL DEFAULT '',
    created_at     BIGINT NOT NULL
);
CREATE INDEX competitor_prices_competitor ON competitor_prices (competitor_id, seen_on);

CREATE TABLE opportunity_competitors (
    opportunity_id TEXT NOT NULL REFERENCES opportunities(id),
    competitor_id  TEXT NOT NULL REFERENCES competitors(id),
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (opportunity_id, competitor_id)
);
CREATE INDEX opportunity_competitors_competitor ON opportunity_competitors (competitor_id);

-- Regulation 2, 第六条: the customer's industry, needs and competitors.
CREATE TABLE research_notes (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts(id),
    opportunity_id TEXT,
    industry       TEXT NOT NULL DEFAULT '',
    needs          TEXT NOT NULL DEFAULT '',
    competitors    TEXT NOT NULL DEFAULT '',
    notes          TEXT NOT NULL DEFAULT '',
    author_id      TEXT NOT NULL,
    version        BIGINT NOT NULL DEFAULT 1,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX research_notes_account ON research_notes (account_id, created_at);
CREATE INDEX research_notes_opportunity ON research_notes (opportunity_id);

-- Regulation 9, items 3 and 4: requirements and their feasibility.
-- quantity is in thousandths of the unit (12.5 台 = 12500).
CREATE TABLE requirements (
    id                TEXT PRIMARY KEY,
    opportunity_id    TEXT NOT NULL REFERENCES opportunities(id),
    position          INTEGER NOT NULL,
    product           TEXT NOT NULL,
    specification     TEXT NOT NULL DEFAULT '',
    quantity_milli    BIGINT NOT NULL DEFAULT 0,
    unit              TEXT NOT NULL DEFAULT '',
    expected_delivery TEXT NOT NULL DEFAULT '',
    budget            BIGINT NOT NULL DEFAULT 0,
    priority          TEXT NOT NULL DEFAULT 'normal',
    source_ref        TEXT NOT NULL DEFAULT '',
    verdict           TEXT NOT NULL DEFAULT '',
    effort_notes      TEXT NOT NULL DEFAULT '',
    risk_notes        TEXT NOT NULL DEFAULT '',
    analysed_by       TEXT NOT NULL DEFAULT '',
    analysed_at       BIGINT,
    created_by        TEXT NOT NULL DEFAULT '',
    version           BIGINT NOT NULL DEFAULT 1,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX requirements_opportunity ON requirements (opportunity_id, position);

-- Regulation 7: 技术支持. task_id is the follow-up task that carries the
-- assignee's reminders, overdue notice and escalation.
CREATE TABLE support_requests (
    id             TEXT PRIMARY KEY,
    opportunity_id TEXT NOT NULL REFERENCES opportunities(id),
    requirement_id TEXT,
    question       TEXT NOT NULL,
    assignee_id    TEXT NOT NULL REFERENCES users(id),
    requester_id   TEXT NOT NULL,
    due_at         BIGINT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'open',
    answer         TEXT NOT NULL DEFAULT '',
    answered_by    TEXT NOT NULL DEFAULT '',
    answered_at    BIGINT,
    closed_at      BIGINT,
    task_id        TEXT NOT NULL DEFAULT '',
    version        BIGINT NOT NULL DEFAULT 1,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX support_requests_opportunity ON support_requests (opportunity_id, created_at);
CREATE INDEX support_requests_assignee ON support_requests (assignee_id, status, due_at);

CREATE TABLE solutions (
    id             TEXT PRIMARY KEY,
    opportunity_id TEXT NOT NULL REFERENCES opportunities(id),
    version_no     INTEGER NOT NULL,
    title          TEXT NOT NULL,
    body_html      TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL DEFAULT 'draft',
    locked         BOOLEAN NOT NULL DEFAULT FALSE,
    author_id      TEXT NOT NULL,
    submitted_at   BIGINT,
    reviewed_by    TEXT NOT NULL DEFAULT '',
    reviewed_at    BIGINT,
    review_comment TEXT NOT NULL DEFAULT '',
    version        BIGINT NOT NULL DEFAULT 1,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL,
    UNIQUE (opportunity_id, version_no)
);

CREATE TABLE solution_requirements (
    solution_id    TEXT NOT NULL REFERENCES solutions(id),
    requirement_id TEXT NOT NULL REFERENCES requirements(id),
    PRIMARY KEY (solution_id, requirement_id)
);

CREATE TABLE solution_attachments (
    id           TEXT PRIMARY KEY,
    solution_id  TEXT NOT NULL REFERENCES solutions(id),
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   BIGINT NOT NULL,
    data         BLOB NOT NULL
);
CREATE INDEX solution_attachments_solution ON solution_attachments (solution_id);

-- Regulation 1, 第五条: company resources (demos, trials) used within limits.
CREATE TABLE demos (
    id             TEXT PRIMARY KEY,
    opportunity_id TEXT NOT NULL REFERENCES opportunities(id),
    kind           TEXT NOT NULL,
    purpose        TEXT NOT NULL,
    starts_on      TEXT NOT NULL,
    duration_days  INTEGER NOT NULL,
    environment    TEXT NOT NULL DEFAULT '',
    licence        TEXT NOT NULL DEFAULT '',
    remind_days    INTEGER NOT NULL DEFAULT 3,
    status         TEXT NOT NULL DEFAULT 'requested',
    requester_id   TEXT NOT NULL,
    reviewed_by    TEXT NOT NULL DEFAULT '',
    reviewed_at    BIGINT,
    review_comment TEXT NOT NULL DEFAULT '',
    outcome        TEXT NOT NULL DEFAULT '',
    task_id        TEXT NOT NULL DEFAULT '',
    version        BIGINT NOT NULL DEFAULT 1,
    created_at     BIGINT NOT NULL,
    updated_at     BIGINT NOT NULL
);
CREATE INDEX demos_opportunity ON demos (opportunity_id, created_at);

-- Regulation 2, 第九条: price, delivery, after-sales terms, payment.
CREATE TABLE negotiations (
    id                TEXT PRIMARY KEY,
    opportunity_id    TEXT NOT NULL REFERENCES opportunities(id),
    topic             TEXT NOT NULL,
    customer_position TEXT NOT NULL DEFAULT '',
    our_position      TEXT NOT NULL DEFAULT '',
    outcome           TEXT NOT NULL DEFAULT '',
    next_step         TEXT NOT NULL DEFAULT '',
    occurred_at       BIGINT NOT NULL,
    author_id         TEXT NOT NULL,
    version           BIGINT NOT NULL DEFAULT 1,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX negotiations_opportunity ON negotiations (opportunity_id, occurred_at);
