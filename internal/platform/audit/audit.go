// Package audit is Prelude's append-only, tamper-evident audit log.
//
// Each entry is written in the same transaction as the change it describes,
// with entry_mac = HMAC(key, content), so there is no change without its
// entry and an entry inserted or edited out of band (without the key) is
// detectable. Entries are chained in order (seq, prev_hash, hash =
// HMAC(key, prev_hash|seq|entry_mac)), which catches deletions and
// reordering. On PostgreSQL a sealing job chains committed entries, so that
// concurrent writers do not queue behind one chain head; on SQLite, whose
// single writer runs transactions one after another anyway, Record chains
// the entry as it inserts it (see Record). The sealing job also records the
// chain's head (settings 'audit.head'), which exposes the deletion of the
// newest entries.
package audit

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"sync"
	"time"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/httpx"
)

// Entry is one audited event.
type Entry struct {
	ID         string            `json:"id"`
	Seq        *int64            `json:"seq"`
	At         time.Time         `json:"at"`
	ActorID    string            `json:"actor_id"`
	ActorName  string            `json:"actor_name"`
	Action     string            `json:"action"`
	EntityType string            `json:"entity_type"`
	EntityID   string            `json:"entity_id"`
	IP         string            `json:"ip"`
	RequestID  string            `json:"request_id"`
	Changes    map[string][2]any `json:"changes"`
	Detail     map[string]any    `json:"detail"`
}

// Log writes, seals, lists and verifies audit entries.
type Log struct {
	db  *db.DB
	key []byte
	// macers keeps HMAC states between entries Record writes one at a
	// time (a new one for each entry and each chain hash was a tenth of
	// Record's time in the writer).
	macers sync.Pool
}

// New returns a log whose MACs use key (at least 32 bytes).
func New(d *db.DB, key []byte) *Log { return &Log{db: d, key: key} }

// Event is what a service records; actor, IP and request ID come from ctx.
type Event struct {
	Action     string // e.g. "user.update", "auth.login_failed", "user.reveal"
	EntityType string
	EntityID   string
	Changes    map[string][2]any
	Detail     map[string]any
	// ChangesJSON and DetailJSON, when not empty, stand for Changes and
	// Detail already encoded, as an Object builds them: bulk writers (an
	// import's 200,000 entries) write the text without a map per entry.
	ChangesJSON, DetailJSON string
	// ActorName overrides the actor when there is no principal (failed sign-in).
	ActorName string
	IP        string
}

