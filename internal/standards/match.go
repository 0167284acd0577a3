package standards

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Matching works on a normalised copy of the text: NFKC (full-width ＳＬＡ
// becomes SLA, ㊙ and ligatures decompose), lower case, and with every space,
// punctuation mark, symbol and invisible character left out, so that 滚 . 蛋
// and s-t-u-p-i-d are seen for what they are. Each normalised rune remembers
// the rune of the original text it came from, so findings point at the text
// the agent typed. A match is then accepted only where its gaps and edges
// make sense (see accept).

const (
	clsSep   = 0 // space, punctuation, symbol, control, invisible
	clsLatin = 1 // letters and digits of alphabetic scripts: words have edges
	clsCJK   = 2 // Han, kana, hangul: no spaces between words
)

// maxGap is how many separators may sit between two characters of a match:
// enough for "滚 . 蛋", not enough to join words across a sentence.
const maxGap = 3

type normText struct {
	runes []rune  // compact normalised runes
	orig  []int32 // original rune index of each compact rune
	cls   []uint8 // class of each original rune
	seps  []int32 // seps[i]: separators among original runes [0, i)
	n     int     // number of original runes
}

func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || unicode.Is(unicode.Hangul, r)
}

// normRune appends the normalised form of r (nothing for a separator) and
// returns the class of r.
func normRune(dst []rune, r rune) ([]rune, uint8) {
	switch {
	case r < 0x80:
		switch {
		case r >= 'A' && r <= 'Z':
			return append(dst, r+'a'-'A'), clsLatin
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return append(dst, r), clsLatin
		}
		return dst, clsSep
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
		return normRune(dst, r-0xFEE0)
	case r >= 0x4E00 && r <= 0x9FFF: // common CJK ideographs are NFKC-stable
		return append(dst, r), clsCJK
	}
	cls := uint8(clsSep)
	for _, x := range norm.NFKC.String(string(r)) {
		switch {
		case unicode.IsLetter(x) || unicode.IsDigit(x):
			dst = append(dst, unicode.ToLower(x))
			if isCJK(x) {
				cls = clsCJK
			} else if cls == clsSep {
				cls = clsLatin
			}
		case unicode.Is(unicode.Mn, x) && cls == clsSep:
			// A combining mark belongs to the letter before it: not a
			// separator, though it adds no rune of its own.
			cls = clsLatin
		}
	}
	return dst, cls
}

func normalize(s string) normText {
	n := utf8.RuneCountInString(s)
	nt := normText{runes: make([]rune, 0, n), orig: make([]int32, 0, n), cls: make([]uint8, 0, n), seps: make([]int32, 1, n+1)}
	i := 0
	for _, r := range s {
		before := len(nt.runes)
		var c uint8
		nt.runes, c = normRune(nt.runes, r)
		for range len(nt.runes) - before {
			nt.orig = append(nt.orig, int32(i))
		}
		nt.cls = append(nt.cls, c)
		sep := nt.seps[i]
		if c == clsSep {
			sep++
		}
		nt.seps = append(nt.seps, sep)
		i++
	}
	nt.n = i
	return nt
}

// gap is the number of separators between compact runes k-1 and k.
func (nt *normText) gap(k int) int32 {
	a, b := nt.orig[k-1], nt.orig[k]
	if b <= a {
		return 0
	}
	return nt.seps[b] - nt.seps[a+1]
}

// compactPattern normalises a rule pattern and records where the pattern
// itself has word breaks ("shut up": a break before 'u').
func compactPattern(p string) (runes []rune, breaks []bool) {
	nt := normalize(p)
	breaks = make([]bool, len(nt.runes))
	for k := 1; k < len(nt.runes); k++ {
		breaks[k] = nt.gap(k) > 0
	}
	return nt.runes, breaks
}

// automaton is an Aho–Corasick automaton over normalised runes: one pass over
// the text finds every occurrence of every pattern, whatever their number.
type automaton struct {
	next  map[uint64]int32 // (state<<32 | rune) -> state
	fail  []int32
	out   [][]int32 // pattern ids ending at each state (own and by suffix)
	depth []int32
}

