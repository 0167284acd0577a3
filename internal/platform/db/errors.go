package db

import (
	"database/sql"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
)

// Portable error kinds; callers test with errors.Is.
var (
	ErrNotFound   = sql.ErrNoRows
	ErrUnique     = errors.New("db: unique constraint violated")
	ErrForeignKey = errors.New("db: foreign key constraint violated")
	ErrBusy       = errors.New("db: database busy")
)

// kindError keeps the driver error for logs while matching a portable kind.
type kindError struct {
	kind error
	err  error
}

func (e *kindError) Error() string        { return e.err.Error() }
func (e *kindError) Unwrap() []error      { return []error{e.kind, e.err} }
func (e *kindError) Is(target error) bool { return target == e.kind }

func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var pg *pgconn.PgError
	if errors.As(err, &pg) {
		switch pg.Code {
		case "23505":
			return &kindError{ErrUnique, err}
		case "23503":
			return &kindError{ErrForeignKey, err}
		case "40001", "40P01", "55P03":
			return &kindError{ErrBusy, err}
		}
		return err
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case 2067, 1555: // SQLITE_CONSTRAINT_UNIQUE, SQLITE_CONSTRAINT_PRIMARYKEY
			return &kindError{ErrUnique, err}
		case 787: // SQLITE_CONSTRAINT_FOREIGNKEY
			return &kindError{ErrForeignKey, err}
		case 5, 6, 517: // SQLITE_BUSY, SQLITE_LOCKED, SQLITE_BUSY_SNAPSHOT
			return &kindError{ErrBusy, err}
		}
		return err
	}
	if strings.Contains(err.Error(), "UNIQUE constraint failed") {
		return &kindError{ErrUnique, err}
	}
	return err
}

// MapErr exposes the driver-error mapping for errors that surface from Scan
// or Rows.Err rather than from Exec/Query.
func MapErr(err error) error { return mapErr(err) }