// Record appends an entry inside tx. It must be called in the transaction
// that makes the change.
func (l *Log) Record(ctx context.Context, tx *db.Tx, ev Event) error {
	e := Entry{ID: db.NewID(), At: tx.Now(), Action: ev.Action, EntityType: ev.EntityType, EntityID: ev.EntityID,
		Changes: ev.Changes, Detail: ev.Detail, RequestID: httpx.RequestID(ctx), IP: ev.IP, ActorName: ev.ActorName}
	if p := authz.From(ctx); p != nil {
		e.ActorID = p.UserID
		if e.ActorName == "" {
			e.ActorName = p.DisplayName + " (" + p.Username + ")"
		}
		if e.IP == "" {
			e.IP = p.IP
		}
	}
	changes, detail := ev.encoded()
	mac := l.entryMAC(e.ID, db.Ms(e.At), e.ActorID, e.ActorName, e.Action, e.EntityType, e.EntityID, e.IP, e.RequestID, changes, detail)
	if tx.Dialect() == db.SQLite {
		// Chained at once: the transactions of the single SQLite writer run
		// one after another (db/writer.go), so the newest sealed entry read
		// here stays the newest until this one commits, and an entry rolled
		// back takes its place in the chain with it. Sealing it later
		// instead cost an UPDATE of every entry (its row, the seq index and
		// the unsealed index written twice) on the writer every request
		// queues for.
		h, err := chainHeadOf(ctx, tx)
		if err != nil {
			return err
		}
		next := chainHead{seq: h.seq + 1, hash: l.chainHash(h.hash, h.seq+1, mac)}
		_, err = tx.Exec(ctx, `INSERT INTO audit_log (id, at, actor_id, actor_name, action, entity_type, entity_id, ip, request_id, changes, detail, entry_mac, seq, prev_hash, hash)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.ID, db.Ms(e.At), e.ActorID, e.ActorName, e.Action, e.EntityType, e.EntityID, e.IP, e.RequestID, changes, detail, mac,
			next.seq, h.hash, next.hash)
		if err != nil {
			return err
		}
		tx.SetMemo(chainHeadKey{}, next)
		return nil
	}
	_, err := tx.Exec(ctx, `INSERT INTO audit_log (id, at, actor_id, actor_name, action, entity_type, entity_id, ip, request_id, changes, detail, entry_mac)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.ID, db.Ms(e.At), e.ActorID, e.ActorName, e.Action, e.EntityType, e.EntityID, e.IP, e.RequestID, changes, detail, mac)
	return err
}

// chainHead is the newest sealed entry: its seq and hash (zero values
// before the first).
type chainHead struct {
	seq  int64
	hash string
}

type chainHeadKey struct{}

// chainHeadOf returns the chain's head as tx sees it. On SQLite the write
// transactions that share one database transaction (group commit) chain
// their entries one after another while it holds the write lock, so the
// head one of them wrote is memoized for the next (tx.Memo): reading it
// back each time was a seventh of the writer's time per posted message.
func chainHeadOf(ctx context.Context, tx *db.Tx) (chainHead, error) {
	if v, ok := tx.Memo(chainHeadKey{}); ok {
		return v.(chainHead), nil
	}
	var seq *int64
	var hash *string
	err := tx.QueryRow(ctx, "SELECT seq, hash FROM audit_log WHERE seq IS NOT NULL ORDER BY seq DESC LIMIT 1").Scan(&seq, &hash)
	if err != nil && err != db.ErrNotFound {
		return chainHead{}, err
	}
	if seq == nil {
		return chainHead{}, nil
	}
	return chainHead{seq: *seq, hash: deref(hash)}, nil
}

func (l *Log) entryMAC(id string, at int64, fields ...string) string {
	m := l.pooledMACer()
	defer l.macers.Put(m)
	return m.entryMAC(id, at, fields...)
}

// macer computes entry MACs one after another with one HMAC state and
// buffer: Prepare MACs thousands of entries, and a fresh HMAC for each
// (its key schedule, two SHA-256 states, the bytes of every field copied
// once more) was a fifth of preparing an import's entries.
type macer struct {
	h   hash.Hash
	buf []byte
	sum []byte
}

func (l *Log) newMACer() *macer { return &macer{h: hmac.New(sha256.New, l.key)} }

// pooledMACer is a macer from l.macers (put it back), or a new one.
func (l *Log) pooledMACer() *macer {
	if m, ok := l.macers.Get().(*macer); ok {
		return m
	}
	return l.newMACer()
}

// entryMAC is HMAC(key, id 0x1f at (0x1f field)...), hex-encoded.
func (m *macer) entryMAC(id string, at int64, fields ...string) string {
	b := append(m.buf[:0], id...)
	b = append(b, 0x1f)
	b = strconv.AppendInt(b, at, 10)
	for _, f := range fields {
		b = append(b, 0x1f)
		b = append(b, f...)
	}
	return m.mac(b)
}

// mac is the hex HMAC of b, which was built in m.buf (kept for the next).
func (m *macer) mac(b []byte) string {
	m.buf = b
	m.h.Reset()
	m.h.Write(b)
	m.sum = m.h.Sum(m.sum[:0])
	return hex.EncodeToString(m.sum)
}

// chainHash is HMAC(key, prev|seq|entryMAC), hex-encoded.
func (l *Log) chainHash(prev string, seq int64, entryMAC string) string {
	m := l.pooledMACer()
	defer l.macers.Put(m)
	b := append(m.buf[:0], prev...)
	b = append(b, '|')
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, '|')
	b = append(b, entryMAC...)
	return m.mac(b)
}

// sealLock is the PostgreSQL advisory lock that keeps one sealer at a time.
const sealLock = 7316853012

