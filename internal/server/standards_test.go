package server_test

import (
	"strings"
	"testing"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

type checkResult struct {
	Verdict  string `json:"verdict"`
	Findings []struct {
		RuleID     string `json:"rule_id"`
		Kind       string `json:"kind"`
		Severity   string `json:"severity"`
		Start      int    `json:"start"`
		End        int    `json:"end"`
		Match      string `json:"match"`
		Message    string `json:"message"`
		Suggestion string `json:"suggestion"`
	} `json:"findings"`
}

// Communication standards through the API on both databases: the issue's
// "a reply with forbidden language is blocked with a clear message" in
// both languages, jargon and politeness hints, rule editing by the
// administrator only (department heads may read), versions and audit.
func TestCommunicationStandardsThroughTheAPI(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		agent := e.User(admin, "agent.wang", []string{"service"}, root)
		head := e.User(admin, "head.li", []string{"manager"}, root)

		var res checkResult
		if err := agent.Do("POST", "/api/v1/standards/check", map[string]any{"text": "你懂不懂？爱买不买，滚 . 蛋"}).Expect(t, 200).JSON(&res); err != nil {
			t.Fatal(err)
		}
		if res.Verdict != "block" || len(res.Findings) != 3 {
			t.Fatalf("%+v", res)
		}
		if f := res.Findings[2]; f.Match != "滚 . 蛋" || f.Start != 10 || f.End != 15 || !strings.Contains(f.Message, "禁止用语") {
			t.Fatalf("%+v", f)
		}
		// An English-speaking agent gets English messages.
		agent.Do("PATCH", "/api/v1/me", map[string]any{"locale": "en"}).Expect(t, 200)
		if err := agent.Do("POST", "/api/v1/standards/check", map[string]any{"text": "Take it or leave it, you IDIOT", "lang": "en"}).Expect(t, 200).JSON(&res); err != nil {
			t.Fatal(err)
		}
		if res.Verdict != "block" || !strings.Contains(res.Findings[0].Message, "forbidden language") {
			t.Fatalf("%+v", res)
		}

		agent.Do("PATCH", "/api/v1/me", map[string]any{"locale": "zh-CN"}).Expect(t, 200)
		if err := agent.Do("POST", "/api/v1/standards/check", map[string]any{"text": "我们提供 SLA 保障，明天给您回复。", "first_reply": true, "closing": true, "lang": "zh-CN"}).Expect(t, 200).JSON(&res); err != nil {
			t.Fatal(err)
		}
		kinds := []string{}
		for _, f := range res.Findings {
			kinds = append(kinds, f.Kind)
		}
		if res.Verdict != "warn" || strings.Join(kinds, ",") != "greeting,jargon,time_promise,closing" {
			t.Fatalf("%s %v", res.Verdict, kinds)
		}
		if err := agent.Do("POST", "/api/v1/standards/check", map[string]any{"text": "您好，我们明天给您回复。感谢您的耐心！", "first_reply": true, "closing": true, "has_follow_up": true}).Expect(t, 200).JSON(&res); err != nil || res.Verdict != "ok" {
			t.Fatalf("%+v %v", res, err)
		}
		agent.Do("POST", "/api/v1/standards/check", map[string]any{"text": 5}).Expect(t, 400)
		agent.Do("POST", "/api/v1/standards/check", map[string]any{"text": "x", "lang": "klingon"}).Expect(t, 422)
		agent.Do("POST", "/api/v1/standards/check", map[string]any{"text": strings.Repeat("长", 20001)}).Expect(t, 422)
		e.Client().Do("POST", "/api/v1/standards/check", map[string]any{"text": "x"}).Expect(t, 401)

		// Rules: staff may not read or edit; the department head may read.
		agent.Do("GET", "/api/v1/standards/rules", nil).Expect(t, 403)
		head.Do("GET", "/api/v1/standards/rules?kind=jargon&limit=5", nil).Expect(t, 200)
		head.Do("POST", "/api/v1/standards/rules", map[string]any{"kind": "forbidden", "pattern": "废物"}).Expect(t, 403)
		head.Do("GET", "/api/v1/standards/rules?kind=rude", nil).Expect(t, 400)

		created := admin.Do("POST", "/api/v1/standards/rules", map[string]any{"kind": "forbidden", "pattern": "废物", "exceptions": []string{"废物利用"}}).Expect(t, 201)
		id := created.Str("id")
		if created.Header.Get("ETag") != `"1"` || created.Str("severity") != "block" || created.Header.Get("Location") != "/api/v1/standards/rules/"+id {
			t.Fatalf("%s", created.Body)
		}
		check := func(text string) string {
			var r checkResult
			if err := agent.Do("POST", "/api/v1/standards/check", map[string]any{"text": text}).Expect(t, 200).JSON(&r); err != nil {
				t.Fatal(err)
			}
			return r.Verdict
		}
		if check("真是个废物") != "block" || check("废物利用是环保的好办法") != "ok" {
			t.Fatal("new rule or its exception not applied")
		}
		admin.Do("POST", "/api/v1/standards/rules", map[string]any{"kind": "forbidden", "pattern": "废物"}).Expect(t, 422)
		admin.Do("POST", "/api/v1/standards/rules", map[string]any{"kind": "jargon", "pattern": "CDN"}).Expect(t, 422)
		admin.Do("PATCH", "/api/v1/standards/rules/"+id, map[string]any{"severity": "warn"}, "If-Match", `"3"`).Expect(t, 412)
		admin.Do("PATCH", "/api/v1/standards/rules/"+id, map[string]any{"severity": "warn"}, "If-Match", `"1"`).Expect(t, 200)
		if check("真是个废物") != "warn" {
			t.Fatal("update not applied")
		}
		admin.Do("DELETE", "/api/v1/standards/rules/"+id, nil, "If-Match", `"1"`).Expect(t, 412)
		admin.Do("DELETE", "/api/v1/standards/rules/"+id, nil, "If-Match", `"2"`).Expect(t, 204)
		admin.Do("GET", "/api/v1/standards/rules/"+id, nil).Expect(t, 404)
		if check("真是个废物") != "ok" {
			t.Fatal("deleted rule still applied")
		}
		audit := admin.Do("GET", "/api/v1/audit?entity_id="+id, nil).Expect(t, 200).Map()["items"].([]any)
		if len(audit) != 3 {
			t.Fatalf("audit entries %d", len(audit))
		}
	})
}
