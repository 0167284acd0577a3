package valid

import (
	"strings"
	"testing"

	"prelude/internal/platform/errs"
)

func TestMobile(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678": "13812345678", "+86 138-1234-5678": "13812345678", "8613812345678": "13812345678",
		"+8613812345678": "13812345678", "+14155552671": "+14155552671", "+447911123456": "+447911123456",
	} {
		var v errs.Validation
		if got := Mobile(&v, "m", in, true); got != want || v.Err() != nil {
			t.Errorf("%q -> %q (%v)", in, got, v.Err())
		}
	}
	for _, bad := range []string{"12812345678", "1381234567", "138123456789", "+86123", "abc", "+8612812345678"} {
		var v errs.Validation
		Mobile(&v, "m", bad, true)
		if v.Err() == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestEmailAndText(t *testing.T) {
	for in, ok := range map[string]bool{"a@example.com": true, "张三@例子.中国": true, "a@b": false, "Li <li@example.com>": false, "no-at": false} {
		var v errs.Validation
		Email(&v, "e", in, true)
		if (v.Err() == nil) != ok {
			t.Errorf("%q ok=%v", in, v.Err() == nil)
		}
	}
	var v errs.Validation
	if got := Text(&v, "t", "  报价单  ", true, 3); got != "报价单" || v.Err() != nil {
		t.Errorf("trim/rune count: %q %v", got, v.Err())
	}
	Text(&v, "long", "四个字符", true, 3)
	Text(&v, "ctl", "a\x07", true, 10)
	Text(&v, "req", "   ", true, 10)
	if !v.Has("long") || !v.Has("ctl") || !v.Has("req") {
		t.Errorf("problems not recorded")
	}
}

func TestRefID(t *testing.T) {
	var v errs.Validation
	if got := RefID(&v, "a", "  01a21e89-e4ce-7e92  "); got != "01a21e89-e4ce-7e92" || v.Has("a") {
		t.Fatalf("plain id: %q", got)
	}
	if got := RefID(&v, "b", ""); got != "" || v.Has("b") {
		t.Fatal("empty id is 'not given', not an error")
	}
	for i, bad := range []string{"nul\x00byte", "has space", "中文", strings.Repeat("x", 65)} {
		f := string(rune('c' + i))
		if got := RefID(&v, f, bad); got != "" || !v.Has(f) {
			t.Errorf("%q accepted", bad)
		}
	}
}
