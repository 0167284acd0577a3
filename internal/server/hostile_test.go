package server_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/platform/httpx"
	"prelude/internal/server/servertest"
)

// TestHostileInputOnEveryRoute throws bad input at every route the router
// knows (e.Srv.Router.Routes(), so new endpoints are covered without
// editing this file):
//
//   - bodies: malformed JSON, wrong types for each field of the route's
//     documented request type (found by reflection, nested one level),
//     unknown fields, invalid UTF-8, a 1 MiB string, out-of-range numbers,
//     a wrong content type — each must get its API.md status (400/413);
//   - injection strings (SQL, HTML/script, templates, traversal, NUL, 64 KiB)
//     and huge in-range numbers in each string/number field of an otherwise
//     valid body: never a 5xx; if accepted, stored verbatim;
//   - path parameters: traversal, NUL bytes, invalid UTF-8, injection,
//     overlong values — a 4xx;
//   - query parameters: limit=-1 and friends, sort=drop table, injection,
//     forged cursors (garbage, overlong, base64 of other JSON, other routes'
//     cursors) — 200 or 400, never a 5xx, bad limits and sorts 400;
//   - another department's records: every {id} route hit by a sales user of
//     department B with department A's IDs must answer 403/404 exactly as
//     for an ID that does not exist, never with the data.
//
// Every 4xx must carry {"error":{"code","message"}} with a non-empty message,
// no JSON answer may contain a raw "<script>", and a request refused for
// bad input must not change the database (row counts, versions and
// updated_at sums of every table).
func TestHostileInputOnEveryRoute(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		h := newHostile(t, d)
		t.Run("bodies", h.capped(h.bodies))
		t.Run("injection", h.capped(h.injection))
		t.Run("path", h.capped(h.pathParams))
		t.Run("query", h.capped(h.queryParams))
		t.Run("cursors", h.capped(h.cursors))
		t.Run("other department", h.capped(h.otherDepartment))
		t.Logf("%d routes, %d hostile requests", len(h.routes), h.sent)
	})
}

// hostileMissingID is shaped like a real ID but names nothing.
const hostileMissingID = "01a00000-0000-7000-8000-000000000000"

// hostileStatuses are the error statuses of shared/API.md (405 is the router's
// answer to a wrong method).
var hostileStatuses = []int{400, 401, 403, 404, 405, 409, 412, 413, 422, 429}

type hostile struct {
	t      *testing.T
	e      *servertest.Env
	d      *db.DB
	admin  *servertest.Client
	a, b   *servertest.Client // sales users of departments A and B
	routes []httpx.Route
	root   string
	deptA  string
	// ids holds fixture IDs by actor and collection path pattern (the part
	// of a route path before a parameter), e.g. ids["a"]["/api/v1/accounts"].
	ids map[string]map[string]string
	// secrets are department A's distinctive values that department B must
	// never see.
	secrets []string
	fp      *hostileFingerprint
	seq     int
	sent    int
	errors  map[*testing.T]int
}

