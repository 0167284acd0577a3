package contracts

import (
	"context"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"time"

	"prelude/internal/platform/db"
)

// DefaultNumberPattern numbers contracts HT-2026-00001, restarting each year.
const DefaultNumberPattern = "HT-{YYYY}-{SEQ5}"

var (
	seqToken  = regexp.MustCompile(`\{SEQ([1-9])\}`)
	anyToken  = regexp.MustCompile(`\{[^{}]*\}`)
	safeChars = regexp.MustCompile(`^[A-Za-z0-9\-_/.\p{Han}]*$`)
)

// checkPattern reports whether p is a usable pattern: exactly one {SEQn},
// only known tokens, and at most 40 characters of letters, digits, Chinese
// and - _ / . so a number is safe in file names and URLs.
func checkPattern(p string) bool {
	if p == "" || len(p) > 40 || len(seqToken.FindAllString(p, -1)) != 1 {
		return false
	}
	for _, t := range anyToken.FindAllString(p, -1) {
		switch t {
		case "{YYYY}", "{YY}", "{MM}", "{DD}":
		default:
			if !seqToken.MatchString(t) {
				return false
			}
		}
	}
	rest := anyToken.ReplaceAllString(p, "")
	return !strings.ContainsAny(rest, "{}") && safeChars.MatchString(rest)
}

// counterKey is the pattern with its dates filled in: numbers restart
// whenever it changes (each year for HT-{YYYY}-{SEQ5}).
func counterKey(p string, at time.Time) string {
	r := strings.NewReplacer("{YYYY}", at.Format("2006"), "{YY}", at.Format("06"), "{MM}", at.Format("01"), "{DD}", at.Format("02"))
	return r.Replace(p)
}

// formatNumber puts seq into key's {SEQn}, zero-padded to n digits (more
// digits when the sequence outgrows them rather than wrapping).
func formatNumber(key string, seq int64) string {
	return seqToken.ReplaceAllStringFunc(key, func(t string) string {
		n, _ := strconv.Atoi(t[4:5])
		return fmt.Sprintf("%0*d", n, seq)
	})
}

// nextNumber takes the next number in tx. The counter row is upserted and
// incremented in the creating transaction: PostgreSQL serialises concurrent
// creators on the row lock and SQLite has one writer, and a rolled-back
// creation gives its number back, so numbers are unique and gap-free.
func nextNumber(ctx context.Context, tx *db.Tx, pattern string, at time.Time) (string, error) {
	key := counterKey(pattern, at)
	var seq int64
	err := tx.QueryRow(ctx, `INSERT INTO contract_counters (pattern, value) VALUES (?, 1)
		ON CONFLICT (pattern) DO UPDATE SET value = contract_counters.value + 1 RETURNING value`, key).Scan(&seq)
	if err != nil {
		return "", db.MapErr(err)
	}
	return formatNumber(key, seq), nil
}

// maxAmount caps any amount at 10^15 fen (10 trillion yuan): far above any
// real contract, far below int64 overflow, so sums of a few thousand lines
// can never wrap.
const maxAmount = int64(1e15)

// lineTotal is qty × unit price × (1 − discount), rounded half up to the fen;
// ok is false if it exceeds maxAmount.
func lineTotal(qtyMilli, unitPriceFen, discountBP int64) (int64, bool) {
	n := new(big.Int).Mul(big.NewInt(qtyMilli), big.NewInt(unitPriceFen))
	n.Mul(n, big.NewInt(10000-discountBP))
	d := big.NewInt(1000 * 10000)
	// Half up for non-negative values (all inputs are validated ≥ 0).
	n.Add(n, new(big.Int).Rsh(d, 1))
	n.Quo(n, d)
	if !n.IsInt64() || n.Int64() > maxAmount {
		return 0, false
	}
	return n.Int64(), true
}

// addAmount adds b to a, reporting false past maxAmount.
func addAmount(a, b int64) (int64, bool) {
	if b > maxAmount || a > maxAmount-b {
		return 0, false
	}
	return a + b, true
}

// parseDate checks a YYYY-MM-DD date ("" allowed).
func parseDate(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse("2006-01-02", s)
	return t, err == nil
}
