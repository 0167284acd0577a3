package db

import (
	"database/sql"
	"net/url"
)

func sqlOpenImmutable(path string) (*sql.DB, error) {
	return sql.Open("sqlite", "file:"+url.PathEscape(path)+"?mode=ro&immutable=1")
}
