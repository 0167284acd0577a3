package server_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// Stage IDs of the default pipeline seeded by migration 0009 (regulation 2,
// 第五条).
const (
	stResearch    = "00000000-0000-7000-8000-000000000011"
	stNeeds       = "00000000-0000-7000-8000-000000000012"
	stDesign      = "00000000-0000-7000-8000-000000000013"
	stQuote       = "00000000-0000-7000-8000-000000000014"
	stSign        = "00000000-0000-7000-8000-000000000015"
	defaultPipeID = "00000000-0000-7000-8000-000000000001"
)

type deal struct {
	ID             string `json:"id"`
	StageID        string `json:"stage_id"`
	StageName      string `json:"stage_name"`
	Status         string `json:"status"`
	Probability    int    `json:"probability"`
	Amount         int64  `json:"amount"`
	WeightedAmount int64  `json:"weighted_amount"`
	Version        int64  `json:"version"`
	LostToName     string `json:"lost_to_name"`
	CloseReason    string `json:"close_reason"`
}

type errBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields"`
		Details map[string]any    `json:"details"`
	} `json:"error"`
}

func asDeal(t *testing.T, r *servertest.Resp) deal {
	t.Helper()
	var d deal
	if err := r.JSON(&d); err != nil {
		t.Fatal(err)
	}
	return d
}

func asErr(t *testing.T, r *servertest.Resp) errBody {
	t.Helper()
	var e errBody
	if err := r.JSON(&e); err != nil {
		t.Fatal(err)
	}
	return e
}

func ifMatch(v int64) []string { return []string{"If-Match", fmt.Sprintf(`"%d"`, v)} }

func version(t *testing.T, c *servertest.Client, path string) int64 {
	t.Helper()
	var v struct {
		Version int64 `json:"version"`
	}
	c.Do("GET", path, nil).Expect(t, 200).JSON(&v)
	return v.Version
}

func move(t *testing.T, c *servertest.Client, id, stage string, extra map[string]any) *servertest.Resp {
	t.Helper()
	body := map[string]any{"stage_id": stage}
	for k, v := range extra {
		body[k] = v
	}
	return c.Do("POST", "/api/v1/opportunities/"+id+"/move", body, ifMatch(version(t, c, "/api/v1/opportunities/"+id))...)
}

