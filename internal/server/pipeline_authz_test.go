package server_test

import (
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// The pipeline's rows of the authorization matrix (same roles and columns as
// authz_matrix_test.go): every built-in role × every pipeline action on a
// deal owned by a colleague in the actor's department subtree or in another
// department. 404 means outside the caller's data scope.
var pipelineMatrix = []struct {
	action string
	want   cell
}{
	{"list opportunities", cell{200, 200, 200, 200, 403, 403, 200, 403}},
	{"create opportunity on own account", cell{201, 201, 201, 201, 403, 403, 403, 403}},
	{"get deal in own department", cell{200, 200, 404, 404, 403, 403, 404, 403}},
	{"get deal in other department", cell{200, 404, 404, 404, 403, 403, 404, 403}},
	{"edit deal in own department", cell{200, 200, 404, 404, 403, 403, 403, 403}},
	{"move deal in own department past a gate with a reason", cell{200, 200, 404, 404, 403, 403, 403, 403}},
	{"approve solution in own department", cell{200, 200, 403, 403, 403, 403, 403, 403}},
	{"approve solution in other department", cell{200, 404, 403, 403, 403, 403, 403, 403}},
	{"approve demo in own department", cell{200, 200, 403, 403, 403, 403, 403, 403}},
	{"answer support request assigned to someone else", cell{200, 403, 403, 403, 403, 403, 404, 403}},
	{"create pipeline", cell{201, 403, 403, 403, 403, 403, 403, 403}},
	{"delete deal in own department", cell{204, 204, 403, 403, 403, 403, 403, 403}},
}

func TestPipelineAuthorizationMatrix(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		deptA := e.Department(admin, "销售一部", root)
		deptA1 := e.Department(admin, "华东组", deptA)
		deptB := e.Department(admin, "销售二部", root)
		techDept := e.Department(admin, "技术部", root)
		tech := e.User(admin, "matrix.tech", []string{"tech"}, techDept)
		got := map[string]*cell{}
		for _, m := range pipelineMatrix {
			got[m.action] = &cell{}
		}
		due := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		for ri, role := range matrixRoles {
			actor := e.User(admin, "pm_actor_"+role, []string{role}, deptA)
			same := e.User(admin, "pm_same_"+role, []string{"sales"}, deptA1)
			other := e.User(admin, "pm_other_"+role, []string{"sales"}, deptB)
			set := func(action string, status int) { got[action][ri] = status }
			// Targets: a deal of a colleague in the actor's subtree with a
			// submitted solution, a demo request and a support request, and
			// a deal in another department with a submitted solution.
			target := func(owner *servertest.Client) (deal string, solution string) {
				acc := newAccount(t, owner, map[string]any{"name": "矩阵客户" + owner.ID[len(owner.ID)-6:]}).Expect(t, 201).Str("id")
				deal = newDeal(t, owner, acc, nil).ID
				solution = owner.Do("POST", "/api/v1/opportunities/"+deal+"/solutions", map[string]any{"title": "方案", "body_html": "<p>内容</p>"}).Expect(t, 201).Str("id")
				owner.Do("POST", "/api/v1/solutions/"+solution+"/submit", nil).Expect(t, 200)
				return deal, solution
			}
			sameDeal, sameSol := target(same)
			otherDeal, otherSol := target(other)
			demo := same.Do("POST", "/api/v1/opportunities/"+sameDeal+"/demos", map[string]any{"kind": "demo", "purpose": "产品演示", "starts_on": "2027-01-05", "duration_days": 1}).
				Expect(t, 201).Str("id")
			support := same.Do("POST", "/api/v1/opportunities/"+sameDeal+"/support-requests", map[string]any{"question": "能否对接 SAP？", "assignee_id": tech.ID, "due_at": due}).
				Expect(t, 201).Str("id")

			set("list opportunities", actor.Do("GET", "/api/v1/opportunities", nil).Status)
			ownAcc := admin.Do("POST", "/api/v1/accounts", map[string]any{"name": "自有客户" + role, "owner_id": actor.ID}).Expect(t, 201).Str("id")
			set("create opportunity on own account", actor.Do("POST", "/api/v1/opportunities", map[string]any{"account_id": ownAcc, "name": "新商机"}).Status)
			set("get deal in own department", actor.Do("GET", "/api/v1/opportunities/"+sameDeal, nil).Status)
			set("get deal in other department", actor.Do("GET", "/api/v1/opportunities/"+otherDeal, nil).Status)
			set("edit deal in own department", actor.Do("PATCH", "/api/v1/opportunities/"+sameDeal, map[string]any{"next_step": "约见"}).Status)
			set("move deal in own department past a gate with a reason", actor.Do("POST", "/api/v1/opportunities/"+sameDeal+"/move",
				map[string]any{"stage_id": stDesign, "override_reason": "特批"}).Status)
			set("approve solution in own department", actor.Do("POST", "/api/v1/solutions/"+sameSol+"/approve", map[string]any{}).Status)
			set("approve solution in other department", actor.Do("POST", "/api/v1/solutions/"+otherSol+"/approve", map[string]any{}).Status)
			set("approve demo in own department", actor.Do("POST", "/api/v1/demos/"+demo+"/approve", map[string]any{}).Status)
			set("answer support request assigned to someone else", actor.Do("POST", "/api/v1/support-requests/"+support+"/answer", map[string]any{"answer": "可以"}).Status)
			set("create pipeline", actor.Do("POST", "/api/v1/pipelines", map[string]any{"name": "流程" + role, "stages": []map[string]any{{"name": "一"}}}).Status)
			set("delete deal in own department", actor.Do("DELETE", "/api/v1/opportunities/"+sameDeal, nil).Status)
		}
		for _, m := range pipelineMatrix {
			if *got[m.action] != m.want {
				t.Errorf("%s:\n  got  %v\n  want %v  (%v)", m.action, *got[m.action], m.want, matrixRoles)
			}
		}
	})
}
