package standards

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/i18n"
	"prelude/internal/platform/valid"
)

// RefreshEvery is how stale the compiled rules may be on an instance that
// did not make the edit: one indexed read of a counter at most this often.
const RefreshEvery = 3 * time.Second

// Service keeps the rules and checks replies against them.
type Service struct {
	db    *db.DB
	audit *audit.Log

	cached       atomic.Pointer[cacheEntry]
	refresh      sync.Mutex
	refreshEvery time.Duration
}

type cacheEntry struct {
	c         *checker
	checkedAt time.Time
}

// NewService returns the communication-standards service.
func NewService(d *db.DB, a *audit.Log) *Service {
	return &Service{db: d, audit: a, refreshEvery: RefreshEvery}
}

// compiled returns the cached automaton, rebuilt when the rules' version
// moved (an edit here or on another instance). If the database is briefly
// unreachable the last compiled rules keep serving.
func (s *Service) compiled(ctx context.Context) (*checker, error) {
	if e := s.cached.Load(); e != nil && time.Since(e.checkedAt) < s.refreshEvery {
		return e.c, nil
	}
	s.refresh.Lock()
	defer s.refresh.Unlock()
	e := s.cached.Load()
	if e != nil && time.Since(e.checkedAt) < s.refreshEvery {
		return e.c, nil
	}
	v, err := readVersion(ctx, s.db)
	if err != nil {
		if e != nil {
			return e.c, nil
		}
		return nil, err
	}
	if e != nil && e.c.version == v {
		s.cached.Store(&cacheEntry{c: e.c, checkedAt: time.Now()})
		return e.c, nil
	}
	var rules []Rule
	if err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		if v, err = readVersion(ctx, tx); err != nil {
			return err
		}
		rules, err = allRules(ctx, tx)
		return err
	}); err != nil {
		if e != nil {
			return e.c, nil
		}
		return nil, err
	}
	c := compile(rules, v)
	s.cached.Store(&cacheEntry{c: c, checkedAt: time.Now()})
	return c, nil
}

func (s *Service) invalidate() { s.cached.Store(nil) }

// Check runs the rules over a reply. Messages are in the signed-in user's
// language, else the reply's. The inbox calls it before sending and refuses
// a Blocked result.
func (s *Service) Check(ctx context.Context, in CheckInput) (Result, error) {
	lang := i18n.Default
	if p := authz.From(ctx); p != nil && p.Locale != "" {
		lang = p.Locale
	} else if l, ok := i18n.Parse(in.Lang); ok {
		lang = l
	}
	return s.CheckIn(ctx, in, lang)
}

// CheckIn is Check with the language of the messages given (the HTTP
// request's).
func (s *Service) CheckIn(ctx context.Context, in CheckInput, msgLang i18n.Lang) (Result, error) {
	var v errs.Validation
	if n := utf8.RuneCountInString(in.Text); n > MaxTextRunes {
		v.Add("text", "standards.text_too_long", MaxTextRunes)
	}
	if in.Lang != "" {
		l, ok := i18n.Parse(in.Lang)
		if !ok {
			v.Add("lang", "field.one_of", "zh-CN, en")
		}
		in.Lang = string(l)
	}
	if err := v.Err(); err != nil {
		return Result{}, err
	}
	c, err := s.compiled(ctx)
	if err != nil {
		return Result{}, err
	}
	return c.check(in, msgLang), nil
}

// BlockedError is the 422 a sender returns for a blocked reply, naming the
// forbidden words and carrying the findings.
func BlockedError(r Result) error {
	var words []string
	for _, f := range r.Findings {
		if f.Severity == SeverityBlock && !slices.Contains(words, f.Match) {
			words = append(words, f.Match)
		}
	}
	e := errs.New(errs.Invalid, "reply_blocked", "standards.blocked", "“"+strings.Join(words, "”、“")+"”")
	e.Details = map[string]any{"check": r}
	return e
}

