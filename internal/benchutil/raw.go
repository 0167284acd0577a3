package benchutil

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver
	_ "modernc.org/sqlite"             // "sqlite" driver
)

// RawConfig says which database the raw baseline uses.
type RawConfig struct {
	// SQLitePath is a copy of Prelude's SQLite file (never the live one:
	// the baseline writes a scratch table into it).
	SQLitePath string
	// PostgresURL is Prelude's PostgreSQL database (with the same
	// search_path); the scratch table goes into the first schema of the path.
	PostgresURL string
	// Readers is the SQLite reader pool size (default 16, the layout
	// shared/STACK.md measured).
	Readers int
}

// Raw is the baseline: a bare net/http handler doing, per request, the one
// INSERT or the one indexed 50-row SELECT that Prelude's "log a call" and
// "open the timeline" boil down to, on the same data, with nothing else
// (no sign-in, scope check, audit, validation or search outbox).
type Raw struct {
	dialect string
	write   *sql.DB
	read    *sql.DB
}

// ScratchTable is the table the raw INSERTs go to: the shape and indexes of
// timeline_events.
const ScratchTable = "bench_raw_events"

// OpenRaw opens the database and creates the scratch table.
func OpenRaw(ctx context.Context, cfg RawConfig) (*Raw, error) {
	r := &Raw{}
	if cfg.PostgresURL != "" {
		pool, err := sql.Open("pgx", cfg.PostgresURL)
		if err != nil {
			return nil, err
		}
		pool.SetMaxOpenConns(32) // as Prelude's pool
		pool.SetMaxIdleConns(32)
		r.dialect, r.write, r.read = "postgres", pool, pool
	} else {
		if cfg.SQLitePath == "" {
			return nil, fmt.Errorf("raw baseline: no database given")
		}
		common := "file:" + url.PathEscape(cfg.SQLitePath) + "?_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)"
		w, err := sql.Open("sqlite", common+"&_pragma=journal_mode(WAL)&_txlock=immediate")
		if err != nil {
			return nil, err
		}
		w.SetMaxOpenConns(1)
		w.SetMaxIdleConns(1)
		readers := cfg.Readers
		if readers <= 0 {
			readers = 16
		}
		rd, err := sql.Open("sqlite", common+"&_pragma=query_only(1)&_pragma=cache_size(-2000)")
		if err != nil {
			w.Close()
			return nil, err
		}
		rd.SetMaxOpenConns(readers)
		rd.SetMaxIdleConns(readers)
		r.dialect, r.write, r.read = "sqlite", w, rd
	}
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS ` + ScratchTable + ` (id TEXT PRIMARY KEY, account_id TEXT NOT NULL, kind TEXT NOT NULL,
			ref_type TEXT NOT NULL DEFAULT '', ref_id TEXT NOT NULL DEFAULT '', actor_id TEXT NOT NULL DEFAULT '',
			occurred_at BIGINT NOT NULL, title TEXT NOT NULL DEFAULT '', body TEXT NOT NULL DEFAULT '', data TEXT NOT NULL DEFAULT '',
			created_at BIGINT NOT NULL)`,
		`CREATE INDEX IF NOT EXISTS ` + ScratchTable + `_account ON ` + ScratchTable + ` (account_id, occurred_at, id)`,
		`CREATE INDEX IF NOT EXISTS ` + ScratchTable + `_ref ON ` + ScratchTable + ` (ref_type, ref_id)`,
	} {
		if _, err := r.write.ExecContext(ctx, q); err != nil {
			r.Close()
			return nil, fmt.Errorf("raw baseline: %w", err)
		}
	}
	return r, nil
}

// Close closes the database.
func (r *Raw) Close() error {
	err := r.write.Close()
	if r.read != r.write {
		r.read.Close()
	}
	return err
}

func (r *Raw) bind(q string) string {
	if r.dialect != "postgres" {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
		} else {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// RawEvent is a row the baseline writes and reads.
type RawEvent struct {
	ID         string `json:"id"`
	AccountID  string `json:"account_id"`
	Kind       string `json:"kind"`
	RefType    string `json:"ref_type"`
	RefID      string `json:"ref_id"`
	ActorID    string `json:"actor_id"`
	OccurredAt int64  `json:"occurred_at"`
	Title      string `json:"title"`
	Body       string `json:"body"`
	Data       string `json:"data"`
}

// Handler serves
//
//	POST /raw/insert              body: a RawEvent (id and times are set) → 201
//	GET  /raw/select?account=ID   the account's newest 50 timeline_events rows → 200
//	GET  /raw/accounts?limit=N    some account IDs that have timeline events
//	GET  /healthz
func (r *Raw) Handler() http.Handler {
	mux := http.NewServeMux()
	insert := r.bind(`INSERT INTO ` + ScratchTable + ` (id, account_id, kind, ref_type, ref_id, actor_id, occurred_at, title, body, data, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	sel := r.bind(`SELECT id, account_id, kind, ref_type, ref_id, actor_id, occurred_at, title, body, data FROM timeline_events
		WHERE account_id = ? ORDER BY occurred_at DESC, id DESC LIMIT 50`)
	mux.HandleFunc("POST /raw/insert", func(w http.ResponseWriter, req *http.Request) {
		var e RawEvent
		if err := json.NewDecoder(http.MaxBytesReader(w, req.Body, 1<<20)).Decode(&e); err != nil || e.AccountID == "" {
			http.Error(w, `{"error":"bad body"}`, 400)
			return
		}
		id, _ := uuid.NewV7()
		e.ID = id.String()
		now := time.Now().UnixMilli()
		if e.OccurredAt == 0 {
			e.OccurredAt = now
		}
		if e.Kind == "" {
			e.Kind = "call"
		}
		if _, err := r.write.ExecContext(req.Context(), insert, e.ID, e.AccountID, e.Kind, e.RefType, e.RefID, e.ActorID, e.OccurredAt,
			e.Title, e.Body, e.Data, now); err != nil {
			http.Error(w, `{"error":"db"}`, 500)
			return
		}
		writeJSON(w, 201, e)
	})
	mux.HandleFunc("GET /raw/select", func(w http.ResponseWriter, req *http.Request) {
		rows, err := r.read.QueryContext(req.Context(), sel, req.URL.Query().Get("account"))
		if err != nil {
			http.Error(w, `{"error":"db"}`, 500)
			return
		}
		defer rows.Close()
		items := make([]RawEvent, 0, 50)
		for rows.Next() {
			var e RawEvent
			if err := rows.Scan(&e.ID, &e.AccountID, &e.Kind, &e.RefType, &e.RefID, &e.ActorID, &e.OccurredAt, &e.Title, &e.Body, &e.Data); err != nil {
				http.Error(w, `{"error":"db"}`, 500)
				return
			}
			items = append(items, e)
		}
		if rows.Err() != nil {
			http.Error(w, `{"error":"db"}`, 500)
			return
		}
		writeJSON(w, 200, map[string]any{"items": items})
	})
	mux.HandleFunc("GET /raw/accounts", func(w http.ResponseWriter, req *http.Request) {
		n, _ := strconv.Atoi(req.URL.Query().Get("limit"))
		if n <= 0 || n > 10000 {
			n = 1000
		}
		rows, err := r.read.QueryContext(req.Context(), r.bind("SELECT id FROM accounts ORDER BY id LIMIT ?"), n)
		if err != nil {
			http.Error(w, `{"error":"db"}`, 500)
			return
		}
		defer rows.Close()
		ids := []string{}
		for rows.Next() {
			var id string
			if rows.Scan(&id) == nil {
				ids = append(ids, id)
			}
		}
		writeJSON(w, 200, map[string]any{"items": ids})
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, req *http.Request) {
		writeJSON(w, 200, map[string]string{"status": "ok", "db": r.dialect})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
