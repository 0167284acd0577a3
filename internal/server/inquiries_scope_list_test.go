package server_test

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// A salesperson's inbox is the union of what is assigned to them, what is
// shared with them and their department's unassigned queue; a department
// head's adds everything in the department. Read page by page, every view
// gives exactly that set, in list order, each inquiry once — whichever
// branch of the scope it comes from (the list reads each branch through its
// own index and merges them).
func TestInboxViewsAreTheScopeInListOrder(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		root := e.RootDepartment(admin)
		d1 := e.Department(admin, "售前一部", root)
		d2 := e.Department(admin, "售前二部", root)
		amy := e.User(admin, "scope.amy", []string{"presales"}, d1)
		ben := e.User(admin, "scope.ben", []string{"presales"}, d1)
		cai := e.User(admin, "scope.cai", []string{"presales"}, d2)
		head := e.User(admin, "scope.head", []string{"manager"}, d1)
		ctx := context.Background()
		now := time.Now()
		type inq struct {
			id       string
			last     int64
			due      int64
			active   bool
			assignee any
			dept     string
			subject  string
			readBy   map[string]bool // user IDs with a read marker after the last message
		}
		var all []inq
		n := 0
		add := func(count int, assignee any, dept string) []string {
			var ids []string
			for range count {
				n++
				// Interleaved times, so every page mixes the branches; due
				// times on the half hour, never at the 2 h edge of breaching.
				v := inq{id: db.NewID(), last: db.Ms(now.Add(-time.Duration(n*7%131) * time.Minute)), active: n%5 != 0,
					due: db.Ms(now.Add(time.Duration(n*11%97-48)*time.Hour + 30*time.Minute)), assignee: assignee, dept: dept,
					subject: fmt.Sprint("范围 ", n), readBy: map[string]bool{}}
				// Some read by the salesperson, some by the head, some by both.
				if n%3 == 0 {
					v.readBy[amy.ID] = true
				}
				if n%4 == 0 {
					v.readBy[head.ID] = true
				}
				all = append(all, v)
				ids = append(ids, v.id)
			}
			return ids
		}
		mineIDs := add(45, amy.ID, d1)
		queueIDs := add(12, nil, d1)
		benIDs := add(20, ben.ID, d1)
		caiIDs := add(15, cai.ID, d2)
		otherQueue := add(6, nil, d2)
		shared := caiIDs[:4]
		err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			for _, v := range all {
				status := "assigned"
				if !v.active {
					status = "closed"
				} else if v.assignee == nil {
					status = "new"
				}
				if _, err := tx.Exec(ctx, `INSERT INTO inquiries (id, subject, channel, priority, status, active, assignee_id, department_id, message_count,
					last_message_at, last_inbound_at, due_at, due_kind, created_at, updated_at) VALUES (?, ?, 'email', 'normal', ?, ?, ?, ?, 1, ?, ?, ?, 'resolution', ?, ?)`,
					v.id, v.subject, status, v.active, v.assignee, v.dept, v.last, v.last, v.due, v.last, v.last); err != nil {
					return err
				}
				for user := range v.readBy {
					if _, err := tx.Exec(ctx, "INSERT INTO inquiry_reads (user_id, inquiry_id, read_at) VALUES (?, ?, ?)", user, v.id, v.last+1); err != nil {
						return err
					}
				}
			}
			for _, id := range shared {
				if _, err := tx.Exec(ctx, "INSERT INTO record_shares (record_type, record_id, user_id, created_at) VALUES ('inquiry', ?, ?, 0)", id, amy.ID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Analyze(ctx); err != nil {
			t.Fatal(err)
		}
		byID := map[string]inq{}
		for _, v := range all {
			byID[v.id] = v
		}
		set := func(groups ...[]string) map[string]bool {
			m := map[string]bool{}
			for _, g := range groups {
				for _, id := range g {
					m[id] = true
				}
			}
			return m
		}
		amySees := set(mineIDs, queueIDs, shared)
		headSees := set(mineIDs, queueIDs, benIDs) // all of 售前一部, nothing of 售前二部 (cai's, its queue)
		_, _ = caiIDs, otherQueue
		within := db.Ms(now.Add(2 * time.Hour))
		views := []struct {
			view   string
			filter string // added to the query
			keep   func(v inq, user string) bool
			byDue  bool
		}{
			{"all", "", func(inq, string) bool { return true }, false},
			{"team", "", func(v inq, _ string) bool { return v.active && v.dept == d1 }, false},
			{"unassigned", "", func(v inq, _ string) bool { return v.active && v.assignee == nil }, false},
			{"breaching", "", func(v inq, _ string) bool { return v.active && v.due < within }, true},
			// Filters on the joined tables: the read marker, a name searched.
			{"team", "&unread=true", func(v inq, user string) bool { return v.active && v.dept == d1 && !v.readBy[user] }, false},
			{"breaching", "&unread=true", func(v inq, user string) bool { return v.active && v.due < within && !v.readBy[user] }, true},
			{"all", "&q=" + url.QueryEscape("范围 1"), func(v inq, _ string) bool { return strings.Contains(v.subject, "范围 1") }, false},
		}
		check := func(name string, c *servertest.Client, sees map[string]bool) {
			for _, vw := range views {
				var want []inq
				for id := range sees {
					if v := byID[id]; vw.keep(v, c.ID) {
						want = append(want, v)
					}
				}
				slices.SortFunc(want, func(a, b inq) int {
					if vw.byDue {
						if a.due != b.due {
							return int(a.due - b.due)
						}
						return compareStr(a.id, b.id)
					}
					if a.last != b.last {
						return int(b.last - a.last)
					}
					return compareStr(b.id, a.id)
				})
				var got []string
				cursor := ""
				for page := 0; page < 20; page++ {
					var p struct {
						Items []struct {
							ID string `json:"id"`
						} `json:"items"`
						NextCursor *string `json:"next_cursor"`
					}
					q := "/api/v1/inquiries?limit=7&view=" + vw.view + vw.filter
					if cursor != "" {
						q += "&cursor=" + url.QueryEscape(cursor)
					}
					c.Do("GET", q, nil).Expect(t, 200).JSON(&p)
					for _, it := range p.Items {
						got = append(got, it.ID)
					}
					if p.NextCursor == nil {
						break
					}
					cursor = *p.NextCursor
				}
				var wantIDs []string
				for _, v := range want {
					wantIDs = append(wantIDs, v.id)
				}
				if !slices.Equal(got, wantIDs) {
					t.Errorf("%s, view %s%s: got %d inquiries, want %d in order\ngot  %v\nwant %v", name, vw.view, vw.filter, len(got), len(wantIDs), got, wantIDs)
				}
			}
		}
		check("salesperson", amy, amySees)
		check("department head", head, headSees)
	})
}

func compareStr(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
