// Package migrations embeds Prelude's versioned, forward-only schema
// migrations. The same files run on SQLite and PostgreSQL: timestamps are
// BIGINT milliseconds, IDs are TEXT UUIDv7, JSON is TEXT. A file named
// NNNN_x.postgres.sql or NNNN_x.sqlite.sql overrides NNNN_x.sql on that dialect.
package migrations

import "embed"

//go:embed *.sql
var FS embed.FS