func fieldKeys(e errBody) []string {
	var out []string
	for k := range e.Error.Fields {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

type pipelineTeam struct {
	admin, manager, sales, tech, other *servertest.Client
	deptA, deptB                       string
}

func newPipelineTeam(t *testing.T, e *servertest.Env) pipelineTeam {
	admin := e.Admin()
	root := e.RootDepartment(admin)
	var tm pipelineTeam
	tm.admin = admin
	tm.deptA = e.Department(admin, "售前一部", root)
	tm.deptB = e.Department(admin, "售前二部", root)
	techDept := e.Department(admin, "技术部", root)
	tm.manager = e.User(admin, "pl.manager", []string{"manager"}, tm.deptA)
	admin.Do("PATCH", "/api/v1/departments/"+tm.deptA, map[string]any{"manager_id": tm.manager.ID}).Expect(t, 200)
	tm.sales = e.User(admin, "pl.sales", []string{"sales"}, tm.deptA)
	tm.tech = e.User(admin, "pl.tech", []string{"tech"}, techDept)
	tm.other = e.User(admin, "pl.other", []string{"sales"}, tm.deptB)
	return tm
}

func newDeal(t *testing.T, c *servertest.Client, account string, body map[string]any) deal {
	t.Helper()
	b := map[string]any{"account_id": account, "name": "数据中心扩容项目", "amount": 1250000, "expected_close": "2027-03-31"}
	for k, v := range body {
		b[k] = v
	}
	r := c.Do("POST", "/api/v1/opportunities", b).Expect(t, 201)
	if r.Header.Get("Location") == "" || r.Header.Get("ETag") == "" {
		t.Fatalf("create: no Location/ETag: %v", r.Header)
	}
	return asDeal(t, r)
}

// A deal walks every stage of regulation 2: each gate blocks with exactly
// what is missing until the evidence exists — research, analysed
// requirements (one answered by the technical department), an approved
// solution, a negotiation — and is then won; a second deal is lost to a
// competitor with a reason.
func TestPipelineDealThroughEveryStage(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		tm := newPipelineTeam(t, e)
		sales, manager, tech := tm.sales, tm.manager, tm.tech
		account := newAccount(t, sales, map[string]any{"name": "华东精密制造有限公司"}).Expect(t, 201).Str("id")

		o := newDeal(t, sales, account, map[string]any{"source": "inquiry", "source_inquiry_id": "inq-42"})
		if o.StageID != stResearch || o.Probability != 10 || o.Status != "open" || o.WeightedAmount != 125000 {
			t.Fatalf("new deal: %+v", o)
		}
		// 需求分析 needs market research first.
		r := move(t, sales, o.ID, stNeeds, nil).Expect(t, 422)
		if eb := asErr(t, r); eb.Error.Code != "stage_gate_blocked" || !slices.Equal(fieldKeys(eb), []string{"gates.has_research_note"}) ||
			!strings.Contains(eb.Error.Message, "需求分析") || !strings.Contains(eb.Error.Fields["gates.has_research_note"], "市场调研记录") {
			t.Fatalf("gate: %s", r.Body)
		}
		sales.Do("PATCH", "/api/v1/me", map[string]any{"locale": "en"}).Expect(t, 200)
		r = move(t, sales, o.ID, stNeeds, nil).Expect(t, 422)
		if eb := asErr(t, r); !strings.Contains(eb.Error.Fields["gates.has_research_note"], "market research note") || !strings.Contains(eb.Error.Message, "Cannot enter") {
			t.Fatalf("english gate: %s", r.Body)
		}
		sales.Do("PATCH", "/api/v1/me", map[string]any{"locale": "zh-CN"}).Expect(t, 200)
		sales.Do("POST", "/api/v1/research-notes", map[string]any{"opportunity_id": o.ID, "industry": "精密制造", "needs": "机房扩容，三年内翻倍",
			"competitors": "星河科技、远景数据"}).Expect(t, 201)
		o = asDeal(t, move(t, sales, o.ID, stNeeds, nil).Expect(t, 200))
		if o.StageID != stNeeds || o.Probability != 20 {
			t.Fatalf("after move: %+v", o)
		}
		// Jumping ahead does not skip the evidence of the stages in between.
		r = move(t, sales, o.ID, stQuote, nil).Expect(t, 422)
		if keys := fieldKeys(asErr(t, r)); !slices.Equal(keys, []string{"gates.approved_solution", "gates.min_requirements_analysed"}) {
			t.Fatalf("jump: %v %s", keys, r.Body)
		}
		// Salespeople cannot override a gate.
		move(t, sales, o.ID, stQuote, map[string]any{"override_reason": "客户催得急"}).Expect(t, 403)

		// Requirements from selected inquiry text, one per line.
		var reqs struct {
			Items []struct {
				ID, Product, Quantity, Unit, Specification string
				Version                                    int64
			} `json:"items"`
		}
		sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/requirements/bulk", map[string]any{"source_ref": "msg-7",
			"lines": []string{"1. 机柜 | 20 | 台 | 42U 标准机柜", "", "- UPS 电源 | 2.5 | 套", "精密空调"}}).Expect(t, 201).JSON(&reqs)
		if len(reqs.Items) != 3 || reqs.Items[0].Product != "机柜" || reqs.Items[0].Quantity != "20" || reqs.Items[1].Quantity != "2.5" ||
			reqs.Items[0].Specification != "42U 标准机柜" || reqs.Items[2].Product != "精密空调" {
			t.Fatalf("bulk: %+v", reqs.Items)
		}
		sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/requirements/bulk", map[string]any{"lines": []string{"机柜 | 二十 | 台"}}).Expect(t, 422)
		r1, r2 := reqs.Items[0].ID, reqs.Items[1].ID

		// One requirement goes to the technical department.
		due := time.Now().Add(2 * time.Hour).UTC().Format(time.RFC3339)
		sr := sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/support-requests", map[string]any{"requirement_id": r2, "question": "2.5 套 UPS 能否支撑 20 台机柜满载？",
			"assignee_id": tech.ID, "due_at": due}).Expect(t, 201)
		srID := sr.Str("id")
		sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/support-requests", map[string]any{"question": "x", "assignee_id": tm.other.ID, "due_at": due}).Expect(t, 422)
		var mine struct {
			Items []map[string]any `json:"items"`
		}
		tech.Do("GET", "/api/v1/support-requests?status=open", nil).Expect(t, 200).JSON(&mine)
		if len(mine.Items) != 1 || mine.Items[0]["id"] != srID || mine.Items[0]["overdue"] != false {
			t.Fatalf("tech's queue: %+v", mine.Items)
		}
		var notes struct {
			Items []map[string]any `json:"items"`
		}
		tech.Do("GET", "/api/v1/me/notifications", nil).Expect(t, 200).JSON(&notes)
		if len(notes.Items) == 0 || notes.Items[0]["event"] != "task_assigned" || !strings.Contains(notes.Items[0]["title"].(string), "技术支持") {
			t.Fatalf("tech not told: %+v", notes.Items)
		}
		sales.Do("POST", "/api/v1/support-requests/"+srID+"/answer", map[string]any{"answer": "可以"}).Expect(t, 403)
		ans := tech.Do("POST", "/api/v1/support-requests/"+srID+"/answer", map[string]any{"answer": "需 3 套，2.5 套满载时余量不足"}, ifMatch(1)...).Expect(t, 200).Map()
		if ans["status"] != "answered" || ans["answered_in_time"] != true || ans["response_seconds"] == nil {
			t.Fatalf("answer: %+v", ans)
		}
		tech.Do("POST", "/api/v1/support-requests/"+srID+"/answer", map[string]any{"answer": "again"}).Expect(t, 409)
		// The technical user records the verdict they reached.
		tech.Do("POST", "/api/v1/requirements/"+r2+"/feasibility", map[string]any{"verdict": "feasible_with_changes", "risk_notes": "需增加至 3 套"}).Expect(t, 200)
		sales.Do("POST", "/api/v1/requirements/"+r1+"/feasibility", map[string]any{"verdict": "maybe"}).Expect(t, 422)
		sales.Do("POST", "/api/v1/requirements/"+r1+"/feasibility", map[string]any{"verdict": "feasible", "effort_notes": "标准品"}, ifMatch(reqs.Items[0].Version)...).Expect(t, 200)

		o = asDeal(t, move(t, sales, o.ID, stDesign, nil).Expect(t, 200))
		r = move(t, sales, o.ID, stQuote, nil).Expect(t, 422)
		if keys := fieldKeys(asErr(t, r)); !slices.Equal(keys, []string{"gates.approved_solution"}) {
			t.Fatalf("quote gate: %v", keys)
		}

		// Solution v1: active content refused, other markup cleaned, linked
		// to r1, reviewed by the department head.
		for _, active := range []string{`<p onclick="x()">a</p>`, `<script>alert(1)</script>`, `<a href="javascript:alert(1)">链接</a>`} {
			r := sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/solutions", map[string]any{"title": "x", "body_html": active}).Expect(t, 422)
			if _, ok := asErr(t, r).Error.Fields["body_html"]; !ok {
				t.Fatalf("%s: %s", active, r.Body)
			}
		}
		sol := sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/solutions", map[string]any{"title": "机房扩容方案",
			"body_html":       `<h2>概述</h2><p style="color:red" class="x">采用 <b>模块化</b> <font>机柜</font>，详见<a href="https://example.com/spec">规格</a></p>`,
			"requirement_ids": []string{r1}}).Expect(t, 201).Map()
		solID := sol["id"].(string)
		if body := sol["body_html"].(string); body != `<h2>概述</h2><p>采用 <b>模块化</b> 机柜，详见<a href="https://example.com/spec" rel="noopener noreferrer">规格</a></p>` {
			t.Fatalf("not cleaned: %s", body)
		}
		sales.Do("POST", "/api/v1/solutions/"+solID+"/attachments?filename=方案.pdf", "%PDF-1.4 fake", "Content-Type", "application/pdf").Expect(t, 201)
		sales.Do("POST", "/api/v1/solutions/"+solID+"/approve", map[string]any{}).Expect(t, 403)
		manager.Do("POST", "/api/v1/solutions/"+solID+"/approve", map[string]any{}).Expect(t, 409) // not submitted yet
		sales.Do("POST", "/api/v1/solutions/"+solID+"/submit", nil, ifMatch(version(t, sales, "/api/v1/solutions/"+solID))...).Expect(t, 200)
		sales.Do("PATCH", "/api/v1/solutions/"+solID, map[string]any{"title": "改"}).Expect(t, 409) // submitted is locked
		sales.Do("POST", "/api/v1/solutions/"+solID+"/approve", map[string]any{}).Expect(t, 403)
		ap := manager.Do("POST", "/api/v1/solutions/"+solID+"/approve", map[string]any{"comment": "同意"}).Expect(t, 200).Map()
		if ap["status"] != "approved" || ap["locked"] != true {
			t.Fatalf("approve: %+v", ap)
		}
		r = manager.Do("POST", "/api/v1/solutions/"+solID+"/approve", map[string]any{"comment": "再次"}).Expect(t, 409)
		if r.Code() != "not_submitted" {
			t.Fatalf("double approval: %s", r.Body)
		}
		var cov struct {
			Versions []struct {
				VersionNo  int      `json:"version_no"`
				Answered   []string `json:"answered"`
				Unanswered []string `json:"unanswered"`
			} `json:"versions"`
		}
		sales.Do("GET", "/api/v1/opportunities/"+o.ID+"/coverage", nil).Expect(t, 200).JSON(&cov)
		if len(cov.Versions) != 1 || !slices.Equal(cov.Versions[0].Answered, []string{r1}) || len(cov.Versions[0].Unanswered) != 2 {
			t.Fatalf("coverage: %+v", cov)
		}
		// v2 answers more; submitting it locks v1's successors' predecessors.
		v2 := sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/solutions", map[string]any{"title": "机房扩容方案（修订）", "body_html": "<p>增加 UPS</p>",
			"requirement_ids": []string{r1, r2}}).Expect(t, 201).Map()
		if v2["version_no"] != float64(2) {
			t.Fatalf("v2: %+v", v2)
		}

		o = asDeal(t, move(t, sales, o.ID, stQuote, nil).Expect(t, 200))
		if o.Probability != 60 {
			t.Fatalf("quote stage probability %d", o.Probability)
		}

		// A trial of company resources, approved by the manager.
		demo := sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/demos", map[string]any{"kind": "trial", "purpose": "验证监控平台", "starts_on": time.Now().Format("2006-01-02"),
			"duration_days": 14, "environment": "演示环境 B", "licence": "TRIAL-14D"}).Expect(t, 201).Str("id")
		sales.Do("POST", "/api/v1/demos/"+demo+"/approve", map[string]any{}).Expect(t, 403)
		dm := manager.Do("POST", "/api/v1/demos/"+demo+"/approve", map[string]any{"comment": "同意试用两周"}).Expect(t, 200).Map()
		if dm["status"] != "approved" || dm["task_id"] == "" {
			t.Fatalf("demo: %+v", dm)
		}
		manager.Do("POST", "/api/v1/demos/"+demo+"/approve", map[string]any{}).Expect(t, 409)
		// The expiry reminder is a follow-up task of the requester.
		task := sales.Do("GET", "/api/v1/tasks/"+dm["task_id"].(string), nil).Expect(t, 200).Map()
		if !strings.Contains(task["title"].(string), "试用即将到期") || task["owner_id"] != sales.ID {
			t.Fatalf("trial reminder task: %+v", task)
		}

		// Winning goes through 签约's gate: a negotiation record is needed.
		r = sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/win", map[string]any{"reason": "方案与价格均优"}).Expect(t, 422)
		if keys := fieldKeys(asErr(t, r)); !slices.Equal(keys, []string{"gates.has_negotiation_record"}) {
			t.Fatalf("win gate: %s", r.Body)
		}
		sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/negotiations", map[string]any{"topic": "price", "customer_position": "要求九折",
			"our_position": "九五折，含三年维保", "outcome": "接受九五折", "next_step": "起草合同"}).Expect(t, 201)
		sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/negotiations", map[string]any{"topic": "bribe", "customer_position": "x", "our_position": "y"}).Expect(t, 422)
		sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/win", map[string]any{"reason": " "}).Expect(t, 422)
		won := asDeal(t, sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/win", map[string]any{"reason": "方案与价格均优"}, ifMatch(version(t, sales, "/api/v1/opportunities/"+o.ID))...).Expect(t, 200))
		if won.Status != "won" || won.StageID != stSign || won.Probability != 100 || won.CloseReason != "方案与价格均优" {
			t.Fatalf("won: %+v", won)
		}
		move(t, sales, o.ID, stQuote, nil).Expect(t, 409)

		var hist struct {
			Items []struct {
				StageID string     `json:"stage_id"`
				LeftAt  *time.Time `json:"left_at"`
				Seconds int64      `json:"seconds"`
			} `json:"items"`
		}
		sales.Do("GET", "/api/v1/opportunities/"+o.ID+"/history", nil).Expect(t, 200).JSON(&hist)
		var path []string
		for _, h := range hist.Items {
			path = append(path, h.StageID)
			if h.LeftAt == nil || h.Seconds < 0 {
				t.Fatalf("closed deal's visit still open: %+v", h)
			}
		}
		if !slices.Equal(path, []string{stResearch, stNeeds, stDesign, stQuote, stSign}) {
			t.Fatalf("history: %v", path)
		}
		tl := string(sales.Do("GET", "/api/v1/accounts/"+account+"/timeline?limit=100", nil).Expect(t, 200).Body)
		for _, kind := range []string{"opportunity_created", "opportunity_stage_changed", "support_answered", "solution_approved", "demo_approved", "negotiation_recorded", "opportunity_won"} {
			if !strings.Contains(tl, `"`+kind+`"`) {
				t.Errorf("timeline lacks %s", kind)
			}
		}

		// A second deal is lost to a competitor, which must be named.
		comp := sales.Do("POST", "/api/v1/competitors", map[string]any{"name": "星河科技", "strengths": "价格低", "weaknesses": "服务网点少"}).Expect(t, 201).Str("id")
		sales.Do("POST", "/api/v1/competitors", map[string]any{"name": "星河科技"}).Expect(t, 422)
		sales.Do("POST", "/api/v1/competitors/"+comp+"/prices", map[string]any{"product": "42U 机柜", "amount": 350000, "seen_on": "2026-11-20", "source": "客户转述"}).Expect(t, 201)
		lost := newDeal(t, sales, account, map[string]any{"name": "分支机房项目", "competitor_ids": []string{comp}})
		for _, bad := range []map[string]any{{"reason": "价格"}, {"lost_to_id": comp}, {"reason": "价格", "lost_to_id": "nope"}} {
			r := sales.Do("POST", "/api/v1/opportunities/"+lost.ID+"/lose", bad).Expect(t, 422)
			if len(asErr(t, r).Error.Fields) == 0 {
				t.Fatalf("lose %v: no field: %s", bad, r.Body)
			}
		}
		l := asDeal(t, sales.Do("POST", "/api/v1/opportunities/"+lost.ID+"/lose", map[string]any{"reason": "对方报价低 15%", "lost_to_id": comp}).Expect(t, 200))
		if l.Status != "lost" || l.LostToName != "星河科技" || l.Probability != 0 {
			t.Fatalf("lost: %+v", l)
		}
	})
}