func newHostile(t *testing.T, d *db.DB) *hostile {
	e := servertest.Start(t, d)
	h := &hostile{t: t, e: e, d: d, ids: map[string]map[string]string{"admin": {}, "a": {}, "b": {}}, errors: map[*testing.T]int{}}
	h.admin = e.Admin()
	h.root = e.RootDepartment(h.admin)
	h.deptA = e.Department(h.admin, "敌意测试甲部", h.root)
	deptB := e.Department(h.admin, "敌意测试乙部", h.root)
	h.a = e.User(h.admin, "hostile.a", []string{"sales"}, h.deptA)
	h.b = e.User(h.admin, "hostile.b", []string{"sales"}, deptB)
	victim := h.admin.Do("POST", "/api/v1/users", map[string]any{"username": "hostile.victim", "display_name": "受害者", "department_id": h.deptA,
		"roles": []string{"sales"}, "password": servertest.Password}).Expect(t, 201).Str("id")

	// Department A's data, created by its sales user.
	secretName, secretMobile := "甲部机密客户有限公司", "13912345678"
	accA := h.a.Do("POST", "/api/v1/accounts", map[string]any{"name": secretName, "needs": "甲部机密需求",
		"contacts": []map[string]any{{"name": "甲部机密联系人", "mobile": secretMobile, "email": "secret.a@example.cn"}}}).Expect(t, 201).Str("id")
	h.secrets = []string{secretName, "甲部机密需求", "甲部机密联系人", secretMobile, "secret.a@example.cn", "甲部机密纪要"}
	var cs struct {
		Items []struct{ ID string } `json:"items"`
	}
	h.a.Do("GET", "/api/v1/accounts/"+accA+"/contacts", nil).Expect(t, 200).JSON(&cs)
	actA := h.a.Do("POST", "/api/v1/accounts/"+accA+"/activities", map[string]any{"kind": "call", "summary": "甲部机密纪要"}).Expect(t, 201).Str("id")
	tokA := h.a.Do("POST", "/api/v1/me/tokens", map[string]any{"name": "甲部令牌"}).Expect(t, 201).Str("id")
	h.ids["a"] = map[string]string{"/api/v1/accounts": accA, "/api/v1/accounts/{id}/contacts": cs.Items[0].ID, "/api/v1/contacts": cs.Items[0].ID,
		"/api/v1/activities": actA, "/api/v1/users": h.a.ID, "/api/v1/users/{id}/tokens": tokA, "/api/v1/me/tokens": tokA, "/api/v1/departments": h.deptA}
	// Department B's own account (for bodies naming one of B's records).
	accB := h.b.Do("POST", "/api/v1/accounts", map[string]any{"name": "乙部客户"}).Expect(t, 201).Str("id")
	h.ids["b"] = map[string]string{"/api/v1/accounts": accB, "/api/v1/users": h.b.ID}

	// The administrator's victims, which body tests may change.
	accV := h.admin.Do("POST", "/api/v1/accounts", map[string]any{"name": "敌意测试靶子公司", "confirm_duplicates": true,
		"contacts": []map[string]any{{"name": "靶子联系人", "mobile": "13700001111"}}}).Expect(t, 201).Str("id")
	h.admin.Do("GET", "/api/v1/accounts/"+accV+"/contacts", nil).Expect(t, 200).JSON(&cs)
	actV := h.admin.Do("POST", "/api/v1/accounts/"+accV+"/activities", map[string]any{"kind": "note", "summary": "靶子纪要"}).Expect(t, 201).Str("id")
	tokV := h.admin.Do("POST", "/api/v1/me/tokens", map[string]any{"name": "靶子令牌"}).Expect(t, 201).Str("id")
	h.ids["admin"] = map[string]string{"/api/v1/accounts": accV, "/api/v1/accounts/{id}/contacts": cs.Items[0].ID, "/api/v1/contacts": cs.Items[0].ID,
		"/api/v1/activities": actV, "/api/v1/users": victim, "/api/v1/users/{id}/tokens": tokV, "/api/v1/me/tokens": tokV,
		"/api/v1/departments": deptB, "/api/v1/roles": "marketing"}

	h.routes = e.Srv.Router.Routes()
	// Records of capabilities this test does not know yet: department A's
	// user tries each create route with a hostilePlausible body, so their {id}
	// routes get a real record of A to attack.
	for _, rt := range h.routes {
		if rt.Method != "POST" || rt.Status != 201 || rt.Request == nil || strings.Contains(rt.Path, "{") || rt.Public {
			continue
		}
		if slices.Contains([]string{"/api/v1/accounts", "/api/v1/me/tokens", "/api/v1/users", "/api/v1/departments"}, rt.Path) {
			continue
		}
		r := h.create(rt)
		t.Logf("fixture: department A creates through POST %s: %d %s", rt.Path, r.Status, hostileTrunc(string(r.Body), 200))
	}

	// An import of department A (a raw upload, so not found above).
	if h.hasRoute("POST", "/api/v1/account-imports") {
		r := h.a.Do("POST", "/api/v1/account-imports?mode=preview&filename=a.csv", "客户名称\n甲部导入测试公司\n", "Content-Type", "text/csv")
		t.Logf("fixture: department A uploads an import: %d", r.Status)
		time.Sleep(300 * time.Millisecond) // let the job process it
	}

	if err := e.Srv.Search.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// No background job may write while the fingerprints are compared.
	if err := e.Srv.Jobs.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	h.fp = newHostileFingerprint(t, d)
	return h
}

// ---- fixtures and bodies ----

// create makes a record of department A through a create route it does not
// know, repairing the hostilePlausible body from the 422 answer's field messages
// (a list of allowed values, "required") a few times.
func (h *hostile) create(rt httpx.Route) *servertest.Resp {
	body := h.validBody(rt, "a")
	var r *servertest.Resp
	for range 5 {
		r = h.a.Do("POST", rt.Path, body)
		if r.Status != 422 {
			return r
		}
		var e struct {
			Error struct {
				Fields map[string]string `json:"fields"`
			} `json:"error"`
		}
		if json.Unmarshal(r.Body, &e) != nil || len(e.Error.Fields) == 0 {
			return r
		}
		types := map[string]reflect.Type{}
		for _, f := range hostileFields(reflect.TypeOf(rt.Request)) {
			types[f.name] = f.typ
		}
		for name, msg := range e.Error.Fields {
			typ, ok := types[name]
			switch {
			case !ok:
				return r
			case strings.Contains(msg, "one of") || strings.Contains(msg, "之一"):
				msg = strings.ReplaceAll(msg, "：", ":")
				opts := strings.Split(msg[strings.LastIndex(msg, ":")+1:], ",")
				v := strings.TrimSpace(opts[0])
				if typ.Kind() == reflect.Slice {
					body[name] = []string{v}
				} else {
					body[name] = v
				}
			case strings.Contains(strings.ToLower(msg), "email") || strings.Contains(msg, "邮箱"):
				body[name] = "hostile@example.com"
			case strings.Contains(strings.ToLower(msg), "url") || strings.Contains(msg, "网址"):
				body[name] = "https://example.com/hook"
			case strings.Contains(msg, "required") || strings.Contains(msg, "必填"):
				if v, ok := hostilePlausibleValue(strings.TrimSuffix(name, "_id")+"_text", typ, h.ids["a"]["/api/v1/accounts"]); ok {
					body[name] = v
				}
			default:
				delete(body, name)
			}
		}
	}
	return r
}

var hostileParamRE = regexp.MustCompile(`\{([a-zA-Z_]+)(\.\.\.)?\}`)

