package search

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/platform/jobs"
)

// memDocs is an in-memory document store standing in for a capability's
// tables; its Loader reports deleted documents as missing.
type memDocs struct {
	mu    sync.Mutex
	docs  map[string]Doc
	loads int
}

func (m *memDocs) load(_ context.Context, ids []string) ([]Doc, []string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.loads++
	var docs []Doc
	var missing []string
	for _, id := range ids {
		if d, ok := m.docs[id]; ok {
			docs = append(docs, d)
		} else {
			missing = append(missing, id)
		}
	}
	return docs, missing, nil
}

type fixture struct {
	t     *testing.T
	d     *db.DB
	ix    *Index
	store map[string]*memDocs // by type
	clock time.Time
}

func newFixture(t *testing.T, d *db.DB) *fixture {
	f := &fixture{t: t, d: d, ix: New(d), store: map[string]*memDocs{},
		clock: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	for _, typ := range []string{"note", "contact"} {
		m := &memDocs{docs: map[string]Doc{}}
		f.store[typ] = m
		f.ix.Register(typ, m.load)
	}
	return f
}

// put stores a document (a minute newer than the previous one unless it
// has a time) and marks it dirty.
func (f *fixture) put(typ, id, account, body string, at ...time.Time) {
	f.t.Helper()
	f.clock = f.clock.Add(time.Minute)
	when := f.clock
	if len(at) > 0 {
		when = at[0]
	}
	m := f.store[typ]
	m.mu.Lock()
	m.docs[id] = Doc{Type: typ, ID: id, AccountID: account, Title: typ + " " + id, Body: body, UpdatedAt: when}
	m.mu.Unlock()
	if err := f.ix.MarkDirty(context.Background(), typ, id); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) remove(typ, id string) {
	f.t.Helper()
	m := f.store[typ]
	m.mu.Lock()
	delete(m.docs, id)
	m.mu.Unlock()
	if err := f.ix.MarkDirty(context.Background(), typ, id); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) flush() {
	f.t.Helper()
	if err := f.ix.Flush(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) search(q Query) []Hit {
	f.t.Helper()
	hits, _, err := f.ix.Search(context.Background(), q)
	if err != nil {
		f.t.Fatalf("Search(%+v): %v", q, err)
	}
	return hits
}

// ids returns the hit ids of query text, sorted.
func (f *fixture) ids(text string) []string {
	f.t.Helper()
	var ids []string
	for _, h := range f.search(Query{Text: text, Limit: MaxLimit}) {
		ids = append(ids, h.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestSearchMatching(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		docs := map[string]string{
			"n1": "客户来电询问CRM系统的报价，希望本周收到报价单。",
			"n2": "张三反馈项目可能延期交付，需要技术方案评审。",
			"n3": "王五的手机13812345678，邮箱zhangsan@example.com，周五安排Demo演示。",
			"n4": "我们需要报。价格另议，合同下月签署。", // 报 | 价 across punctuation
			"n5": "张三丰已回款；crm migration finished.",
			"n6": "座机 010-8888-6666，分机 123。",
			"n7": "Zhāng Wěi 在 ＣＲＭ 中登记了試用申请", // pinyin with tones, full-width letters
		}
		for id, body := range docs {
			f.put("note", id, "acc-1", body)
		}
		f.flush()
		cases := []struct {
			q    string
			want []string
		}{
			{"报价", []string{"n1"}},       // never n4: 报。价 is not 报价
			{"延期", []string{"n2"}},       // two-character word
			{"张三", []string{"n2", "n5"}}, // name, also inside 张三丰
			{"延期交付", []string{"n2"}},     // phrase of bigrams
			{"技术方案评审", []string{"n2"}},
			{"交付延期", nil}, // order matters inside a phrase
			{"CRM系统", []string{"n1"}},
			{"crm", []string{"n1", "n5", "n7"}},
			{"CrM", []string{"n1", "n5", "n7"}}, // case-insensitive
			{"5678", []string{"n3"}},            // phone fragments
			{"1381234", []string{"n3"}},
			{"138 1234", []string{"n3"}},
			{"13812345678", []string{"n3"}},
			{"88886666", []string{"n6"}}, // hyphenated landline, joined
			{"010-8888", []string{"n6"}},
			{"zhangsan", []string{"n3"}}, // email local part
			{"zhangsan@example.com", []string{"n3"}},
			{"example", []string{"n3"}},
			{"demo", []string{"n3"}},
			{"migrat", []string{"n5"}}, // a word being typed
			{"zhang wei", []string{"n7"}},
			{"张", []string{"n2", "n5"}}, // a lone character as a prefix
			{"签署", []string{"n4"}},      // last two characters of a run
			{"署", []string{"n4"}},       // the lone last character
			{"报价 合同", nil},              // AND across terms
			{"合同 价格", []string{"n4"}},
			{"不存在的词", nil},
		}
		for _, c := range cases {
			if got := f.ids(c.q); !slices.Equal(got, c.want) {
				t.Errorf("search %q = %v, want %v", c.q, got, c.want)
			}
		}
		hits := f.search(Query{Text: "报价"})
		if len(hits) != 1 || hits[0].AccountID != "acc-1" || hits[0].Title != "note n1" || hits[0].Type != "note" ||
			!strings.Contains(hits[0].Snippet, "报价") || hits[0].UpdatedAt.IsZero() {
			t.Errorf("hit = %+v", hits)
		}
	})
}

func TestSearchVisibleAndTypes(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		if _, err := d.Exec(ctx, "CREATE TABLE test_acl (user_id TEXT NOT NULL, account_id TEXT NOT NULL)"); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Exec(ctx, "INSERT INTO test_acl VALUES ('u1', 'acc-1'), ('u2', 'acc-2'), ('u2', 'acc-1')"); err != nil {
			t.Fatal(err)
		}
		f := newFixture(t, d)
		f.put("note", "a1", "acc-1", "报价已发送")
		f.put("note", "a2", "acc-2", "报价待审批")
		f.put("contact", "c1", "acc-2", "采购负责人，关注报价")
		f.put("note", "x1", "", "内部报价模板") // no account: visible to no one
		f.flush()
		visible := "EXISTS (SELECT 1 FROM test_acl x WHERE x.account_id = d.account_id AND x.user_id = ?)"
		cases := []struct {
			user  string
			types []string
			want  []string
		}{
			{"u1", nil, []string{"a1"}},
			{"u2", nil, []string{"a1", "a2", "c1"}},
			{"u2", []string{"contact"}, []string{"c1"}},
			{"u2", []string{"note", "contact"}, []string{"a1", "a2", "c1"}},
			{"u3", nil, nil},
		}
		for _, c := range cases {
			var got []string
			for _, h := range f.search(Query{Text: "报价", Types: c.types, Visible: visible, VisibleArgs: []any{c.user}}) {
				got = append(got, h.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, c.want) {
				t.Errorf("user %s types %v: %v, want %v", c.user, c.types, got, c.want)
			}
		}
		if got := f.search(Query{Text: "报价", Types: []string{"note"}}); len(got) != 3 {
			t.Errorf("types filter without scope: %d hits", len(got))
		}
		if got := f.search(Query{Text: "报价", Visible: "d.account_id IS NULL"}); len(got) != 1 || got[0].ID != "x1" || got[0].AccountID != "" {
			t.Errorf("no-account doc: %+v", got)
		}
	})
}

func TestSearchPaging(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		same := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range 47 {
			body := fmt.Sprintf("第%d次跟进：客户确认报价", i)
			if i%3 == 0 {
				f.put("note", fmt.Sprintf("n%02d", i), "acc", body, same) // many share one timestamp
			} else {
				f.put("note", fmt.Sprintf("n%02d", i), "acc", body)
			}
		}
		f.put("note", "other", "acc", "无关内容")
		f.flush()
		var all []Hit
		cursor := ""
		pages := 0
		for {
			hits, next, err := f.ix.Search(context.Background(), Query{Text: "报价", Limit: 10, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			pages++
			all = append(all, hits...)
			if next == "" {
				break
			}
			if len(hits) != 10 {
				t.Fatalf("page %d has %d hits but a next cursor", pages, len(hits))
			}
			cursor = next
		}
		if pages != 5 || len(all) != 47 {
			t.Fatalf("%d pages, %d hits; want 5 pages, 47 hits", pages, len(all))
		}
		seen := map[string]bool{}
		for i, h := range all {
			if seen[h.ID] {
				t.Errorf("duplicate %s", h.ID)
			}
			seen[h.ID] = true
			if i > 0 && h.UpdatedAt.After(all[i-1].UpdatedAt) {
				t.Errorf("not newest first at %d: %v after %v", i, h.UpdatedAt, all[i-1].UpdatedAt)
			}
		}
		if !all[len(all)-1].UpdatedAt.Equal(same) {
			t.Errorf("oldest hit at %v, want %v", all[len(all)-1].UpdatedAt, same)
		}
		// A doc updated between pages moves to the front and is not seen twice.
		hits, next, _ := f.ix.Search(context.Background(), Query{Text: "报价", Limit: 40})
		if len(hits) != 40 || next == "" {
			t.Fatalf("first page: %d hits, next %q", len(hits), next)
		}
		f.put("note", hits[39].ID, "acc", "更新后的报价")
		f.flush()
		rest, next, err := f.ix.Search(context.Background(), Query{Text: "报价", Limit: 40, Cursor: next})
		if err != nil || next != "" {
			t.Fatal(err, next)
		}
		for _, h := range rest {
			if slices.ContainsFunc(hits, func(x Hit) bool { return x.ID == h.ID }) {
				t.Errorf("%s seen on both pages", h.ID)
			}
		}
		if len(rest) != 7 {
			t.Errorf("second page: %d hits, want 7", len(rest))
		}
	})
}

func TestMarkDirtyJoinsTransaction(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.store["note"].docs["r1"] = Doc{ID: "r1", Body: "回滚的报价"}
		f.store["note"].docs["c1"] = Doc{ID: "c1", Body: "提交的报价"}
		boom := errors.New("boom")
		err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			if err := f.ix.MarkDirty(ctx, "note", "r1"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		err = d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			return f.ix.MarkDirty(ctx, "note", "c1")
		})
		if err != nil {
			t.Fatal(err)
		}
		f.flush()
		if got := f.ids("报价"); !slices.Equal(got, []string{"c1"}) {
			t.Errorf("indexed %v, want only the committed c1", got)
		}
		if err := f.ix.MarkDirty(ctx, "nosuchtype", "x"); !errors.Is(err, ErrUnknownType) {
			t.Errorf("MarkDirty of an unregistered type: %v", err)
		}
	})
}