// Seal chains up to batch unsealed entries in (at, id) order, records the
// chain's head, and returns how many entries it sealed (on SQLite only those
// written in bulk, RecordMany and RecordPrepared: Record chains its entry
// itself). Safe to run from several instances: on PostgreSQL only the holder
// of an advisory lock seals; SQLite has a single writer anyway.
func (l *Log) Seal(ctx context.Context, batch int) (int, error) {
	sealed := 0
	err := l.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if tx.Dialect() == db.Postgres {
			var got bool
			if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock(?)", int64(sealLock)).Scan(&got); err != nil {
				return err
			}
			if !got {
				return nil
			}
		}
		var lastSeq int64
		var lastHash string
		var s *int64
		var h *string
		err := tx.QueryRow(ctx, "SELECT seq, hash FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)").Scan(&s, &h)
		if err != nil && err != db.ErrNotFound {
			return err
		}
		if s != nil {
			lastSeq, lastHash = *s, deref(h)
		}
		rows, err := queryUnsealed(ctx, tx, "", batch)
		if err != nil {
			return err
		}
		type pending struct{ id, mac string }
		var todo []pending
		for rows.Next() {
			var p pending
			if err := rows.Scan(&p.id, &p.mac); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ids, seqs, prevs, hashes := make([]string, len(todo)), make([]int64, len(todo)), make([]string, len(todo)), make([]string, len(todo))
		for i, p := range todo {
			lastSeq++
			hash := l.chainHash(lastHash, lastSeq, p.mac)
			ids[i], seqs[i], prevs[i], hashes[i] = p.id, lastSeq, lastHash, hash
			lastHash = hash
		}
		if tx.Dialect() == db.Postgres && len(todo) > 0 {
			// One statement for the batch instead of a round trip per entry.
			res, err := tx.Exec(ctx, `UPDATE audit_log a SET seq = u.seq, prev_hash = u.prev_hash, hash = u.hash
				FROM unnest(?::text[], ?::bigint[], ?::text[], ?::text[]) AS u (id, seq, prev_hash, hash)
				WHERE a.id = u.id AND a.seq IS NULL`, ids, seqs, prevs, hashes)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n != int64(len(todo)) {
				return fmt.Errorf("audit: sealed %d entries of %d (%v)", n, len(todo), err)
			}
		} else {
			for i := range todo {
				if _, err := tx.Exec(ctx, "UPDATE audit_log SET seq = ?, prev_hash = ?, hash = ? WHERE id = ? AND seq IS NULL", seqs[i], prevs[i], hashes[i], ids[i]); err != nil {
					return err
				}
			}
		}
		sealed = len(todo)
		if lastSeq == 0 {
			return nil
		}
		// Record chains after these in the same transaction (chainHeadOf).
		tx.SetMemo(chainHeadKey{}, chainHead{seq: lastSeq, hash: lastHash})
		head := strconv.FormatInt(lastSeq, 10) + ":" + lastHash
		if sealed == 0 {
			// Entries Record chained itself move the head without sealing.
			var recorded string
			err := tx.QueryRow(ctx, "SELECT value FROM settings WHERE key = 'audit.head'").Scan(&recorded)
			if err != nil && err != db.ErrNotFound {
				return err
			}
			if recorded == head {
				return nil
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO settings (key, value, updated_at) VALUES ('audit.head', ?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, head, db.Ms(tx.Now()))
		return err
	})
	return sealed, err
}