// hostileParams lists a route's path parameters in order.
func hostileParams(path string) []string {
	var out []string
	for _, m := range hostileParamRE.FindAllStringSubmatch(path, -1) {
		out = append(out, m[1])
	}
	return out
}

// id returns a fixture value for a parameter as actor: a known fixture, or
// one found by listing the collection the parameter indexes, or an ID that
// does not exist. found reports whether it names a real record.
func (h *hostile) id(actor string, path, param string, filled map[string]string) (string, bool) {
	i := strings.Index(path, "{"+param)
	prefix := strings.TrimSuffix(path[:i], "/")
	if v, ok := h.ids[actor][prefix]; ok {
		return v, true
	}
	// Discover through the collection's list route, if there is one.
	listPath := prefix
	for k, v := range filled {
		listPath = strings.ReplaceAll(listPath, "{"+k+"}", url.PathEscape(v))
	}
	if !strings.Contains(listPath, "{") && h.hasRoute("GET", prefix) {
		r := h.client(actor).Do("GET", listPath, nil)
		if r.Status == 200 {
			var page struct {
				Items []map[string]any `json:"items"`
			}
			var arr []map[string]any
			if json.Unmarshal(r.Body, &page) == nil && len(page.Items) > 0 {
				arr = page.Items
			} else {
				_ = json.Unmarshal(r.Body, &arr)
			}
			for _, it := range arr {
				for _, k := range []string{param, "id", "name"} {
					if s, ok := it[k].(string); ok && s != "" {
						h.ids[actor][prefix] = s
						return s, true
					}
				}
			}
		}
	}
	return hostileMissingID, false
}

func (h *hostile) hasRoute(method, path string) bool {
	return slices.ContainsFunc(h.routes, func(r httpx.Route) bool { return r.Method == method && r.Path == path })
}

func (h *hostile) client(actor string) *servertest.Client {
	switch actor {
	case "a":
		return h.a
	case "b":
		return h.b
	}
	return h.admin
}

// fill replaces the path parameters with fixture values of actor, except
// those in override (already escaped).
func (h *hostile) fill(actor string, rt httpx.Route, override map[string]string) (string, bool) {
	p := rt.Path
	filled := map[string]string{}
	real := true
	for _, name := range hostileParams(rt.Path) {
		v, ok := override[name]
		if !ok {
			var found bool
			v, found = h.id(actor, rt.Path, name, filled)
			real = real && found
			filled[name] = v
			v = url.PathEscape(v)
		}
		p = hostileParamRE.ReplaceAllStringFunc(p, func(m string) string {
			if hostileParamRE.FindStringSubmatch(m)[1] == name {
				return v
			}
			return m
		})
	}
	return p, real
}

// validBody returns a body the route should accept from actor (known
// request types by name; others filled by reflection with hostilePlausible values).
func (h *hostile) validBody(rt httpx.Route, actor string) map[string]any {
	h.seq++
	n := h.seq
	acc := h.ids[actor]["/api/v1/accounts"]
	switch reflect.TypeOf(rt.Request).String() {
	case "customers.AccountInput":
		return map[string]any{"name": fmt.Sprintf("敌意测试公司%d", n), "kind": "company", "confirm_duplicates": true}
	case "customers.AccountPatch":
		return map[string]any{"needs": fmt.Sprintf("更新需求%d", n)}
	case "customers.ContactInput":
		return map[string]any{"name": fmt.Sprintf("联系人%d", n), "title": "经理"}
	case "customers.ContactPatch":
		return map[string]any{"title": fmt.Sprintf("总监%d", n)}
	case "customers.ActivityInput":
		return map[string]any{"kind": "note", "summary": fmt.Sprintf("纪要%d", n)}
	case "customers.LinkInput":
		return map[string]any{"contact_id": h.ids[actor]["/api/v1/contacts"], "purchase_role": "user"}
	case "customers.TransferInput":
		return map[string]any{"owner_id": h.client(actor).ID, "reason": "调整分工"}
	case "customers.MergeInput":
		return map[string]any{"source_id": h.ids["b"]["/api/v1/accounts"]}
	case "customers.CollaboratorsInput":
		return map[string]any{"user_ids": []string{}}
	case "customers.BulkInput":
		return map[string]any{"account_ids": []string{acc}, "add_tags": []string{"敌意"}}
	case "customers.DuplicateQuery":
		return map[string]any{"name": "敌意测试"}
	case "org.UserInput":
		return map[string]any{"username": fmt.Sprintf("hostile%d", n), "display_name": "敌意", "department_id": h.deptA, "roles": []string{"sales"}, "password": servertest.Password}
	case "org.UserPatch":
		return map[string]any{"display_name": fmt.Sprintf("改名%d", n)}
	case "org.MePatch":
		return map[string]any{"display_name": fmt.Sprintf("我%d", n)}
	case "org.DepartmentInput":
		return map[string]any{"name": fmt.Sprintf("敌意部门%d", n), "parent_id": h.root}
	case "org.DepartmentPatch":
		return map[string]any{"name": fmt.Sprintf("敌意改名%d", n)}
	case "org.RolePatch":
		return map[string]any{"data_scope": "own"}
	case "org.TokenInput":
		return map[string]any{"name": fmt.Sprintf("令牌%d", n)}
	case "org.PasswordChange":
		// A wrong current password: no test may change the password.
		return map[string]any{"current_password": "not-the-password-1", "new_password": "Another-passw0rd!"}
	case "org.passwordOnly":
		return map[string]any{"password": "not-the-password-1"}
	case "org.totpCode":
		return map[string]any{"code": "000000"}
	case "org.LoginInput":
		return map[string]any{"username": "nobody.here", "password": "not-the-password-1"}
	case "org.SetupInput":
		return map[string]any{"token": "not-the-token", "username": "late", "display_name": "L", "password": servertest.Password}
	case "org.resetPassword":
		return map[string]any{"new_password": "Another-passw0rd!"}
	}
	return hostilePlausible(reflect.TypeOf(rt.Request), acc)
}

