package server_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// GET /accounts/{id}?expand=contacts,timeline is the account page in one
// request; it must say exactly what the three separate requests say (masking
// included), continue the timeline through the ordinary cursor, and refuse
// an unknown expansion clearly.
func TestExpandedAccountIsTheThreeRequests(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		north := e.Department(admin, "华北大区", root)
		sales := e.User(admin, "north.sales", []string{"sales"}, north)
		head := e.User(admin, "north.head", []string{"manager"}, north)
		outsider := e.User(admin, "other.sales", []string{"sales"}, root)

		acc := newAccount(t, sales, map[string]any{"name": "天津港联数据有限公司", "contacts": []map[string]any{
			{"name": "赵敏", "mobile": "13811112222", "email": "zhao.min@ganglian.cn", "purchase_role": "decision_maker", "is_primary": true},
			{"name": "钱进", "mobile": "13933334444", "purchase_role": "user"},
		}}).Expect(t, 201)
		id := acc.Str("id")
		// 55 logged calls plus the account's own creation events: more than
		// one expanded page.
		for i := range 55 {
			sales.Do("POST", "/api/v1/accounts/"+id+"/activities", map[string]any{"kind": "call", "direction": "outbound",
				"summary": "第" + string(rune('0'+i%10)) + "次电话回访"}).Expect(t, 201)
		}

		raw := func(c *servertest.Client, path string) map[string]any {
			t.Helper()
			var m map[string]any
			if err := json.Unmarshal(c.Do("GET", path, nil).Expect(t, 200).Body, &m); err != nil {
				t.Fatal(err)
			}
			return m
		}
		for _, c := range []*servertest.Client{sales, head, admin} {
			r := c.Do("GET", "/api/v1/accounts/"+id+"?expand=contacts,timeline", nil).Expect(t, 200)
			var got map[string]any
			if err := json.Unmarshal(r.Body, &got); err != nil {
				t.Fatal(err)
			}
			plain := c.Do("GET", "/api/v1/accounts/"+id, nil).Expect(t, 200)
			if r.Header.Get("ETag") == "" || r.Header.Get("ETag") != plain.Header.Get("ETag") {
				t.Fatalf("ETag %q, plain %q", r.Header.Get("ETag"), plain.Header.Get("ETag"))
			}
			contacts, timeline := got["contacts"], got["timeline"]
			delete(got, "contacts")
			delete(got, "timeline")
			if want := plain.Map(); !reflect.DeepEqual(got, want) {
				t.Fatalf("expanded account differs:\n%v\n%v", got, want)
			}
			if want := raw(c, "/api/v1/accounts/"+id+"/contacts"); !reflect.DeepEqual(contacts, want) {
				t.Fatalf("expanded contacts differ:\n%v\n%v", contacts, want)
			}
			want := raw(c, "/api/v1/accounts/"+id+"/timeline?limit=50")
			if !reflect.DeepEqual(timeline, want) {
				t.Fatalf("expanded timeline differs:\n%v\n%v", timeline, want)
			}
			tl := timeline.(map[string]any)
			if n := len(tl["items"].([]any)); n != 50 || tl["next_cursor"] == nil {
				t.Fatalf("first page: %d items, next %v", n, tl["next_cursor"])
			}
			rest := raw(c, "/api/v1/accounts/"+id+"/timeline?limit=50&cursor="+tl["next_cursor"].(string))
			if n := len(rest["items"].([]any)); n < 5 {
				t.Fatalf("the cursor continues with %d events", n)
			}
		}
		// A salesperson sees the contacts masked, as on the contacts request.
		var masked struct {
			Contacts struct {
				Items []struct {
					Name   string `json:"name"`
					Mobile string `json:"mobile"`
				} `json:"items"`
			} `json:"contacts"`
		}
		sales.Do("GET", "/api/v1/accounts/"+id+"?expand=contacts", nil).Expect(t, 200).JSON(&masked)
		if len(masked.Contacts.Items) != 2 || masked.Contacts.Items[0].Mobile != "138****2222" {
			t.Fatalf("masked contacts: %+v", masked.Contacts.Items)
		}
		// Only what is asked for comes along.
		only := sales.Do("GET", "/api/v1/accounts/"+id+"?expand=timeline", nil).Expect(t, 200).Map()
		if _, ok := only["contacts"]; ok || only["timeline"] == nil {
			t.Fatalf("expand=timeline: %v", only)
		}
		if m := sales.Do("GET", "/api/v1/accounts/"+id, nil).Expect(t, 200).Map(); m["contacts"] != nil || m["timeline"] != nil {
			t.Fatalf("unexpanded account carries related records: %v", m)
		}
		// Out of scope is not found, with or without expansion; an unknown
		// expansion is a named bad parameter.
		outsider.Do("GET", "/api/v1/accounts/"+id+"?expand=contacts,timeline", nil).Expect(t, 404)
		bad := sales.Do("GET", "/api/v1/accounts/"+id+"?expand=contacts,quotes", nil).Expect(t, 400)
		if bad.Code() != "invalid_parameter" {
			t.Fatalf("unknown expansion: %s", bad.Body)
		}
	})
}
