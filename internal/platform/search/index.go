// Package search is Prelude's CJK-aware full-text search, index-backed on
// both databases: FTS5 on SQLite, a tsvector with a GIN index on PostgreSQL.
//
// Capabilities describe their searchable documents with a Loader and mark a
// document dirty (MarkDirty) in the transaction that changes it. A job drains
// the dirty outbox shortly after commit, loads the current text through the
// Loader and rewrites the document's tokens, so the write path only pays for
// one small INSERT: indexing inside every request's transaction cut SQLite
// write throughput 3-7x here (shared/STACK.md, "Search note").
//
// Search matches every query term (phrases of CJK bigrams, words, digit
// fragments; see Tokens and QueryTokens) and returns hits newest first with
// an opaque cursor. Relevance ranking (bm25, ts_rank) is deliberately not
// used: over common words it took 1-2.5 s on 1M rows, and in a CRM the
// newest matching conversation is usually the one wanted.
package search

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"prelude/internal/platform/db"
	"prelude/internal/platform/jobs"
)

// Names of the indexing job and its schedule.
const (
	JobKind      = "search.index"
	ScheduleName = "search-index"
)

// DefaultBatch is how many dirty rows one indexing transaction takes: big
// enough to amortise the statements, small enough that the single SQLite
// writer is never held for long.
const DefaultBatch = 200

// seqShift: search_docs.seq = updated_at ms << seqShift | counter low bits,
// so ordering by seq is ordering by updated_at (then by indexing order), and
// FTS5 can walk its rowids newest first.
const seqShift = 20

// snippetRunes is how much of a document's text search_docs.snippet keeps;
// Search cuts a shorter excerpt from it around the first match.
const snippetRunes = 200

// drainLockID is the PostgreSQL advisory lock that lets one instance at a
// time write the index, so two instances never write one document's old and
// new text out of order.
const drainLockID = 7316853021

// ErrUnknownType is returned for a document type no Loader was registered
// for.
var ErrUnknownType = errors.New("search: document type not registered")

// Doc is one searchable document as a Loader returns it.
type Doc struct {
	Type, ID  string
	AccountID string // "" for documents outside any account
	// Title is shown in results; Body is what is indexed (include the title
	// in it if the title should be searchable).
	Title, Body string
	// UpdatedAt orders results (newest first); zero means the indexing time.
	UpdatedAt time.Time
}

// Loader returns the current text of the documents with the given ids and
// the ids that no longer exist (those are removed from the index; ids in
// neither list are treated as missing too). It runs inside the indexing
// transaction (ctx carries it), so it sees every change that marked the
// documents dirty. Return an error only for failures worth retrying: an
// error fails the whole batch.
type Loader func(ctx context.Context, ids []string) (docs []Doc, missing []string, err error)

// Index is the search index. Register every document type before use.
type Index struct {
	db      *db.DB
	mu      sync.RWMutex
	loaders map[string]Loader
	pg      pgStats // planner help on PostgreSQL, see pgplan.go
}

// New returns an Index on d.
func New(d *db.DB) *Index {
	return &Index{db: d, loaders: map[string]Loader{}}
}

// Register sets the Loader for a document type. An empty type, a nil loader
// or a type registered twice is a programming error and panics.
func (ix *Index) Register(docType string, load Loader) {
	if docType == "" || load == nil {
		panic("search: Register needs a type and a loader")
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if _, dup := ix.loaders[docType]; dup {
		panic("search: type registered twice: " + docType)
	}
	ix.loaders[docType] = load
}

func (ix *Index) loader(docType string) (Loader, bool) {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	l, ok := ix.loaders[docType]
	return l, ok
}

func (ix *Index) types() []string {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	ts := make([]string, 0, len(ix.loaders))
	for t := range ix.loaders {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

// MarkDirty queues a document for (re)indexing. It joins the transaction in
// ctx, so the document is queued if and only if the change commits; call it
// for creates, updates and deletes alike (the Loader reports deletions).
func (ix *Index) MarkDirty(ctx context.Context, docType, id string) error {
	if _, ok := ix.loader(docType); !ok {
		return fmt.Errorf("%w: %q", ErrUnknownType, docType)
	}
	return ix.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO search_dirty (doc_type, doc_id, queued_at) VALUES (?, ?, ?)",
			docType, id, db.Ms(tx.Now()))
		if err != nil {
			return fmt.Errorf("search: mark %s %s dirty: %w", docType, id, err)
		}
		return nil
	})
}

