package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// A valid USCC (check character computed by the algorithm).
const testUSCC = "91350100M000100Y43"

func newAccount(t *testing.T, c *servertest.Client, body map[string]any) *servertest.Resp {
	t.Helper()
	return c.Do("POST", "/api/v1/accounts", body)
}

func flushSearch(t *testing.T, e *servertest.Env) {
	t.Helper()
	if err := e.Srv.Search.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestAccountWithContactsCallAndTimeline(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		sales := e.User(admin, "li.na", []string{"sales"}, root)

		r := newAccount(t, sales, map[string]any{"name": "深圳市腾云科技有限公司", "kind": "company", "uscc": testUSCC,
			"province_code": "440000", "city_code": "440300", "district_code": "440305", "source": "exhibition", "level": "A",
			"needs": "需要一套售前沟通管理系统，预算 50 万", "tags": []string{"重点", "华南"},
			"contacts": []map[string]any{{"name": "王伟", "title": "IT 总监", "mobile": "13812345678", "email": "wang.wei@tengyun.cn", "purchase_role": "decision_maker", "is_primary": true}}})
		r.Expect(t, 201)
		id := r.Str("id")
		if r.Str("region_name") != "广东省 深圳市 南山区" || r.Str("owner_id") != sales.ID || r.Header.Get("ETag") != `"1"` {
			t.Fatalf("account: %s", r.Body)
		}
		var contacts struct {
			Items []struct {
				ID     string `json:"id"`
				Mobile string `json:"mobile"`
				Email  string `json:"email"`
				Masked bool   `json:"masked"`
			} `json:"items"`
		}
		sales.Do("GET", "/api/v1/accounts/"+id+"/contacts", nil).Expect(t, 200).JSON(&contacts)
		if len(contacts.Items) != 1 || contacts.Items[0].Mobile != "138****5678" || contacts.Items[0].Email != "w***@tengyun.cn" || !contacts.Items[0].Masked {
			t.Fatalf("contacts not masked: %+v", contacts.Items)
		}
		cid := contacts.Items[0].ID
		rev := sales.Do("POST", "/api/v1/contacts/"+cid+"/reveal", nil).Expect(t, 200)
		if rev.Str("mobile") != "13812345678" {
			t.Fatalf("reveal: %s", rev.Body)
		}
		var n int
		d.QueryRow(context.Background(), "SELECT COUNT(*) FROM audit_log WHERE action = 'contact.reveal' AND entity_id = ?", cid).Scan(&n)
		if n != 1 {
			t.Fatalf("reveal audited %d times", n)
		}

		call := sales.Do("POST", "/api/v1/accounts/"+id+"/activities", map[string]any{"kind": "call", "direction": "outbound", "contact_id": cid,
			"duration_min": 12, "summary": "客户询问报价，希望下周拿到技术方案", "outcome": "同意安排演示", "next_step": "发送报价单",
			"next_step_at": time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)}).Expect(t, 201)
		if call.Str("kind") != "call" {
			t.Fatalf("activity: %s", call.Body)
		}
		var tl struct {
			Items []struct {
				Kind  string         `json:"kind"`
				Title string         `json:"title"`
				Body  string         `json:"body"`
				Data  map[string]any `json:"data"`
			} `json:"items"`
		}
		sales.Do("GET", "/api/v1/accounts/"+id+"/timeline", nil).Expect(t, 200).JSON(&tl)
		if len(tl.Items) < 3 || tl.Items[0].Kind != "call" || tl.Items[0].Data["next_step"] != "发送报价单" {
			t.Fatalf("timeline: %+v", tl.Items)
		}
		kinds := map[string]bool{}
		for _, it := range tl.Items {
			kinds[it.Kind] = true
		}
		if !kinds["account_created"] || !kinds["contact_added"] {
			t.Fatalf("timeline kinds: %v", kinds)
		}
		acc := sales.Do("GET", "/api/v1/accounts/"+id, nil).Expect(t, 200)
		if acc.Map()["last_contact_at"] == nil {
			t.Fatal("a call did not set last_contact_at")
		}
		// Filtered timeline.
		sales.Do("GET", "/api/v1/accounts/"+id+"/timeline?kind=contact_added", nil).Expect(t, 200).JSON(&tl)
		if len(tl.Items) != 1 {
			t.Fatalf("kind filter: %d", len(tl.Items))
		}
		// Editing concerns goes on the timeline and in the audit with a diff.
		sales.Do("PATCH", "/api/v1/accounts/"+id, map[string]any{"concerns": "担心数据迁移周期"}, "If-Match", acc.Header.Get("ETag")).Expect(t, 200)
		sales.Do("PATCH", "/api/v1/accounts/"+id, map[string]any{"concerns": "x"}, "If-Match", acc.Header.Get("ETag")).Expect(t, 412)
		sales.Do("GET", "/api/v1/accounts/"+id+"/timeline?kind=account_concerns_changed", nil).Expect(t, 200).JSON(&tl)
		if len(tl.Items) != 1 || tl.Items[0].Body != "担心数据迁移周期" {
			t.Fatalf("concerns on timeline: %+v", tl.Items)
		}
	})
}

