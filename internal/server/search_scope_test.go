package server_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"testing"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// A scoped search finds exactly the hits of an unscoped one whose account the
// caller may open, in the same order, page after page. On PostgreSQL a
// common word is searched along each branch of the scope (owned, department,
// shared) over copies of each document's account owner and department
// (migration 0026): this pins that the copies follow transfers, bulk
// assignment and merges, so that the branches find every visible hit.
func TestScopedSearchMatchesVisibleHits(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		east := e.Department(admin, "华东销售部", root)
		south := e.Department(admin, "华南销售部", root)
		e1 := e.User(admin, "east.one", []string{"sales"}, east)
		e2 := e.User(admin, "east.two", []string{"sales"}, east)
		s1 := e.User(admin, "south.one", []string{"sales"}, south)
		head := e.User(admin, "east.head", []string{"manager"}, east)
		southHead := e.User(admin, "south.head", []string{"manager"}, south)
		owners := []*servertest.Client{e1, e2, s1}

		var ids []string
		for i := range 24 {
			c := owners[i%3]
			id := newAccount(t, c, map[string]any{"name": fmt.Sprintf("第%d号精密机械有限公司", i)}).Expect(t, 201).Str("id")
			ids = append(ids, id)
			summary := fmt.Sprintf("客户来电询问报价，第%d次沟通", i)
			if i%4 == 3 {
				summary = fmt.Sprintf("第%d次上门拜访", i)
			}
			c.Do("POST", "/api/v1/accounts/"+id+"/activities", map[string]any{"kind": "call", "summary": summary}).Expect(t, 201)
		}
		flushSearch(t, e)
		// Documents indexed before the changes below keep their rows: only
		// the account side changes, and the copies must follow it.
		e1.Do("POST", "/api/v1/accounts/"+ids[0]+"/transfer", map[string]any{"owner_id": s1.ID, "reason": "客户迁至广州"}).Expect(t, 200)
		admin.Do("POST", "/api/v1/accounts/bulk", map[string]any{"account_ids": []string{ids[4], ids[7]}, "owner_id": s1.ID, "reason": "调整分工"}).Expect(t, 200)
		e2.Do("PUT", "/api/v1/accounts/"+ids[1]+"/collaborators", map[string]any{"user_ids": []string{s1.ID}}).Expect(t, 200)
		admin.Do("POST", "/api/v1/accounts/"+ids[3]+"/merge", map[string]any{"source_id": ids[5]}).Expect(t, 200)
		flushSearch(t, e)
		if d.Dialect == db.Postgres {
			// Statistics, so that the common word is walked (see pgplan.go).
			if _, err := d.Exec(context.Background(), "ANALYZE search_docs"); err != nil {
				t.Fatal(err)
			}
		}

		type hit struct {
			Type      string `json:"type"`
			ID        string `json:"id"`
			AccountID string `json:"account_id"`
		}
		all := func(c *servertest.Client, q string) []hit {
			t.Helper()
			var out []hit
			cursor := ""
			for range 100 {
				var page struct {
					Items      []hit   `json:"items"`
					NextCursor *string `json:"next_cursor"`
				}
				path := "/api/v1/search?limit=4&q=" + url.QueryEscape(q)
				if cursor != "" {
					path += "&cursor=" + url.QueryEscape(cursor)
				}
				c.Do("GET", path, nil).Expect(t, 200).JSON(&page)
				out = append(out, page.Items...)
				if page.NextCursor == nil {
					return out
				}
				cursor = *page.NextCursor
			}
			t.Fatal("search never ended")
			return nil
		}
		for _, q := range []string{"报价", "精密", "拜访", "第7号"} {
			everything := all(admin, q)
			if len(everything) == 0 {
				t.Fatalf("%s: admin finds nothing", q)
			}
			for name, c := range map[string]*servertest.Client{"east.one": e1, "east.two": e2, "south.one": s1, "east.head": head, "south.head": southHead} {
				opens := map[string]bool{}
				var want []hit
				for _, h := range everything {
					if _, seen := opens[h.AccountID]; !seen {
						opens[h.AccountID] = c.Do("GET", "/api/v1/accounts/"+h.AccountID, nil).Status == 200
					}
					if opens[h.AccountID] {
						want = append(want, h)
					}
				}
				if got := all(c, q); !slices.Equal(got, want) {
					t.Errorf("%s searching %s:\n got  %v\n want %v", name, q, got, want)
				}
			}
		}
		// The transferred, reassigned, shared and merged accounts' documents.
		for _, id := range []string{ids[0], ids[4], ids[7], ids[1]} {
			found := false
			for _, h := range all(s1, "报价") {
				found = found || h.AccountID == id
			}
			if !found && id != ids[7] { // ids[7] is one whose call was a visit
				t.Errorf("south.one does not find account %s's call", id)
			}
		}
	})
}