// Drain indexes queued documents, batch dirty rows per transaction, until
// the outbox holds no more rows of registered types or ctx ends, and returns
// how many dirty rows it consumed. Several instances may drain at once:
// SQLite serialises them on its single writer, PostgreSQL through an
// advisory lock (an instance finding it taken returns at once, the holder
// does the work). Call it outside any transaction.
func (ix *Index) Drain(ctx context.Context, batch int) (int, error) {
	if batch <= 0 {
		batch = DefaultBatch
	}
	total := 0
	for {
		n, more, err := ix.drainOnce(ctx, batch)
		total += n
		if err != nil || !more {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

type dirtyRow struct {
	id             int64
	docType, docID string
	queuedAt       int64
}

func (ix *Index) drainOnce(ctx context.Context, batch int) (n int, more bool, err error) {
	types := ix.types()
	if len(types) == 0 {
		return 0, false, nil
	}
	if ix.db.Dialect == db.SQLite {
		return ix.drainPrepared(ctx, types, batch)
	}
	err = ix.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if tx.Dialect() == db.Postgres {
			var locked bool
			if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock(?)", int64(drainLockID)).Scan(&locked); err != nil {
				return db.MapErr(err)
			}
			if !locked {
				return nil
			}
		}
		dirty, err := readDirty(ctx, tx, types, batch)
		if err != nil || len(dirty) == 0 {
			return err
		}
		order, byType := groupDirty(dirty)
		for _, t := range order {
			if err := ix.apply(ctx, tx, t, byType[t]); err != nil {
				return err
			}
		}
		// Delete exactly the rows read: a row committed meanwhile (on
		// PostgreSQL identity values do not follow commit order) stays
		// for the next round, whose load will see its change.
		if err := deleteDirty(ctx, tx, dirty); err != nil {
			return err
		}
		n, more = len(dirty), len(dirty) == batch
		return nil
	})
	if err != nil {
		return 0, false, fmt.Errorf("search: drain: %w", err)
	}
	return n, more, nil
}

// errTaken: another drain took some of the dirty rows this one read.
var errTaken = errors.New("search: dirty rows taken by another drain")

