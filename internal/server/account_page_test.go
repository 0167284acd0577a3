package server_test

import (
	"encoding/json"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// The account page's timeline and contacts check the caller's scope inside
// their own query, and a department head's subtree is read with the session
// on every request. These tests pin what the page shows and hides through
// those paths: sub-sub-departments, a department moved out of (and back
// into) a head's tree taking effect on the very next request, empty pages
// of visible accounts, merged accounts, and each contact's links to other
// accounts exactly as the contact's own page gives them.
func TestAccountPageScopeAndContactLinks(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		east := e.Department(admin, "华东大区", root)
		eastA := e.Department(admin, "上海分部", east)
		eastA1 := e.Department(admin, "浦东组", eastA)
		south := e.Department(admin, "华南大区", root)
		head := e.User(admin, "east.head", []string{"manager"}, east)
		southHead := e.User(admin, "south.head", []string{"manager"}, south)
		sales := e.User(admin, "pudong.sales", []string{"sales"}, eastA1)
		peer := e.User(admin, "south.sales", []string{"sales"}, south)

		acc := newAccount(t, sales, map[string]any{"name": "上海浦江精密仪器有限公司", "contacts": []map[string]any{
			{"name": "周强", "mobile": "13912345678", "purchase_role": "user"},
			{"name": "吴芳", "mobile": "13687654321", "email": "wu.fang@pujiang.cn", "purchase_role": "decision_maker", "is_primary": true},
		}}).Expect(t, 201)
		id := acc.Str("id")
		other := newAccount(t, sales, map[string]any{"name": "苏州浦江贸易"}).Expect(t, 201).Str("id")
		third := newAccount(t, sales, map[string]any{"name": "无锡浦江物流"}).Expect(t, 201).Str("id")
		empty := newAccount(t, sales, map[string]any{"name": "南通空白客户"}).Expect(t, 201).Str("id")

		type link struct {
			AccountID    string `json:"account_id"`
			AccountName  string `json:"account_name"`
			PurchaseRole string `json:"purchase_role"`
			IsPrimary    bool   `json:"is_primary"`
		}
		type contact struct {
			ID       string `json:"id"`
			Name     string `json:"name"`
			Mobile   string `json:"mobile"`
			Masked   bool   `json:"masked"`
			Accounts []link `json:"accounts"`
		}
		contactsOf := func(c *servertest.Client, account string) []contact {
			t.Helper()
			var page struct {
				Items []contact `json:"items"`
			}
			c.Do("GET", "/api/v1/accounts/"+account+"/contacts", nil).Expect(t, 200).JSON(&page)
			return page.Items
		}
		cs := contactsOf(sales, id)
		if len(cs) != 2 || cs[0].Name != "吴芳" || cs[1].Name != "周强" || cs[0].Mobile != "136****4321" || !cs[0].Masked {
			t.Fatalf("contacts, primary first, masked: %+v", cs)
		}
		// 周强 also works for two other accounts (linked in this order).
		zhou := cs[1].ID
		sales.Do("POST", "/api/v1/accounts/"+third+"/contact-links", map[string]any{"contact_id": zhou, "purchase_role": "influencer"}).Expect(t, 200)
		// Links are listed in the order made, to the millisecond (ties go
		// by account id): two requests can land within one.
		time.Sleep(3 * time.Millisecond)
		sales.Do("POST", "/api/v1/accounts/"+other+"/contact-links", map[string]any{"contact_id": zhou, "purchase_role": "gatekeeper", "is_primary": true}).Expect(t, 200)
		sameAsContactPage := func(c *servertest.Client, account string) {
			t.Helper()
			for _, got := range contactsOf(c, account) {
				var want contact
				c.Do("GET", "/api/v1/contacts/"+got.ID, nil).Expect(t, 200).JSON(&want)
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				if string(g) != string(w) {
					t.Fatalf("account page's contact differs from the contact's own:\n%s\n%s", g, w)
				}
			}
		}
		cs = contactsOf(sales, id)
		if got := cs[1].Accounts; len(got) != 3 || got[0].AccountID != id || got[1].AccountID != third || got[2].AccountID != other ||
			got[2].AccountName != "苏州浦江贸易" || got[2].PurchaseRole != "gatekeeper" || !got[2].IsPrimary {
			t.Fatalf("周强's links: %+v", got)
		}
		sameAsContactPage(sales, id)
		sameAsContactPage(sales, other)

		page := func(c *servertest.Client, account string, want int) {
			t.Helper()
			c.Do("GET", "/api/v1/accounts/"+account, nil).Expect(t, want)
			c.Do("GET", "/api/v1/accounts/"+account+"/timeline?limit=50", nil).Expect(t, want)
			c.Do("GET", "/api/v1/accounts/"+account+"/timeline?kind=no_such_kind", nil).Expect(t, want)
			c.Do("GET", "/api/v1/accounts/"+account+"/contacts", nil).Expect(t, want)
			c.Do("GET", "/api/v1/accounts/"+account+"?expand=contacts,timeline", nil).Expect(t, want)
		}
		// The head of the region sees an account three levels down; the
		// other region does not, whether or not the page would be empty.
		page(head, id, 200)
		page(head, empty, 200)
		page(southHead, id, 404)
		page(peer, id, 404)
		page(peer, empty, 404)
		sameAsContactPage(head, id)
		var tl struct {
			Items []map[string]any `json:"items"`
		}
		head.Do("GET", "/api/v1/accounts/"+empty+"/timeline?kind=no_such_kind", nil).Expect(t, 200).JSON(&tl)
		if len(tl.Items) != 0 {
			t.Fatalf("filtered timeline: %+v", tl.Items)
		}
		if cs := contactsOf(head, empty); len(cs) != 0 {
			t.Fatalf("contacts of an account without any: %+v", cs)
		}

		// Moving the branch to the other region takes effect on the next
		// request of each head: nothing is remembered between requests.
		admin.Do("PATCH", "/api/v1/departments/"+eastA, map[string]any{"parent_id": south}).Expect(t, 200)
		page(head, id, 404)
		page(southHead, id, 200)
		admin.Do("PATCH", "/api/v1/departments/"+eastA, map[string]any{"parent_id": east}).Expect(t, 200)
		page(head, id, 200)
		page(southHead, id, 404)
		// Sharing opens the page to a colleague outside the scope.
		sales.Do("PUT", "/api/v1/accounts/"+id+"/collaborators", map[string]any{"user_ids": []string{peer.ID}}).Expect(t, 200)
		page(peer, id, 200)
		page(peer, empty, 404)

		// A merged account's page is gone, and links to it disappear from
		// the kept account's contacts.
		admin.Do("POST", "/api/v1/accounts/"+id+"/merge", map[string]any{"source_id": third}).Expect(t, 200)
		page(admin, third, 404)
		page(sales, third, 404)
		for _, c := range contactsOf(sales, id) {
			for _, l := range c.Accounts {
				if l.AccountID == third {
					t.Fatalf("link to the merged account: %+v", c)
				}
			}
		}
		sameAsContactPage(sales, id)
		sameAsContactPage(admin, id)
	})
}