// hostilePlausible fills a struct's fields with values a form would send.
func hostilePlausible(t reflect.Type, accountID string) map[string]any {
	out := map[string]any{}
	for _, f := range hostileFields(t) {
		if v, ok := hostilePlausibleValue(f.name, f.typ, accountID); ok {
			out[f.name] = v
		}
	}
	return out
}

func hostilePlausibleValue(name string, t reflect.Type, accountID string) (any, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(time.Time{}) {
		return time.Now().Add(26 * time.Hour).UTC().Format(time.RFC3339), true
	}
	switch t.Kind() {
	case reflect.String:
		switch {
		case name == "account_id":
			return accountID, true
		case strings.HasSuffix(name, "_id") || name == "id":
			return nil, false
		case strings.Contains(name, "email"):
			return "hostile@example.com", true
		case strings.Contains(name, "mobile") || strings.Contains(name, "phone"):
			return "13800001234", true
		case strings.Contains(name, "password"):
			return servertest.Password, true
		case name == "locale":
			return "zh-CN", true
		case strings.Contains(name, "url") || name == "target":
			return "https://example.com/hook", true
		}
		return "测试" + name, true
	case reflect.Bool:
		return false, true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return 1, true
	case reflect.Float32, reflect.Float64:
		return 1.5, true
	case reflect.Slice, reflect.Array:
		return []any{}, true
	}
	return nil, false
}

type hostileField struct {
	name string
	typ  reflect.Type
}

// hostileFields lists the JSON fields of a struct type (embedded structs
// flattened).
func hostileFields(t reflect.Type) []hostileField {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []hostileField
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" {
			out = append(out, hostileFields(f.Type)...)
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, hostileField{name, f.Type})
	}
	return out
}

// hostileWrongValue returns a JSON value of the wrong type for t (variant picks
// among several).
func hostileWrongValue(t reflect.Type, variant int) (any, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == reflect.TypeOf(time.Time{}) {
		return []any{12345, true, map[string]any{}}[variant%3], true
	}
	switch t.Kind() {
	case reflect.String:
		return []any{12345, true, map[string]any{"x": 1}, []any{"a"}}[variant%4], true
	case reflect.Bool:
		return []any{"yes", 1, []any{}}[variant%3], true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return []any{"12", true, map[string]any{}}[variant%3], true
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return 123, true
		}
		return []any{"not-an-array", 7, map[string]any{"a": 1}}[variant%3], true
	case reflect.Map, reflect.Struct:
		return []any{"not-an-object", 3, []any{1}}[variant%3], true
	}
	return nil, false
}

func hostileIsInt(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return true
	}
	return false
}

func hostileIsString(t reflect.Type) bool {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t.Kind() == reflect.String
}

// ---- checks ----

// hostileMaxErrors bounds the failures reported per subtest: one server bug tends
// to fail a whole family of requests.
const hostileMaxErrors = 40

func (h *hostile) errorf(t *testing.T, format string, args ...any) {
	t.Helper()
	h.errors[t]++
	if h.errors[t] <= hostileMaxErrors {
		t.Errorf(format, args...)
	}
}

// capped runs a subtest and reports how many failures were not printed.
func (h *hostile) capped(fn func(*testing.T)) func(*testing.T) {
	return func(t *testing.T) {
		fn(t)
		if n := h.errors[t]; n > hostileMaxErrors {
			t.Errorf("… and %d more failures like these", n-hostileMaxErrors)
		}
	}
}

// send issues a request and checks the answer: a status among want (any
// 4xx of API.md's table if want is empty), never a 5xx, the error body
// shape on errors, no raw <script> in JSON. If strict, the database must
// be unchanged afterwards.
func (h *hostile) send(t *testing.T, c *servertest.Client, what, method, path string, body any, strict bool, want []int, hdr ...string) *servertest.Resp {
	t.Helper()
	h.sent++
	var before []int64
	if strict {
		before = h.fp.take(t)
	}
	r := c.Do(method, path, body, hdr...)
	desc := fmt.Sprintf("%s %s [%s]", method, hostileTrunc(path, 160), what)
	switch {
	case r.Status >= 500:
		h.errorf(t, "%s: %d (server error): %s", desc, r.Status, hostileTrunc(string(r.Body), 300))
	case len(want) > 0 && !slices.Contains(want, r.Status):
		h.errorf(t, "%s: status %d, want one of %v: %s", desc, r.Status, want, hostileTrunc(string(r.Body), 300))
	case len(want) == 0 && !slices.Contains(hostileStatuses, r.Status):
		h.errorf(t, "%s: status %d, want a 4xx of API.md: %s", desc, r.Status, hostileTrunc(string(r.Body), 300))
	}
	if r.Status >= 400 {
		h.checkErrorBody(t, desc, r)
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") && strings.Contains(strings.ToLower(string(r.Body)), "<script") {
		h.errorf(t, "%s: raw <script> in a JSON answer: %s", desc, hostileTrunc(string(r.Body), 300))
	}
	// A refused request writes nothing. (An accepted GET may: exports are
	// audited.)
	if strict && r.Status >= 400 {
		if after := h.fp.take(t); !slices.Equal(before, after) {
			h.errorf(t, "%s: refused with %d but the database changed: %s", desc, r.Status, h.fp.diff(before, after))
		}
	}
	return r
}