func TestAccountValidation(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		cases := []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"name": ""}, "name"},
			{map[string]any{"name": "甲公司", "uscc": "91350100M000100Y44"}, "uscc"},
			{map[string]any{"name": "乙", "kind": "individual", "uscc": testUSCC}, "uscc"},
			{map[string]any{"name": "丙公司", "province_code": "440000", "city_code": "110100"}, "city_code"},
			{map[string]any{"name": "丁公司", "status": "vip"}, "status"},
			{map[string]any{"name": "戊公司", "needs": strings.Repeat("需", 4001)}, "needs"},
			{map[string]any{"name": "己公司", "contacts": []map[string]any{{"name": "张三", "mobile": "12345"}}}, "contacts.0.mobile"},
			{map[string]any{"name": "庚公司", "contacts": []map[string]any{{"name": "张三", "wechat": "中文微信"}}}, "contacts.0.wechat"},
			{map[string]any{"name": "辛公司", "owner_id": "nobody"}, "owner_id"},
		}
		for _, c := range cases {
			r := admin.Do("POST", "/api/v1/accounts", c.body)
			fields, _ := r.Map()["error"].(map[string]any)["fields"].(map[string]any)
			if r.Status != 422 || fields[c.field] == nil {
				t.Errorf("%v: %d %s", c.body, r.Status, r.Body)
			}
		}
		var n int
		d.QueryRow(context.Background(), "SELECT COUNT(*) FROM accounts").Scan(&n)
		if n != 0 {
			t.Fatalf("%d accounts half-written", n)
		}
	})
}