// queryUnsealed runs the sealer's query for the next batch (prefixed, for
// tests: EXPLAIN) in tx. It reads the unsealed entries in (at, id) order
// along their partial index, so that a batch reads only itself. Left to
// themselves, both planners found every unsealed entry (SQLite through the
// unique index on seq, PostgreSQL with a bitmap scan, statistics taken
// before a burst making the entries look few) and sorted them, for every
// batch: quadratic after a large import, whose 100,000 rows write 200,000
// entries (sealing 40,000 entries took 22 s on PostgreSQL and 4 s on
// SQLite here, under load; 8 s and 3 s now, most of it the updates).
// PostgreSQL is kept from sorting for the rest of the transaction, which
// leaves it the ordered index scan.
func queryUnsealed(ctx context.Context, tx *db.Tx, prefix string, batch int) (*sql.Rows, error) {
	from := "audit_log"
	if tx.Dialect() == db.SQLite {
		from = "audit_log INDEXED BY audit_log_unsealed"
	} else if _, err := tx.Exec(ctx, "SET LOCAL enable_sort = off"); err != nil {
		return nil, err
	}
	return tx.Query(ctx, prefix+"SELECT id, entry_mac FROM "+from+" WHERE seq IS NULL ORDER BY at, id LIMIT ?", batch)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// Problem names the first entry that fails verification.
type Problem struct {
	ID     string `json:"id"`
	Seq    int64  `json:"seq"`
	Reason string `json:"reason"`
}

// Report is the result of Verify.
type Report struct {
	OK       bool     `json:"ok"`
	Checked  int      `json:"checked"`
	FirstBad *Problem `json:"first_bad"`
}

// Verify walks the whole log: every entry's MAC, the chain in seq order with
// no gaps, and the recorded chain head. It names the first bad row.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	rep := Report{OK: true}
	fail := func(p Problem) (Report, error) {
		rep.OK = false
		rep.FirstBad = &p
		return rep, nil
	}
	var headVal string
	err := l.db.QueryRow(ctx, "SELECT value FROM settings WHERE key = 'audit.head'").Scan(&headVal)
	if err != nil && err != db.ErrNotFound {
		return rep, err
	}
	rows, err := l.db.Query(ctx, `SELECT id, seq, at, actor_id, actor_name, action, entity_type, entity_id, ip, request_id, changes, detail, entry_mac, prev_hash, hash
		FROM audit_log ORDER BY (CASE WHEN seq IS NULL THEN 1 ELSE 0 END), seq, at, id`)
	if err != nil {
		return rep, err
	}
	defer rows.Close()
	headSeq, headHash, _ := strings.Cut(headVal, ":")
	var expectSeq int64 = 1
	prev := ""
	var lastSeq int64
	atHead := "" // the chain's hash at the recorded head's seq
	macs := l.newMACer()
	for rows.Next() {
		var id, actorID, actorName, action, et, eid, ip, rid, changes, detail, mac string
		var seq *int64
		var at int64
		var prevHash, hash *string
		if err := rows.Scan(&id, &seq, &at, &actorID, &actorName, &action, &et, &eid, &ip, &rid, &changes, &detail, &mac, &prevHash, &hash); err != nil {
			return rep, err
		}
		rep.Checked++
		var s int64
		if seq != nil {
			s = *seq
		}
		if !hmac.Equal([]byte(mac), []byte(macs.entryMAC(id, at, actorID, actorName, action, et, eid, ip, rid, changes, detail))) {
			return fail(Problem{ID: id, Seq: s, Reason: "content does not match its MAC: edited, or inserted without the key"})
		}
		if seq == nil {
			continue // not sealed yet; its own MAC was checked
		}
		if s != expectSeq {
			return fail(Problem{ID: id, Seq: s, Reason: fmt.Sprintf("sequence gap: expected %d, found %d (entries deleted)", expectSeq, s)})
		}
		if deref(prevHash) != prev || deref(hash) != l.chainHash(prev, s, mac) {
			return fail(Problem{ID: id, Seq: s, Reason: "chain hash mismatch: entry reordered, replaced or chain edited"})
		}
		prev = deref(hash)
		lastSeq = s
		if strconv.FormatInt(s, 10) == headSeq {
			atHead = prev
		}
		expectSeq++
	}
	if err := rows.Err(); err != nil {
		return rep, err
	}
	// The head is where the chain was when the sealing job last recorded
	// it; entries chained since (by Record on SQLite) may go beyond it, as
	// unsealed entries always could, but the chain must reach it.
	if headVal != "" && (atHead == "" || atHead != headHash) {
		return fail(Problem{Seq: lastSeq + 1, Reason: "the chain ends before its recorded head " + headSeq + ": newest entries deleted"})
	}
	return rep, nil
}

// Diff compares two values field by field through their JSON form and
// returns {field: [old, new]} for every field that differs. Fields listed in
// redact show as "***" (password hashes, secrets).
func Diff(before, after any, redact ...string) map[string][2]any {
	b, a := toMap(before), toMap(after)
	out := map[string][2]any{}
	seen := map[string]bool{}
	for k := range b {
		seen[k] = true
	}
	for k := range a {
		seen[k] = true
	}
	for k := range seen {
		if k == "version" || k == "updated_at" {
			continue
		}
		bj, _ := json.Marshal(b[k])
		aj, _ := json.Marshal(a[k])
		if string(bj) != string(aj) {
			old, new := b[k], a[k]
			for _, r := range redact {
				if r == k {
					old, new = "***", "***"
				}
			}
			out[k] = [2]any{old, new}
		}
	}
	return out
}

func toMap(v any) map[string]any {
	if v == nil {
		return map[string]any{}
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return map[string]any{}
	}
	m := map[string]any{}
	_ = json.Unmarshal(raw, &m)
	return m
}
