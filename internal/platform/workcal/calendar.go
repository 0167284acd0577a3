// Package workcal is Prelude's work calendar (工作日历): the weekly business
// hours, China's statutory holidays and the make-up workdays (调休上班) that
// move weekends, and the business-time arithmetic that response targets
// (SLA) and holiday-aware rescheduling are built on.
//
// The holidays of 2026 and 2027 are seeded by migration 0006 from
// github.com/6tail/lunar-go's published schedules; after that the
// work_calendar_days table is the truth, edited by the administrator or
// imported from an .ics file. Service.Current hands out an immutable
// Snapshot that is rebuilt only when the calendar changes.
package workcal

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // one binary: zones must not depend on the host's tzdata
)

// Calendar answers business-time questions; safe for concurrent use;
// immutable snapshot.
type Calendar interface {
	IsWorkday(day time.Time) bool                       // in the calendar's zone
	AddBusiness(t time.Time, d time.Duration) time.Time // instant d of business time after t
	Business(a, b time.Time) time.Duration              // business time in [a,b); 0 if b<=a
	Location() *time.Location
}

// Day kinds: an override of the weekly pattern for one date.
const (
	KindHoliday = "holiday" // a normal working weekday that is off (法定节假日)
	KindWorkday = "workday" // a weekend day that is worked (调休上班)
)

// MaxScanDays bounds every day-by-day walk (about ten years). A calendar
// edited into one with no working time at all must make a due-time
// computation stop, not spin: AddBusiness then answers the instant the scan
// gave up at, and TryAddBusiness says why.
const MaxScanDays = 3660

// ErrNoBusinessTime is returned when MaxScanDays of calendar hold too little
// business time for the requested duration.
var ErrNoBusinessTime = errors.New("workcal: no business time within the scanned range")

// Span is one business-hours interval of a working day, "HH:MM" wall-clock
// times in the calendar's zone; End may be "24:00".
type Span struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Override is one date that departs from the weekly pattern.
type Override struct {
	Date string // YYYY-MM-DD
	Kind string // KindHoliday or KindWorkday
}

type interval struct{ start, end int } // minutes after midnight

// Snapshot is an immutable work calendar. Build it with NewSnapshot (tests
// and the service) and share it freely between goroutines.
type Snapshot struct {
	loc       *time.Location
	weekdays  [7]bool // by time.Weekday
	intervals []interval
	days      map[int]bool // yyyymmdd -> is a workday
}

var _ Calendar = (*Snapshot)(nil)

// NewSnapshot builds a calendar: zone (IANA name), the normally worked ISO
// weekdays (1 = Monday … 7 = Sunday), the business hours of every working
// day and the date overrides.
func NewSnapshot(zone string, weekdays []int, hours []Span, overrides []Override) (*Snapshot, error) {
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" || strings.EqualFold(zone, "local") {
		return nil, fmt.Errorf("unknown time zone %q", zone)
	}
	s := &Snapshot{loc: loc, days: make(map[int]bool, len(overrides))}
	for _, w := range weekdays {
		if w < 1 || w > 7 {
			return nil, fmt.Errorf("weekday %d out of range 1..7", w)
		}
		s.weekdays[w%7] = true
	}
	if s.intervals, err = parseSpans(hours); err != nil {
		return nil, err
	}
	for _, o := range overrides {
		k, err := dateKey(o.Date)
		if err != nil {
			return nil, err
		}
		switch o.Kind {
		case KindHoliday:
			s.days[k] = false
		case KindWorkday:
			s.days[k] = true
		default:
			return nil, fmt.Errorf("day %s: unknown kind %q", o.Date, o.Kind)
		}
	}
	return s, nil
}

// parseSpans turns "HH:MM" spans into sorted, non-overlapping intervals.
func parseSpans(hours []Span) ([]interval, error) {
	out := make([]interval, 0, len(hours))
	for _, h := range hours {
		a, err1 := parseClock(h.Start)
		b, err2 := parseClock(h.End)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("business hours %s-%s: times must be HH:MM", h.Start, h.End)
		}
		if a >= b {
			return nil, fmt.Errorf("business hours %s-%s: start must be before end", h.Start, h.End)
		}
		out = append(out, interval{a, b})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].start < out[j].start })
	for i := 1; i < len(out); i++ {
		if out[i].start < out[i-1].end {
			return nil, fmt.Errorf("business hours overlap")
		}
	}
	return out, nil
}

// parseClock reads "HH:MM" (00:00–24:00) as minutes after midnight.
func parseClock(s string) (int, error) {
	if len(s) != 5 || s[2] != ':' {
		return 0, fmt.Errorf("bad clock %q", s)
	}
	h, err1 := strconv.Atoi(s[:2])
	m, err2 := strconv.Atoi(s[3:])
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, fmt.Errorf("bad clock %q", s)
	}
	return h*60 + m, nil
}