// drainPrepared is drainOnce on SQLite: the dirty rows are read, their
// documents loaded and tokenized on the readers, and only the writes take
// the single writer (loading and tokenizing inside it held it for a fifth
// of the time a posted message needed).
//
// Reading the rows from a committed snapshot is also what makes them safe
// to load: a write transaction can share its COMMIT with the changes that
// queued the rows (group commit, db/writer.go), and a loader, which reads
// committed data, would take a document of a change not yet committed as
// deleted and drop it from the index for good.
//
// The write takes exactly the rows read; if another drain took any of them
// meanwhile (its load is at least as new: SQLite numbers rows in commit
// order), nothing is written and the next round reads again. Rows queued
// after the read stay for the next round, whose load sees their change.
func (ix *Index) drainPrepared(ctx context.Context, types []string, batch int) (int, bool, error) {
	dirty, err := readDirty(ctx, ix.db, types, batch)
	if err != nil || len(dirty) == 0 {
		return 0, false, wrapDrain(err)
	}
	order, byType := groupDirty(dirty)
	now := ix.db.Now()
	prepared := make([]*preparedDocs, 0, len(order))
	for _, t := range order {
		load, ok := ix.loader(t)
		if !ok {
			return 0, false, wrapDrain(fmt.Errorf("%w: %q", ErrUnknownType, t))
		}
		docs, missing, err := load(ctx, byType[t])
		if err != nil {
			return 0, false, wrapDrain(fmt.Errorf("load %s: %w", t, err))
		}
		prepared = append(prepared, prepareDocs(db.SQLite, t, byType[t], docs, missing, now))
	}
	err = ix.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if err := takeDirty(ctx, tx, dirty); err != nil {
			return err
		}
		for _, p := range prepared {
			if err := writePrepared(ctx, tx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errTaken) {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, wrapDrain(err)
	}
	return len(dirty), len(dirty) == batch, nil
}

func wrapDrain(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("search: drain: %w", err)
}

// readDirty reads the oldest batch dirty rows of the given types.
func readDirty(ctx context.Context, q db.Querier, types []string, batch int) ([]dirtyRow, error) {
	args := make([]any, 0, len(types)+1)
	for _, t := range types {
		args = append(args, t)
	}
	args = append(args, batch)
	rows, err := q.Query(ctx, "SELECT id, doc_type, doc_id, queued_at FROM search_dirty WHERE doc_type IN ("+
		db.Placeholders(len(types))+") ORDER BY id LIMIT ?", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var dirty []dirtyRow
	for rows.Next() {
		var r dirtyRow
		if err := rows.Scan(&r.id, &r.docType, &r.docID, &r.queuedAt); err != nil {
			return nil, db.MapErr(err)
		}
		dirty = append(dirty, r)
	}
	return dirty, db.MapErr(rows.Err())
}

// groupDirty groups dirty rows by type, each document once, in queue order.
func groupDirty(dirty []dirtyRow) (order []string, byType map[string][]string) {
	byType = map[string][]string{}
	seen := map[[2]string]bool{}
	for _, r := range dirty {
		k := [2]string{r.docType, r.docID}
		if seen[k] {
			continue
		}
		seen[k] = true
		if _, ok := byType[r.docType]; !ok {
			order = append(order, r.docType)
		}
		byType[r.docType] = append(byType[r.docType], r.docID)
	}
	return order, byType
}

// deleteDirty deletes the given rows.
func deleteDirty(ctx context.Context, tx *db.Tx, dirty []dirtyRow) error {
	ids := make([]any, len(dirty))
	for i, r := range dirty {
		ids[i] = r.id
	}
	for chunk := range slices.Chunk(ids, 500) {
		if _, err := tx.Exec(ctx, "DELETE FROM search_dirty WHERE id IN ("+db.Placeholders(len(chunk))+")", chunk...); err != nil {
			return err
		}
	}
	return nil
}

// takeDirty deletes the given rows, or fails with errTaken if any of them
// is gone (or is another row under a reused id: SQLite may reuse the ids
// of deleted rows).
func takeDirty(ctx context.Context, tx *db.Tx, dirty []dirtyRow) error {
	want := make(map[dirtyRow]bool, len(dirty))
	ids := make([]any, len(dirty))
	for i, r := range dirty {
		want[r] = true
		ids[i] = r.id
	}
	n := 0
	for chunk := range slices.Chunk(ids, 500) {
		rows, err := tx.Query(ctx, "DELETE FROM search_dirty WHERE id IN ("+db.Placeholders(len(chunk))+") RETURNING id, doc_type, doc_id, queued_at", chunk...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var r dirtyRow
			if err := rows.Scan(&r.id, &r.docType, &r.docID, &r.queuedAt); err != nil {
				rows.Close()
				return db.MapErr(err)
			}
			if want[r] {
				n++
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return db.MapErr(err)
		}
	}
	if n != len(dirty) {
		return errTaken
	}
	return nil
}

// Flush drains until no dirty row of a registered type is left, waiting
// for other instances' drains if needed. Tests and imports use it.
func (ix *Index) Flush(ctx context.Context) error {
	types := ix.types()
	if len(types) == 0 {
		return nil
	}
	args := make([]any, len(types))
	for i, t := range types {
		args[i] = t
	}
	for {
		if _, err := ix.Drain(ctx, DefaultBatch); err != nil {
			return err
		}
		var left int
		err := ix.db.QueryRow(ctx, "SELECT COUNT(*) FROM search_dirty WHERE doc_type IN ("+db.Placeholders(len(types))+")", args...).Scan(&left)
		if err != nil {
			return fmt.Errorf("search: flush: %w", db.MapErr(err))
		}
		if left == 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Reindex loads and indexes the given documents now, in the transaction in
// ctx if there is one. With no ids it reindexes every document of the type
// already in the index (after a tokenizer change, say).
func (ix *Index) Reindex(ctx context.Context, docType string, ids []string) error {
	if _, ok := ix.loader(docType); !ok {
		return fmt.Errorf("%w: %q", ErrUnknownType, docType)
	}
	if ids == nil {
		return ix.reindexAll(ctx, docType)
	}
	for chunk := range slices.Chunk(ids, reindexBatch) {
		err := ix.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			if err := lockIndex(ctx, tx); err != nil {
				return err
			}
			return ix.apply(ctx, tx, docType, chunk)
		})
		if err != nil {
			return fmt.Errorf("search: reindex %s: %w", docType, err)
		}
	}
	return nil
}

func (ix *Index) reindexAll(ctx context.Context, docType string) error {
	after := ""
	for {
		var ids []string
		rows, err := ix.db.Query(ctx, "SELECT doc_id FROM search_docs WHERE doc_type = ? AND doc_id > ? ORDER BY doc_id LIMIT ?",
			docType, after, DefaultBatch)
		if err != nil {
			return fmt.Errorf("search: reindex %s: %w", docType, err)
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return db.MapErr(err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return db.MapErr(err)
		}
		if len(ids) == 0 {
			return nil
		}
		if err := ix.Reindex(ctx, docType, ids); err != nil {
			return err
		}
		after = ids[len(ids)-1]
	}
}

// lockIndex waits for the PostgreSQL index lock (held until the transaction
// ends); SQLite's single writer already serialises index writes.
func lockIndex(ctx context.Context, tx *db.Tx) error {
	if tx.Dialect() != db.Postgres {
		return nil
	}
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(?)", int64(drainLockID))
	return err
}

// RegisterJobs registers the indexing job and schedules it every second on
// q. Each run drains for at most indexRunBudget; what is left waits for the
// next run. A failed run needs no retry of its own (the next second's run
// picks the rows up), so it gets few attempts.
func (ix *Index) RegisterJobs(q *jobs.Queue) {
	q.Register(JobKind, func(ctx context.Context, _ *jobs.Job) error {
		run, cancel := context.WithTimeout(ctx, indexRunBudget)
		defer cancel()
		_, err := ix.Drain(run, DefaultBatch)
		if err != nil && ctx.Err() == nil && run.Err() != nil {
			return nil // out of budget, not failed: committed batches stay
		}
		return err
	}, jobs.KindOptions{MaxAttempts: 2, Timeout: time.Minute})
	q.Every(ScheduleName, time.Second, JobKind, nil)
}

const indexRunBudget = 20 * time.Second

// reindexBatch is the transaction size of an explicit Reindex: bulk work,
// where bigger transactions mean fewer FTS5 segments to merge (~20% faster
// here) at the cost of holding the SQLite writer a little longer.
const reindexBatch = 500

// apply loads documents of one type and writes them into the index.
func (ix *Index) apply(ctx context.Context, tx *db.Tx, docType string, ids []string) error {
	load, ok := ix.loader(docType)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownType, docType)
	}
	docs, missing, err := load(ctx, ids)
	if err != nil {
		return fmt.Errorf("load %s: %w", docType, err)
	}
	return writeDocs(ctx, tx, docType, ids, docs, missing)
}

// writeDocs replaces the index entries of docs and removes those of the
// requested ids that were not loaded.
func writeDocs(ctx context.Context, tx *db.Tx, docType string, requested []string, loaded []Doc, missing []string) error {
	return writePrepared(ctx, tx, prepareDocs(tx.Dialect(), docType, requested, loaded, missing, tx.Now()))
}

// preparedDocs is what indexing a batch writes, worked out without the
// database: each document once with its tokens, and the ids to remove.
type preparedDocs struct {
	docType string
	rows    []docRow
	gone    []string
}

type docRow struct {
	doc     Doc
	ms      int64
	seq     int64
	snippet string
	tokens  string // FTS5 text on SQLite, a tsvector literal on PostgreSQL
}

// prepareDocs dedupes loaded documents (the last copy wins), tokenizes
// them, and lists the requested or missing ids that were not loaded. now
// stands in for a zero UpdatedAt.
func prepareDocs(dialect db.Dialect, docType string, requested []string, loaded []Doc, missing []string, now time.Time) *preparedDocs {
	byID := make(map[string]int, len(loaded))
	docs := make([]Doc, 0, len(loaded))
	for _, d := range loaded {
		if d.ID == "" {
			continue
		}
		d.Type = docType
		if i, dup := byID[d.ID]; dup {
			docs[i] = d
			continue
		}
		byID[d.ID] = len(docs)
		docs = append(docs, d)
	}
	p := &preparedDocs{docType: docType, rows: make([]docRow, len(docs))}
	goneSet := map[string]bool{}
	for _, list := range [][]string{requested, missing} {
		for _, id := range list {
			if _, ok := byID[id]; !ok && !goneSet[id] {
				goneSet[id] = true
				p.gone = append(p.gone, id)
			}
		}
	}
	for i, d := range docs {
		t := d.UpdatedAt
		if t.IsZero() {
			t = now
		}
		toks := Tokens(d.Body)
		text := ""
		if dialect == db.SQLite {
			text = strings.Join(toks, " ")
		} else {
			text = tsvectorLiteral(toks)
		}
		p.rows[i] = docRow{doc: d, ms: max(t.UnixMilli(), 0), snippet: storedSnippet(d.Body), tokens: text}
	}
	return p
}

// writePrepared writes a prepared batch into the index.
func writePrepared(ctx context.Context, tx *db.Tx, p *preparedDocs) error {
	docType, rows, gone := p.docType, p.rows, p.gone
	sqlite := tx.Dialect() == db.SQLite
	// On SQLite the FTS5 rows of updated and removed documents must be
	// deleted by their rowid (the old seq). PostgreSQL needs no lookup: the
	// upsert below keeps or replaces seq itself. (The lookup there also
	// misled the planner into sequential scans on a table not yet analyzed.)
	var existing map[string]int64
	var oldRowids []any
	if sqlite {
		all := make([]string, 0, len(rows)+len(gone))
		for _, r := range rows {
			all = append(all, r.doc.ID)
		}
		all = append(all, gone...)
		var err error
		if existing, err = existingSeqs(ctx, tx, docType, all); err != nil {
			return err
		}
		for _, id := range gone {
			if s, ok := existing[id]; ok {
				oldRowids = append(oldRowids, s)
			}
		}
	}

	// New seqs: a document keeps its seq while its updated_at is unchanged.
	need := 0
	for i, r := range rows {
		rows[i].seq = 0
		if s, ok := existing[r.doc.ID]; ok {
			oldRowids = append(oldRowids, s)
			if s>>seqShift == r.ms {
				rows[i].seq = s
				continue
			}
		}
		need++
	}
	if need > 0 {
		var end int64
		if err := tx.QueryRow(ctx, "UPDATE search_seq SET n = n + ? WHERE id = 1 RETURNING n", need).Scan(&end); err != nil {
			return fmt.Errorf("allocate seq: %w", db.MapErr(err))
		}
		next := end - int64(need) + 1
		for i := range rows {
			if rows[i].seq == 0 {
				rows[i].seq = rows[i].ms<<seqShift | (next & (1<<seqShift - 1))
				next++
			}
		}
	}

	if len(gone) > 0 {
		for chunk := range slices.Chunk(gone, 500) {
			args := make([]any, 0, len(chunk)+1)
			args = append(args, docType)
			for _, id := range chunk {
				args = append(args, id)
			}
			if _, err := tx.Exec(ctx, "DELETE FROM search_docs WHERE doc_type = ? AND doc_id IN ("+db.Placeholders(len(chunk))+")", args...); err != nil {
				return err
			}
		}
	}
	if sqlite && len(oldRowids) > 0 {
		for chunk := range slices.Chunk(oldRowids, 500) {
			if _, err := tx.Exec(ctx, "DELETE FROM search_fts WHERE rowid IN ("+db.Placeholders(len(chunk))+")", chunk...); err != nil {
				return err
			}
		}
	}

	// FTS5 flushes its pending terms to a new segment whenever a rowid is
	// not above the previous one in the transaction: insert in seq order.
	slices.SortFunc(rows, func(a, b docRow) int { return cmp.Compare(a.seq, b.seq) })
	const perStatement = 100
	for chunk := range slices.Chunk(rows, perStatement) {
		var q strings.Builder
		q.WriteString("INSERT INTO search_docs (doc_type, doc_id, account_id, title, snippet, updated_at, seq")
		if !sqlite {
			q.WriteString(", tsv")
		}
		q.WriteString(") VALUES ")
		args := make([]any, 0, len(chunk)*8)
		for i, r := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			if sqlite {
				q.WriteString("(?, ?, ?, ?, ?, ?, ?)")
			} else {
				q.WriteString("(?, ?, ?, ?, ?, ?, ?, CAST(? AS tsvector))")
			}
			var account any
			if r.doc.AccountID != "" {
				account = r.doc.AccountID
			}
			args = append(args, docType, r.doc.ID, account, r.doc.Title, r.snippet, r.ms, r.seq)
			if !sqlite {
				args = append(args, r.tokens)
			}
		}
		q.WriteString(` ON CONFLICT (doc_type, doc_id) DO UPDATE SET account_id = excluded.account_id,
			title = excluded.title, snippet = excluded.snippet, updated_at = excluded.updated_at`)
		if sqlite {
			q.WriteString(", seq = excluded.seq")
		} else {
			q.WriteString(`, tsv = excluded.tsv, seq = CASE WHEN search_docs.updated_at = excluded.updated_at
				THEN search_docs.seq ELSE excluded.seq END`)
		}
		if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("write search_docs: %w", err)
		}
		if sqlite {
			q.Reset()
			q.WriteString("INSERT INTO search_fts (rowid, tokens) VALUES ")
			args = args[:0]
			for i, r := range chunk {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?)")
				args = append(args, r.seq, r.tokens)
			}
			if _, err := tx.Exec(ctx, q.String(), args...); err != nil {
				return fmt.Errorf("write search_fts: %w", err)
			}
		}
	}
	return nil
}