func TestUpdateAndDelete(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ctx := context.Background()
		f.put("note", "n1", "acc", "客户要求报价")
		f.put("note", "n2", "acc", "客户要求报价")
		f.put("contact", "n1", "acc", "同 id 不同类型：报价") // same id, other type
		f.flush()
		if got := f.search(Query{Text: "报价"}); len(got) != 3 {
			t.Fatalf("%d hits", len(got))
		}
		// Update: the old words no longer match, the new ones do.
		f.put("note", "n1", "acc", "合同已签署")
		// Marked many times before a drain: indexed once, still correct.
		for range 5 {
			if err := f.ix.MarkDirty(ctx, "note", "n1"); err != nil {
				t.Fatal(err)
			}
		}
		f.flush()
		if got := f.ids("报价"); !slices.Equal(got, []string{"n1", "n2"}) { // contact n1 and note n2
			t.Errorf("报价 after update: %v", got)
		}
		if hits := f.search(Query{Text: "报价", Types: []string{"note"}}); len(hits) != 1 || hits[0].ID != "n2" {
			t.Errorf("note n1 still matches its old text: %+v", hits)
		}
		if got := f.ids("合同"); !slices.Equal(got, []string{"n1"}) {
			t.Errorf("合同 after update: %v", got)
		}
		// Update with the same timestamp (seq kept) also replaces tokens.
		at := f.store["note"].docs["n1"].UpdatedAt
		f.put("note", "n1", "acc", "改为试用", at)
		f.flush()
		if got := f.ids("合同"); got != nil {
			t.Errorf("合同 after same-time update: %v", got)
		}
		if got := f.ids("试用"); !slices.Equal(got, []string{"n1"}) {
			t.Errorf("试用 after same-time update: %v", got)
		}
		// Delete: the Loader reports it missing.
		f.remove("note", "n2")
		f.flush()
		if hits := f.search(Query{Text: "报价"}); len(hits) != 1 || hits[0].Type != "contact" {
			t.Errorf("deleted doc still found: %+v", hits)
		}
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM search_docs").Scan(&n); err != nil || n != 2 {
			t.Errorf("search_docs has %d rows (%v), want 2", n, err)
		}
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM search_dirty").Scan(&n); err != nil || n != 0 {
			t.Errorf("search_dirty has %d rows (%v), want 0", n, err)
		}
		if d.Dialect == db.SQLite {
			// The FTS5 table holds exactly the live documents.
			if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM search_fts WHERE search_fts MATCH '\"客户\"'").Scan(&n); err != nil || n != 0 {
				t.Errorf("stale FTS rows: %d (%v)", n, err)
			}
		}
		// Reindex: explicit ids, and everything of a type.
		f.store["contact"].docs["n1"] = Doc{ID: "n1", Body: "重新索引的演示", UpdatedAt: f.clock}
		if err := f.ix.Reindex(ctx, "contact", nil); err != nil {
			t.Fatal(err)
		}
		if got := f.ids("演示"); !slices.Equal(got, []string{"n1"}) {
			t.Errorf("after Reindex(all): %v", got)
		}
		delete(f.store["contact"].docs, "n1")
		if err := f.ix.Reindex(ctx, "contact", []string{"n1"}); err != nil {
			t.Fatal(err)
		}
		if got := f.ids("演示"); got != nil {
			t.Errorf("after Reindex of a deleted doc: %v", got)
		}
		if err := f.ix.Reindex(ctx, "nosuchtype", []string{"x"}); !errors.Is(err, ErrUnknownType) {
			t.Errorf("Reindex of an unregistered type: %v", err)
		}
	})
}

