package search

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"prelude/internal/platform/db"
)

// Page sizes.
const (
	DefaultLimit = 20
	MaxLimit     = 200
)

// ErrInvalidCursor is returned for a cursor Search did not produce; callers
// answer it as a bad request.
var ErrInvalidCursor = errors.New("search: invalid cursor")

// Query is one search.
type Query struct {
	// Text is what the user typed; every term must match (see QueryTokens).
	// A text without any letter or digit finds nothing.
	Text string
	// Types restricts the document types; empty means all.
	Types []string
	// Visible is an SQL predicate over the alias d (the search_docs row)
	// that enforces the caller's data scope inside the query, e.g.
	// "EXISTS (SELECT 1 FROM accounts a WHERE a.id = d.account_id AND …)",
	// with '?' placeholders bound to VisibleArgs. Empty means no filter.
	Visible     string
	VisibleArgs []any
	// Branches, if more than one, split the visible documents into parts
	// that PostgreSQL reads each along its own index, newest first, and
	// merges: SQL predicates over d, each with its arguments. Together they
	// must cover every document Visible admits; they may overlap, and may
	// admit more (Visible still applies to each). SQLite ignores them.
	Branches []Branch
	// Limit is the page size: DefaultLimit when 0, at most MaxLimit.
	Limit int
	// Cursor continues after the page that returned it.
	Cursor string
}

// Branch is one part of the visible documents (see Query.Branches).
type Branch struct {
	Cond string
	Args []any
}

// Hit is one result.
type Hit struct {
	Type, ID, AccountID string
	Title               string
	// Snippet is a short excerpt of the indexed text around the first
	// match (or its start when the match lies beyond the stored excerpt).
	Snippet   string
	UpdatedAt time.Time
}

