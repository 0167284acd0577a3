package workcal

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/platform/errs"
)

func adminCtx() context.Context { return authz.With(context.Background(), authz.System()) }

// The seeded table is exactly lunar-go's published 2026 and 2027 schedule.
func TestSeedMatchesLunarGo(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		s := NewService(d, audit.New(d, make([]byte, 32)))
		var stored []Override
		for _, y := range []int{2026, 2027} {
			days, err := s.ListDays(adminCtx(), y)
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range days {
				stored = append(stored, Override{Date: x.Date, Kind: x.Kind})
			}
		}
		want := lunarOverrides(2026, 2027)
		if !slices.Equal(stored, want) {
			t.Fatalf("seed differs from lunar-go:\n got %v\nwant %v", stored, want)
		}
	})
}

// The case, on the stored calendar of both databases: the due time
// of a 4-business-hour first response, and the same after the
// administrator declares one more day off.
func TestCurrentFollowsAdministratorEdits(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := adminCtx()
		a := audit.New(d, make([]byte, 32))
		s, other := NewService(d, a), NewService(d, a)
		other.refreshEvery = 50 * time.Millisecond
		c, err := s.Current(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := other.Current(ctx); err != nil {
			t.Fatal(err)
		}
		if got := c.AddBusiness(cst(2027, 9, 24, 17, 0), 4*time.Hour); !got.Equal(cst(2027, 9, 26, 12, 0)) {
			t.Fatalf("due %s, want the make-up Sunday 2027-09-26 12:00", got.In(shanghai))
		}
		if got := c.AddBusiness(cst(2026, 9, 25, 17, 0), 4*time.Hour); !got.Equal(cst(2026, 9, 28, 14, 30)) {
			t.Fatalf("due %s", got.In(shanghai))
		}
		day, created, err := s.PutDay(ctx, "2026-09-28", 0, DayInput{Kind: KindHoliday, Name: " 公司年假 "})
		if err != nil || !created || day.Version != 1 || day.Name != "公司年假" || day.Source != "admin" {
			t.Fatalf("%+v %v %v", day, created, err)
		}
		c2, _ := s.Current(ctx)
		if got := c2.AddBusiness(cst(2026, 9, 25, 17, 0), 4*time.Hour); !got.Equal(cst(2026, 9, 29, 14, 30)) {
			t.Fatalf("after edit due %s", got.In(shanghai))
		}
		// The old snapshot is immutable.
		if got := c.AddBusiness(cst(2026, 9, 25, 17, 0), 4*time.Hour); !got.Equal(cst(2026, 9, 28, 14, 30)) {
			t.Fatal("snapshot changed under its holder")
		}
		// Another instance notices through the version counter.
		time.Sleep(60 * time.Millisecond)
		c3, _ := other.Current(ctx)
		if c3.IsWorkday(cst(2026, 9, 28, 10, 0)) {
			t.Fatal("the other instance did not pick up the edit")
		}
		// Stale If-Match: 412, nothing changed.
		if _, _, err := s.PutDay(ctx, "2026-09-28", 7, DayInput{Kind: KindWorkday}); errs.KindOf(err) != errs.Stale {
			t.Fatalf("stale put: %v", err)
		}
		if _, _, err := s.PutDay(ctx, "2026-09-29", 3, DayInput{Kind: KindWorkday}); errs.KindOf(err) != errs.Stale {
			t.Fatalf("if-match on a missing day: %v", err)
		}
		day, created, err = s.PutDay(ctx, "2026-09-28", 1, DayInput{Kind: KindWorkday, Name: "x"})
		if err != nil || created || day.Version != 2 {
			t.Fatalf("%+v %v %v", day, created, err)
		}
		if err := s.DeleteDay(ctx, "2026-09-28", 1); errs.KindOf(err) != errs.Stale {
			t.Fatalf("stale delete: %v", err)
		}
		if err := s.DeleteDay(ctx, "2026-09-28", 2); err != nil {
			t.Fatal(err)
		}
		if err := s.DeleteDay(ctx, "2026-09-28", 0); errs.KindOf(err) != errs.NotFound {
			t.Fatalf("delete twice: %v", err)
		}
		// Bad input is a 422 naming the field, and nothing is written.
		_, _, err = s.PutDay(ctx, "2026-02-30", 0, DayInput{Kind: "party"})
		var de *errs.Error
		if !errors.As(err, &de) || de.Kind != errs.Invalid || de.Fields["date"].Key == "" || de.Fields["kind"].Key == "" {
			t.Fatalf("validation: %v", err)
		}
		// Staff without settings.calendar may not edit.
		staff := authz.With(context.Background(), &authz.Principal{UserID: "u1", Scope: authz.ScopeOwn, Permissions: map[string]bool{}})
		if _, _, err := s.PutDay(staff, "2026-12-01", 0, DayInput{Kind: KindHoliday}); errs.KindOf(err) != errs.Forbidden {
			t.Fatalf("staff put: %v", err)
		}
		if _, err := s.ListDays(staff, 2026); err != nil {
			t.Fatalf("staff may read: %v", err)
		}
	})
}

