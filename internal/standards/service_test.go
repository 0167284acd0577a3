package standards

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/i18n"
)

func admin() context.Context { return authz.With(context.Background(), authz.System()) }

func staff(perms ...string) context.Context {
	p := &authz.Principal{UserID: "u1", Scope: authz.ScopeOwn, Permissions: map[string]bool{}, Locale: i18n.EN}
	for _, x := range perms {
		p.Permissions[x] = true
	}
	return authz.With(context.Background(), p)
}

// The seeded rule set, on both databases: the issue's "a reply with
// forbidden language is blocked with a clear message", jargon, politeness
// and promises.
func TestSeededRulesBlockWarnAndHint(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := NewService(d, audit.New(d, make([]byte, 32)))
		ctx := staff()
		res, err := s.Check(ctx, CheckInput{Text: "你懂不懂啊？爱买不买，滚 . 蛋！"})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Blocked() {
			t.Fatalf("not blocked: %+v", res)
		}
		var words []string
		for _, f := range res.Findings {
			words = append(words, f.Match)
		}
		if strings.Join(words, "|") != "你懂不懂|爱买不买|滚 . 蛋" {
			t.Fatalf("found %v", words)
		}
		if !strings.Contains(res.Findings[0].Message, "forbidden language") {
			t.Fatalf("English agent gets %q", res.Findings[0].Message)
		}
		be := BlockedError(res)
		var de *errs.Error
		if !errors.As(be, &de) || de.Kind != errs.Invalid || !strings.Contains(i18n.T(i18n.ZH, de.Key, de.Args...), "爱买不买") {
			t.Fatalf("blocked error %v", be)
		}

		res, _ = s.Check(ctx, CheckInput{Text: "我们的 SaaS 支持私有化部署，明天给您回复。", FirstReply: true})
		got := map[string]string{}
		for _, f := range res.Findings {
			got[f.Kind+":"+f.Match] = f.Suggestion
		}
		if got["jargon:SaaS"] != "在线使用的软件服务" || got["jargon:私有化部署"] != "部署在贵公司服务器" || len(res.Findings) != 4 {
			t.Fatalf("%+v", res.Findings)
		}
		if _, ok := got["time_promise:明天"]; !ok || got["greeting:"] != "您好，" || res.Verdict != SeverityWarn {
			t.Fatalf("%+v", res.Findings)
		}
		res, _ = s.Check(ctx, CheckInput{Text: "您好，页面可以滚动查看。感谢您的咨询！", FirstReply: true, Closing: true})
		if res.Verdict != VerdictOK {
			t.Fatalf("polite reply: %+v", res.Findings)
		}
		if _, err := s.Check(ctx, CheckInput{Text: strings.Repeat("好", MaxTextRunes+1)}); errs.KindOf(err) != errs.Invalid {
			t.Fatalf("huge text: %v", err)
		}
		if _, err := s.Check(ctx, CheckInput{Text: "x", Lang: "fr"}); errs.KindOf(err) != errs.Invalid {
			t.Fatalf("bad lang: %v", err)
		}
	})
}