func (h *hostile) checkErrorBody(t *testing.T, desc string, r *servertest.Resp) {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		h.errorf(t, "%s: error %d with Content-Type %q: %s", desc, r.Status, ct, hostileTrunc(string(r.Body), 200))
		return
	}
	var b struct {
		Error *struct {
			Code    *string `json:"code"`
			Message *string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &b); err != nil || b.Error == nil || b.Error.Code == nil || *b.Error.Code == "" || b.Error.Message == nil || strings.TrimSpace(*b.Error.Message) == "" {
		h.errorf(t, `%s: error %d without {"error":{"code","message"}}: %s`, desc, r.Status, hostileTrunc(string(r.Body), 300))
	}
}

func hostileTrunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + fmt.Sprintf("…(%d bytes)", len(s))
}

// ---- bodies ----

func (h *hostile) bodyRoutes() []httpx.Route {
	var out []httpx.Route
	for _, rt := range h.routes {
		if rt.Request != nil {
			out = append(out, rt)
		}
	}
	return out
}

func (h *hostile) bodies(t *testing.T) {
	for _, rt := range h.bodyRoutes() {
		path, _ := h.fill("admin", rt, nil)
		typ := reflect.TypeOf(rt.Request)
		fields := hostileFields(typ)
		bad := func(what string, body any, status int, hdr ...string) {
			t.Helper()
			h.send(t, h.admin, what, rt.Method, path, body, true, []int{status}, hdr...)
		}
		bad("malformed: truncated", `{"`+hostileFirstField(fields)+`": `, 400)
		bad("malformed: bare word", `nul`, 400)
		bad("malformed: single quotes", `{'a': 1}`, 400)
		bad("malformed: trailing comma", `{"a": 1,}`, 400)
		bad("malformed: trailing data", `{} {}`, 400)
		bad("not an object: array", `[]`, 400)
		bad("not an object: string", `"text"`, 400)
		bad("not an object: number", `42`, 400)
		bad("empty body", ``, 400)
		bad("unknown field", `{"__proto__": {"admin": true}}`, 400)
		bad("invalid UTF-8", []byte("{\""+hostileFirstField(fields)+"\": \"\xff\xfe\xfd\"}"), 400)
		bad("invalid UTF-8 key", []byte("{\"\xc3\x28\": 1}"), 400)
		bad("wrong content type", `{}`, 400, "Content-Type", "text/plain")
		bad("1 MiB string", `{"`+hostileFirstField(fields)+`": "`+strings.Repeat("a", 1<<20)+`"}`, 413)
		bad("deep nesting", strings.Repeat("[", 10000)+strings.Repeat("]", 10000), 400)
		for i, f := range fields {
			if v, ok := hostileWrongValue(f.typ, i); ok {
				bad(fmt.Sprintf("wrong type for %s: %s", f.name, hostileJSON(v)), map[string]any{f.name: v}, 400)
			}
			if hostileIsInt(f.typ) {
				bad("number out of range for "+f.name, `{"`+f.name+`": 1e400}`, 400)
				bad("number too big for "+f.name, `{"`+f.name+`": 123456789012345678901234567890}`, 400)
				bad("fraction for integer "+f.name, `{"`+f.name+`": 1.5}`, 400)
			}
			// One level down: objects in arrays and nested objects.
			elem := f.typ
			for elem.Kind() == reflect.Pointer || elem.Kind() == reflect.Slice {
				elem = elem.Elem()
			}
			if elem.Kind() == reflect.Struct && elem != reflect.TypeOf(time.Time{}) {
				for j, nf := range hostileFields(elem) {
					if v, ok := hostileWrongValue(nf.typ, i+j); ok {
						var inner any = map[string]any{nf.name: v}
						if f.typ.Kind() == reflect.Slice || (f.typ.Kind() == reflect.Pointer && f.typ.Elem().Kind() == reflect.Slice) {
							inner = []any{inner}
						}
						bad(fmt.Sprintf("wrong type for %s.%s", f.name, nf.name), map[string]any{f.name: inner}, 400)
					}
				}
			}
		}
	}
}

func hostileFirstField(fs []hostileField) string {
	if len(fs) == 0 {
		return "x"
	}
	return fs[0].name
}

func hostileJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// ---- injection ----

var hostileInjections = []string{
	`Robert'); DROP TABLE accounts;--`,
	`' OR '1'='1`,
	`1; SELECT pg_sleep(5) --`,
	`<script>alert(document.cookie)</script>`,
	`"><img src=x onerror=alert(1)>`,
	`{{7*7}} ${7*7} <%= 7*7 %> #{7*7}`,
	`../../../../etc/passwd`,
	"nul\x00byte",
	`%s%s%s%n`,
	"\u202eRTL override 客户",
}

