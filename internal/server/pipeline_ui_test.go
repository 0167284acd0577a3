package server_test

import (
	"net/url"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// What the pipeline pages need beyond the deal's own records: the board's
// filters, a column's "load more" in board order, the department head's
// review queues across deals, the tech queue of a team with the
// requirement asked about, and the people a request can be sent to.

type boardBody struct {
	Count   int   `json:"count"`
	Amount  int64 `json:"amount"`
	Columns []struct {
		Stage struct {
			ID string `json:"id"`
		} `json:"stage"`
		Count int    `json:"count"`
		Cards []deal `json:"cards"`
	} `json:"columns"`
}

func TestPipelineBoardFiltersAndColumnPaging(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		tm := newPipelineTeam(t, e)
		sales, manager := tm.sales, tm.manager
		colleague := e.User(tm.admin, "pl.colleague", []string{"sales"}, tm.deptA)
		acc := newAccount(t, sales, map[string]any{"name": "华北电网"}).Expect(t, 201).Str("id")
		acc2 := newAccount(t, colleague, map[string]any{"name": "华北水务"}).Expect(t, 201).Str("id")
		var mine []deal
		for i, close := range []string{"2027-01-10", "2027-02-10", "2027-03-10", "2027-04-10", "2027-05-10"} {
			mine = append(mine, newDeal(t, sales, acc, map[string]any{"name": "变电站改造 " + string(rune('A'+i)), "amount": 10000 * (i + 1), "expected_close": close}))
		}
		newDeal(t, colleague, acc2, map[string]any{"name": "水厂自控", "amount": 99999, "expected_close": "2027-02-20"})

		board := func(c *servertest.Client, q url.Values) boardBody {
			t.Helper()
			var b boardBody
			c.Do("GET", "/api/v1/pipelines/"+defaultPipeID+"/board?"+q.Encode(), nil).Expect(t, 200).JSON(&b)
			return b
		}
		if b := board(manager, nil); b.Count != 6 {
			t.Fatalf("manager's board: %d deals", b.Count)
		}
		// my deals
		if b := board(manager, url.Values{"owner_id": {sales.ID}}); b.Count != 5 || b.Amount != 150000 {
			t.Fatalf("owner filter: %+v", b)
		}
		// expected close range and the totals follow it
		b := board(manager, url.Values{"close_from": {"2027-02-01"}, "close_to": {"2027-03-31"}})
		if b.Count != 3 || b.Amount != 20000+30000+99999 {
			t.Fatalf("close range: %+v", b)
		}
		// name search, department
		if b := board(manager, url.Values{"q": {"水厂"}}); b.Count != 1 || b.Columns[0].Cards[0].Amount != 99999 {
			t.Fatalf("search: %+v", b)
		}
		if b := board(manager, url.Values{"department_id": {tm.deptB}}); b.Count != 0 {
			t.Fatalf("other department: %+v", b)
		}
		manager.Do("GET", "/api/v1/pipelines/"+defaultPipeID+"/board?close_from=2027-13-01", nil).Expect(t, 400)

		// "Load more" of a column: the list in board order (rank), paged by
		// cursor, continues exactly where the column's first cards end.
		col := board(sales, nil).Columns[0]
		var pageIDs []string
		cursor := ""
		for {
			q := url.Values{"pipeline_id": {defaultPipeID}, "stage_id": {stResearch}, "status": {"open"}, "sort": {"rank"}, "limit": {"2"}}
			if cursor != "" {
				q.Set("cursor", cursor)
			}
			var list struct {
				Items      []deal  `json:"items"`
				NextCursor *string `json:"next_cursor"`
			}
			sales.Do("GET", "/api/v1/opportunities?"+q.Encode(), nil).Expect(t, 200).JSON(&list)
			for _, it := range list.Items {
				pageIDs = append(pageIDs, it.ID)
			}
			if list.NextCursor == nil {
				break
			}
			cursor = *list.NextCursor
		}
		if len(pageIDs) != len(col.Cards) || len(pageIDs) != 5 {
			t.Fatalf("paged %d, board %d", len(pageIDs), len(col.Cards))
		}
		for i := range pageIDs {
			if pageIDs[i] != col.Cards[i].ID {
				t.Fatalf("order differs at %d: %v vs board", i, pageIDs)
			}
		}
		// a card moved into the column goes to its top in both
		sales.Do("POST", "/api/v1/research-notes", map[string]any{"account_id": acc, "industry": "电力"}).Expect(t, 201)
		last := mine[0]
		move(t, sales, last.ID, stNeeds, nil).Expect(t, 200)
		move(t, sales, last.ID, stResearch, nil).Expect(t, 200)
		var top struct {
			Items []deal `json:"items"`
		}
		sales.Do("GET", "/api/v1/opportunities?stage_id="+stResearch+"&status=open&sort=rank&limit=1", nil).Expect(t, 200).JSON(&top)
		if top.Items[0].ID != last.ID || board(sales, nil).Columns[0].Cards[0].ID != last.ID {
			t.Fatalf("moved card not on top: %+v", top.Items)
		}
	})
}

