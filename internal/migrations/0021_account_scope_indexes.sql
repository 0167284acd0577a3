-- Scoped account lists (GET /api/v1/accounts) take the first page of each
-- branch of the caller's data scope — accounts they own, accounts of their
-- departments — along one of these indexes and merge them, and count up to
-- 2,000 from them without reading the table: the live-account filter
-- (merged_into and archived_at both NULL) is the index's predicate, and id,
-- merged_into and archived_at are in the key so that SQLite sees the index
-- as covering. Before, a department head's list read and sorted every
-- account of the department (420–560 ms at 100k accounts).
CREATE INDEX accounts_owner_live ON accounts (owner_id, updated_at, id, merged_into, archived_at)
    WHERE merged_into IS NULL AND archived_at IS NULL;
CREATE INDEX accounts_department_live ON accounts (department_id, updated_at, id, merged_into, archived_at)
    WHERE merged_into IS NULL AND archived_at IS NULL;
