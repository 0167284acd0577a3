package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
)

// An op is one user action measured as a unit. To add one: append an entry
// to ops (name, default weight, HTTP calls per op, read or write, and what
// it does with the worker's signed-in session). Nothing else needs to change.
type op struct {
	name   string
	weight int    // default weight in the mix (-mix overrides)
	calls  int    // HTTP requests per op (the report shows both rates)
	kind   string // "read" or "write": which raw baseline its ratios use
	desc   string
	run    func(ctx context.Context, w *worker, rng *rand.Rand) error
}

// searchWords are two-character Chinese terms (the hard case: too short for
// trigram indexes) that occur in the demo data, common and rarer ones, and
// two-character names.
var searchWords = []string{"报价", "延期", "演示", "合同", "技术", "方案", "交付", "试用", "付款", "采购", "拜访", "需求", "王伟", "李娜", "张敏"}

var ops = []op{
	{name: "sign_in", weight: 1, calls: 1, kind: "write", desc: "POST /api/v1/auth/login (argon2id) as one of the demo users",
		run: func(ctx context.Context, w *worker, _ *rand.Rand) error {
			_, err := w.c.login(ctx, w.u.username, w.password)
			return err
		}},
	{name: "me", weight: 5, calls: 1, kind: "read", desc: "GET /api/v1/me",
		run: func(ctx context.Context, w *worker, _ *rand.Rand) error {
			return w.get(ctx, "/api/v1/me")
		}},
	{name: "list_accounts", weight: 15, calls: 1, kind: "read", desc: "GET /api/v1/accounts?limit=50 with one of several filters",
		run: func(ctx context.Context, w *worker, rng *rand.Rand) error {
			return w.get(ctx, "/api/v1/accounts?limit=50"+w.u.filters[rng.IntN(len(w.u.filters))])
		}},
	{name: "account_page", weight: 20, calls: 1, kind: "read", desc: "GET /api/v1/accounts/{id}?expand=contacts,timeline: the account, its contacts and first 50 timeline events, as the UI opens the page",
		run: func(ctx context.Context, w *worker, rng *rand.Rand) error {
			return w.get(ctx, "/api/v1/accounts/%s?expand=contacts,timeline", w.account(rng).ID)
		}},
	{name: "timeline", weight: 10, calls: 1, kind: "read", desc: "GET /api/v1/accounts/{id}/timeline?limit=50",
		run: func(ctx context.Context, w *worker, rng *rand.Rand) error {
			return w.get(ctx, "/api/v1/accounts/%s/timeline?limit=50", w.account(rng).ID)
		}},
	{name: "search", weight: 15, calls: 1, kind: "read", desc: "GET /api/v1/search?q=<two-character word>&limit=20",
		run: func(ctx context.Context, w *worker, rng *rand.Rand) error {
			return w.get(ctx, "/api/v1/search?limit=20&q="+url.QueryEscape(searchWords[rng.IntN(len(searchWords))]))
		}},
	{name: "log_call", weight: 10, calls: 1, kind: "write", desc: "POST /api/v1/accounts/{id}/activities (a call)",
		run: func(ctx context.Context, w *worker, rng *rand.Rand) error {
			body := map[string]any{"kind": "call", "direction": []string{"inbound", "outbound"}[rng.IntN(2)], "duration_min": 5 + rng.IntN(40),
				"summary": callSummaries[rng.IntN(len(callSummaries))], "outcome": "客户有意向", "next_step": "发送报价单"}
			_, err := w.c.do(ctx, w.u.cookie, "POST", body, nil, "/api/v1/accounts/%s/activities", w.account(rng).ID)
			return err
		}},
	{name: "create_account", weight: 3, calls: 1, kind: "write", desc: "POST /api/v1/accounts (confirm_duplicates)",
		run: func(ctx context.Context, w *worker, rng *rand.Rand) error {
			a := w.account(rng)
			w.seq++
			body := map[string]any{"name": fmt.Sprintf("压测%s%d号%04x科技有限公司", w.u.short, w.seq, rng.Uint32()&0xffff), "kind": "company", "status": "prospect",
				"level": "C", "source": "website", "province_code": a.ProvinceCode, "city_code": a.CityCode, "district_code": a.DistrictCode,
				"tags": []string{"压测"}, "needs": "希望统一管理售前咨询", "confirm_duplicates": true}
			_, err := w.c.do(ctx, w.u.cookie, "POST", body, nil, "/api/v1/accounts")
			return err
		}},
	{name: "post_message", weight: 0, calls: 1, kind: "write", desc: "POST /api/v1/inquiries/{id}/messages: a reply (standards-checked, audited, search-queued, SLA updated) to the user's own inquiry (issue 4)",
		run: func(ctx context.Context, w *worker, rng *rand.Rand) error {
			id, err := w.ownInquiry(ctx, rng)
			if err != nil {
				return err
			}
			body := map[string]any{"body": replies[rng.IntN(len(replies))]}
			_, err = w.c.do(ctx, w.u.cookie, "POST", body, nil, "/api/v1/inquiries/%s/messages", id)
			return err
		}},
}

var replies = []string{
	"您好，A 型号 200 台的报价为每台 1,200 元，45 天交货。如有疑问请随时联系我。",
	"您好，方案文档已发送到您的邮箱，请查收，有问题随时沟通。",
	"感谢您的咨询，技术同事会在今天下午给您回电说明接口细节。",
}

var callSummaries = []string{
	"客户来电询问报价，希望本周内收到正式报价单",
	"电话沟通技术方案，客户对接口能力比较关注",
	"跟进合同条款，客户法务要求修改付款方式",
	"客户要求交付延期两周，已同意并记录",
	"约定下周上门演示新版本",
}

func findOp(name string) (op, bool) {
	for _, o := range ops {
		if o.name == name {
			return o, true
		}
	}
	return op{}, false
}