func TestDuplicatesAndMerge(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		a := newAccount(t, admin, map[string]any{"name": "深圳市腾云科技有限公司", "uscc": testUSCC,
			"contacts": []map[string]any{{"name": "王伟", "mobile": "13812345678"}}}).Expect(t, 201)
		// Full-width brackets, spaces and a legal-form suffix do not hide a duplicate.
		dup := newAccount(t, admin, map[string]any{"name": "深圳市 腾云科技（中国）股份有限公司"})
		if dup.Status != 409 || dup.Code() != "duplicate_suspected" || !strings.Contains(string(dup.Body), a.Str("id")) {
			t.Fatalf("name duplicate: %d %s", dup.Status, dup.Body)
		}
		byMobile := newAccount(t, admin, map[string]any{"name": "完全不同的名字", "contacts": []map[string]any{{"name": "老王", "mobile": "+86 138 1234 5678"}}})
		if byMobile.Code() != "duplicate_suspected" || !strings.Contains(string(byMobile.Body), `"mobile"`) {
			t.Fatalf("mobile duplicate: %s", byMobile.Body)
		}
		check := admin.Do("POST", "/api/v1/accounts/duplicates", map[string]any{"uscc": strings.ToLower(testUSCC)}).Expect(t, 200)
		if !strings.Contains(string(check.Body), `"uscc"`) {
			t.Fatalf("uscc duplicate: %s", check.Body)
		}
		b := newAccount(t, admin, map[string]any{"name": "深圳市 腾云科技（中国）股份有限公司", "industry": "软件", "confirm_duplicates": true,
			"contacts": []map[string]any{{"name": "李娜", "mobile": "13900001111"}}}).Expect(t, 201)
		admin.Do("POST", "/api/v1/accounts/"+b.Str("id")+"/activities", map[string]any{"kind": "visit", "summary": "上门拜访，了解需求"}).Expect(t, 201)

		m := admin.Do("POST", "/api/v1/accounts/"+a.Str("id")+"/merge", map[string]any{"source_id": b.Str("id")}).Expect(t, 200)
		acc := m.Map()["account"].(map[string]any)
		if acc["industry"] != "软件" {
			t.Fatalf("empty field not filled from the source: %v", acc)
		}
		admin.Do("GET", "/api/v1/accounts/"+b.Str("id"), nil).Expect(t, 404)
		var contacts struct{ Items []any }
		admin.Do("GET", "/api/v1/accounts/"+a.Str("id")+"/contacts", nil).Expect(t, 200).JSON(&contacts)
		if len(contacts.Items) != 2 {
			t.Fatalf("contacts after merge: %d", len(contacts.Items))
		}
		tl := admin.Do("GET", "/api/v1/accounts/"+a.Str("id")+"/timeline?kind=visit,account_merged", nil).Expect(t, 200)
		if strings.Count(string(tl.Body), `"kind"`) != 2 {
			t.Fatalf("timeline after merge: %s", tl.Body)
		}
		var detail string
		d.QueryRow(context.Background(), "SELECT detail FROM audit_log WHERE action = 'account.merge'").Scan(&detail)
		if !strings.Contains(detail, b.Str("id")) || !strings.Contains(detail, "moved") {
			t.Fatalf("merge audit: %s", detail)
		}
		admin.Do("POST", "/api/v1/accounts/"+a.Str("id")+"/merge", map[string]any{"source_id": a.Str("id")}).Expect(t, 422)
	})
}

