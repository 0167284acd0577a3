-- Files attached to outgoing mail (issue 4: meeting invitations go out as a
-- real text/calendar attachment). Kept with the queued mail so the send job
-- composes the same message on every retry, on any instance.
CREATE TABLE mail_outgoing_files (
    id           TEXT PRIMARY KEY,
    outgoing_id  TEXT NOT NULL REFERENCES mail_outgoing(id) ON DELETE CASCADE,
    position     INTEGER NOT NULL,
    filename     TEXT NOT NULL,
    content_type TEXT NOT NULL,
    content      BLOB NOT NULL
);
CREATE INDEX mail_outgoing_files_outgoing ON mail_outgoing_files (outgoing_id, position);