func existingSeqs(ctx context.Context, tx *db.Tx, docType string, ids []string) (map[string]int64, error) {
	out := make(map[string]int64, len(ids))
	for chunk := range slices.Chunk(ids, 500) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, docType)
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := tx.Query(ctx, "SELECT doc_id, seq FROM search_docs WHERE doc_type = ? AND doc_id IN ("+db.Placeholders(len(chunk))+")", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			var seq int64
			if err := rows.Scan(&id, &seq); err != nil {
				rows.Close()
				return nil, db.MapErr(err)
			}
			out[id] = seq
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, db.MapErr(err)
		}
	}
	return out, nil
}

// tsvectorLiteral writes tokens as a tsvector with explicit positions, each
// lexeme quoted, so PostgreSQL takes them verbatim (no parser, no locale).
func tsvectorLiteral(toks []string) string {
	var b strings.Builder
	b.Grow(len(toks) * 12)
	for i, t := range toks {
		if i > 0 {
			b.WriteByte(' ')
		}
		writeLexeme(&b, t)
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(i + 1))
	}
	return b.String()
}

// writeLexeme quotes a lexeme for tsvector/tsquery input. Tokens hold only
// letters and digits, but quoting and escaping keeps any input inert.
func writeLexeme(b *strings.Builder, t string) {
	b.WriteByte('\'')
	for _, r := range t {
		if r == '\'' || r == '\\' {
			b.WriteRune(r)
		}
		b.WriteRune(r)
	}
	b.WriteByte('\'')
}

// storedSnippet is the start of the body with runs of white space collapsed,
// at most snippetRunes characters.
func storedSnippet(body string) string {
	var b strings.Builder
	n := 0
	space := false
	for _, r := range body {
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			space = b.Len() > 0
			continue
		}
		if space {
			if n++; n > snippetRunes {
				break
			}
			b.WriteByte(' ')
			space = false
		}
		if n++; n > snippetRunes {
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
