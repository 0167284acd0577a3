package followups_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"prelude/internal/followups"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/platform/workcal"
	"prelude/internal/server/servertest"
)

// "My day" is one statement over partial indexes; this checks it against
// the plain definition of each section, computed here from every task: the
// owner's open tasks, ordered by (due, id), cut at the section's size, with
// exact counts. Sections overflow their sizes, due times tie, other owners'
// and closed tasks are interleaved, and some tasks have an account.
func TestMyDayMatchesDefinition(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		other := e.User(admin, "myday.other", []string{"sales"}, e.RootDepartment(admin))
		ctx := context.Background()
		now := time.Now()
		zone := workcal.Shanghai()
		local := now.In(zone)
		start := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, zone)
		end, week := start.Add(24*time.Hour), start.Add(8*24*time.Hour)
		if end.Sub(now) < 10*time.Minute {
			t.Skip("too close to midnight in Shanghai for stable sections")
		}

		account := db.NewID()
		if _, err := d.Exec(ctx, `INSERT INTO accounts (id, name, name_key, kind, owner_id, created_at, updated_at) VALUES (?, '华星科技', '华星科技', 'company', ?, ?, ?)`,
			account, admin.ID, db.Ms(now), db.Ms(now)); err != nil {
			t.Fatal(err)
		}
		type row struct {
			id, owner, status string
			due               time.Time
			promise, account  bool
		}
		var all []row
		add := func(n int, owner string, from, to time.Time, status string, promise bool) {
			for i := range n {
				// Several tasks share each due time (ties are broken by id).
				due := from.Add(time.Duration(int64(to.Sub(from)) * int64(i/3) / int64(n/3+1))).Truncate(time.Millisecond)
				all = append(all, row{db.NewID(), owner, status, due, promise || i%17 == 0, i%5 == 0})
			}
		}
		add(230, admin.ID, now.Add(-72*time.Hour), now.Add(-time.Minute), "open", false) // more than the overdue section shows
		add(40, admin.ID, now.Add(time.Minute), end.Add(-time.Minute), "open", false)
		add(140, admin.ID, end, week.Add(48*time.Hour), "open", false) // more than upcoming shows, some beyond the week
		add(30, admin.ID, now.Add(-time.Hour), now.Add(48*time.Hour), "done", true)
		add(50, other.ID, now.Add(-48*time.Hour), now.Add(48*time.Hour), "open", true)
		add(210, admin.ID, now.Add(-24*time.Hour), week, "open", true) // more promises than shown
		err := d.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
			for i, r := range all {
				var acc any
				if r.account {
					acc = account
				}
				if _, err := tx.Exec(ctx, `INSERT INTO tasks (id, title, kind, status, due_at, remind_at, owner_id, account_id, is_promise, created_at, updated_at)
					VALUES (?, ?, 'call', ?, ?, ?, ?, ?, ?, ?, ?)`, r.id, fmt.Sprint("任务 ", i), r.status, db.Ms(r.due), db.Ms(r.due.Add(-30*time.Minute)),
					r.owner, acc, r.promise, db.Ms(now), db.Ms(now)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}

		p, err := e.Srv.Org.PrincipalFor(ctx, admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		day, err := e.Srv.Followups.MyDay(authz.With(ctx, p))
		if err != nil {
			t.Fatal(err)
		}
		mine := slices.DeleteFunc(slices.Clone(all), func(r row) bool { return r.owner != admin.ID || r.status != "open" })
		slices.SortFunc(mine, func(a, b row) int { return cmp.Or(a.due.Compare(b.due), cmp.Compare(a.id, b.id)) })
		section := func(keep func(r row) bool, limit int) (ids []string, n int) {
			for _, r := range mine {
				if keep(r) {
					if n++; n <= limit {
						ids = append(ids, r.id)
					}
				}
			}
			return ids, n
		}
		check := func(name string, got []*followups.Task, want []string) {
			t.Helper()
			var ids []string
			for _, tk := range got {
				ids = append(ids, tk.ID)
				if tk.OwnerName == "" || tk.Status != "open" || (tk.AccountID != nil) != (tk.AccountName == "华星科技") {
					t.Errorf("%s: %s: owner %q status %s account %v %q", name, tk.ID, tk.OwnerName, tk.Status, tk.AccountID, tk.AccountName)
				}
			}
			if !slices.Equal(ids, want) {
				t.Errorf("%s: got %d tasks %v\nwant %d %v", name, len(ids), ids, len(want), want)
			}
		}
		overdue, nOverdue := section(func(r row) bool { return r.due.Before(now) }, 200)
		today, nToday := section(func(r row) bool { return !r.due.Before(now) && r.due.Before(end) }, 500)
		upcoming, _ := section(func(r row) bool { return !r.due.Before(end) && r.due.Before(week) }, 100)
		promises, nPromises := section(func(r row) bool { return r.promise }, 200)
		check("overdue", day.Overdue, overdue)
		check("today", day.Today, today)
		check("upcoming", day.Upcoming, upcoming)
		check("promises", day.Promises, promises)
		if day.Counts.Overdue != nOverdue || day.Counts.Today != nToday || day.Counts.Promises != nPromises {
			t.Errorf("counts %+v, want %d %d %d", day.Counts, nOverdue, nToday, nPromises)
		}
		if nOverdue <= 200 || nPromises <= 200 || len(upcoming) != 100 {
			t.Fatalf("the data no longer overflows the sections: %d %d %d", nOverdue, nPromises, len(upcoming))
		}
	})
}