// Managers override a gate with a recorded reason; a card moved by someone
// else first is a 412; bad amounts are 422; other departments see nothing.
func TestPipelineOverrideConflictsValidationAndScope(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		tm := newPipelineTeam(t, e)
		sales, manager, other := tm.sales, tm.manager, tm.other
		account := newAccount(t, sales, map[string]any{"name": "西部能源集团"}).Expect(t, 201).Str("id")
		o := newDeal(t, sales, account, nil)

		// Override by the department head, reason required and recorded.
		move(t, manager, o.ID, stQuote, map[string]any{}).Expect(t, 422)
		moved := asDeal(t, move(t, manager, o.ID, stQuote, map[string]any{"override_reason": "框架协议客户，总经理特批"}).Expect(t, 200))
		if moved.StageID != stQuote || moved.Probability != 60 {
			t.Fatalf("override: %+v", moved)
		}
		var hist struct {
			Items []map[string]any `json:"items"`
		}
		sales.Do("GET", "/api/v1/opportunities/"+o.ID+"/history", nil).Expect(t, 200).JSON(&hist)
		if len(hist.Items) != 2 || hist.Items[1]["override_reason"] != "框架协议客户，总经理特批" || hist.Items[0]["left_at"] == nil {
			t.Fatalf("history: %+v", hist.Items)
		}
		audit := tm.admin.Do("GET", "/api/v1/audit?action=opportunity.move_override&entity_id="+o.ID, nil).Expect(t, 200)
		if !strings.Contains(string(audit.Body), "框架协议客户") {
			t.Fatalf("override not audited: %s", audit.Body)
		}

		// Two people drag the same card: the second gets 412 and changes nothing.
		v := version(t, sales, "/api/v1/opportunities/"+o.ID)
		manager.Do("POST", "/api/v1/opportunities/"+o.ID+"/move", map[string]any{"stage_id": stDesign}, ifMatch(v)...).Expect(t, 200)
		r := sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/move", map[string]any{"stage_id": stResearch}, ifMatch(v)...).Expect(t, 412)
		if r.Code() != "version_conflict" {
			t.Fatalf("412 body: %s", r.Body)
		}
		if got := asDeal(t, sales.Do("GET", "/api/v1/opportunities/"+o.ID, nil)); got.StageID != stDesign {
			t.Fatalf("stale move changed the stage: %+v", got)
		}
		sales.Do("PATCH", "/api/v1/opportunities/"+o.ID, map[string]any{"name": "旧"}, ifMatch(v)...).Expect(t, 412)

		// Amounts: negative or beyond the cap (which keeps weighted sums from
		// overflowing) are field errors; what is not a 64-bit integer at all
		// is a wrong type, as for every integer field.
		for _, amount := range []string{"-1", "100000000000000001", "9223372036854775807"} {
			r := sales.Do("POST", "/api/v1/opportunities", `{"account_id":"`+account+`","name":"x","amount":`+amount+`}`).Expect(t, 422)
			if _, ok := asErr(t, r).Error.Fields["amount"]; !ok {
				t.Fatalf("amount %s: %s", amount, r.Body)
			}
		}
		for _, amount := range []string{"1.5", "99999999999999999999", "1e400", `"100"`} {
			r := sales.Do("POST", "/api/v1/opportunities", `{"account_id":"`+account+`","name":"x","amount":`+amount+`}`).Expect(t, 400)
			if _, ok := asErr(t, r).Error.Fields["amount"]; !ok {
				t.Fatalf("amount %s: %s", amount, r.Body)
			}
		}
		sales.Do("POST", "/api/v1/opportunities", map[string]any{"account_id": account, "name": "x", "amount": 100, "currency": "RMB"}).Expect(t, 422)
		sales.Do("POST", "/api/v1/opportunities", map[string]any{"account_id": account, "name": "x", "probability": 101}).Expect(t, 422)
		sales.Do("POST", "/api/v1/opportunities", map[string]any{"account_id": account, "name": "x", "expected_close": "2027-02-30"}).Expect(t, 422)
		sales.Do("POST", "/api/v1/opportunities", map[string]any{"account_id": account, "name": "x", "source": "cold_call"}).Expect(t, 422)
		sales.Do("PATCH", "/api/v1/opportunities/"+o.ID, map[string]any{"amount": -5}).Expect(t, 422)
		// Creating straight into a later stage is no way around its gates.
		r = sales.Do("POST", "/api/v1/opportunities", map[string]any{"account_id": account, "name": "跳过", "stage_id": stDesign}).Expect(t, 422)
		if r.Code() != "stage_gate_blocked" {
			t.Fatalf("create into later stage: %s", r.Body)
		}
		ok := sales.Do("POST", "/api/v1/opportunities", map[string]any{"account_id": account, "name": "上限", "amount": 100000000000000, "currency": "usd", "probability": 35}).Expect(t, 201).Map()
		if ok["currency"] != "USD" || ok["probability"] != float64(35) || ok["probability_overridden"] != true {
			t.Fatalf("max amount: %+v", ok)
		}

		// Another department: 404 for reads and writes, nothing on its board.
		other.Do("GET", "/api/v1/opportunities/"+o.ID, nil).Expect(t, 404)
		move(t, sales, o.ID, stQuote, map[string]any{}).Expect(t, 422)
		other.Do("POST", "/api/v1/opportunities/"+o.ID+"/move", map[string]any{"stage_id": stResearch}).Expect(t, 404)
		other.Do("GET", "/api/v1/opportunities/"+o.ID+"/requirements", nil).Expect(t, 404)
		var board struct {
			Count int `json:"count"`
		}
		other.Do("GET", "/api/v1/pipelines/"+defaultPipeID+"/board", nil).Expect(t, 200).JSON(&board)
		if board.Count != 0 {
			t.Fatalf("other department sees %d deals", board.Count)
		}
		// Shared with them, they see it.
		sales.Do("PUT", "/api/v1/opportunities/"+o.ID+"/collaborators", map[string]any{"user_ids": []string{other.ID}}).Expect(t, 200)
		other.Do("GET", "/api/v1/opportunities/"+o.ID, nil).Expect(t, 200)

		// Merging the account into a duplicate keeps the deal with the survivor.
		survivor := newAccount(t, sales, map[string]any{"name": "东方电力股份公司"}).Expect(t, 201).Str("id")
		manager.Do("POST", "/api/v1/accounts/"+survivor+"/merge", map[string]any{"source_id": account}).Expect(t, 200)
		if got := sales.Do("GET", "/api/v1/opportunities/"+o.ID, nil).Expect(t, 200).Str("account_id"); got != survivor {
			t.Fatalf("deal stayed on the merged account: %s", got)
		}
	})
}