func TestHostileQueries(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.put("note", "n1", "acc", `报价 "quoted" it's a:b & c | d ! (e) * NEAR AND OR NOT \ 1381234`)
		f.flush()
		hostile := []string{
			`"`, `""`, `"报价`, `报价"`, `'`, `''`, `it's`, `\`, `\'`, `*`, `**`, `报*`, `*报`, `:`, `a:b`, `:*`, `报价:*`,
			`&`, `|`, `!`, `!!报价`, `(`, `)`, `((报价)`, `<->`, `<2>`, `报价 <-> 价格`, `a & | b`, `NEAR(a b)`, `NEAR`,
			`AND`, `OR`, `NOT`, `报价 NOT 合同`, `- 报价`, `+`, `^报价`, `tokens:报价`, `search_fts:x`, `{tokens}: x`,
			`'; DROP TABLE search_docs; --`, `%`, `_`, `?`, `$1`, "\x00", "\xff\xfe", "报价\x00价格", "\u200b", "\ufeff报价",
			strings.Repeat("报价", 500), strings.Repeat(`"(`, 300), strings.Repeat("a ", 1000), strings.Repeat("1", 500),
			strings.Repeat("报 ", 200), "🙂", "表情🙂报价",
		}
		for _, q := range hostile {
			if _, _, err := f.ix.Search(context.Background(), Query{Text: q}); err != nil {
				t.Errorf("Search(%q): %v", q, err)
			}
		}
		for _, q := range []string{`"quoted"`, `it's`, `a:b`, `(e)`, `NEAR`, `AND`, `!!报价`, `报价:*`, `"报价`} {
			if got := f.ids(q); !slices.Equal(got, []string{"n1"}) {
				t.Errorf("Search(%q) = %v, want n1", q, got)
			}
		}
		for _, c := range []string{"x", "!!", "czE", "czEuLTU", "czEuYWJj", strings.Repeat("A", 100)} {
			if _, _, err := f.ix.Search(context.Background(), Query{Text: "报价", Cursor: c}); !errors.Is(err, ErrInvalidCursor) {
				t.Errorf("cursor %q: %v, want ErrInvalidCursor", c, err)
			}
		}
	})
}