// ListRules returns rules in id order, keyset-paginated.
func (s *Service) ListRules(ctx context.Context, f RuleFilter, lp httpx.ListParams) ([]Rule, *httpx.Cursor, error) {
	if err := authz.From(ctx).Require(authz.StandardsRead); err != nil {
		return nil, nil, err
	}
	if f.Kind != "" && !oneOf(Kinds, f.Kind) {
		return nil, nil, httpx.BadParam("kind")
	}
	after := ""
	if lp.Cursor != nil {
		after = lp.Cursor.ID
	}
	rules, err := listRules(ctx, s.db, f, after, lp.Limit+1)
	if err != nil {
		return nil, nil, err
	}
	var next *httpx.Cursor
	if len(rules) > lp.Limit {
		rules = rules[:lp.Limit]
		next = &httpx.Cursor{ID: rules[len(rules)-1].ID}
	}
	return rules, next, nil
}

// GetRule returns one rule.
func (s *Service) GetRule(ctx context.Context, id string) (*Rule, error) {
	if err := authz.From(ctx).Require(authz.StandardsRead); err != nil {
		return nil, err
	}
	r, err := getRule(ctx, s.db, id)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, errs.NotFoundf("entity.standards_rule")
	}
	return r, nil
}

// validate checks a complete rule and fills defaults.
func validate(r *Rule) error {
	var v errs.Validation
	if !oneOf(Kinds, r.Kind) {
		v.Add("kind", "field.one_of", strings.Join(Kinds, ", "))
	}
	r.Pattern = valid.Text(&v, "pattern", r.Pattern, true, maxPatternRunes)
	if !v.Has("pattern") {
		if p, _ := compactPattern(r.Pattern); len(p) == 0 {
			v.Add("pattern", "standards.pattern_empty")
		}
	}
	if l, ok := i18n.Parse(r.Lang); ok {
		r.Lang = string(l)
	} else if r.Lang != "" {
		v.Add("lang", "field.one_of", "zh-CN, en")
	}
	if r.Severity == "" {
		r.Severity = defaultSeverity(r.Kind)
	} else if !oneOf(Severities, r.Severity) {
		v.Add("severity", "field.one_of", strings.Join(Severities, ", "))
	}
	r.Suggestion = valid.Text(&v, "suggestion", r.Suggestion, false, maxSuggestion)
	if r.Kind == KindJargon && r.Suggestion == "" && !v.Has("suggestion") {
		v.Add("suggestion", "standards.suggestion_required")
	}
	if len(r.Exceptions) > maxExceptions {
		v.Add("exceptions", "field.too_many", maxExceptions)
	} else {
		pat, _ := compactPattern(r.Pattern)
		clean := make([]string, 0, len(r.Exceptions))
		for _, e := range r.Exceptions {
			e = valid.Text(&v, "exceptions", e, true, maxPatternRunes)
			if ex, _ := compactPattern(e); len(pat) > 0 && !strings.Contains(string(ex), string(pat)) {
				v.Add("exceptions", "standards.exception_unrelated", e)
			}
			if !slices.Contains(clean, e) {
				clean = append(clean, e)
			}
		}
		r.Exceptions = clean
	}
	r.Note = valid.Text(&v, "note", r.Note, false, maxNote)
	return v.Err()
}

