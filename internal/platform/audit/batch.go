package audit

import (
	"context"
	"strings"
	"time"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/httpx"
)

// RecordMany writes several entries in tx like Record, with multi-row
// INSERTs: bulk operations (imports) audit every record they create without
// a statement per entry.
func (l *Log) RecordMany(ctx context.Context, tx *db.Tx, evs []Event) error {
	return l.RecordPrepared(ctx, tx, l.Prepare(ctx, tx.Now(), evs))
}

// Batch is a set of entries ready to be written: IDs, JSON and MACs are
// computed, the statements built. Prepare makes one outside the writing
// transaction (say, in a goroutine that keeps ahead of the writer), and
// RecordPrepared writes it in the transaction the entries belong to.
type Batch struct {
	// SQLite: multi-row INSERTs.
	stmts []batchStmt
	// PostgreSQL: the rows for COPY, batchCols wide.
	rows [][]any
}

type batchStmt struct {
	q    string
	args []any
}

const batchCols = `id, at, actor_id, actor_name, action, entity_type, entity_id, ip, request_id, changes, detail, entry_mac`

var batchColList = strings.Split(strings.ReplaceAll(batchCols, " ", ""), ",")

// Prepare computes the entries of evs as Record would write them at time at
// (the transaction's time, tx.Now()), with the actor, IP and request ID of
// ctx. It does not touch the database.
func (l *Log) Prepare(ctx context.Context, at time.Time, evs []Event) *Batch {
	actorID, actorName, ip := "", "", ""
	if p := authz.From(ctx); p != nil {
		actorID, actorName, ip = p.UserID, p.DisplayName+" ("+p.Username+")", p.IP
	}
	rid, ms := httpx.RequestID(ctx), db.Ms(at)
	const cols = 12
	n := len(evs)
	args := make([]any, 0, n*cols)
	m := l.newMACer()
	for _, ev := range evs {
		name, evIP := actorName, ip
		if ev.ActorName != "" {
			name = ev.ActorName
		}
		if ev.IP != "" {
			evIP = ev.IP
		}
		id := db.NewID()
		ch, de := ev.encoded()
		mac := m.entryMAC(id, ms, actorID, name, ev.Action, ev.EntityType, ev.EntityID, evIP, rid, ch, de)
		args = append(args, id, ms, actorID, name, ev.Action, ev.EntityType, ev.EntityID, evIP, rid, ch, de, mac)
	}
	b := &Batch{}
	if n == 0 {
		return b
	}
	if l.db != nil && l.db.Dialect == db.Postgres {
		// COPY: PostgreSQL neither plans a statement of thousands of
		// parameters nor unpacks arrays.
		b.rows = make([][]any, n)
		for i := range n {
			b.rows[i] = args[i*cols : (i+1)*cols : (i+1)*cols]
		}
		return b
	}
	// Statements of at most 250 rows (3,000 parameters), of equal size so
	// that one prepared statement serves them all.
	const most = 250
	parts := (n + most - 1) / most
	size := (n + parts - 1) / parts
	for start := 0; start < n; start += size {
		end := min(n, start+size)
		values := strings.TrimSuffix(strings.Repeat("("+db.Placeholders(cols)+"), ", end-start), ", ")
		b.stmts = append(b.stmts, batchStmt{q: `INSERT INTO audit_log (` + batchCols + `) VALUES ` + values, args: args[start*cols : end*cols]})
	}
	return b
}

// RecordPrepared writes a prepared batch in tx.
func (l *Log) RecordPrepared(ctx context.Context, tx *db.Tx, b *Batch) error {
	if len(b.rows) > 0 {
		if err := tx.CopyFrom(ctx, "audit_log", batchColList, len(b.rows), func(i int) []any { return b.rows[i] }); err != nil {
			return err
		}
	}
	for _, st := range b.stmts {
		if _, err := tx.Exec(ctx, st.q, st.args...); err != nil {
			return err
		}
	}
	return nil
}
