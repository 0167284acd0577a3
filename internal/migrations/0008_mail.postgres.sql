-- Email for the inquiry inbox (issue 4, item 3): mailboxes connected over
-- IMAP/SMTP, every fetched mail recorded once (delivered, bounce,
-- auto-reply or rejected, with the reason), kept attachments, and outgoing
-- mail with its delivery status.

CREATE TABLE mail_mailboxes (
    id                    TEXT PRIMARY KEY,
    address               TEXT NOT NULL,
    display_name          TEXT NOT NULL DEFAULT '',
    imap_host             TEXT NOT NULL,
    imap_port             INTEGER NOT NULL,
    imap_tls              TEXT NOT NULL,
    imap_username         TEXT NOT NULL,
    imap_password         TEXT NOT NULL DEFAULT '',
    folder                TEXT NOT NULL DEFAULT 'INBOX',
    smtp_host             TEXT NOT NULL,
    smtp_port             INTEGER NOT NULL,
    smtp_tls              TEXT NOT NULL,
    smtp_username         TEXT NOT NULL DEFAULT '',
    smtp_password         TEXT NOT NULL DEFAULT '',
    enabled               BOOLEAN NOT NULL DEFAULT TRUE,
    poll_interval_seconds INTEGER NOT NULL DEFAULT 60,
    -- fetch state: UIDVALIDITY of the folder and the highest UID recorded
    uid_validity          BIGINT NOT NULL DEFAULT 0,
    last_uid              BIGINT NOT NULL DEFAULT 0,
    next_fetch_at         BIGINT NOT NULL DEFAULT 0,
    last_fetch_at         BIGINT,
    last_error            TEXT NOT NULL DEFAULT '',
    -- one instance fetches a mailbox at a time
    lease_owner           TEXT NOT NULL DEFAULT '',
    lease_until           BIGINT NOT NULL DEFAULT 0,
    -- one instance keeps an IMAP IDLE watch on a mailbox at a time
    idle_owner            TEXT NOT NULL DEFAULT '',
    idle_until            BIGINT NOT NULL DEFAULT 0,
    version               BIGINT NOT NULL DEFAULT 1,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL
);
CREATE UNIQUE INDEX mail_mailboxes_address ON mail_mailboxes (address);
CREATE INDEX mail_mailboxes_due ON mail_mailboxes (enabled, next_fetch_at);

CREATE TABLE mail_incoming (
    id           TEXT PRIMARY KEY,
    mailbox_id   TEXT NOT NULL REFERENCES mail_mailboxes(id) ON DELETE CASCADE,
    -- Message-ID, or a digest of the raw mail when it has none: the key that
    -- keeps a mail from being recorded twice (refetch after UIDVALIDITY reset)
    message_key  TEXT NOT NULL,
    message_id   TEXT NOT NULL DEFAULT '',
    uid_validity BIGINT NOT NULL,
    uid          BIGINT NOT NULL,
    kind         TEXT NOT NULL,
    reason       TEXT NOT NULL DEFAULT '',
    from_address TEXT NOT NULL DEFAULT '',
    subject      TEXT NOT NULL DEFAULT '',
    size         BIGINT NOT NULL DEFAULT 0,
    sent_at      BIGINT,
    created_at   BIGINT NOT NULL
);
CREATE UNIQUE INDEX mail_incoming_key ON mail_incoming (mailbox_id, message_key);
CREATE INDEX mail_incoming_list ON mail_incoming (mailbox_id, created_at, id);

CREATE TABLE mail_outgoing (
    id          TEXT PRIMARY KEY,
    mailbox_id  TEXT NOT NULL REFERENCES mail_mailboxes(id),
    message_id  TEXT NOT NULL,
    recipients  TEXT NOT NULL,
    subject     TEXT NOT NULL DEFAULT '',
    body_text   TEXT NOT NULL DEFAULT '',
    body_html   TEXT NOT NULL DEFAULT '',
    in_reply_to TEXT NOT NULL DEFAULT '',
    refs        TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL DEFAULT 'queued',
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT NOT NULL DEFAULT '',
    sent_at     BIGINT,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE UNIQUE INDEX mail_outgoing_message_id ON mail_outgoing (message_id);
CREATE INDEX mail_outgoing_list ON mail_outgoing (mailbox_id, created_at, id);

CREATE TABLE mail_attachments (
    id           TEXT PRIMARY KEY,
    incoming_id  TEXT NOT NULL REFERENCES mail_incoming(id) ON DELETE CASCADE,
    filename     TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL DEFAULT 'application/octet-stream',
    size         BIGINT NOT NULL,
    content      BYTEA NOT NULL
);
CREATE INDEX mail_attachments_incoming ON mail_attachments (incoming_id);
