package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"prelude/internal/platform/jsonappend"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The entries' MACs cover the JSON text, so the fast encoder must write
// exactly what encoding/json writes.
func TestEncodeJSONMatchesEncodingJSON(t *testing.T) {
	tricky := []string{"", "plain", "基准测试客户000001有限公司", `quo"te`, `back\slash`, "<b>&amp;</b>", "tab\tnew\nret\rbs\bff\f",
		"\x00\x01\x1f\x7f", "bad \xff utf8 \xc3", "sep \u2028 \u2029", "emoji 🙂", "\xed\xa0\x80 surrogate"}
	values := []any{
		map[string][2]any{"name": {nil, tricky[2]}, "tags": {nil, []string{"基准", "导入"}}, "is_primary": {nil, true},
			"archived": {false, true}, "n": {int64(3), 4}, "list": {[]any{"a", 1, nil}, []string(nil)}},
		map[string]any{"import_id": "0193", "row": 12, "nested": map[string]any{"z": "<", "a": []any{map[string]string{"k": "v"}}}},
		map[string]any{"when": time.Unix(0, 0).UTC()},     // not handled: falls back
		map[string]any{"ratio": 0.5},                      // floats fall back too
		map[string][2]any{"x": {struct{ A int }{1}, nil}}, // and structs
		map[string]string{},
		map[string]any{},
		map[string][2]any(nil),
		nil,
		[]string{"a"},
	}
	for _, s := range tricky {
		values = append(values, s, map[string]any{s: s}, map[string][2]any{s: {s, nil}})
	}
	for _, v := range values {
		want := ""
		isEmpty := v == nil
		switch m := v.(type) {
		case map[string]string:
			isEmpty = len(m) == 0
		case map[string]any:
			isEmpty = len(m) == 0
		case map[string][2]any:
			isEmpty = len(m) == 0
		}
		if !isEmpty {
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			want = string(b)
		}
		if got := encodeJSON(v); got != want {
			t.Errorf("encodeJSON(%#v)\n got %s\nwant %s", v, got, want)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a", "\x00<>&\"\\", "\u2028", "\xff", "中文"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := jsonappend.String(nil, s); string(got) != string(want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
		m := map[string][2]any{s: {nil, []string{s, strings.ToUpper(s)}}}
		want, _ = json.Marshal(m)
		if got := encodeJSON(m); got != string(want) {
			t.Fatalf("%q: got %s want %s", s, got, want)
		}
	})
}

// The reused HMAC state gives the MAC a fresh HMAC per entry gave.
func TestMACerMatchesFreshHMAC(t *testing.T) {
	l := &Log{key: []byte("0123456789abcdef0123456789abcdef")}
	m := l.newMACer()
	for i, fields := range [][]string{{"u1", "李雷 (li)", "user.update", "user", "x", "", "", `{"a":[1,2]}`, ""}, {}, {"", ""}, {strings.Repeat("长", 500)}} {
		h := hmac.New(sha256.New, l.key)
		h.Write([]byte("id" + strconv.Itoa(i)))
		h.Write([]byte{0x1f})
		h.Write([]byte(strconv.FormatInt(int64(1700000000000+i), 10)))
		for _, f := range fields {
			h.Write([]byte{0x1f})
			h.Write([]byte(f))
		}
		want := hex.EncodeToString(h.Sum(nil))
		if got := m.entryMAC("id"+strconv.Itoa(i), int64(1700000000000+i), fields...); got != want {
			t.Fatalf("entry %d: %s, want %s", i, got, want)
		}
		if got := l.entryMAC("id"+strconv.Itoa(i), int64(1700000000000+i), fields...); got != want {
			t.Fatalf("entry %d (fresh): %s, want %s", i, got, want)
		}
	}
}

// The chain hash, from pooled HMAC states interleaved with entry MACs, is
// HMAC(key, prev|seq|mac) as stored chains have it.
func TestChainHashMatchesFreshHMAC(t *testing.T) {
	l := &Log{key: []byte("0123456789abcdef0123456789abcdef")}
	prev := ""
	for seq := int64(1); seq <= 5; seq++ {
		mac := l.entryMAC("id"+strconv.FormatInt(seq, 10), 1700000000000+seq, "u1", "user.update")
		h := hmac.New(sha256.New, l.key)
		h.Write([]byte(prev + "|" + strconv.FormatInt(seq, 10) + "|" + mac))
		want := hex.EncodeToString(h.Sum(nil))
		if got := l.chainHash(prev, seq, mac); got != want {
			t.Fatalf("seq %d: %s, want %s", seq, got, want)
		}
		prev = want
	}
}

func BenchmarkEncodeChanges(b *testing.B) {
	m := map[string][2]any{"id": {nil, "01939a7c-0000-7000-8000-000000000001"}, "name": {nil, "基准测试客户000001有限公司"}, "kind": {nil, "company"},
		"province_code": {nil, "440000"}, "city_code": {nil, "440300"}, "district_code": {nil, "440305"}, "region_name": {nil, "广东省 深圳市 南山区"},
		"source": {nil, "expo"}, "level": {nil, "B"}, "status": {nil, "prospect"}, "owner_id": {nil, "01939a7c-0000-7000-8000-000000000002"},
		"tags": {nil, []string{"基准", "导入"}}}
	b.Run("fast", func(b *testing.B) {
		for range b.N {
			encodeJSON(m)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		for range b.N {
			json.Marshal(m)
		}
	})
}

// An Object writes what encoding the equivalent map writes.
func TestObjectMatchesMap(t *testing.T) {
	var o Object
	if o.JSON() != "" {
		t.Fatal("empty object")
	}
	o.Created("a<b", "x\"y")
	o.CreatedBool("flag", false)
	o.Int("n", -12)
	o.CreatedList("tags", []string{"基准", "&"})
	o.Text("z", "\u2028\xff")
	want := encodeJSON(map[string]any{"a<b": [2]any{nil, "x\"y"}, "flag": [2]any{nil, false}, "n": -12, "tags": [2]any{nil, []string{"基准", "&"}}, "z": "\u2028\xff"})
	if got := o.JSON(); got != want {
		t.Fatalf("got %s\nwant %s", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a key out of order was taken")
		}
	}()
	o.Text("y", "")
}
