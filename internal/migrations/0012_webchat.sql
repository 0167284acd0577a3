-- Web chat (issue 4, item 4): the chat sites an administrator allows to embed
-- the widget, and the visitors' conversations. A visitor holds a random token
-- (only its SHA-256 is stored) that opens exactly one inquiry of channel
-- web_chat; the inquiry and its messages are ordinary inbox rows.

CREATE TABLE chat_sites (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    -- site_key is public (data-site="…" in the page) but unguessable, so
    -- nobody can enumerate sites; it is rotated by the administrator.
    site_key        TEXT NOT NULL UNIQUE,
    -- allowed_origins is a JSON array of exact scheme://host[:port] values.
    allowed_origins TEXT NOT NULL DEFAULT '[]',
    enabled         BOOLEAN NOT NULL DEFAULT TRUE,
    -- department_id is the team conversations go to (the assignment rules of
    -- that team pick the person); NULL: the ordinary rules decide.
    department_id   TEXT REFERENCES departments(id),
    greeting_zh     TEXT NOT NULL DEFAULT '',
    greeting_en     TEXT NOT NULL DEFAULT '',
    offline_zh      TEXT NOT NULL DEFAULT '',
    offline_en      TEXT NOT NULL DEFAULT '',
    ask_name        BOOLEAN NOT NULL DEFAULT TRUE,
    ask_phone       BOOLEAN NOT NULL DEFAULT FALSE,
    version         BIGINT NOT NULL DEFAULT 1,
    created_at      BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL
);

CREATE TABLE chat_visitors (
    id          TEXT PRIMARY KEY,
    site_id     TEXT NOT NULL REFERENCES chat_sites(id),
    inquiry_id  TEXT NOT NULL REFERENCES inquiries(id),
    token_hash  TEXT NOT NULL UNIQUE,
    -- ip_hash (HMAC of the address with a server key) caps conversations
    -- per address and hour across instances without keeping the address.
    ip_hash     TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX chat_visitors_ip ON chat_visitors (ip_hash, created_at);
CREATE INDEX chat_visitors_site ON chat_visitors (site_id, created_at);
CREATE INDEX chat_visitors_inquiry ON chat_visitors (inquiry_id);