func TestPipelineReviewQueuesAndTechQueue(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		tm := newPipelineTeam(t, e)
		sales, manager, tech, other := tm.sales, tm.manager, tm.tech, tm.other
		acc := newAccount(t, sales, map[string]any{"name": "江南造船"}).Expect(t, 201).Str("id")
		o := newDeal(t, sales, acc, map[string]any{"name": "船厂数字化"})
		accB := newAccount(t, other, map[string]any{"name": "江北造船"}).Expect(t, 201).Str("id")
		ob := newDeal(t, other, accB, map[string]any{"name": "另一部门的商机"})

		// Solutions: a submitted one waits in the department head's queue
		// with its deal and account named; a draft does not.
		sol := sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/solutions", map[string]any{"title": "数字化方案", "body_html": "<p>总体架构</p>"}).Expect(t, 201).Map()
		solID := sol["id"].(string)
		if sol["opportunity_name"] != "船厂数字化" || sol["account_name"] != "江南造船" {
			t.Fatalf("solution names: %+v", sol)
		}
		draftB := other.Do("POST", "/api/v1/opportunities/"+ob.ID+"/solutions", map[string]any{"title": "B 方案", "body_html": "<p>x</p>"}).Expect(t, 201).Str("id")
		other.Do("POST", "/api/v1/solutions/"+draftB+"/submit", nil, ifMatch(version(t, other, "/api/v1/solutions/"+draftB))...).Expect(t, 200)
		var q struct {
			Items []map[string]any `json:"items"`
		}
		manager.Do("GET", "/api/v1/solutions", nil).Expect(t, 200).JSON(&q)
		if len(q.Items) != 0 {
			t.Fatalf("draft or other department in the queue: %+v", q.Items)
		}
		sales.Do("POST", "/api/v1/solutions/"+solID+"/submit", nil, ifMatch(version(t, sales, "/api/v1/solutions/"+solID))...).Expect(t, 200)
		manager.Do("GET", "/api/v1/solutions?status=submitted", nil).Expect(t, 200).JSON(&q)
		if len(q.Items) != 1 || q.Items[0]["id"] != solID || q.Items[0]["opportunity_name"] != "船厂数字化" || q.Items[0]["account_name"] != "江南造船" {
			t.Fatalf("review queue: %+v", q.Items)
		}
		manager.Do("GET", "/api/v1/solutions?status=maybe", nil).Expect(t, 400)
		manager.Do("POST", "/api/v1/solutions/"+solID+"/approve", map[string]any{"comment": "同意"}).Expect(t, 200)
		manager.Do("GET", "/api/v1/solutions", nil).Expect(t, 200).JSON(&q)
		if len(q.Items) != 0 {
			t.Fatalf("approved still pending: %+v", q.Items)
		}
		manager.Do("GET", "/api/v1/solutions?status=approved", nil).Expect(t, 200).JSON(&q)
		if len(q.Items) != 1 {
			t.Fatalf("approved list: %+v", q.Items)
		}
		// The administrator sees the other department's submission too.
		tm.admin.Do("GET", "/api/v1/solutions", nil).Expect(t, 200).JSON(&q)
		if len(q.Items) != 1 || q.Items[0]["id"] != draftB {
			t.Fatalf("admin queue: %+v", q.Items)
		}

		// Demos: the same for requested demos and trials.
		demo := sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/demos", map[string]any{"kind": "demo", "purpose": "产线演示",
			"starts_on": time.Now().AddDate(0, 0, 3).Format("2006-01-02"), "duration_days": 1}).Expect(t, 201).Str("id")
		manager.Do("GET", "/api/v1/demos", nil).Expect(t, 200).JSON(&q)
		if len(q.Items) != 1 || q.Items[0]["id"] != demo || q.Items[0]["opportunity_name"] != "船厂数字化" || q.Items[0]["ends_on"] == "" {
			t.Fatalf("demo queue: %+v", q.Items)
		}
		other.Do("GET", "/api/v1/demos", nil).Expect(t, 200).JSON(&q)
		if len(q.Items) != 0 {
			t.Fatalf("other department sees the demo: %+v", q.Items)
		}
		manager.Do("GET", "/api/v1/demos?status=bogus", nil).Expect(t, 400)
		manager.Do("POST", "/api/v1/demos/"+demo+"/approve", map[string]any{}).Expect(t, 200)
		manager.Do("GET", "/api/v1/demos", nil).Expect(t, 200).JSON(&q)
		if len(q.Items) != 0 {
			t.Fatalf("approved demo still pending: %+v", q.Items)
		}

		// The request form offers the technical staff, the tech role first.
		var people struct {
			Items []struct {
				ID   string `json:"id"`
				Tech bool   `json:"tech"`
			} `json:"items"`
		}
		sales.Do("GET", "/api/v1/support-assignees", nil).Expect(t, 200).JSON(&people)
		if len(people.Items) < 2 || people.Items[0].ID != tech.ID || !people.Items[0].Tech {
			t.Fatalf("assignees: %+v", people.Items)
		}
		for _, p := range people.Items {
			if p.ID == sales.ID || p.ID == manager.ID {
				t.Fatalf("%s cannot answer but is offered", p.ID)
			}
		}
		tech.Do("GET", "/api/v1/support-assignees", nil).Expect(t, 403)

		// The tech queue carries the requirement asked about (the assignee
		// cannot open the deal) and, for a technical head, the team's queue.
		req := sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/requirements", map[string]any{"product": "船体焊接机器人", "quantity": "4", "unit": "台"}).Expect(t, 201).Map()
		sales.Do("POST", "/api/v1/opportunities/"+o.ID+"/support-requests", map[string]any{"requirement_id": req["id"], "question": "焊缝识别精度能否达到 0.2 mm？",
			"assignee_id": tech.ID, "due_at": time.Now().Add(4 * time.Hour).UTC().Format(time.RFC3339)}).Expect(t, 201)
		var mine struct {
			Items []struct {
				ID          string         `json:"id"`
				AccountName string         `json:"account_name"`
				Requirement map[string]any `json:"requirement"`
			} `json:"items"`
		}
		tech.Do("GET", "/api/v1/support-requests", nil).Expect(t, 200).JSON(&mine)
		if len(mine.Items) != 1 || mine.Items[0].AccountName != "江南造船" || mine.Items[0].Requirement["product"] != "船体焊接机器人" || mine.Items[0].Requirement["quantity"] != "4" {
			t.Fatalf("tech queue: %+v", mine.Items)
		}
		tech.Do("GET", "/api/v1/opportunities/"+o.ID, nil).Expect(t, 404)
		tech.Do("GET", "/api/v1/support-requests/"+mine.Items[0].ID, nil).Expect(t, 200)
		techDept := ""
		var techUser struct {
			DepartmentID string `json:"department_id"`
		}
		tm.admin.Do("GET", "/api/v1/users/"+tech.ID, nil).Expect(t, 200).JSON(&techUser)
		techDept = techUser.DepartmentID
		techHead := e.User(tm.admin, "pl.techhead", []string{"manager", "tech"}, techDept)
		techHead.Do("GET", "/api/v1/support-requests", nil).Expect(t, 200).JSON(&mine)
		if len(mine.Items) != 0 {
			t.Fatalf("head's own queue: %+v", mine.Items)
		}
		techHead.Do("GET", "/api/v1/support-requests?scope=team&status=open", nil).Expect(t, 200).JSON(&mine)
		if len(mine.Items) != 1 {
			t.Fatalf("team queue: %+v", mine.Items)
		}
		manager.Do("GET", "/api/v1/support-requests?scope=team", nil).Expect(t, 200).JSON(&mine)
		if len(mine.Items) != 0 {
			t.Fatalf("sales head sees the tech team's queue: %+v", mine.Items)
		}
		tech.Do("GET", "/api/v1/support-requests?scope=everyone", nil).Expect(t, 400)
	})
}
