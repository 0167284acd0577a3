package standards

import (
	"sort"
	"unicode"

	"prelude/internal/platform/i18n"
)

// checker is a compiled, immutable rule set.
type checker struct {
	rules   []Rule
	entries []entry
	ac      *automaton
	version int64
	// greetings / closings: whether enabled rules of that kind exist for a
	// reply language; without any, nothing is expected.
	greetings map[string]bool
	closings  map[string]bool
}

// entry is one pattern in the automaton: a rule's pattern or one of its
// exceptions.
type entry struct {
	rule      int32
	exception bool
	breaks    []bool
	n         int
}

func compile(rules []Rule, version int64) *checker {
	c := &checker{version: version, greetings: map[string]bool{}, closings: map[string]bool{}}
	var patterns [][]rune
	for _, r := range rules {
		if !r.Enabled {
			continue
		}
		ri := int32(len(c.rules))
		c.rules = append(c.rules, r)
		add := func(p string, exc bool) {
			runes, breaks := compactPattern(p)
			if len(runes) == 0 {
				return
			}
			patterns = append(patterns, runes)
			c.entries = append(c.entries, entry{rule: ri, exception: exc, breaks: breaks, n: len(runes)})
		}
		add(r.Pattern, false)
		for _, e := range r.Exceptions {
			add(e, true)
		}
		for _, l := range []string{"zh-CN", "en"} {
			if r.Lang == "" || r.Lang == l {
				switch r.Kind {
				case KindGreeting:
					c.greetings[l] = true
				case KindClosing:
					c.closings[l] = true
				}
			}
		}
	}
	c.ac = buildAutomaton(patterns)
	return c
}

// detectLang guesses a reply's language: any Han character makes it Chinese.
func detectLang(s string) string {
	for _, r := range s {
		if unicode.Is(unicode.Han, r) {
			return "zh-CN"
		}
	}
	return "en"
}

// maxHits bounds the work on a reply that is nothing but forbidden words.
const maxHits = 200

type hit struct {
	rule       int32
	start, end int // original rune offsets, end exclusive
}

// check runs the rules over a reply; messages are in msgLang.
func (c *checker) check(in CheckInput, msgLang i18n.Lang) Result {
	lang := in.Lang
	if lang == "" {
		lang = detectLang(in.Text)
	}
	nt := normalize(in.Text)
	var hits, excs []hit
	c.ac.scan(nt.runes, func(id int32, end int) {
		e := c.entries[id]
		start := end - e.n + 1
		r := &c.rules[e.rule]
		if r.Lang != "" && r.Lang != lang {
			return
		}
		if !accept(&nt, start, end, e.breaks) {
			return
		}
		h := hit{rule: e.rule, start: int(nt.orig[start]), end: int(nt.orig[end]) + 1}
		if e.exception {
			if len(excs) < 10*maxHits {
				excs = append(excs, h)
			}
		} else if len(hits) < maxHits {
			hits = append(hits, h)
		}
	})
	hits = c.prune(hits, excs)

	runes := []rune(in.Text)
	res := Result{Verdict: VerdictOK, Findings: []Finding{}, RulesVersion: c.version}
	add := func(f Finding) {
		res.Findings = append(res.Findings, f)
		if severityRank(f.Severity) > severityRank(res.Verdict) {
			res.Verdict = f.Severity
		}
	}
	greeted, closed := false, false
	for _, h := range hits {
		r := &c.rules[h.rule]
		match := string(runes[h.start:h.end])
		f := Finding{RuleID: r.ID, Kind: r.Kind, Severity: r.Severity, Start: h.start, End: h.end, Match: match, Suggestion: r.Suggestion}
		switch r.Kind {
		case KindForbidden:
			f.Message = i18n.T(msgLang, "standards.msg.forbidden", match)
			f.Suggestion = ""
		case KindJargon:
			f.Message = i18n.T(msgLang, "standards.msg.jargon", match, r.Suggestion)
		case KindTimePromise:
			if in.HasFollowUp {
				continue
			}
			f.Message = i18n.T(msgLang, "standards.msg.time_promise", match)
			f.Suggestion = ""
		case KindGreeting:
			greeted = greeted || h.start < greetingWindow
			continue
		case KindClosing:
			closed = closed || h.end > len(runes)-closingWindow
			continue
		}
		add(f)
	}
	if in.FirstReply && !greeted && c.greetings[lang] {
		s := i18n.T(i18n.Lang(lang), "standards.suggest.greeting")
		add(Finding{Kind: KindGreeting, Severity: SeverityHint, Message: i18n.T(msgLang, "standards.msg.greeting", s), Suggestion: s})
	}
	if in.Closing && !closed && c.closings[lang] {
		s := i18n.T(i18n.Lang(lang), "standards.suggest.closing")
		add(Finding{Kind: KindClosing, Severity: SeverityHint, Start: len(runes), End: len(runes), Message: i18n.T(msgLang, "standards.msg.closing", s), Suggestion: s})
	}
	sort.SliceStable(res.Findings, func(i, j int) bool {
		a, b := res.Findings[i], res.Findings[j]
		if a.Start != b.Start {
			return a.Start < b.Start
		}
		return severityRank(a.Severity) > severityRank(b.Severity)
	})
	return res
}

// prune drops hits an exception of the same rule covers (滚 inside 滚动),
// hits inside a longer hit of the same kind (滚 inside 滚蛋) and repeats at
// one place. Sorted by start and then longest first, a hit is inside an
// earlier one exactly when an earlier hit of its kind ends at or after it.
func (c *checker) prune(hits, excs []hit) []hit {
	sort.Slice(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.start != b.start {
			return a.start < b.start
		}
		if a.end != b.end {
			return a.end > b.end
		}
		return a.rule < b.rule
	})
	maxEnd := map[string]int{}
	out := make([]hit, 0, len(hits))
	for _, h := range hits {
		kind := c.rules[h.rule].Kind
		if e, ok := maxEnd[kind]; ok && e >= h.end {
			continue
		}
		covered := false
		for _, e := range excs {
			if e.rule == h.rule && e.start <= h.start && h.end <= e.end {
				covered = true
				break
			}
		}
		if covered {
			continue
		}
		maxEnd[kind] = h.end
		out = append(out, h)
	}
	return out
}