func TestCustomerScopesSharingAndTransfer(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		east := e.Department(admin, "华东销售部", root)
		south := e.Department(admin, "华南销售部", root)
		owner := e.User(admin, "east.sales", []string{"sales"}, east)
		peer := e.User(admin, "south.sales", []string{"sales"}, south)
		boss := e.User(admin, "east.head", []string{"manager"}, east)
		southBoss := e.User(admin, "south.head", []string{"manager"}, south)

		acc := newAccount(t, owner, map[string]any{"name": "杭州云帆网络", "contacts": []map[string]any{{"name": "赵敏", "mobile": "13700001234"}}}).Expect(t, 201)
		id := acc.Str("id")
		// Another department's sales user sees nothing at all.
		var page struct {
			Items []map[string]any `json:"items"`
			Total int              `json:"total"`
		}
		peer.Do("GET", "/api/v1/accounts", nil).Expect(t, 200).JSON(&page)
		if page.Total != 0 || len(page.Items) != 0 {
			t.Fatalf("peer sees %d accounts", page.Total)
		}
		peer.Do("GET", "/api/v1/accounts/"+id, nil).Expect(t, 404)
		peer.Do("GET", "/api/v1/accounts/"+id+"/timeline", nil).Expect(t, 404)
		peer.Do("POST", "/api/v1/accounts/"+id+"/activities", map[string]any{"kind": "note", "summary": "x"}).Expect(t, 404)
		// The duplicate check tells them it exists, not which account it is.
		dup := peer.Do("POST", "/api/v1/accounts/duplicates", map[string]any{"name": "杭州云帆网络"}).Expect(t, 200)
		if strings.Contains(string(dup.Body), id) || !strings.Contains(string(dup.Body), `"visible":false`) {
			t.Fatalf("duplicate leaks: %s", dup.Body)
		}
		// The department head sees it; the other department's head does not.
		boss.Do("GET", "/api/v1/accounts/"+id, nil).Expect(t, 200)
		southBoss.Do("GET", "/api/v1/accounts/"+id, nil).Expect(t, 404)
		// Shared with a named collaborator: visible, contact details masked.
		owner.Do("PUT", "/api/v1/accounts/"+id+"/collaborators", map[string]any{"user_ids": []string{peer.ID}}).Expect(t, 200)
		peer.Do("GET", "/api/v1/accounts/"+id, nil).Expect(t, 200)
		cs := peer.Do("GET", "/api/v1/accounts/"+id+"/contacts", nil).Expect(t, 200)
		if !strings.Contains(string(cs.Body), "137****1234") || strings.Contains(string(cs.Body), "13700001234") {
			t.Fatalf("shared contacts not masked: %s", cs.Body)
		}
		// Transfer needs a reason and is recorded.
		owner.Do("POST", "/api/v1/accounts/"+id+"/transfer", map[string]any{"owner_id": peer.ID}).Expect(t, 422)
		owner.Do("POST", "/api/v1/accounts/"+id+"/transfer", map[string]any{"owner_id": peer.ID, "reason": "客户迁至深圳，由华南跟进"}).Expect(t, 200)
		got := peer.Do("GET", "/api/v1/accounts/"+id, nil).Expect(t, 200)
		if got.Str("owner_id") != peer.ID || got.Map()["department_id"] != south {
			t.Fatalf("transfer: %s", got.Body)
		}
		southBoss.Do("GET", "/api/v1/accounts/"+id, nil).Expect(t, 200)
		owner.Do("GET", "/api/v1/accounts/"+id, nil).Expect(t, 404)
		tl := peer.Do("GET", "/api/v1/accounts/"+id+"/timeline?kind=account_transferred", nil).Expect(t, 200)
		if !strings.Contains(string(tl.Body), "客户迁至深圳") {
			t.Fatalf("transfer not on timeline: %s", tl.Body)
		}
		// Tech staff may read but not edit; nobody without merge may merge.
		tech := e.User(admin, "tech.one", []string{"tech"}, south)
		tech.Do("PATCH", "/api/v1/accounts/"+id, map[string]any{"level": "A"}).Expect(t, 403)
		peer.Do("POST", "/api/v1/accounts/"+id+"/merge", map[string]any{"source_id": "x"}).Expect(t, 403)
	})
}

func TestSearchFindsTwoCharacterWordsInScope(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		a := e.Department(admin, "一部", root)
		b := e.Department(admin, "二部", root)
		mine := e.User(admin, "sales1", []string{"sales"}, a)
		other := e.User(admin, "sales2", []string{"sales"}, b)
		acc := newAccount(t, mine, map[string]any{"name": "成都天府软件园", "contacts": []map[string]any{{"name": "张三", "mobile": "13812345678", "email": "zhangsan@tf.cn"}}}).Expect(t, 201)
		mine.Do("POST", "/api/v1/accounts/"+acc.Str("id")+"/activities", map[string]any{"kind": "call", "summary": "客户要求交付延期两周，并重新报价"}).Expect(t, 201)
		newAccount(t, other, map[string]any{"name": "重庆报价测试公司"}).Expect(t, 201)
		flushSearch(t, e)

		type hits struct {
			Items []struct {
				Type, ID, AccountID, Snippet string
			} `json:"items"`
		}
		search := func(c *servertest.Client, q string) hits {
			var h hits
			c.Do("GET", "/api/v1/search?q="+q, nil).Expect(t, 200).JSON(&h)
			return h
		}
		if h := search(mine, "延期"); len(h.Items) != 1 || h.Items[0].Type != "activity" {
			t.Fatalf("延期: %+v", h.Items)
		}
		// 报价 is in my activity and in another department's account name:
		// I only find mine.
		if h := search(mine, "报价"); len(h.Items) != 1 || h.Items[0].Type != "activity" {
			t.Fatalf("报价 in scope: %+v", h.Items)
		}
		if h := search(mine, "张三"); len(h.Items) != 1 || h.Items[0].Type != "contact" || strings.Contains(h.Items[0].Snippet, "13812345678") {
			t.Fatalf("张三: %+v", h.Items)
		}
		if h := search(mine, "5678"); len(h.Items) != 1 {
			t.Fatalf("phone fragment: %+v", h.Items)
		}
		if h := search(mine, "天府软件"); len(h.Items) != 1 || h.Items[0].Type != "account" {
			t.Fatalf("phrase: %+v", h.Items)
		}
		if h := search(other, "延期"); len(h.Items) != 0 {
			t.Fatalf("out of scope found: %+v", h.Items)
		}
		for _, q := range []string{`"`, "*", "a%20OR%20b", "NEAR(", "%27%3B--", "!!!", ":*"} {
			mine.Do("GET", "/api/v1/search?q="+q, nil).Expect(t, 200)
		}
		mine.Do("GET", "/api/v1/search", nil).Expect(t, 400)
		// The account list's q uses the same index.
		var page struct{ Items []map[string]any }
		mine.Do("GET", "/api/v1/accounts?q=张三", nil).Expect(t, 200).JSON(&page)
		if len(page.Items) != 1 {
			t.Fatalf("list q by contact name: %d", len(page.Items))
		}
	})
}

