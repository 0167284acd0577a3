package workcal

import (
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/6tail/lunar-go/HolidayUtil"
)

var shanghai = mustZone("Asia/Shanghai")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

var defaultHours = []Span{{"09:00", "12:00"}, {"13:30", "18:00"}}

// lunarOverrides is the official schedule as lunar-go publishes it, the
// source migration 0006 was generated from.
func lunarOverrides(years ...int) []Override {
	var out []Override
	for _, y := range years {
		l := HolidayUtil.GetHolidaysByYear(y)
		for e := l.Front(); e != nil; e = e.Next() {
			h := e.Value.(*HolidayUtil.Holiday)
			k := KindHoliday
			if h.IsWork() {
				k = KindWorkday
			}
			out = append(out, Override{Date: h.GetDay(), Kind: k})
		}
	}
	return out
}

func chinaCalendar(t testing.TB) *Snapshot {
	t.Helper()
	s, err := NewSnapshot("Asia/Shanghai", []int{1, 2, 3, 4, 5}, defaultHours, lunarOverrides(2026, 2027))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func cst(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, shanghai)
}

func TestDueTimesAroundStatutoryHolidays(t *testing.T) {
	c := chinaCalendar(t)
	fourHours := 4 * time.Hour
	cases := []struct {
		name      string
		from, due time.Time
	}{
		// 2026: 中秋 is Fri 25 – Sun 27 Sep, 国庆 Thu 1 – Wed 7 Oct, with
		// make-up workdays Sun 20 Sep and Sat 10 Oct (国办发明电〔2025〕7号).
		// So "Friday 25 Sep 17:00, before National Day" is itself a
		// holiday: the clock starts Monday 28 Sep 09:00 and 4 hours
		// (09:00–12:00, lunch, 13:30–14:30) end at 14:30.
		{"friday 2026-09-25 is 中秋", cst(2026, 9, 25, 17, 0), cst(2026, 9, 28, 14, 30)},
		{"last day before 国庆 2026", cst(2026, 9, 30, 17, 0), cst(2026, 10, 8, 12, 0)},
		{"friday after 国庆 runs into make-up Saturday 10 Oct", cst(2026, 10, 9, 17, 0), cst(2026, 10, 10, 12, 0)},
		{"saturday before make-up Sunday 20 Sep", cst(2026, 9, 19, 10, 0), cst(2026, 9, 20, 14, 30)},
		// 2027: 国庆 Fri 1 – Thu 7 Oct with make-up Sun 26 Sep and Sat 9 Oct:
		// Friday 24 Sep 17:00 has one hour, then the make-up Sunday.
		{"friday before 国庆 2027 runs into make-up Sunday 26 Sep", cst(2027, 9, 24, 17, 0), cst(2027, 9, 26, 12, 0)},
		// 春节 2027: Fri 5 – Sat 13 Feb off, Sun 31 Jan and Sun 14 Feb worked.
		{"friday before 春节 make-up Sunday 31 Jan", cst(2027, 1, 29, 17, 0), cst(2027, 1, 31, 12, 0)},
		{"thursday before 春节 2027", cst(2027, 2, 4, 17, 0), cst(2027, 2, 14, 12, 0)},
		{"ordinary weekend", cst(2026, 11, 27, 17, 30), cst(2026, 11, 30, 14, 0)},
		{"lunch break is skipped", cst(2026, 11, 26, 11, 0), cst(2026, 11, 26, 16, 30)},
		{"before opening starts at 09:00", cst(2026, 11, 26, 7, 0), cst(2026, 11, 26, 14, 30)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := c.AddBusiness(tc.from, fourHours)
			if !got.Equal(tc.due) {
				t.Fatalf("AddBusiness(%s, 4h) = %s, want %s", tc.from, got.In(shanghai), tc.due)
			}
			if b := c.Business(tc.from, got); b != fourHours {
				t.Fatalf("Business back = %s", b)
			}
		})
	}
	// Exactly three hours from the opening ends at 12:00, not at 13:30.
	if got := c.AddBusiness(cst(2026, 11, 26, 9, 0), 3*time.Hour); !got.Equal(cst(2026, 11, 26, 12, 0)) {
		t.Fatalf("09:00 + 3h = %s", got)
	}
}