func (h *hostile) injection(t *testing.T) {
	big := strings.Repeat("长", 64<<10/3)
	for _, rt := range h.bodyRoutes() {
		path, _ := h.fill("admin", rt, nil)
		k := 0
		for _, f := range hostileFields(reflect.TypeOf(rt.Request)) {
			var values []any
			switch {
			case hostileIsString(f.typ):
				// Two injection strings per field (rotating), the long text
				// on one field per route.
				values = []any{hostileInjections[k%len(hostileInjections)], hostileInjections[(k+1)%len(hostileInjections)]}
				if k == 0 {
					values = append(values, big)
				}
				k += 2
			case hostileIsInt(f.typ):
				values = []any{int64(9223372036854775807), int64(-9223372036854775808), 2147483648}
			default:
				continue
			}
			for _, v := range values {
				body := h.validBody(rt, "admin")
				body[f.name] = v
				r := h.send(t, h.admin, fmt.Sprintf("%s = %s", f.name, hostileTrunc(hostileJSON(v), 60)), rt.Method, path, body, false,
					append([]int{200, 201, 202, 204}, hostileStatuses...))
				if r.Status >= 200 && r.Status < 300 {
					// Accepted: it must come back verbatim where echoed
					// (read-only fields and path parameters aside).
					var got map[string]any
					readOnly := slices.Contains([]string{"id", "version", "created_at", "updated_at"}, f.name) || slices.Contains(hostileParams(rt.Path), f.name)
					if !readOnly && json.Unmarshal(r.Body, &got) == nil {
						if s, ok := got[f.name].(string); ok && got["masked"] != true {
							if want, ok := v.(string); ok && s != strings.TrimSpace(want) {
								h.errorf(t, "%s %s: %s stored as %q, sent %q", rt.Method, path, f.name, hostileTrunc(s, 80), hostileTrunc(want, 80))
							}
						}
						if n, ok := got[f.name].(float64); ok {
							if want, ok := v.(int64); ok && int64(n) != want && float64(want) != n {
								h.errorf(t, "%s %s: %s stored as %v, sent %d", rt.Method, path, f.name, n, want)
							}
						}
					}
				}
			}
		}
	}
	// The tables are all still there.
	h.fp.take(t)
}

// ---- path parameters ----

var hostileSegments = []struct{ what, raw string }{
	{"traversal", "..%2F..%2F..%2Fetc%2Fpasswd"},
	{"dot-dot", "%2e%2e"},
	{"NUL byte", "a%00b"},
	{"NUL only", "%00"},
	{"invalid UTF-8", "%ff%fe"},
	{"SQL", url.PathEscape(`' OR '1'='1`)},
	{"HTML", url.PathEscape(`<script>alert(1)</script>`)},
	{"template", url.PathEscape(`{{7*7}}`)},
	{"overlong", strings.Repeat("9", 8000)},
	{"negative", "-1"},
	{"huge number", "99999999999999999999999999"},
	{"percent", "%25"},
	{"unicode", url.PathEscape("客户")},
	{"traversal file", "..%2F..%2Fprelude.db"},
}

func (h *hostile) pathParams(t *testing.T) {
	for _, rt := range h.routes {
		ps := hostileParams(rt.Path)
		if len(ps) == 0 {
			continue
		}
		var body any
		if rt.Request != nil {
			body = h.validBody(rt, "admin")
		}
		for _, p := range ps {
			for _, seg := range hostileSegments {
				path, _ := h.fill("admin", rt, map[string]string{p: seg.raw})
				// A hostile ID names nothing: 404 (400 or 422 for a
				// malformed one).
				h.send(t, h.admin, "{"+p+"} "+seg.what, rt.Method, path, body, true, []int{400, 404, 422})
			}
		}
	}
}

// ---- query parameters ----

var hostileQueryValues = []struct{ what, raw string }{
	{"SQL", url.QueryEscape(`' OR 1=1; DROP TABLE accounts; --`)},
	{"HTML", url.QueryEscape(`<script>alert(1)</script>`)},
	{"NUL", "a%00b"},
	{"invalid UTF-8", "%ff%fe"},
	{"negative", "-1"},
	{"huge number", "99999999999999999999999999"},
	{"overlong", strings.Repeat("x", 10000)},
	{"template", url.QueryEscape("{{7*7}}")},
}

func (h *hostile) queryParams(t *testing.T) {
	for _, rt := range h.routes {
		if len(rt.Query) == 0 {
			continue
		}
		path, _ := h.fill("admin", rt, nil)
		var body any
		if rt.Request != nil {
			body = h.validBody(rt, "admin")
		}
		strict := rt.Method == "GET"
		ok := []int{200, 400, 422}
		if rt.Method != "GET" {
			ok = append(ok, 201, 202, 204, 404, 409, 413)
		}
		for _, q := range rt.Query {
			for _, v := range hostileQueryValues {
				h.send(t, h.admin, q+" "+v.what, rt.Method, path+"?"+q+"="+v.raw, body, strict, ok)
			}
			switch q {
			case "limit":
				for _, v := range []string{"-1", "0", "201", "100000", "abc", "1e3", "99999999999999999999"} {
					h.send(t, h.admin, "limit="+v, rt.Method, path+"?limit="+v, body, strict, []int{400})
				}
			case "sort":
				for _, v := range []string{url.QueryEscape("drop table accounts"), url.QueryEscape("name; DROP TABLE users"), "-password_hash", "id%00"} {
					h.send(t, h.admin, "sort="+v, rt.Method, path+"?sort="+v, body, strict, []int{400})
				}
			}
		}
		// Unknown parameters are ignored: the same answer as without them.
		if rt.Method == "GET" {
			base := h.admin.Do("GET", path, nil)
			want := []int{base.Status}
			if base.Status >= 500 {
				want = []int{200, 400}
			}
			h.send(t, h.admin, "unknown parameter", "GET", path+"?zzz_unknown=1&"+url.QueryEscape("<x>")+"=1", nil, true, want)
		}
	}
}

