package authz

import (
	"strings"
	"testing"
)

func TestFilterAndSeesAgree(t *testing.T) {
	own := &Principal{UserID: "u1", Scope: ScopeOwn, Departments: []string{"d1"}}
	dept := &Principal{UserID: "u1", Scope: ScopeDepartment, Departments: []string{"d1", "d2"}}
	all := &Principal{UserID: "u1", Scope: ScopeAll}
	cols := Columns{Owner: "t.owner_id", Department: "t.department_id", RecordType: "account", ID: "t.id"}

	q, args := own.Filter(cols)
	if !strings.Contains(q, "t.owner_id = ?") || strings.Contains(q, "department_id IN") || len(args) != 3 {
		t.Errorf("own filter: %s %v", q, args)
	}
	q, args = dept.Filter(cols)
	if !strings.Contains(q, "t.department_id IN (?, ?)") || len(args) != 5 {
		t.Errorf("department filter: %s %v", q, args)
	}
	if q, _ = all.Filter(cols); q != "1 = 1" {
		t.Errorf("all filter: %s", q)
	}
	if q, _ = (*Principal)(nil).Filter(cols); q != "1 = 0" {
		t.Errorf("nil principal sees rows: %s", q)
	}

	rec := Record{OwnerID: "u2", DepartmentID: "d2"}
	if own.Sees(rec) || !dept.Sees(rec) || !all.Sees(rec) {
		t.Error("Sees disagrees with scope")
	}
	if !own.Sees(Record{OwnerID: "u2", SharedWith: true}) || !own.Sees(Record{OwnerID: "u1"}) {
		t.Error("own scope must see own and shared records")
	}
}

func TestBuiltinRolesUseKnownPermissions(t *testing.T) {
	names := map[string]bool{}
	for _, r := range BuiltinRoles() {
		names[r.Name] = true
		if !r.Scope.Valid() {
			t.Errorf("%s: scope %q", r.Name, r.Scope)
		}
		for _, p := range r.Permissions {
			if !Known(p) {
				t.Errorf("%s: unknown permission %s", r.Name, p)
			}
		}
	}
	for _, want := range []string{"admin", "manager", "presales", "sales", "service", "marketing", "tech", "aftersales"} {
		if !names[want] {
			t.Errorf("role %s missing", want)
		}
	}
	if len(System().Permissions) != len(Catalogue) {
		t.Error("system principal lacks permissions")
	}
}