func TestSeedScheduleFacts(t *testing.T) {
	c := chinaCalendar(t)
	for _, tc := range []struct {
		day  time.Time
		want bool
	}{
		{cst(2026, 10, 1, 10, 0), false}, {cst(2026, 10, 7, 10, 0), false}, {cst(2026, 10, 8, 10, 0), true},
		{cst(2026, 10, 10, 10, 0), true}, {cst(2026, 9, 20, 10, 0), true}, {cst(2026, 9, 25, 10, 0), false},
		{cst(2026, 11, 28, 10, 0), false}, {cst(2027, 2, 14, 10, 0), true}, {cst(2027, 2, 8, 10, 0), false},
		// 23:30 UTC on 30 Sep is already 1 Oct in Shanghai.
		{time.Date(2026, 9, 30, 23, 30, 0, 0, time.UTC), false},
	} {
		if got := c.IsWorkday(tc.day); got != tc.want {
			t.Errorf("IsWorkday(%s) = %v", tc.day, got)
		}
	}
}

func TestZoneOfTheInputDoesNotMatter(t *testing.T) {
	c := chinaCalendar(t)
	local := cst(2026, 9, 30, 17, 0)
	utc := local.UTC()
	if a, b := c.AddBusiness(local, 4*time.Hour), c.AddBusiness(utc, 4*time.Hour); !a.Equal(b) {
		t.Fatalf("%s vs %s", a, b)
	}
	if c.Location() != shanghai && c.Location().String() != "Asia/Shanghai" {
		t.Fatalf("location %s", c.Location())
	}
}

// Whatever the start and the duration, counting the business time up to the
// due instant gives the duration back, and longer durations never fall due
// earlier.
func TestAddBusinessAndBusinessAreInverse(t *testing.T) {
	c := chinaCalendar(t)
	r := rand.New(rand.NewPCG(7, 11))
	base := cst(2026, 1, 1, 0, 0)
	for i := 0; i < 3000; i++ {
		from := base.Add(time.Duration(r.Int64N(int64(700 * 24 * time.Hour))))
		d := time.Duration(r.Int64N(int64(300 * time.Hour)))
		due := c.AddBusiness(from, d)
		if got := c.Business(from, due); got != d {
			t.Fatalf("from %s d %s: due %s, Business back %s", from, d, due, got)
		}
		if more := c.AddBusiness(from, d+time.Minute); more.Before(due) {
			t.Fatalf("not monotone at %s", from)
		}
		if d > 0 && !c.IsWorkday(due.Add(-time.Nanosecond)) {
			t.Fatalf("due %s is not on a working day", due)
		}
	}
	if c.Business(cst(2026, 11, 27, 10, 0), cst(2026, 11, 27, 9, 0)) != 0 {
		t.Fatal("reversed range must be 0")
	}
	if c.AddBusiness(base, -time.Hour) != base {
		t.Fatal("negative duration must return t")
	}
}

func TestNoWorkingTimeDoesNotHang(t *testing.T) {
	none, err := NewSnapshot("Asia/Shanghai", nil, defaultHours, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	from := cst(2026, 1, 1, 9, 0)
	due, err := none.TryAddBusiness(from, time.Hour)
	if !errors.Is(err, ErrNoBusinessTime) {
		t.Fatalf("err = %v", err)
	}
	if !due.After(from.AddDate(9, 0, 0)) || time.Since(start) > 2*time.Second {
		t.Fatalf("capped at %s after %s", due, time.Since(start))
	}
	if got := none.AddBusiness(from, time.Hour); !got.Equal(due) {
		t.Fatalf("AddBusiness = %s", got)
	}
	if _, err := NextWorkdayAt(none, from, "09:00"); !errors.Is(err, ErrNoBusinessTime) {
		t.Fatalf("NextWorkdayAt err = %v", err)
	}
	if b := none.Business(time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)); b != 0 {
		t.Fatal(b)
	}

	// A whole year declared off: the clock resumes on the first working day
	// of the next year (2027-01-01..03 are 元旦, Monday the 4th is worked).
	var off []Override
	for d := cst(2026, 1, 1, 0, 0); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		off = append(off, Override{Date: d.Format("2006-01-02"), Kind: KindHoliday})
	}
	off = append(off, lunarOverrides(2027)...)
	yearOff, err := NewSnapshot("Asia/Shanghai", []int{1, 2, 3, 4, 5}, defaultHours, off)
	if err != nil {
		t.Fatal(err)
	}
	if got := yearOff.AddBusiness(cst(2026, 1, 1, 9, 0), time.Hour); !got.Equal(cst(2027, 1, 4, 10, 0)) {
		t.Fatalf("got %s", got)
	}
}