func TestRuleEditsTakeEffectEverywhere(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		a := audit.New(d, make([]byte, 32))
		s, other := NewService(d, a), NewService(d, a)
		other.refreshEvery = 50 * time.Millisecond
		ctx := admin()
		text := "这个方案很鸡肋"
		if r, _ := other.Check(ctx, CheckInput{Text: text}); r.Verdict != VerdictOK {
			t.Fatalf("%+v", r)
		}
		rule, err := s.CreateRule(ctx, RuleInput{Kind: KindForbidden, Pattern: " 鸡肋 ", Exceptions: []string{"鸡肋骨"}})
		if err != nil || rule.Severity != SeverityBlock || rule.Pattern != "鸡肋" || !rule.Enabled || rule.Version != 1 {
			t.Fatalf("%+v %v", rule, err)
		}
		if r, _ := s.Check(ctx, CheckInput{Text: text}); !r.Blocked() {
			t.Fatal("own instance did not recompile")
		}
		time.Sleep(60 * time.Millisecond)
		if r, _ := other.Check(ctx, CheckInput{Text: text}); !r.Blocked() {
			t.Fatal("other instance did not pick up the rule")
		}
		// Duplicates, bad kinds, jargon without a suggestion, unrelated
		// exceptions, punctuation-only patterns: 422 with the field named.
		for name, in := range map[string]RuleInput{
			"duplicate":   {Kind: KindForbidden, Pattern: "鸡肋"},
			"kind":        {Kind: "rude", Pattern: "x"},
			"suggestion":  {Kind: KindJargon, Pattern: "CDN"},
			"exception":   {Kind: KindForbidden, Pattern: "笨", Exceptions: []string{"聪明"}},
			"punctuation": {Kind: KindForbidden, Pattern: "?!。"},
			"severity":    {Kind: KindForbidden, Pattern: "笨", Severity: "fatal"},
			"lang":        {Kind: KindForbidden, Pattern: "笨", Lang: "fr"},
			"long":        {Kind: KindForbidden, Pattern: strings.Repeat("长", 101)},
		} {
			_, err := s.CreateRule(ctx, in)
			var de *errs.Error
			if !errors.As(err, &de) || de.Kind != errs.Invalid || len(de.Fields) == 0 {
				t.Errorf("%s: %v", name, err)
			}
		}
		// Update with If-Match; a stale version changes nothing.
		warn := SeverityWarn
		if _, err := s.UpdateRule(ctx, rule.ID, 9, RulePatch{Severity: &warn}); errs.KindOf(err) != errs.Stale {
			t.Fatalf("stale: %v", err)
		}
		up, err := s.UpdateRule(ctx, rule.ID, 1, RulePatch{Severity: &warn})
		if err != nil || up.Version != 2 || up.Severity != SeverityWarn {
			t.Fatalf("%+v %v", up, err)
		}
		if r, _ := s.Check(ctx, CheckInput{Text: text}); r.Blocked() || r.Verdict != SeverityWarn {
			t.Fatalf("after update: %+v", r)
		}
		off := false
		if _, err := s.UpdateRule(ctx, rule.ID, 2, RulePatch{Enabled: &off}); err != nil {
			t.Fatal(err)
		}
		if r, _ := s.Check(ctx, CheckInput{Text: text}); r.Verdict != VerdictOK {
			t.Fatalf("disabled rule fired: %+v", r)
		}
		if err := s.DeleteRule(ctx, rule.ID, 2); errs.KindOf(err) != errs.Stale {
			t.Fatalf("stale delete: %v", err)
		}
		if err := s.DeleteRule(ctx, rule.ID, 3); err != nil {
			t.Fatal(err)
		}
		if _, err := s.GetRule(ctx, rule.ID); errs.KindOf(err) != errs.NotFound {
			t.Fatalf("deleted rule: %v", err)
		}
		// Every change is in the audit log.
		var n int
		if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_log WHERE entity_id = ? AND action LIKE 'standards.rule_%'", rule.ID).Scan(&n); err != nil || n != 4 {
			t.Fatalf("audit entries %d %v", n, err)
		}
		// Permissions: staff may check but not read or edit rules.
		if _, err := s.CreateRule(staff(authz.StandardsRead), RuleInput{Kind: KindForbidden, Pattern: "笨"}); errs.KindOf(err) != errs.Forbidden {
			t.Fatalf("create without manage: %v", err)
		}
		if _, _, err := s.ListRules(staff(), RuleFilter{}, httpx.ListParams{Limit: 10}); errs.KindOf(err) != errs.Forbidden {
			t.Fatalf("list without read: %v", err)
		}
		// Paging through the seeded rules visits each once.
		seen := map[string]bool{}
		lp := httpx.ListParams{Limit: 25}
		for {
			items, next, err := s.ListRules(staff(authz.StandardsRead), RuleFilter{}, lp)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range items {
				if seen[r.ID] {
					t.Fatalf("repeated %s", r.ID)
				}
				seen[r.ID] = true
			}
			if next == nil {
				break
			}
			lp.Cursor = next
		}
		if len(seen) < 80 {
			t.Fatalf("only %d seeded rules", len(seen))
		}
		jargon, _, _ := s.ListRules(admin(), RuleFilter{Kind: KindJargon, Q: "sla"}, httpx.ListParams{Limit: 50})
		if len(jargon) != 2 {
			t.Fatalf("jargon SLA rules: %+v", jargon)
		}
	})
}