func TestSettingsValidationAndEffect(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := adminCtx()
		s := NewService(d, audit.New(d, make([]byte, 32)))
		set, err := s.Settings(ctx)
		if err != nil || set.Zone != "Asia/Shanghai" || !slices.Equal(set.Weekdays, []int{1, 2, 3, 4, 5}) || len(set.Hours) != 2 {
			t.Fatalf("%+v %v", set, err)
		}
		bad := []SettingsInput{
			{Zone: ptr("Nowhere/City")},
			{Weekdays: &[]int{}},
			{Weekdays: &[]int{1, 1}},
			{Weekdays: &[]int{0}},
			{Hours: &[]Span{}},
			{Hours: &[]Span{{"09:00", "25:00"}}},
			{Hours: &[]Span{{"13:00", "12:00"}}},
			{Hours: &[]Span{{"09:00", "12:00"}, {"11:59", "13:00"}}},
		}
		for i, in := range bad {
			if _, err := s.UpdateSettings(ctx, 0, in); errs.KindOf(err) != errs.Invalid {
				t.Errorf("bad settings %d accepted: %v", i, err)
			}
		}
		// A shop that works Saturdays with a shorter lunch.
		out, err := s.UpdateSettings(ctx, set.Version, SettingsInput{Weekdays: &[]int{6, 1, 2, 3, 4, 5}, Hours: &[]Span{{"13:00", "18:00"}, {"09:00", "12:00"}}})
		if err != nil || out.Version != set.Version+1 || !slices.Equal(out.Weekdays, []int{1, 2, 3, 4, 5, 6}) || out.Hours[0].Start != "09:00" {
			t.Fatalf("%+v %v", out, err)
		}
		if _, err := s.UpdateSettings(ctx, set.Version, SettingsInput{Zone: ptr("UTC")}); errs.KindOf(err) != errs.Stale {
			t.Fatalf("stale settings: %v", err)
		}
		c, _ := s.Current(ctx)
		if got := c.AddBusiness(cst(2026, 11, 27, 17, 0), 2*time.Hour); !got.Equal(cst(2026, 11, 28, 10, 0)) {
			t.Fatalf("Saturday now worked: %s", got.In(shanghai))
		}
	})
}

func TestImportIsAllOrNothing(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := adminCtx()
		s := NewService(d, audit.New(d, make([]byte, 32)))
		res, err := s.Import(ctx, []byte(holidayFeed), true)
		if err != nil || !res.DryRun || res.Holidays != 8 || res.Workdays != 2 {
			t.Fatalf("%+v %v", res, err)
		}
		if days, _ := s.ListDays(ctx, 2028); len(days) != 0 {
			t.Fatal("dry run wrote")
		}
		if _, err := s.Import(ctx, []byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20281001\n"), false); errs.KindOf(err) != errs.Invalid {
			t.Fatalf("broken file: %v", err)
		}
		if _, err = s.Import(ctx, []byte(holidayFeed), false); err != nil {
			t.Fatal(err)
		}
		days, _ := s.ListDays(ctx, 2028)
		if len(days) != 10 || days[0].Source != "ics" {
			t.Fatalf("%+v", days)
		}
		c, _ := s.Current(ctx)
		if c.IsWorkday(cst(2028, 10, 2, 10, 0)) || !c.IsWorkday(cst(2028, 9, 30, 10, 0)) {
			t.Fatal("imported days not in effect")
		}
	})
}

func ptr[T any](v T) *T { return &v }