// CreateRule adds a rule.
func (s *Service) CreateRule(ctx context.Context, in RuleInput) (*Rule, error) {
	if err := authz.From(ctx).Require(authz.StandardsManage); err != nil {
		return nil, err
	}
	r := &Rule{ID: db.NewID(), Kind: in.Kind, Pattern: in.Pattern, Lang: in.Lang, Severity: in.Severity, Suggestion: in.Suggestion,
		Exceptions: in.Exceptions, Note: in.Note, Enabled: in.Enabled == nil || *in.Enabled, Version: 1}
	if err := validate(r); err != nil {
		return nil, err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		n, err := countRules(ctx, tx)
		if err != nil {
			return err
		}
		if n >= MaxRules {
			return errs.New(errs.Conflict, "too_many_rules", "standards.too_many_rules", MaxRules)
		}
		r.CreatedAt, r.UpdatedAt = tx.Now(), tx.Now()
		if err := insertRule(ctx, tx, r); err != nil {
			return taken(err)
		}
		if err := bumpVersion(ctx, tx); err != nil {
			return err
		}
		tx.AfterCommit(s.invalidate)
		return s.audit.Record(ctx, tx, audit.Event{Action: "standards.rule_create", EntityType: "standards_rule", EntityID: r.ID,
			Detail: map[string]any{"kind": r.Kind, "pattern": r.Pattern, "lang": r.Lang, "severity": r.Severity}})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

func taken(err error) error {
	if errors.Is(err, db.ErrUnique) {
		var v errs.Validation
		v.Add("pattern", "field.taken")
		return v.Err()
	}
	return err
}

// UpdateRule changes a rule; ifMatch must name its current version.
func (s *Service) UpdateRule(ctx context.Context, id string, ifMatch int64, in RulePatch) (*Rule, error) {
	if err := authz.From(ctx).Require(authz.StandardsManage); err != nil {
		return nil, err
	}
	var out *Rule
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		old, err := getRule(ctx, tx, id)
		if err != nil {
			return err
		}
		if old == nil {
			return errs.NotFoundf("entity.standards_rule")
		}
		if err := errs.CheckVersion(ifMatch, old.Version); err != nil {
			return err
		}
		r := *old
		set := func(dst *string, src *string) {
			if src != nil {
				*dst = *src
			}
		}
		set(&r.Kind, in.Kind)
		set(&r.Pattern, in.Pattern)
		set(&r.Lang, in.Lang)
		set(&r.Suggestion, in.Suggestion)
		set(&r.Note, in.Note)
		if in.Severity != nil {
			r.Severity = *in.Severity
		} else if in.Kind != nil && *in.Kind != old.Kind && r.Severity == defaultSeverity(old.Kind) {
			r.Severity = "" // a new kind brings its own default
		}
		if in.Exceptions != nil {
			r.Exceptions = *in.Exceptions
		}
		if in.Enabled != nil {
			r.Enabled = *in.Enabled
		}
		if err := validate(&r); err != nil {
			return err
		}
		r.Version, r.UpdatedAt = old.Version+1, tx.Now()
		if err := updateRule(ctx, tx, &r); err != nil {
			return taken(err)
		}
		if err := bumpVersion(ctx, tx); err != nil {
			return err
		}
		changes := map[string][2]any{}
		diff := func(k string, a, b any) {
			if a != b {
				changes[k] = [2]any{a, b}
			}
		}
		diff("kind", old.Kind, r.Kind)
		diff("pattern", old.Pattern, r.Pattern)
		diff("lang", old.Lang, r.Lang)
		diff("severity", old.Severity, r.Severity)
		diff("suggestion", old.Suggestion, r.Suggestion)
		diff("exceptions", excJSON(old.Exceptions), excJSON(r.Exceptions))
		diff("note", old.Note, r.Note)
		diff("enabled", old.Enabled, r.Enabled)
		out = &r
		tx.AfterCommit(s.invalidate)
		return s.audit.Record(ctx, tx, audit.Event{Action: "standards.rule_update", EntityType: "standards_rule", EntityID: r.ID, Changes: changes})
	})
	return out, err
}

// DeleteRule removes a rule.
func (s *Service) DeleteRule(ctx context.Context, id string, ifMatch int64) error {
	if err := authz.From(ctx).Require(authz.StandardsManage); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		old, err := getRule(ctx, tx, id)
		if err != nil {
			return err
		}
		if old == nil {
			return errs.NotFoundf("entity.standards_rule")
		}
		if err := errs.CheckVersion(ifMatch, old.Version); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM standards_rules WHERE id = ?", id); err != nil {
			return err
		}
		if err := bumpVersion(ctx, tx); err != nil {
			return err
		}
		tx.AfterCommit(s.invalidate)
		return s.audit.Record(ctx, tx, audit.Event{Action: "standards.rule_delete", EntityType: "standards_rule", EntityID: id,
			Detail: map[string]any{"kind": old.Kind, "pattern": old.Pattern, "lang": old.Lang}})
	})
}
