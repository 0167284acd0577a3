package server_test

import (
	"testing"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

// The quotes rows of the authorization matrix: every built-in role × the
// quote actions, against records in the actor's own department and in
// another. 404 means "outside your data scope". The cost row reads 1 when
// the cost is shown, 0 when it is hidden.
//
// Columns: admin, manager, presales, sales, service, marketing, tech, aftersales.
var quotesMatrix = []struct {
	action string
	want   cell
}{
	{"list quotes", cell{200, 200, 200, 200, 403, 403, 403, 403}},
	{"get colleague's quote in own department", cell{200, 200, 404, 404, 403, 403, 403, 403}},
	{"get quote in other department", cell{200, 404, 404, 404, 403, 403, 403, 403}},
	{"create quote", cell{201, 201, 201, 201, 403, 403, 403, 403}},
	{"edit colleague's quote in own department", cell{200, 200, 404, 404, 403, 403, 403, 403}},
	{"approve colleague's quote (rule: any manager)", cell{403, 200, 403, 403, 403, 403, 403, 403}},
	{"send colleague's approved quote", cell{200, 200, 404, 404, 403, 403, 403, 403}},
	{"see product cost", cell{1, 1, 0, 0, -403, -403, -403, -403}},
	{"create product", cell{201, 403, 403, 403, 403, 403, 403, 403}},
	{"add approval rule", cell{201, 403, 403, 403, 403, 403, 403, 403}},
}

func TestQuotesAuthorizationMatrix(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		q := newQuoteTeam(t, d)
		e := q.e
		root := e.RootDepartment(q.admin)
		deptB := e.Department(q.admin, "华北销售部", root)
		other := e.User(q.admin, "qm.other", []string{"sales"}, deptB)
		otherAcct := newAccount(t, other, map[string]any{"name": "华北客户"}).Expect(t, 201).Str("id")
		prod := q.product(t, "MX-1", 10_000, 6_000)
		q.rule(t, map[string]any{"name": "任何经理审批", "condition": "line_discount_gt", "threshold": 500, "approver_kind": "role", "approver_role": "manager"})
		otherQuote := other.Do("POST", "/api/v1/quotes", map[string]any{"account_id": otherAcct, "lines": []map[string]any{{"product_id": prod, "quantity": "1"}}}).Expect(t, 201).Str("id")

		got := map[string]*cell{}
		for _, m := range quotesMatrix {
			got[m.action] = &cell{}
		}
		for ri, role := range matrixRoles {
			actor := e.User(q.admin, "qm_"+role, []string{role}, q.dept)
			set := func(action string, v int) { got[action][ri] = v }
			// A colleague's fresh quotes: one draft with a 10 % discount
			// (needs a manager), one approved (no discount).
			mine := q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account, "lines": []map[string]any{{"product_id": prod, "quantity": "1", "discount": "10"}}}).Expect(t, 201).Str("id")
			q.sales.Do("POST", "/api/v1/quotes/"+mine+"/submit", nil).Expect(t, 200)
			plain := q.sales.Do("POST", "/api/v1/quotes", map[string]any{"account_id": q.account, "lines": []map[string]any{{"product_id": prod, "quantity": "1"}}}).Expect(t, 201).Str("id")
			q.sales.Do("POST", "/api/v1/quotes/"+plain+"/submit", nil).Expect(t, 200)

			set("list quotes", actor.Do("GET", "/api/v1/quotes", nil).Status)
			set("get colleague's quote in own department", actor.Do("GET", "/api/v1/quotes/"+mine, nil).Status)
			set("get quote in other department", actor.Do("GET", "/api/v1/quotes/"+otherQuote, nil).Status)
			acct := q.account
			if r := newAccount(t, actor, map[string]any{"name": "矩阵客户" + role}); r.Status == 201 {
				acct = r.Str("id")
			}
			set("create quote", actor.Do("POST", "/api/v1/quotes", map[string]any{"account_id": acct, "lines": []map[string]any{{"name": "服务", "quantity": "1", "unit_price": 100}}}).Status)
			set("edit colleague's quote in own department", actor.Do("PATCH", "/api/v1/quotes/"+plain, map[string]any{"notes": "改"}).Status)
			if got["edit colleague's quote in own department"][ri] == 200 {
				q.sales.Do("POST", "/api/v1/quotes/"+plain+"/submit", nil).Expect(t, 200)
			}
			set("approve colleague's quote (rule: any manager)", actor.Do("POST", "/api/v1/quotes/"+mine+"/approve", map[string]any{}).Status)
			set("send colleague's approved quote", actor.Do("POST", "/api/v1/quotes/"+plain+"/send", map[string]any{}).Status)
			r := actor.Do("GET", "/api/v1/products/"+prod, nil)
			switch {
			case r.Status != 200:
				set("see product cost", -r.Status)
			case r.Map()["cost"] != nil:
				set("see product cost", 1)
			}
			set("create product", actor.Do("POST", "/api/v1/products", map[string]any{"code": "M-" + role, "name": "x", "list_price": 1}).Status)
			set("add approval rule", actor.Do("POST", "/api/v1/approval-rules", map[string]any{"name": "r" + role, "condition": "amount_gt", "threshold": 1,
				"approver_kind": "department_head", "active": false}).Status)
		}
		for _, m := range quotesMatrix {
			if *got[m.action] != m.want {
				t.Errorf("%s:\n  got  %v\n  want %v  (%v)", m.action, *got[m.action], m.want, matrixRoles)
			}
		}
	})
}