func dateKey(s string) (int, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return 0, fmt.Errorf("bad date %q: want YYYY-MM-DD", s)
	}
	y, m, d := t.Date()
	return y*10000 + int(m)*100 + d, nil
}

// Location is the calendar's zone.
func (s *Snapshot) Location() *time.Location { return s.loc }

// IsWorkday reports whether day's date, in the calendar's zone, is worked.
func (s *Snapshot) IsWorkday(day time.Time) bool {
	y, m, d := day.In(s.loc).Date()
	return s.worked(y, m, d)
}

func (s *Snapshot) worked(y int, m time.Month, d int) bool {
	if w, ok := s.days[y*10000+int(m)*100+d]; ok {
		return w
	}
	return s.weekdays[time.Date(y, m, d, 12, 0, 0, 0, time.UTC).Weekday()]
}

// bounds returns the instants of interval iv on a civil date. Building them
// from wall-clock fields keeps "09:00" right on DST-changing days too.
func (s *Snapshot) bounds(y int, m time.Month, d int, iv interval) (time.Time, time.Time) {
	return time.Date(y, m, d, iv.start/60, iv.start%60, 0, 0, s.loc),
		time.Date(y, m, d, iv.end/60, iv.end%60, 0, 0, s.loc)
}

// AddBusiness returns the instant at which d of business time has passed
// after t. d <= 0 gives t. The answer lies inside business hours (or at the
// end of an interval), so "4 business hours after Friday 17:00" lands on the
// next working day's late morning, skipping lunch, weekends and holidays and
// counting make-up workdays. If MaxScanDays cannot supply d, it returns the
// instant the scan stopped at (see TryAddBusiness).
func (s *Snapshot) AddBusiness(t time.Time, d time.Duration) time.Time {
	due, _ := s.TryAddBusiness(t, d)
	return due
}

// TryAddBusiness is AddBusiness that reports ErrNoBusinessTime instead of
// quietly capping.
func (s *Snapshot) TryAddBusiness(t time.Time, d time.Duration) (time.Time, error) {
	if d <= 0 {
		return t, nil
	}
	y, m, dd := t.In(s.loc).Date()
	date := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
	for range MaxScanDays {
		cy, cm, cd := date.Date()
		if s.worked(cy, cm, cd) {
			for _, iv := range s.intervals {
				start, end := s.bounds(cy, cm, cd, iv)
				if !end.After(t) {
					continue
				}
				if start.Before(t) {
					start = t
				}
				avail := end.Sub(start)
				if d <= avail {
					return start.Add(d), nil
				}
				d -= avail
			}
		}
		date = date.AddDate(0, 0, 1)
	}
	cy, cm, cd := date.Date()
	return time.Date(cy, cm, cd, 0, 0, 0, 0, s.loc), ErrNoBusinessTime
}

// Business returns the business time within [a, b); 0 if b <= a. Spans
// longer than MaxScanDays count only their first MaxScanDays.
func (s *Snapshot) Business(a, b time.Time) time.Duration {
	if !b.After(a) {
		return 0
	}
	y, m, dd := a.In(s.loc).Date()
	date := time.Date(y, m, dd, 0, 0, 0, 0, time.UTC)
	var total time.Duration
	for range MaxScanDays {
		cy, cm, cd := date.Date()
		if !time.Date(cy, cm, cd, 0, 0, 0, 0, s.loc).Before(b) {
			break
		}
		if s.worked(cy, cm, cd) {
			for _, iv := range s.intervals {
				start, end := s.bounds(cy, cm, cd, iv)
				if start.Before(a) {
					start = a
				}
				if end.After(b) {
					end = b
				}
				if end.After(start) {
					total += end.Sub(start)
				}
			}
		}
		date = date.AddDate(0, 0, 1)
	}
	return total
}

// NextWorkdayAt returns the first instant at or after t that is hhmm
// ("09:00") on a working day in c's zone: the holiday-aware way to move a
// follow-up task that would fall on 国庆 to the first day back.
func NextWorkdayAt(c Calendar, t time.Time, hhmm string) (time.Time, error) {
	mins, err := parseClock(hhmm)
	if err != nil || mins == 24*60 {
		return time.Time{}, fmt.Errorf("time of day %q: want HH:MM", hhmm)
	}
	loc := c.Location()
	y, m, d := t.In(loc).Date()
	date := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	for range MaxScanDays {
		cy, cm, cd := date.Date()
		at := time.Date(cy, cm, cd, mins/60, mins%60, 0, 0, loc)
		if !at.Before(t) && c.IsWorkday(at) {
			return at, nil
		}
		date = date.AddDate(0, 0, 1)
	}
	return time.Time{}, ErrNoBusinessTime
}