func TestIndexingJob(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		q := jobs.New(d, nil, jobs.Options{PollInterval: 20 * time.Millisecond})
		f.ix.RegisterJobs(q)
		if err := q.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			q.Stop(ctx)
		})
		f.put("note", "j1", "acc", "异步索引的演示记录")
		deadline := time.Now().Add(10 * time.Second)
		for len(f.search(Query{Text: "演示"})) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the search.index job did not index the document")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// Two indexers draining one outbox at once (two instances) lose nothing and
// leave the newest text indexed.
func TestConcurrentDrains(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		other := New(d)
		other.Register("note", f.store["note"].load)
		other.Register("contact", f.store["contact"].load)
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		errc := make(chan error, 2)
		for _, ix := range []*Index{f.ix, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					if _, err := ix.Drain(ctx, 7); err != nil && ctx.Err() == nil {
						errc <- err
						return
					}
				}
			}()
		}
		for i := range 60 {
			f.put("note", fmt.Sprintf("n%d", i%20), "acc", fmt.Sprintf("第%d版 报价", i))
		}
		cancel()
		wg.Wait()
		close(errc)
		for err := range errc {
			t.Fatal(err)
		}
		f.flush()
		hits := f.search(Query{Text: "报价", Limit: 100})
		if len(hits) != 20 {
			t.Fatalf("%d hits, want 20", len(hits))
		}
		for _, h := range hits {
			if want := f.store["note"].docs[h.ID].Body; h.Snippet != want {
				t.Errorf("%s indexed %q, want the latest %q", h.ID, h.Snippet, want)
			}
		}
	})
}

