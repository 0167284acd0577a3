package server_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// Every item of an inbox page is the inquiry exactly as its own page shows
// it: the list scans a page's rows into shared buffers and writes its JSON
// by hand, and neither may carry a value from one row to the next (a NULL
// after a value, a consultation after none, a read marker after an unread
// one) nor differ from encoding/json's form of the same inquiry.
func TestInboxPageItemsAreTheInquiriesAsShown(t *testing.T) {
	now := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC) // a Monday, in office hours in Shanghai
	// A fixed clock: the list and the inquiry's page compute the same
	// seconds left.
	clock := dbtest.Options{Now: func() time.Time { return now }}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			var d *db.DB
			if name == "sqlite" {
				d = dbtest.OpenSQLite(t, clock)
			} else {
				d = dbtest.OpenPostgres(t, clock)
			}
			inboxPageItemsAreTheInquiries(t, d, now)
		})
	}
}

func inboxPageItemsAreTheInquiries(t *testing.T, d *db.DB, now time.Time) {
	{
		e := servertest.Start(t, d)
		admin := e.Admin()
		acc := admin.Do("POST", "/api/v1/accounts", map[string]any{"name": "页面客户 <&>", "contacts": []map[string]any{{"name": "钱总", "email": "qian@page.example"}}}).
			Expect(t, 201).Str("id")
		ctx := context.Background()
		var contact string
		if err := d.QueryRow(ctx, "SELECT id FROM contacts WHERE email = ?", "qian@page.example").Scan(&contact); err != nil {
			t.Fatal(err)
		}
		ms := func(d time.Duration) int64 { return db.Ms(now.Add(d)) }
		var ids []string
		err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			for i := range 23 {
				id := db.NewID()
				ids = append(ids, id)
				// Each property switches on a different period, so
				// neighbouring rows differ in every combination.
				pick := func(period int, v any) any {
					if i%period == 0 {
						return v
					}
					return nil
				}
				pickText := func(period int, v string) string {
					if i%period == 0 {
						return v
					}
					return ""
				}
				active := i%4 != 3
				status := "in_progress"
				if !active {
					status = "closed"
				}
				consult := i%4 == 3
				text := func(s string) string {
					if consult {
						return s
					}
					return ""
				}
				if _, err := tx.Exec(ctx, `INSERT INTO inquiries (id, subject, channel, priority, status, active, account_id, contact_id, customer_name,
					customer_email, customer_phone, assignee_id, department_id, mailbox_id, message_count, last_message_at, last_inbound_at, sla_policy_id,
					first_response_due, first_response_at, next_response_due, resolution_due, resolved_at, paused_at, paused_ms, due_at, due_kind,
					question, answer, outcome, follow_up_at, follow_up_task_id, closed_at, closed_by, version, created_at, updated_at)
					VALUES (?, ?, 'email', 'normal', ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
					id, fmt.Sprint("询价 \"型号\" <", i, ">"), status, active, pick(2, acc), pick(3, contact), fmt.Sprint("客户", i),
					fmt.Sprint("buyer", i, "@page.example"), pickText(2, "13812345678"), pick(5, admin.ID), pickText(3, "mbx-1"), i+1,
					ms(-time.Duration(i)*time.Minute), pick(2, ms(-time.Duration(i)*time.Minute)), pick(3, "default"),
					pick(2, ms(time.Hour)), pick(4, ms(-time.Hour)), pick(5, ms(2*time.Hour)), pick(3, ms(30*time.Hour)), pick(7, ms(-2*time.Hour)),
					pick(6, ms(-30*time.Minute)), i*60000, pick(2, ms(time.Duration(i-11)*time.Hour)), "resolution",
					text("A 型号的交货期？"), text("45 天"), text("quoted"), pick(8, ms(48*time.Hour)), pick(8, "task-1"), pick(4, ms(-time.Minute)),
					text(admin.ID), i, ms(-48*time.Hour), ms(-time.Duration(i)*time.Minute)); err != nil {
					return err
				}
				if i%3 == 1 {
					if _, err := tx.Exec(ctx, "INSERT INTO inquiry_reads (user_id, inquiry_id, read_at) VALUES (?, ?, ?)", admin.ID, id, ms(-time.Duration(i-1)*time.Minute)); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var got []map[string]any
		cursor := ""
		for range 10 {
			var page struct {
				Items      []map[string]any `json:"items"`
				NextCursor *string          `json:"next_cursor"`
			}
			path := "/api/v1/inquiries?limit=10"
			if cursor != "" {
				path += "&cursor=" + cursor
			}
			admin.Do("GET", path, nil).Expect(t, 200).JSON(&page)
			got = append(got, page.Items...)
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		if len(got) != len(ids) {
			t.Fatalf("listed %d inquiries, want %d", len(got), len(ids))
		}
		for i, item := range got {
			want := admin.Do("GET", fmt.Sprint("/api/v1/inquiries/", item["id"]), nil).Expect(t, 200).Map()
			if !reflect.DeepEqual(item, want) {
				t.Errorf("item %d differs from its own page:\nlist %v\nget  %v", i, item, want)
			}
			if want := ids[i]; item["id"] != want { // newest first
				t.Errorf("item %d is %v, want %s", i, item["id"], want)
			}
		}
	}
}