// Search returns the documents matching q.Text, newest first (updated_at
// descending, then most recently indexed), and a cursor for the next page
// ("" on the last). User input never reaches the database's query syntax:
// only quoted tokens do, so no query text can cause a database error.
func (ix *Index) Search(ctx context.Context, q Query) (hits []Hit, next string, err error) {
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultLimit
	}
	limit = min(limit, MaxLimit)
	var before int64
	if q.Cursor != "" {
		if before, err = decodeCursor(q.Cursor); err != nil {
			return nil, "", err
		}
	}
	terms := QueryTokens(q.Text)
	if len(terms) == 0 {
		return nil, "", nil
	}

	var sqlText strings.Builder
	var args []any
	// PostgreSQL: walk newest first when the words are common, else collect
	// every match from the GIN index (see pgplan.go).
	walk := ix.db.Dialect == db.Postgres && ix.orderedWalk(ctx, terms, limit)
	if ix.db.Dialect == db.Postgres {
		// For a walk, the tsquery reaches the planner as the result of a
		// subquery, a value it cannot see: it then estimates the match with
		// a fixed selectivity instead of looking the words up in tsv's
		// statistics (10,000 entries), which cost 1–2 ms per estimate and
		// several estimates per plan (one per branch), more than the walk
		// itself. With bitmap scans off (see the settings below) a walk is
		// the only plan left, so the estimate does not matter. A collection
		// keeps the words in view: the planner needs their real rarity to
		// keep reaching the accounts by index for the few matches (blind,
		// it assumed 0.5% of the table and hashed every account instead).
		match := "d.tsv @@ CAST(? AS tsquery)"
		if walk {
			match = "d.tsv @@ (SELECT CAST(? AS tsquery))"
		}
		// A walk follows each branch of the scope along its own index
		// and merges their pages (UNION drops a document two branches both
		// found). A collection reads only the matches: it needs no branch,
		// and a branch's index would only add a large bitmap to AND with.
		branches := q.Branches
		if !walk || len(branches) < 2 {
			branches = []Branch{{Cond: "1 = 1"}}
		}
		many := len(branches) > 1
		if many {
			sqlText.WriteString("SELECT * FROM (")
		}
		for i, b := range branches {
			if many {
				if i > 0 {
					sqlText.WriteString(" UNION ")
				}
				sqlText.WriteString("(")
			}
			sqlText.WriteString(`SELECT d.doc_type, d.doc_id, d.account_id, d.title, d.snippet, d.updated_at, d.seq
			FROM search_docs d WHERE ` + match)
			args = append(args, tsqueryText(terms))
			if before > 0 {
				sqlText.WriteString(" AND d.seq < ?")
				args = append(args, before)
			}
			args = ix.filters(&sqlText, args, q)
			if many {
				sqlText.WriteString(" AND (" + b.Cond + ")")
				args = append(args, b.Args...)
			}
			sqlText.WriteString(" ORDER BY d.seq DESC LIMIT ?")
			args = append(args, limit+1)
			if many {
				sqlText.WriteString(")")
			}
		}
		if many {
			sqlText.WriteString(") d ORDER BY d.seq DESC LIMIT ?")
			args = append(args, limit+1)
		}
	} else {
		// CROSS JOIN keeps FTS5 as the outer loop: it yields rowids (= seq)
		// newest first and the LIMIT stops it after one page.
		sqlText.WriteString(`SELECT d.doc_type, d.doc_id, d.account_id, d.title, d.snippet, d.updated_at, d.seq
			FROM search_fts f CROSS JOIN search_docs d ON d.seq = f.rowid WHERE search_fts MATCH ?`)
		args = append(args, fts5Text(terms))
		if before > 0 {
			sqlText.WriteString(" AND f.rowid < ?")
			args = append(args, before)
		}
		args = ix.filters(&sqlText, args, q)
		sqlText.WriteString(" ORDER BY f.rowid DESC LIMIT ?")
		args = append(args, limit+1)
	}

	var lastSeq int64
	scan := func(ctx context.Context, tx *db.Tx) error {
		rows, err := tx.Query(ctx, sqlText.String(), args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h Hit
			var account sql.NullString
			var updated db.Time
			var seq int64
			if err := rows.Scan(&h.Type, &h.ID, &account, &h.Title, &h.Snippet, &updated, &seq); err != nil {
				return db.MapErr(err)
			}
			if len(hits) == limit {
				next = encodeCursor(lastSeq)
				break
			}
			h.AccountID = account.String
			h.UpdatedAt = time.Time(updated)
			h.Snippet = excerpt(h.Snippet, terms)
			hits = append(hits, h)
			lastSeq = seq
		}
		return db.MapErr(rows.Err())
	}
	if ix.db.Dialect != db.Postgres {
		err = ix.db.Read(ctx, scan)
	} else {
		// A read of its own ends with its transaction, and its settings
		// with it: only a caller's transaction needs them put back (one
		// round trip less per search).
		joined := db.Current(ctx) != nil
		err = ix.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
			// Bitmap scans off for a walk (see above); a custom plan, so
			// that the planner sees the caller's other values (owner,
			// departments); no parallel workers: the plans read a few
			// thousand rows at most, and the planner, blind to the words,
			// would start workers for the 0.5% of the table it assumes a
			// collection reads. All three are transaction-local and put
			// back afterwards, in case this read joined a caller's
			// transaction.
			var bitmap, plan, workers string
			err := tx.QueryRow(ctx, `SELECT s.b, s.p, s.w,
					set_config('enable_bitmapscan', CASE WHEN ? THEN 'off' ELSE s.b END, true),
					set_config('plan_cache_mode', 'force_custom_plan', true),
					set_config('max_parallel_workers_per_gather', '0', true)
				FROM (SELECT current_setting('enable_bitmapscan') AS b, current_setting('plan_cache_mode') AS p,
					current_setting('max_parallel_workers_per_gather') AS w OFFSET 0) s`,
				walk).Scan(&bitmap, &plan, &workers, new(string), new(string), new(string))
			if err != nil {
				return db.MapErr(err)
			}
			if err := scan(ctx, tx); err != nil {
				return err
			}
			if !joined {
				return nil
			}
			return db.MapErr(tx.QueryRow(ctx, `SELECT set_config('enable_bitmapscan', ?, true), set_config('plan_cache_mode', ?, true),
				set_config('max_parallel_workers_per_gather', ?, true)`,
				bitmap, plan, workers).Scan(new(string), new(string), new(string)))
		})
	}
	if err != nil {
		return nil, "", fmt.Errorf("search: %w", err)
	}
	return hits, next, nil
}