// On PostgreSQL, Search estimates how common a query is from the column
// statistics, a phrase by its rarest bigram, and walks seq for common ones.
func TestPostgresPlanChoice(t *testing.T) {
	d := dbtest.OpenPostgres(t, dbtest.Options{})
	f := newFixture(t, d)
	for i := range 300 {
		body := fmt.Sprintf("第%d条：技术方案和报价", i)
		if i == 7 {
			body += "，罕见词"
		}
		f.put("note", fmt.Sprintf("n%03d", i), "acc", body)
	}
	f.flush()
	ix := New(d) // fresh statistics cache
	if ix.orderedWalk(context.Background(), QueryTokens("报价"), 20) {
		t.Error("walked before ANALYZE, without statistics")
	}
	if _, err := d.Exec(context.Background(), "ANALYZE search_docs"); err != nil {
		t.Fatal(err)
	}
	ix = New(d)
	for q, want := range map[string]bool{"报价": true, "技术方案": true, "罕见词": false, "罕见 报价": false, "量子": false, "技": true} {
		if got := ix.orderedWalk(context.Background(), QueryTokens(q), 20); got != want {
			t.Errorf("orderedWalk(%q) = %v, want %v", q, got, want)
		}
	}
	if got := f.ids("罕见词"); !slices.Equal(got, []string{"n007"}) {
		t.Errorf("罕见词: %v", got)
	}
	if hits := f.search(Query{Text: "技术方案", Limit: 5}); len(hits) != 5 || hits[0].ID != "n299" {
		t.Errorf("技术方案: %+v", hits)
	}
	// Search inside a caller's transaction leaves its settings as they were.
	err := d.InTx(context.Background(), func(ctx context.Context, tx *db.Tx) error {
		if _, _, err := f.ix.Search(ctx, Query{Text: "报价"}); err != nil {
			return err
		}
		var bitmap, plan string
		if err := tx.QueryRow(ctx, "SELECT current_setting('enable_bitmapscan'), current_setting('plan_cache_mode')").Scan(&bitmap, &plan); err != nil {
			return err
		}
		if bitmap != "on" || plan != "auto" {
			t.Errorf("settings after Search: enable_bitmapscan=%s plan_cache_mode=%s", bitmap, plan)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