// Administrators shape pipelines; a stage holding deals is not deleted
// unless they say where the deals go, and then every deal moves with a
// history entry.
func TestPipelineStageAdministration(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		tm := newPipelineTeam(t, e)
		admin, sales := tm.admin, tm.sales
		sales.Do("POST", "/api/v1/pipelines", map[string]any{"name": "x", "stages": []map[string]any{{"name": "a"}}}).Expect(t, 403)
		tm.manager.Do("PATCH", "/api/v1/pipeline-stages/"+stDesign, map[string]any{"probability": 50}).Expect(t, 403)
		admin.Do("POST", "/api/v1/pipelines", map[string]any{"name": "x", "stages": []map[string]any{}}).Expect(t, 422)
		admin.Do("POST", "/api/v1/pipelines", map[string]any{"name": "x", "stages": []map[string]any{{"name": "a", "gates": []map[string]any{{"condition": "has_bribe"}}}}}).Expect(t, 422)
		var p struct {
			ID      string `json:"id"`
			Version int64  `json:"version"`
			Stages  []struct {
				ID          string `json:"id"`
				Name        string `json:"name"`
				Probability int    `json:"probability"`
				Version     int64  `json:"version"`
				Gates       []struct {
					Condition string `json:"condition"`
					N         int    `json:"n"`
				} `json:"gates"`
			} `json:"stages"`
		}
		admin.Do("POST", "/api/v1/pipelines", map[string]any{"name": "渠道销售", "name_en": "Channel sales", "stages": []map[string]any{
			{"name": "初步接触", "probability": 10}, {"name": "方案", "probability": 50, "gates": []map[string]any{{"condition": "min_requirements", "n": 2}}},
			{"name": "签约", "probability": 90}}}).Expect(t, 201).JSON(&p)
		if len(p.Stages) != 3 || p.Stages[1].Gates[0].N != 2 {
			t.Fatalf("pipeline: %+v", p)
		}
		first, second, third := p.Stages[0], p.Stages[1], p.Stages[2]
		account := newAccount(t, sales, map[string]any{"name": "南方物流"}).Expect(t, 201).Str("id")
		o := newDeal(t, sales, account, map[string]any{"pipeline_id": p.ID})
		if o.StageID != first.ID {
			t.Fatalf("deal not in first stage: %+v", o)
		}
		// Counted gate: says how many are needed and how many there are.
		sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/requirements", map[string]any{"product": "仓储系统", "quantity": "1"}).Expect(t, 201)
		r := move(t, sales, o.ID, second.ID, nil).Expect(t, 422)
		if msg := asErr(t, r).Error.Fields["gates.min_requirements"]; !strings.Contains(msg, "2") || !strings.Contains(msg, "1") {
			t.Fatalf("counted gate message: %q", msg)
		}
		// The stage editor: rename with If-Match, stale is 412.
		admin.Do("PATCH", "/api/v1/pipeline-stages/"+second.ID, map[string]any{"name": "方案设计", "gates": []map[string]any{}}, ifMatch(second.Version)...).Expect(t, 200)
		admin.Do("PATCH", "/api/v1/pipeline-stages/"+second.ID, map[string]any{"name": "旧名"}, ifMatch(second.Version)...).Expect(t, 412)
		move(t, sales, o.ID, second.ID, nil).Expect(t, 200)
		// Changing the default probability carries deals that kept the default.
		admin.Do("PATCH", "/api/v1/pipeline-stages/"+second.ID, map[string]any{"probability": 55}).Expect(t, 200)
		if got := asDeal(t, sales.Do("GET", "/api/v1/opportunities/"+o.ID, nil)); got.Probability != 55 {
			t.Fatalf("probability not carried: %+v", got)
		}
		// Reorder: must be a permutation.
		admin.Do("PUT", "/api/v1/pipelines/"+p.ID+"/stage-order", map[string]any{"stage_ids": []string{third.ID, first.ID}}).Expect(t, 422)
		admin.Do("PUT", "/api/v1/pipelines/"+p.ID+"/stage-order", map[string]any{"stage_ids": []string{first.ID, third.ID, second.ID}}).Expect(t, 200)

		// Deleting the stage that holds the deal.
		r = admin.Do("DELETE", "/api/v1/pipeline-stages/"+second.ID, nil).Expect(t, 409)
		if r.Code() != "stage_not_empty" || !strings.Contains(r.Message(), "1") {
			t.Fatalf("delete non-empty: %s", r.Body)
		}
		admin.Do("DELETE", "/api/v1/pipeline-stages/"+second.ID+"?move_to="+stDesign, nil).Expect(t, 422) // another pipeline's stage
		admin.Do("DELETE", "/api/v1/pipeline-stages/"+second.ID+"?move_to="+first.ID, nil).Expect(t, 204)
		got := asDeal(t, sales.Do("GET", "/api/v1/opportunities/"+o.ID, nil).Expect(t, 200))
		if got.StageID != first.ID || got.Probability != 10 {
			t.Fatalf("deal after stage deletion: %+v", got)
		}
		var hist struct {
			Items []map[string]any `json:"items"`
		}
		sales.Do("GET", "/api/v1/opportunities/"+o.ID+"/history", nil).Expect(t, 200).JSON(&hist)
		last := hist.Items[len(hist.Items)-1]
		if len(hist.Items) != 3 || last["stage_id"] != first.ID || !strings.Contains(last["note"].(string), "方案设计") {
			t.Fatalf("history after deletion: %+v", hist.Items)
		}
		admin.Do("DELETE", "/api/v1/pipeline-stages/"+third.ID, nil).Expect(t, 204)
		admin.Do("DELETE", "/api/v1/pipeline-stages/"+first.ID+"?move_to="+first.ID, nil).Expect(t, 409) // the last stage stays
		var conds struct {
			Items []map[string]any `json:"items"`
		}
		sales.Do("GET", "/api/v1/pipeline-conditions", nil).Expect(t, 200).JSON(&conds)
		if len(conds.Items) < 8 {
			t.Fatalf("conditions: %+v", conds.Items)
		}
	})
}

