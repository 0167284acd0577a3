package quotes

import (
	"testing"
	"time"
)

func TestExpandPattern(t *testing.T) {
	at := time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC) // 2027-01-01 01:00 in China
	for pattern, want := range map[string][2]string{
		"QT-{YYYY}-{SEQ6}":  {"QT-2027-#", "QT-2027-000123"},
		"BJ{YY}{MM}-{SEQ4}": {"BJ2701-#", "BJ2701-0123"},
		"{SEQ3}/{YYYY}{DD}": {"#/202701", "123/202701"},
		"Q-{SEQ1}":          {"Q-#", "Q-123"}, // a sequence wider than its width is not cut
		"报价-{YYYY}-{SEQ5}号": {"报价-2027-#号", "报价-2027-00123号"},
	} {
		prefix, format, err := expandPattern(pattern, at)
		if err != nil || prefix != want[0] || format(123) != want[1] {
			t.Errorf("%s: %q %v → %q; want %v", pattern, prefix, err, format(123), want)
		}
	}
	for _, bad := range []string{"QT-{YYYY}", "{SEQ6}{SEQ6}", "{SEQ0}", "{SEQ}", "QT-{yyyy}-{SEQ6}", "{SEQ6}\n", ""} {
		if _, _, err := expandPattern(bad, at); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func ptr[T any](v T) *T { return &v }

func TestRuleTriggers(t *testing.T) {
	dept := "d1"
	q := &Quote{MaxLineDiscountBP: 2000, OverallDiscountBP: 500, DepartmentID: &dept,
		Totals: QuoteTotals{Gross: 100_000, Net: 76_000, Total: 85_880, MarginBP: ptr(int64(1500))}}
	for _, c := range []struct {
		rule  Rule
		roles []string
		want  bool
	}{
		{Rule{Condition: CondLineDiscount, Threshold: 1000}, nil, true},
		{Rule{Condition: CondLineDiscount, Threshold: 2000}, nil, false}, // "above", not "at"
		{Rule{Condition: CondOverallDiscount, Threshold: 500}, nil, false},
		{Rule{Condition: CondOverallDiscount, Threshold: 499}, nil, true},
		{Rule{Condition: CondDiscount, Threshold: 2300}, nil, true}, // 24 % off list value
		{Rule{Condition: CondDiscount, Threshold: 2400}, nil, false},
		{Rule{Condition: CondMargin, Threshold: 2000}, nil, true},
		{Rule{Condition: CondMargin, Threshold: 1500}, nil, false},
		{Rule{Condition: CondAmount, Threshold: 85_879}, nil, true},
		{Rule{Condition: CondAmount, Threshold: 85_880}, nil, false},
		{Rule{Condition: CondLineDiscount, Threshold: 0, AppliesRole: "sales"}, []string{"presales"}, false},
		{Rule{Condition: CondLineDiscount, Threshold: 0, AppliesRole: "sales"}, []string{"sales"}, true},
		{Rule{Condition: CondLineDiscount, Threshold: 0, AppliesDepartmentID: "d2"}, nil, false},
		{Rule{Condition: CondLineDiscount, Threshold: 0, AppliesDepartmentID: "d1"}, nil, true},
	} {
		if got, why := triggered(&c.rule, q, c.roles); got != c.want {
			t.Errorf("%+v with roles %v: %v (%s), want %v", c.rule, c.roles, got, why, c.want)
		}
	}
	// Unknown cost: a margin rule applies (nobody may slip under the
	// floor by leaving the cost out).
	q.Totals.MarginBP = nil
	if got, _ := triggered(&Rule{Condition: CondMargin, Threshold: 1}, q, nil); !got {
		t.Error("an unknown margin passed a margin rule")
	}
}
