package inquiries

import (
	"context"
	"fmt"
	"testing"
	"time"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
)

// The guard of a posted message's UPDATE (postGuard) is built from the
// inquiry as read for posting. It must match that row exactly, NULLs and
// all, on both databases (else every post would go round its retry), and
// each of its columns must count (else a change made meanwhile would go
// unnoticed and be overwritten).
func TestPostGuardMatchesTheRowAsRead(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := time.Date(2026, 10, 1, 9, 30, 0, 0, time.UTC).UnixMilli()
		// Everything optional left out, then everything set.
		if _, err := d.Exec(ctx, `INSERT INTO inquiries (id, subject, channel, status, last_message_at, created_at, updated_at)
			VALUES ('bare', '询价', 'phone', 'new', ?, ?, ?)`, now, now, now); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Exec(ctx, `INSERT INTO inquiries (id, subject, channel, priority, status, active, account_id, contact_id,
			customer_name, customer_email, customer_phone, assignee_id, department_id, mailbox_id, message_count, last_message_at,
			last_inbound_at, sla_policy_id, first_response_due, first_response_at, next_response_due, resolution_due, resolved_at,
			paused_at, paused_ms, due_at, due_kind, warn_at, breach_at, warned_due, question, outcome, closed_at, closed_by, version,
			created_at, updated_at)
			VALUES ('full', 'Re: 报价', 'email', 'high', 'waiting', ?, 'acc-1', 'con-1', '钱总', 'qian@example.com', '13800000000',
			'u-1', 'd-1', 'mb-1', 7, ?, ?, 'pol-1', ?, ?, ?, ?, ?, ?, 1500, ?, 'next', ?, ?, ?, '问', 'answered', ?, 'u-1', 9, ?, ?)`,
			false, now, now-1, now+1, now+2, now+3, now+4, now+5, now+6, now+7, now+8, now+9, now+10, now+11, now, now); err != nil {
			t.Fatal(err)
		}
		guards := map[string][]any{}
		for _, id := range []string{"bare", "full"} {
			sc := newInquiryScan(false)
			if _, err := sc.scan(d.LookupRow(ctx, postRowSQL, id)); err != nil {
				t.Fatal(err)
			}
			guards[id] = sc.guardArgs()
		}
		for id, guard := range guards {
			matches := func(args []any) int64 {
				t.Helper()
				res, err := d.Exec(ctx, "UPDATE inquiries SET version = version WHERE id = ? AND "+guardWhereSQL[d.Dialect], append([]any{id}, args...)...)
				if err != nil {
					t.Fatal(err)
				}
				n, err := res.RowsAffected()
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := matches(guard); n != 1 {
				t.Fatalf("%s: the guard of the row as read matches %d rows, want 1 (values %v)", id, n, guard)
			}
			for i, g := range postGuard {
				changed := append([]any(nil), guard...)
				// NULL becomes the other row's value (of the column's type).
				if changed[i] = otherValue(guard[i]); changed[i] == nil {
					changed[i] = guards["full"][i]
				}
				if n := matches(changed); n != 0 {
					t.Errorf("%s: %s = %v instead of %v still matches", id, g.expr, changed[i], guard[i])
				}
			}
		}
	})
}

// otherValue is a value of v's stored kind that differs from it; nil for
// NULL.
func otherValue(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return x + "x"
	case int64:
		return x + 1
	case bool:
		return !x
	}
	panic(fmt.Sprintf("guard value of type %T", v))
}
