package search

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"prelude/internal/platform/db"
)

// PostgreSQL chooses between two plans for a page of matches:
//   - walk search_docs_seq backwards, testing each row's tsv, until a page
//     is full: cheap when the words are common;
//   - collect every match from the GIN index, then sort by seq: cheap when
//     they are rare. For a phrase (技术方案 = 技术 <-> 术方 <-> 方案) every
//     candidate is also rechecked against its stored positions.
//
// With SET STATISTICS 10000 it estimates single words well, but it takes a
// phrase's frequency to be the product of its bigrams' frequencies, which
// for the strongly correlated bigrams of real words (and company names) is
// far too low: 技术方案 was estimated at 334 of 100k rows, matched 12,019,
// and the GIN plan took 42 ms instead of ~1 ms (it grows with the table).
// So Search estimates a query's frequency itself from the same statistics,
// bounded by its rarest token, and when that says "common" it turns bitmap
// scans off for the query, which leaves the ordered walk.

const pgStatsTTL = 5 * time.Minute

type pgStats struct {
	mu       sync.Mutex
	loadedAt time.Time
	rows     float64   // pg_class.reltuples; <= 0: unknown
	lexemes  []string  // most common lexemes of tsv, sorted
	freqs    []float64 // fraction of rows containing lexemes[i]
	minFreq  float64   // lexemes not listed are rarer than this
}

// orderedWalk reports whether the walk along seq is the better plan for
// terms: when the estimated fraction of matching rows exceeds
// sqrt((limit+1)/rows), the walk reads fewer rows ((limit+1)/fraction) than
// the GIN plan collects (fraction*rows).
func (ix *Index) orderedWalk(ctx context.Context, terms []QueryTerm, limit int) bool {
	st := &ix.pg
	st.mu.Lock()
	defer st.mu.Unlock()
	if time.Since(st.loadedAt) > pgStatsTTL {
		st.load(ctx, ix.db)
	}
	if st.rows <= 0 || len(st.lexemes) == 0 {
		return false // never analyzed: leave it to the planner
	}
	frac := 1.0
	for _, t := range terms {
		f := 1.0
		for k, tok := range t.Tokens {
			f = math.Min(f, st.freq(tok, t.Prefix && k == len(t.Tokens)-1))
		}
		frac = math.Min(frac, f)
	}
	return frac > math.Sqrt(float64(limit+1)/st.rows)
}

func (st *pgStats) freq(tok string, prefix bool) float64 {
	i := sort.SearchStrings(st.lexemes, tok)
	if !prefix {
		if i < len(st.lexemes) && st.lexemes[i] == tok {
			return st.freqs[i]
		}
		return st.minFreq / 2 // as PostgreSQL assumes for unlisted lexemes
	}
	sum := st.minFreq / 2
	for ; i < len(st.lexemes) && strings.HasPrefix(st.lexemes[i], tok); i++ {
		sum += st.freqs[i]
	}
	return math.Min(sum, 1)
}

// load reads the statistics, outside the search's transaction so that a
// failure cannot abort it; on any failure it keeps none (the planner
// decides alone) and tries again after the TTL.
func (st *pgStats) load(ctx context.Context, d *db.DB) {
	st.loadedAt = time.Now()
	st.rows, st.lexemes, st.freqs, st.minFreq = 0, nil, nil, 0
	var rows float64
	var elems, freqs sql.NullString
	err := d.QueryRow(ctx, `SELECT c.reltuples::float8,
			array_to_json(s.most_common_elems::text::text[])::text, array_to_json(s.most_common_elem_freqs)::text
		FROM pg_class c
		LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = 'search_docs' AND s.attname = 'tsv'
		WHERE c.oid = to_regclass('search_docs')`).Scan(&rows, &elems, &freqs)
	if err != nil || !elems.Valid || !freqs.Valid {
		return
	}
	var lex []string
	var fr []float64
	if json.Unmarshal([]byte(elems.String), &lex) != nil || json.Unmarshal([]byte(freqs.String), &fr) != nil {
		return
	}
	// most_common_elem_freqs holds one frequency per element, then the
	// minimum and maximum of them and the frequency of nulls.
	if len(fr) < len(lex)+2 {
		return
	}
	idx := make([]int, len(lex))
	for i := range idx {
		idx[i] = i
	}
	// PostgreSQL sorts the elements by its own comparison; sort for Go's.
	sort.Slice(idx, func(a, b int) bool { return lex[idx[a]] < lex[idx[b]] })
	st.lexemes = make([]string, len(lex))
	st.freqs = make([]float64, len(lex))
	for i, j := range idx {
		st.lexemes[i], st.freqs[i] = lex[j], fr[j]
	}
	st.minFreq = fr[len(lex)]
	st.rows = rows
}