func TestDaylightSavingZone(t *testing.T) {
	// New York springs forward on Sunday 2026-03-08 at 02:00: a 09:00–17:00
	// day is still eight hours, and a Saturday-to-Monday span counts only
	// the worked days.
	ny, err := NewSnapshot("America/New_York", []int{1, 2, 3, 4, 5, 7}, []Span{{"09:00", "17:00"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	loc := ny.Location()
	sun := time.Date(2026, 3, 8, 0, 0, 0, 0, loc)
	if b := ny.Business(sun, sun.AddDate(0, 0, 1)); b != 8*time.Hour {
		t.Fatalf("DST day has %s", b)
	}
	if got := ny.AddBusiness(time.Date(2026, 3, 7, 12, 0, 0, 0, loc), 9*time.Hour); !got.Equal(time.Date(2026, 3, 9, 10, 0, 0, 0, loc)) {
		t.Fatalf("got %s", got)
	}
}

func TestNextWorkdayAt(t *testing.T) {
	c := chinaCalendar(t)
	for _, tc := range []struct{ from, want time.Time }{
		{cst(2026, 10, 1, 10, 0), cst(2026, 10, 8, 9, 0)},
		{cst(2026, 9, 30, 8, 0), cst(2026, 9, 30, 9, 0)},
		{cst(2026, 9, 30, 9, 0), cst(2026, 9, 30, 9, 0)},
		{cst(2026, 9, 30, 10, 0), cst(2026, 10, 8, 9, 0)},
		{cst(2026, 10, 9, 10, 0), cst(2026, 10, 10, 9, 0)},
	} {
		got, err := NextWorkdayAt(c, tc.from, "09:00")
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("NextWorkdayAt(%s) = %s, %v; want %s", tc.from, got, err, tc.want)
		}
	}
	for _, bad := range []string{"25:00", "9:00", "24:00", "", "aa:bb"} {
		if _, err := NextWorkdayAt(c, cst(2026, 9, 30, 9, 0), bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestNewSnapshotRefusesNonsense(t *testing.T) {
	for name, f := range map[string]func() error{
		"zone":    func() error { _, err := NewSnapshot("Mars/Olympus", []int{1}, defaultHours, nil); return err },
		"local":   func() error { _, err := NewSnapshot("Local", []int{1}, defaultHours, nil); return err },
		"weekday": func() error { _, err := NewSnapshot("UTC", []int{8}, defaultHours, nil); return err },
		"overlap": func() error {
			_, err := NewSnapshot("UTC", []int{1}, []Span{{"09:00", "12:00"}, {"11:00", "13:00"}}, nil)
			return err
		},
		"reversed": func() error { _, err := NewSnapshot("UTC", []int{1}, []Span{{"12:00", "09:00"}}, nil); return err },
		"clock":    func() error { _, err := NewSnapshot("UTC", []int{1}, []Span{{"9:00", "12:00"}}, nil); return err },
		"date": func() error {
			_, err := NewSnapshot("UTC", []int{1}, defaultHours, []Override{{"2026-13-01", KindHoliday}})
			return err
		},
		"kind": func() error {
			_, err := NewSnapshot("UTC", []int{1}, defaultHours, []Override{{"2026-01-01", "party"}})
			return err
		},
	} {
		if f() == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

func BenchmarkAddBusiness(b *testing.B) {
	c := chinaCalendar(b)
	from := cst(2026, 9, 25, 17, 0)
	for b.Loop() {
		c.AddBusiness(from, 8*time.Hour)
	}
}
