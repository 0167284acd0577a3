package benchutil

import (
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Table is a Markdown table.
type Table struct {
	Header []string
	Rows   [][]string
	// Right marks right-aligned (numeric) columns by index.
	Right map[int]bool
}

// Add appends a row.
func (t *Table) Add(cells ...string) { t.Rows = append(t.Rows, cells) }

// Write renders the table with padded columns so it also reads well as
// plain text on a terminal.
func (t *Table) Write(w io.Writer) {
	width := make([]int, len(t.Header))
	for i, h := range t.Header {
		width[i] = max(3, displayWidth(h))
	}
	for _, r := range t.Rows {
		for i, c := range r {
			if i < len(width) {
				width[i] = max(width[i], displayWidth(c))
			}
		}
	}
	line := func(cells []string) {
		var b strings.Builder
		b.WriteString("|")
		for i := range width {
			c := ""
			if i < len(cells) {
				c = cells[i]
			}
			pad := strings.Repeat(" ", width[i]-displayWidth(c))
			if t.Right[i] {
				b.WriteString(" " + pad + c + " |")
			} else {
				b.WriteString(" " + c + pad + " |")
			}
		}
		fmt.Fprintln(w, b.String())
	}
	line(t.Header)
	var b strings.Builder
	b.WriteString("|")
	for i := range width {
		dash := strings.Repeat("-", width[i])
		if t.Right[i] {
			dash = dash[:len(dash)-1] + ":"
		}
		b.WriteString(" " + dash + " |")
	}
	fmt.Fprintln(w, b.String())
	for _, r := range t.Rows {
		line(r)
	}
}

// displayWidth counts East Asian wide characters as two columns.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x1100 && (r <= 0x115f || (r >= 0x2e80 && r <= 0xa4cf) || (r >= 0xac00 && r <= 0xd7a3) ||
			(r >= 0xf900 && r <= 0xfaff) || (r >= 0xfe30 && r <= 0xfe4f) || (r >= 0xff00 && r <= 0xff60) || (r >= 0xffe0 && r <= 0xffe6)) {
			n += 2
		} else {
			n++
		}
	}
	return n
}

func trimFloat(v float64, prec int) string {
	return strconv.FormatFloat(v, 'f', prec, 64)
}

// Num formats a rate or count for a table.
func Num(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v < 10:
		return trimFloat(v, 2)
	case v < 100:
		return trimFloat(v, 1)
	}
	return trimFloat(v, 0)
}

// Ratio formats a/b as "0.42×" ("–" when b is zero).
func Ratio(a, b float64) string {
	if b == 0 || a == 0 {
		return "–"
	}
	r := a / b
	switch {
	case r >= 10:
		return trimFloat(r, 0) + "×"
	case r >= 0.01:
		return trimFloat(r, 2) + "×"
	}
	return strconv.FormatFloat(r, 'g', 2, 64) + "×"
}
