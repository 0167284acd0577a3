package followups_test

import (
	"context"
	"testing"
	"time"

	"prelude/internal/followups"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// A task whose reminder is seconds away gets a reminder job at that time
// (rounded up to 50 ms) in the transaction that creates or moves it; one
// further away does not (the tick's look-ahead enqueues it when it comes
// near). Each reminder is notified once, however often the tick and the
// job run afterwards.
func TestSoonRemindersGetTheirOwnJob(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		ctx := context.Background()
		p, err := e.Srv.Org.PrincipalFor(ctx, admin.ID)
		if err != nil {
			t.Fatal(err)
		}
		pctx := authz.With(ctx, p)
		zero := 0
		jobsAt := func(at time.Time) int {
			var n int
			if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM jobs WHERE kind = 'followups.remind' AND run_at >= ? AND run_at < ? AND run_at % 50 = 0",
				db.Ms(at), db.Ms(at.Add(50*time.Millisecond))).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		soon, err := e.Srv.Followups.CreateTask(pctx, followups.TaskInput{Title: "马上回电", Kind: "call", DueAt: time.Now().Add(1500 * time.Millisecond), RemindBeforeMin: &zero})
		if err != nil {
			t.Fatal(err)
		}
		if n := jobsAt(soon.DueAt); n != 1 {
			t.Fatalf("%d reminder jobs at the soon task's time", n)
		}
		later, err := e.Srv.Followups.CreateTask(pctx, followups.TaskInput{Title: "下午回电", Kind: "call", DueAt: time.Now().Add(time.Hour), RemindBeforeMin: &zero})
		if err != nil {
			t.Fatal(err)
		}
		if n := jobsAt(later.DueAt); n != 0 {
			t.Fatalf("%d reminder jobs an hour ahead", n)
		}
		moved := time.Now().Add(1200 * time.Millisecond)
		later, err = e.Srv.Followups.UpdateTask(pctx, later.ID, later.Version, followups.TaskPatch{DueAt: &moved})
		if err != nil {
			t.Fatal(err)
		}
		if n := jobsAt(later.DueAt); n != 1 {
			t.Fatalf("%d reminder jobs at the moved task's time", n)
		}

		reminders := func(id string) int {
			var n int
			if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM notifications WHERE event = 'task_reminder' AND link = ?", "/tasks/"+id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		deadline := time.Now().Add(15 * time.Second)
		for reminders(soon.ID) == 0 || reminders(later.ID) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("reminders not sent")
			}
			time.Sleep(20 * time.Millisecond)
		}
		for range 2 {
			if _, err := e.Srv.Followups.Tick(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := e.Srv.Followups.RemindDue(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if a, b := reminders(soon.ID), reminders(later.ID); a != 1 || b != 1 {
			t.Fatalf("reminders sent %d and %d times, want once each", a, b)
		}
	})
}