func key(state int32, r rune) uint64 { return uint64(state)<<32 | uint64(uint32(r)) }

func buildAutomaton(patterns [][]rune) *automaton {
	a := &automaton{next: map[uint64]int32{}, fail: []int32{0}, out: [][]int32{nil}, depth: []int32{0}}
	children := [][]rune{nil} // edge labels per state, for the BFS
	for id, p := range patterns {
		s := int32(0)
		for _, r := range p {
			nx, ok := a.next[key(s, r)]
			if !ok {
				nx = int32(len(a.fail))
				a.next[key(s, r)] = nx
				a.fail = append(a.fail, 0)
				a.out = append(a.out, nil)
				a.depth = append(a.depth, a.depth[s]+1)
				children = append(children, nil)
				children[s] = append(children[s], r)
			}
			s = nx
		}
		if len(p) > 0 {
			a.out[s] = append(a.out[s], int32(id))
		}
	}
	queue := []int32{}
	for _, r := range children[0] {
		queue = append(queue, a.next[key(0, r)])
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, r := range children[s] {
			t := a.next[key(s, r)]
			f := a.fail[s]
			for {
				if nx, ok := a.next[key(f, r)]; ok && nx != t {
					a.fail[t] = nx
					break
				}
				if f == 0 {
					a.fail[t] = 0
					break
				}
				f = a.fail[f]
			}
			a.out[t] = append(a.out[t], a.out[a.fail[t]]...)
			queue = append(queue, t)
		}
	}
	return a
}

// scan calls hit(patternID, endIndex) for every occurrence.
func (a *automaton) scan(text []rune, hit func(id int32, end int)) {
	s := int32(0)
	for i, r := range text {
		for {
			if nx, ok := a.next[key(s, r)]; ok {
				s = nx
				break
			}
			if s == 0 {
				break
			}
			s = a.fail[s]
		}
		for _, id := range a.out[s] {
			hit(id, i)
		}
	}
}

// accept decides whether the occurrence of a pattern at compact runes
// [start, end] of nt is a real one:
//   - at most maxGap separators between consecutive characters;
//   - a separator the pattern does not have may split its Latin words only
//     when every letter of that word is split (s.t.u.p.i.d, S L A), so
//     "a pi" is not "API"; Han characters may be split freely (滚 . 蛋);
//   - a Latin pattern must start and end at word edges ("SLA" is not in
//     "isLAnd"), a plural "s" allowed.
func accept(nt *normText, start, end int, breaks []bool) bool {
	for k := start + 1; k <= end; k++ {
		gap := nt.gap(k)
		if gap == 0 {
			continue
		}
		if gap > maxGap {
			return false
		}
		pk := k - start
		if breaks[pk] {
			continue
		}
		if nt.cls[nt.orig[k-1]] == clsCJK && nt.cls[nt.orig[k]] == clsCJK {
			continue
		}
		// Inserted into a Latin word: the whole word must be spelt out.
		ws := pk - 1
		for ws > 0 && !breaks[ws] {
			ws--
		}
		we := pk
		for we+1 < len(breaks) && !breaks[we+1] {
			we++
		}
		for j := ws + 1; j <= we; j++ {
			if nt.gap(start+j) == 0 {
				return false
			}
		}
	}
	first, last := nt.orig[start], nt.orig[end]
	if nt.cls[first] == clsLatin && first > 0 && nt.cls[first-1] == clsLatin {
		return false
	}
	if nt.cls[last] == clsLatin && int(last)+1 < nt.n && nt.cls[last+1] == clsLatin {
		plural := nt.runes[end] != 's' && end+1 < len(nt.runes) && nt.runes[end+1] == 's' && nt.orig[end+1] == last+1 &&
			(int(last)+2 >= nt.n || nt.cls[last+2] != clsLatin)
		if !plural {
			return false
		}
	}
	return true
}
