package server_test

import (
	"testing"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// The authorization matrix: every built-in role × every user, department,
// role, token, audit and job action × a target in the actor's own department
// (here a sub-department of it) or in another department. Each cell states
// the answer the API must give. 404 means "outside your data scope": the
// record's existence is not revealed.
//
// Columns: admin, manager, presales, sales, service, marketing, tech, aftersales.
var matrixRoles = []string{"admin", "manager", "presales", "sales", "service", "marketing", "tech", "aftersales"}

type cell [8]int

// staff is the answer of the six ordinary staff roles (same for each).
func staff(admin, manager, others int) cell {
	return cell{admin, manager, others, others, others, others, others, others}
}

var matrix = []struct {
	action string
	want   cell
}{
	{"list users: rows visible (self + department subtree / all)", staff(5, 2, 1)},
	{"get self", staff(200, 200, 200)},
	{"get user in own department", staff(200, 200, 404)},
	{"get user in other department", staff(200, 404, 404)},
	{"update user in own department", staff(200, 200, 403)},
	{"update user in other department", staff(200, 404, 403)},
	{"reveal contact of user in own department", staff(200, 200, 403)},
	{"reveal contact of user in other department", staff(200, 404, 403)},
	{"create user in own department", staff(201, 201, 403)},
	{"create user in other department", staff(201, 422, 403)},
	{"grant admin role to user in own department", staff(200, 422, 403)},
	{"reset password of user in own department", staff(204, 204, 403)},
	{"reset password of user in other department", staff(204, 404, 403)},
	{"disable user in own department", staff(200, 200, 403)},
	{"disable user in other department", staff(200, 404, 403)},
	{"list departments", staff(200, 200, 200)},
	{"create department", staff(201, 403, 403)},
	{"rename other department", staff(200, 403, 403)},
	{"list roles", staff(200, 200, 200)},
	{"change a role's permissions", staff(200, 403, 403)},
	{"create own API token", staff(201, 201, 201)},
	{"list tokens of user in other department", staff(200, 403, 403)},
	{"revoke token of user in other department", staff(204, 403, 403)},
	{"read audit log", staff(200, 403, 403)},
	{"list jobs", staff(200, 403, 403)},
}

func TestAuthorizationMatrix(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		deptA := e.Department(admin, "销售一部", root)
		deptA1 := e.Department(admin, "华东组", deptA)
		deptB := e.Department(admin, "销售二部", root)

		got := map[string]*cell{}
		for _, m := range matrix {
			got[m.action] = &cell{}
		}
		for ri, role := range matrixRoles {
			// Each role gets its own actor and fresh targets so that
			// destructive cells of one role cannot affect another's.
			actor := e.User(admin, "actor_"+role, []string{role}, deptA)
			same := e.User(admin, "same_"+role, []string{"sales"}, deptA1)
			other := e.User(admin, "other_"+role, []string{"sales"}, deptB)
			otherToken := other.Do("POST", "/api/v1/me/tokens", map[string]string{"name": "t"}).Expect(t, 201).Str("id")
			// An extra pair so the list counts differ between scopes.
			if ri == 0 {
				e.User(admin, "extra_b", []string{"sales"}, deptB)
			}
			set := func(action string, status int) { got[action][ri] = status }

			var page struct {
				Items []map[string]any `json:"items"`
			}
			r := actor.Do("GET", "/api/v1/users?limit=200", nil)
			if r.Status == 200 {
				r.JSON(&page)
				n := 0
				for _, u := range page.Items {
					// Count only users of this role's round, plus the fixed ones.
					switch u["username"] {
					case "actor_" + role, "same_" + role, "other_" + role, "admin", "extra_b":
						n++
					}
				}
				set(matrix[0].action, n)
			} else {
				set(matrix[0].action, -r.Status)
			}
			set("get self", actor.Do("GET", "/api/v1/users/"+actor.ID, nil).Status)
			set("get user in own department", actor.Do("GET", "/api/v1/users/"+same.ID, nil).Status)
			set("get user in other department", actor.Do("GET", "/api/v1/users/"+other.ID, nil).Status)
			set("update user in own department", actor.Do("PATCH", "/api/v1/users/"+same.ID, map[string]string{"display_name": "改名"}).Status)
			set("update user in other department", actor.Do("PATCH", "/api/v1/users/"+other.ID, map[string]string{"display_name": "改名"}).Status)
			set("reveal contact of user in own department", actor.Do("POST", "/api/v1/users/"+same.ID+"/reveal", nil).Status)
			set("reveal contact of user in other department", actor.Do("POST", "/api/v1/users/"+other.ID+"/reveal", nil).Status)
			newUser := func(name, dept string) int {
				return actor.Do("POST", "/api/v1/users", map[string]any{"username": name, "display_name": name, "department_id": dept,
					"roles": []string{"sales"}, "password": servertest.Password}).Status
			}
			set("create user in own department", newUser("new_a_"+role, deptA1))
			set("create user in other department", newUser("new_b_"+role, deptB))
			set("grant admin role to user in own department", actor.Do("PATCH", "/api/v1/users/"+same.ID, map[string]any{"roles": []string{"admin"}}).Status)
			set("reset password of user in own department", actor.Do("POST", "/api/v1/users/"+same.ID+"/reset-password", map[string]string{"new_password": "Another-passw0rd"}).Status)
			set("reset password of user in other department", actor.Do("POST", "/api/v1/users/"+other.ID+"/reset-password", map[string]string{"new_password": "Another-passw0rd"}).Status)
			set("disable user in own department", actor.Do("POST", "/api/v1/users/"+same.ID+"/disable", nil).Status)
			set("disable user in other department", actor.Do("POST", "/api/v1/users/"+other.ID+"/disable", nil).Status)
			set("list departments", actor.Do("GET", "/api/v1/departments", nil).Status)
			set("create department", actor.Do("POST", "/api/v1/departments", map[string]any{"name": "新部门" + role, "parent_id": root}).Status)
			set("rename other department", actor.Do("PATCH", "/api/v1/departments/"+deptB, map[string]any{"name": "销售二部" + role}).Status)
			set("list roles", actor.Do("GET", "/api/v1/roles", nil).Status)
			set("change a role's permissions", actor.Do("PATCH", "/api/v1/roles/marketing", map[string]any{"permissions": []string{"users.read"}}).Status)
			set("create own API token", actor.Do("POST", "/api/v1/me/tokens", map[string]string{"name": "mine"}).Status)
			set("list tokens of user in other department", actor.Do("GET", "/api/v1/users/"+other.ID+"/tokens", nil).Status)
			set("revoke token of user in other department", actor.Do("DELETE", "/api/v1/users/"+other.ID+"/tokens/"+otherToken, nil).Status)
			set("read audit log", actor.Do("GET", "/api/v1/audit", nil).Status)
			set("list jobs", actor.Do("GET", "/api/v1/jobs", nil).Status)
		}
		for _, m := range matrix {
			if *got[m.action] != m.want {
				t.Errorf("%s:\n  got  %v\n  want %v  (%v)", m.action, *got[m.action], m.want, matrixRoles)
			}
		}
	})
}