func TestAccountListFiltersSortAndBulk(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		other := e.User(admin, "bulk.target", []string{"sales"}, root)
		var ids []string
		for i, name := range []string{"甲", "乙", "丙", "丁", "戊", "己", "庚"} {
			level := "B"
			if i%2 == 0 {
				level = "A"
			}
			r := newAccount(t, admin, map[string]any{"name": name + "科技", "level": level}).Expect(t, 201)
			ids = append(ids, r.Str("id"))
		}
		seen := map[string]bool{}
		cursor := ""
		for page := 0; page < 10; page++ {
			var p struct {
				Items      []map[string]any `json:"items"`
				NextCursor *string          `json:"next_cursor"`
				Total      int              `json:"total"`
			}
			admin.Do("GET", "/api/v1/accounts?limit=3&sort=name&level=A"+cursor, nil).Expect(t, 200).JSON(&p)
			if p.Total != 4 {
				t.Fatalf("total %d", p.Total)
			}
			for _, it := range p.Items {
				if seen[it["id"].(string)] || it["level"] != "A" {
					t.Fatalf("repeat or wrong level: %v", it)
				}
				seen[it["id"].(string)] = true
			}
			if p.NextCursor == nil {
				break
			}
			cursor = "&cursor=" + *p.NextCursor
		}
		if len(seen) != 4 {
			t.Fatalf("paged %d of 4", len(seen))
		}
		admin.Do("GET", "/api/v1/accounts?sort=bogus", nil).Expect(t, 400)
		admin.Do("GET", "/api/v1/accounts?no_contact_days=0", nil).Expect(t, 400)
		res := admin.Do("POST", "/api/v1/accounts/bulk", map[string]any{"account_ids": ids[:3], "add_tags": []string{"展会"}, "owner_id": other.ID, "reason": "重新分配"}).Expect(t, 200)
		if res.Map()["updated"].(float64) != 3 {
			t.Fatalf("bulk: %s", res.Body)
		}
		var p struct{ Items []map[string]any }
		other.Do("GET", "/api/v1/accounts?tag=展会", nil).Expect(t, 200).JSON(&p)
		if len(p.Items) != 3 {
			t.Fatalf("bulk result visible to new owner: %d", len(p.Items))
		}
		admin.Do("POST", "/api/v1/accounts/bulk", map[string]any{"account_ids": []string{ids[0], "missing"}, "add_tags": []string{"x"}}).Expect(t, 404)
		other.Do("GET", "/api/v1/accounts?tag=x", nil).Expect(t, 200).JSON(&p)
		if len(p.Items) != 0 {
			t.Fatal("failed bulk half-applied")
		}
		admin.Do("DELETE", "/api/v1/accounts/"+ids[6], nil).Expect(t, 204)
		admin.Do("GET", "/api/v1/accounts?archived=true&q=庚", nil).Expect(t, 200).JSON(&p)
		if len(p.Items) != 1 || p.Items[0]["archived"] != true {
			t.Fatalf("archived: %v", p.Items)
		}
	})
}