// filters appends the type and visibility conditions.
func (ix *Index) filters(sqlText *strings.Builder, args []any, q Query) []any {
	if len(q.Types) > 0 {
		sqlText.WriteString(" AND d.doc_type IN (" + db.Placeholders(len(q.Types)) + ")")
		for _, t := range q.Types {
			args = append(args, t)
		}
	}
	if strings.TrimSpace(q.Visible) != "" {
		sqlText.WriteString(" AND (" + q.Visible + ")")
		args = append(args, q.VisibleArgs...)
	}
	return args
}

// fts5Text renders terms as an FTS5 MATCH expression: each term a quoted
// phrase ("报价 价单"), a prefix term followed by *, terms joined by AND.
// Tokens are letters and digits only; quotes are doubled regardless.
func fts5Text(terms []QueryTerm) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteString(" AND ")
		}
		b.WriteByte('"')
		for k, tok := range t.Tokens {
			if k > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strings.ReplaceAll(tok, `"`, `""`))
		}
		b.WriteByte('"')
		if t.Prefix {
			b.WriteString(" *")
		}
	}
	return b.String()
}

// tsqueryText renders terms as a tsquery: adjacent bigrams joined by <->,
// a prefix lexeme marked :*, terms joined by &, every lexeme quoted.
func tsqueryText(terms []QueryTerm) string {
	var b strings.Builder
	for i, t := range terms {
		if i > 0 {
			b.WriteString(" & ")
		}
		if len(t.Tokens) > 1 {
			b.WriteByte('(')
		}
		for k, tok := range t.Tokens {
			if k > 0 {
				b.WriteString(" <-> ")
			}
			writeLexeme(&b, tok)
		}
		if t.Prefix {
			b.WriteString(":*")
		}
		if len(t.Tokens) > 1 {
			b.WriteByte(')')
		}
	}
	return b.String()
}

const cursorPrefix = "s1."

func encodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(seq, 10)))
}

func decodeCursor(c string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(raw), cursorPrefix) {
		return 0, ErrInvalidCursor
	}
	seq, err := strconv.ParseInt(strings.TrimPrefix(string(raw), cursorPrefix), 10, 64)
	if err != nil || seq <= 0 {
		return 0, ErrInvalidCursor
	}
	return seq, nil
}

// Excerpt sizes, in characters.
const (
	excerptRunes  = 80
	excerptBefore = 16
)

// excerpt cuts about excerptRunes characters of the stored snippet around
// the earliest occurrence of a term, marking cut ends with "…".
func excerpt(stored string, terms []QueryTerm) string {
	if utf8.RuneCountInString(stored) <= excerptRunes {
		return stored
	}
	orig := []rune(stored)
	// Fold each character as the tokenizer does, remembering where each
	// folded character came from.
	folded := make([]rune, 0, len(orig))
	from := make([]int, 0, len(orig))
	var buf []rune
	for i, r := range orig {
		if r >= 0xFF00 && r <= 0xFFEF { // full-width forms, as NFKC maps them
			if n := []rune(norm.NFKC.String(string(r))); len(n) == 1 {
				r = n[0]
			}
		}
		buf = fold(buf[:0], r)
		for _, f := range buf {
			folded = append(folded, f)
			from = append(from, i)
		}
	}
	at := -1
	for _, t := range terms {
		if p := runeIndex(folded, []rune(t.Text)); p >= 0 && (at < 0 || from[p] < at) {
			at = from[p]
		}
	}
	start := 0
	if at > excerptBefore {
		start = at - excerptBefore
	}
	end := min(start+excerptRunes, len(orig))
	if end == len(orig) {
		start = max(0, end-excerptRunes)
	}
	var b strings.Builder
	if start > 0 {
		b.WriteString("…")
	}
	b.WriteString(string(orig[start:end]))
	if end < len(orig) {
		b.WriteString("…")
	}
	return b.String()
}

func runeIndex(s, sub []rune) int {
	if len(sub) == 0 {
		return -1
	}
outer:
	for i := 0; i+len(sub) <= len(s); i++ {
		for j := range sub {
			if s[i+j] != sub[j] {
				continue outer
			}
		}
		return i
	}
	return -1
}