// ---- cursors ----

func (h *hostile) cursors(t *testing.T) {
	var routes []httpx.Route
	for _, rt := range h.routes {
		if rt.Method == "GET" && slices.Contains(rt.Query, "cursor") {
			routes = append(routes, rt)
		}
	}
	// Real cursors of every list, to replay on the others.
	real := map[string]string{}
	for _, rt := range routes {
		path, _ := h.fill("admin", rt, nil)
		sep := "?"
		extra := "limit=1"
		if slices.Contains(rt.Query, "q") && strings.HasSuffix(rt.Path, "/search") {
			extra += "&q=" + url.QueryEscape("敌意")
		}
		r := h.admin.Do("GET", path+sep+extra, nil)
		var page struct {
			NextCursor *string `json:"next_cursor"`
		}
		if r.Status == 200 && json.Unmarshal(r.Body, &page) == nil && page.NextCursor != nil {
			real[rt.Path] = *page.NextCursor
		}
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	forged := []struct {
		what, value string
		want        []int
	}{
		{"garbage", "@@@not-base64@@@", []int{400}},
		{"overlong", strings.Repeat("A", 5000), []int{400}},
		{"base64 of other JSON", b64(`{"k":"x","i":"y"}`), []int{200, 400}},
		{"base64 of an array", b64(`[1,2,3]`), []int{200, 400}},
		{"base64 of a string", b64(`"k"`), []int{200, 400}},
		{"base64 of SQL", b64(`{"k":"1' OR '1'='1","i":"' OR 1=1 --"}`), []int{200, 400}},
		{"base64 of a huge key", b64(`{"k":"99999999999999999999999","i":"x","c":99999999999999999999999}`), []int{200, 400}},
		{"base64 of invalid UTF-8", base64.RawURLEncoding.EncodeToString([]byte("{\"k\":\"\xff\",\"i\":\"\xfe\"}")), []int{200, 400}},
		{"standard base64 with padding", base64.StdEncoding.EncodeToString([]byte(`{"k":"1","i":"x"}`)), []int{200, 400}},
	}
	for from, c := range real {
		forged = append(forged, struct {
			what, value string
			want        []int
		}{"cursor of " + from, c, []int{200, 400}})
	}
	for _, rt := range routes {
		path, _ := h.fill("admin", rt, nil)
		q := ""
		if strings.HasSuffix(rt.Path, "/search") {
			q = "q=" + url.QueryEscape("敌意") + "&"
		}
		for _, f := range forged {
			h.send(t, h.admin, "cursor: "+f.what, "GET", path+"?"+q+"cursor="+url.QueryEscape(f.value), nil, true, f.want)
		}
	}
	if len(real) < 3 {
		t.Logf("only %d lists gave a real cursor to replay: %v", len(real), hostileKeys(real))
	}
}

func hostileKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---- another department's records ----

func (h *hostile) otherDepartment(t *testing.T) {
	covered, skipped := 0, []string{}
	for _, rt := range h.routes {
		ps := hostileParams(rt.Path)
		if len(ps) == 0 || rt.Public {
			continue
		}
		owner := "a"
		path, real := h.fill(owner, rt, nil)
		if !real {
			// No record of department A: the administrator's (root
			// department) is just as far outside B's scope.
			owner = "admin"
			if path, real = h.fill(owner, rt, nil); !real {
				skipped = append(skipped, rt.Method+" "+rt.Path+" (no record to attack)")
				continue
			}
		}
		// Records department B sees in its own lists are not department
		// records (roles, departments, plans): nothing to hide.
		if h.visibleToB(rt, owner) {
			skipped = append(skipped, rt.Method+" "+rt.Path+" (shared)")
			continue
		}
		var body any
		known := true
		if rt.Request != nil {
			body = h.validBody(rt, "b")
			known = slices.Contains(hostileKnownTypes, reflect.TypeOf(rt.Request).String())
		}
		// The same request for an ID that does not exist.
		ghost := map[string]string{}
		for _, p := range ps {
			ghost[p] = hostileMissingID
		}
		ghostPath, _ := h.fill(owner, rt, ghost)
		ref := h.b.Do(rt.Method, ghostPath, body)
		want := []int{403, 404}
		if !known && ref.Status < 500 && ref.Status >= 400 {
			// Unknown body: the route may refuse the body before looking
			// the record up; then it must do so for both IDs alike.
			want = []int{ref.Status}
		}
		r := h.send(t, h.b, "department B on department A's record", rt.Method, path, body, true, want)
		if r.Status != ref.Status || (r.Status >= 400 && hostileCode(r) != hostileCode(ref)) {
			h.errorf(t, "%s %s: department B gets %d %s for A's record but %d %s for a missing one: the answer reveals the record",
				rt.Method, rt.Path, r.Status, hostileCode(r), ref.Status, hostileCode(ref))
		}
		for _, s := range h.secrets {
			if strings.Contains(string(r.Body), s) {
				h.errorf(t, "%s %s: department B's answer contains department A's %q: %s", rt.Method, path, s, hostileTrunc(string(r.Body), 300))
			}
		}
		covered++
	}
	t.Logf("other department: %d routes attacked with department A's records; not applicable: %v", covered, skipped)
	// Lists and search in B's scope show none of A's data.
	for _, p := range []string{"/api/v1/accounts", "/api/v1/contacts", "/api/v1/search?q=" + url.QueryEscape("机密"), "/api/v1/accounts?q=" + url.QueryEscape("甲部"),
		"/api/v1/users", "/api/v1/my-day", "/api/v1/tasks"} {
		r := h.b.Do("GET", p, nil)
		for _, s := range h.secrets {
			if strings.Contains(string(r.Body), s) {
				h.errorf(t, "GET %s as department B shows department A's %q", p, s)
			}
		}
	}
	// Duplicate checks confirm existence without naming the record.
	r := h.b.Do("POST", "/api/v1/accounts/duplicates", map[string]any{"name": "甲部机密客户有限公司"})
	if strings.Contains(string(r.Body), h.ids["a"]["/api/v1/accounts"]) {
		h.errorf(t, "duplicate check leaks department A's account ID: %s", r.Body)
	}
}

var hostileKnownTypes = []string{"customers.AccountInput", "customers.AccountPatch", "customers.ContactInput", "customers.ContactPatch", "customers.ActivityInput",
	"customers.LinkInput", "customers.TransferInput", "customers.MergeInput", "customers.CollaboratorsInput", "customers.BulkInput", "customers.DuplicateQuery",
	"org.UserInput", "org.UserPatch", "org.MePatch", "org.DepartmentInput", "org.DepartmentPatch", "org.RolePatch", "org.TokenInput", "org.PasswordChange",
	"org.passwordOnly", "org.totpCode", "org.LoginInput", "org.SetupInput", "org.resetPassword"}

// visibleToB reports whether the record A's path names (its last
// parameter) is listed in department B's own view of the collection.
func (h *hostile) visibleToB(rt httpx.Route, owner string) bool {
	ps := hostileParams(rt.Path)
	last := ps[len(ps)-1]
	i := strings.Index(rt.Path, "{"+last)
	prefix := strings.TrimSuffix(rt.Path[:i], "/")
	if strings.Contains(prefix, "{") || !h.hasRoute("GET", prefix) {
		return false
	}
	id, _ := h.id(owner, rt.Path, last, map[string]string{})
	r := h.b.Do("GET", prefix, nil)
	return r.Status == 200 && strings.Contains(string(r.Body), `"`+id+`"`)
}

func hostileCode(r *servertest.Resp) string { return r.Code() }

// ---- database hostileFingerprint ----

// hostileFingerprint sums up every table: row count, and the sums of version and
// updated_at where the table has them. Volatile tables (jobs, sessions,
// idempotency keys, the search index) are left out.
type hostileFingerprint struct {
	d      *db.DB
	query  string
	labels []string
}

func newHostileFingerprint(t *testing.T, d *db.DB) *hostileFingerprint {
	ctx := context.Background()
	listTables := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
	listCols := "SELECT name FROM pragma_table_info(?)"
	if d.Dialect == db.Postgres {
		listTables = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
		listCols = "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?"
	}
	var tables []string
	rows, err := d.Query(ctx, listTables)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n string
		rows.Scan(&n)
		tables = append(tables, n)
	}
	rows.Close()
	fp := &hostileFingerprint{d: d}
	var parts []string
	for _, tb := range tables {
		if strings.HasPrefix(tb, "search") || strings.HasPrefix(tb, "schema_") || slices.Contains([]string{"jobs", "sessions", "idempotency_keys", "login_attempts", "rate_limits"}, tb) {
			continue
		}
		parts = append(parts, "(SELECT COUNT(*) FROM "+tb+")")
		fp.labels = append(fp.labels, tb+" rows")
		crows, err := d.Query(ctx, listCols, tb)
		if err != nil {
			t.Fatal(err)
		}
		var cols []string
		for crows.Next() {
			var c string
			crows.Scan(&c)
			cols = append(cols, c)
		}
		crows.Close()
		for _, c := range []string{"version", "updated_at"} {
			if slices.Contains(cols, c) {
				parts = append(parts, "(SELECT CAST(COALESCE(SUM("+c+"), 0) AS BIGINT) FROM "+tb+")")
				fp.labels = append(fp.labels, tb+" "+c)
			}
		}
	}
	fp.query = "SELECT " + strings.Join(parts, ", ")
	return fp
}

func (fp *hostileFingerprint) take(t *testing.T) []int64 {
	t.Helper()
	vals := make([]int64, len(fp.labels))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := fp.d.QueryRow(context.Background(), fp.query).Scan(ptrs...); err != nil {
		t.Fatalf("fingerprint: %v", err)
	}
	return vals
}

func (fp *hostileFingerprint) diff(a, b []int64) string {
	var out []string
	for i := range a {
		if a[i] != b[i] {
			out = append(out, fmt.Sprintf("%s %d→%d", fp.labels[i], a[i], b[i]))
		}
	}
	return strings.Join(out, ", ")
}