// The board shows each column's first cards and totals inside the caller's
// scope; the forecast weighs amounts by probability per month and owner or
// department.
func TestPipelineBoardListAndForecast(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		tm := newPipelineTeam(t, e)
		sales, manager, other := tm.sales, tm.manager, tm.other
		acc := newAccount(t, sales, map[string]any{"name": "北方重工"}).Expect(t, 201).Str("id")
		accB := newAccount(t, other, map[string]any{"name": "北方轻工"}).Expect(t, 201).Str("id")
		newDeal(t, sales, acc, map[string]any{"name": "甲", "amount": 100000, "probability": 40, "expected_close": "2027-01-10"})
		newDeal(t, sales, acc, map[string]any{"name": "乙", "amount": 50000, "probability": 60, "expected_close": "2027-01-25"})
		// A card's place is its creation time in milliseconds (ties by
		// ID): 丙 must be created in a later millisecond to be on top.
		time.Sleep(2 * time.Millisecond)
		newDeal(t, sales, acc, map[string]any{"name": "丙", "amount": 30001, "expected_close": "2027-02-01"}) // stage default 10 %
		lost := newDeal(t, sales, acc, map[string]any{"name": "丁", "amount": 999999, "expected_close": "2027-01-05"})
		comp := sales.Do("POST", "/api/v1/competitors", map[string]any{"name": "远景数据"}).Expect(t, 201).Str("id")
		sales.Do("POST", "/api/v1/opportunities/"+lost.ID+"/lose", map[string]any{"reason": "预算取消", "lost_to_id": comp}).Expect(t, 200)
		newDeal(t, other, accB, map[string]any{"name": "戊", "amount": 70000, "expected_close": "2027-01-15"})

		var b struct {
			Count   int   `json:"count"`
			Amount  int64 `json:"amount"`
			Columns []struct {
				Stage struct {
					ID string `json:"id"`
				} `json:"stage"`
				Count    int    `json:"count"`
				Amount   int64  `json:"amount"`
				Weighted int64  `json:"weighted_amount"`
				Cards    []deal `json:"cards"`
			} `json:"columns"`
		}
		sales.Do("GET", "/api/v1/pipelines/"+defaultPipeID+"/board", nil).Expect(t, 200).JSON(&b)
		if b.Count != 3 || b.Amount != 180001 || len(b.Columns) != 5 || b.Columns[0].Count != 3 || len(b.Columns[0].Cards) != 3 ||
			b.Columns[0].Weighted != (100000*40+50000*60+30001*10)/100 {
			t.Fatalf("sales board: %+v", b)
		}
		// The newest card is on top.
		if b.Columns[0].Cards[0].Amount != 30001 {
			t.Fatalf("card order: %+v", b.Columns[0].Cards)
		}
		tm.admin.Do("GET", "/api/v1/pipelines/"+defaultPipeID+"/board", nil).Expect(t, 200).JSON(&b)
		if b.Count != 4 {
			t.Fatalf("admin board count %d", b.Count)
		}
		tm.tech.Do("GET", "/api/v1/pipelines/"+defaultPipeID+"/board", nil).Expect(t, 200).JSON(&b)
		if b.Count != 0 {
			t.Fatalf("tech sees %d deals", b.Count)
		}

		var list struct {
			Items  []deal `json:"items"`
			Total  int    `json:"total"`
			Totals struct {
				Count    int   `json:"count"`
				Amount   int64 `json:"amount"`
				Weighted int64 `json:"weighted_amount"`
			} `json:"totals"`
			NextCursor *string `json:"next_cursor"`
		}
		manager.Do("GET", "/api/v1/opportunities?status=open&limit=2&sort=expected_close", nil).Expect(t, 200).JSON(&list)
		if list.Total != 3 || list.Totals.Amount != 180001 || len(list.Items) != 2 || list.NextCursor == nil || list.Items[0].Amount != 100000 {
			t.Fatalf("list: %+v", list)
		}
		cursor := *list.NextCursor
		manager.Do("GET", "/api/v1/opportunities?status=open&limit=2&sort=expected_close&cursor="+cursor, nil).Expect(t, 200).JSON(&list)
		if len(list.Items) != 1 || list.Items[0].Amount != 30001 || list.NextCursor != nil {
			t.Fatalf("page 2: %+v", list)
		}
		manager.Do("GET", "/api/v1/opportunities?status=maybe", nil).Expect(t, 400)
		manager.Do("GET", "/api/v1/opportunities?q=%25", nil).Expect(t, 200).JSON(&list)
		if list.Total != 0 {
			t.Fatalf("LIKE wildcard not escaped: %+v", list)
		}

		var fc struct {
			Items []struct {
				Month    string `json:"month"`
				GroupID  string `json:"group_id"`
				Group    string `json:"group_name"`
				Count    int    `json:"count"`
				Amount   int64  `json:"amount"`
				Weighted int64  `json:"weighted_amount"`
			} `json:"items"`
		}
		manager.Do("GET", "/api/v1/opportunity-forecast?group_by=owner", nil).Expect(t, 200).JSON(&fc)
		if len(fc.Items) != 2 || fc.Items[0].Month != "2027-01" || fc.Items[0].Weighted != 70000 || fc.Items[0].Amount != 150000 || fc.Items[0].Count != 2 ||
			fc.Items[0].GroupID != sales.ID || fc.Items[1].Month != "2027-02" || fc.Items[1].Weighted != 3000 {
			t.Fatalf("forecast: %+v", fc.Items)
		}
		tm.admin.Do("GET", "/api/v1/opportunity-forecast?group_by=department&from=2027-01-01&to=2027-01-31", nil).Expect(t, 200).JSON(&fc)
		byDept := map[string]int64{}
		for _, it := range fc.Items {
			byDept[it.Group] += it.Weighted
		}
		if len(fc.Items) != 2 || byDept["售前一部"] != 70000 || byDept["售前二部"] != 7000 {
			t.Fatalf("department forecast: %+v", fc.Items)
		}
		manager.Do("GET", "/api/v1/opportunity-forecast?group_by=planet", nil).Expect(t, 400)
	})
}
