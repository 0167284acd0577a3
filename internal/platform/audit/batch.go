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
	stmts []batchStmt
}

type batchStmt struct {
	q    string
	args []any
}

const batchCols = `id, at, actor_id, actor_name, action, entity_type, entity_id, ip, request_id, changes, detail, entry_mac`

// Prepare computes the entries of evs as Record would write them at time at
// (the transaction's time, tx.Now()), with the actor, IP and request ID of
// ctx. It does not touch the database.
func (l *Log) Prepare(ctx context.Context, at time.Time, evs []Event) *Batch {
	actorID, actorName, ip := "", "", ""
	if p := authz.From(ctx); p != nil {
		actorID, actorName, ip = p.UserID, p.DisplayName+" ("+p.Username+")", p.IP
	}
	rid, ms := httpx.RequestID(ctx), db.Ms(at)
	n := len(evs)
	ids, names, actions, types, entities, ips, changes, details, macs :=
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n),
		make([]string, n), make([]string, n), make([]string, n)
	for i, ev := range evs {
		name, evIP := actorName, ip
		if ev.ActorName != "" {
			name = ev.ActorName
		}
		if ev.IP != "" {
			evIP = ev.IP
		}
		id := db.NewID()
		ch, de := encodeJSON(ev.Changes), encodeJSON(ev.Detail)
		ids[i], names[i], actions[i], types[i], entities[i], ips[i], changes[i], details[i] = id, name, ev.Action, ev.EntityType, ev.EntityID, evIP, ch, de
		macs[i] = l.entryMAC(id, ms, actorID, name, ev.Action, ev.EntityType, ev.EntityID, evIP, rid, ch, de)
	}
	b := &Batch{}
	if n == 0 {
		return b
	}
	if l.db != nil && l.db.Dialect == db.Postgres {
		// One array per column: PostgreSQL plans a statement with a dozen
		// parameters instead of thousands.
		ats, actors, rids := make([]int64, n), make([]string, n), make([]string, n)
		for i := range n {
			ats[i], actors[i], rids[i] = ms, actorID, rid
		}
		b.stmts = append(b.stmts, batchStmt{q: `INSERT INTO audit_log (` + batchCols + `)
			SELECT * FROM unnest(?::text[], ?::bigint[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[], ?::text[])`,
			args: []any{ids, ats, actors, names, actions, types, entities, ips, rids, changes, details, macs}})
		return b
	}
	// Statements of at most 250 rows (3,000 parameters), of equal size so
	// that one prepared statement serves them all.
	const cols, most = 12, 250
	parts := (n + most - 1) / most
	size := (n + parts - 1) / parts
	for start := 0; start < n; start += size {
		end := min(n, start+size)
		args := make([]any, 0, (end-start)*cols)
		for i := start; i < end; i++ {
			args = append(args, ids[i], ms, actorID, names[i], actions[i], types[i], entities[i], ips[i], rid, changes[i], details[i], macs[i])
		}
		values := strings.TrimSuffix(strings.Repeat("("+db.Placeholders(cols)+"), ", end-start), ", ")
		b.stmts = append(b.stmts, batchStmt{q: `INSERT INTO audit_log (` + batchCols + `) VALUES ` + values, args: args})
	}
	return b
}

// RecordPrepared writes a prepared batch in tx.
func (l *Log) RecordPrepared(ctx context.Context, tx *db.Tx, b *Batch) error {
	for _, st := range b.stmts {
		if _, err := tx.Exec(ctx, st.q, st.args...); err != nil {
			return err
		}
	}
	return nil
}
