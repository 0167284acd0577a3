package inquiries

import (
	"slices"
	"time"
)

// Calendar is the work calendar response targets are counted on: China's
// statutory holidays and make-up workdays (调休) and the business hours.
// It is the method set of platform/workcal's calendar, declared here so the
// SLA rules depend on behaviour, not on that package.
type Calendar interface {
	IsWorkday(day time.Time) bool
	AddBusiness(t time.Time, d time.Duration) time.Time
	Business(a, b time.Time) time.Duration
	Location() *time.Location
}

// Target kinds.
const (
	TargetFirstResponse = "first_response"
	TargetNextResponse  = "next_response"
	TargetResolution    = "resolution"
)

// slaState is the SLA part of an inquiry row; zero times are NULL.
type slaState struct {
	FirstDue, FirstAt time.Time
	NextDue           time.Time
	ResolutionDue     time.Time
	ResolvedAt        time.Time
	PausedAt          time.Time
	PausedMs          int64
	WarnedDue         time.Time
	WarnBefore        time.Duration
	Active            bool
	FirstMin, NextMin int
	ResolutionMin     int
	HasPolicy         bool
	DueKind           string
	DueAt, WarnAt     time.Time
	BreachAt          time.Time
}

type target struct {
	kind string
	due  time.Time
}

// unmet lists the running targets, earliest first.
func (s *slaState) unmet() []target {
	var out []target
	if !s.FirstDue.IsZero() && s.FirstAt.IsZero() {
		out = append(out, target{TargetFirstResponse, s.FirstDue})
	}
	if !s.NextDue.IsZero() {
		out = append(out, target{TargetNextResponse, s.NextDue})
	}
	if !s.ResolutionDue.IsZero() && s.ResolvedAt.IsZero() {
		out = append(out, target{TargetResolution, s.ResolutionDue})
	}
	slices.SortStableFunc(out, func(a, b target) int { return a.due.Compare(b.due) })
	return out
}

// alarms recomputes what the list shows (DueAt, DueKind) and when the SLA
// job must act next. The breach alarm points at the earliest unmet target
// even when it is already past, so a breach that happened while no job ran
// is still recorded (the breach table makes recording it twice a no-op).
// The warning is for the earliest target still in the future, unless it
// was already sent for that exact due time. While the clock is paused or
// the inquiry is resolved nothing fires.
func (s *slaState) alarms(now time.Time) { s.alarmsFrom(now, true) }

// alarmsFrom is alarms; without includePast the breach alarm only looks at
// targets still in the future (the SLA job, having recorded the past ones).
func (s *slaState) alarmsFrom(now time.Time, includePast bool) {
	s.DueAt, s.DueKind, s.WarnAt, s.BreachAt = time.Time{}, "", time.Time{}, time.Time{}
	ts := s.unmet()
	if len(ts) == 0 || !s.Active {
		return
	}
	s.DueAt, s.DueKind = ts[0].due, ts[0].kind
	if !s.PausedAt.IsZero() {
		return
	}
	if includePast {
		s.BreachAt = ts[0].due
	}
	for _, t := range ts {
		if t.due.After(now) {
			if !t.due.Equal(s.WarnedDue) && s.WarnBefore > 0 {
				s.WarnAt = t.due.Add(-s.WarnBefore)
			}
			if s.BreachAt.IsZero() {
				s.BreachAt = t.due
			}
			break
		}
	}
}

// start sets the targets of a new inquiry received at t.
func (s *slaState) start(cal Calendar, t time.Time) {
	if !s.HasPolicy {
		return
	}
	s.FirstDue = cal.AddBusiness(t, time.Duration(s.FirstMin)*time.Minute)
	s.ResolutionDue = cal.AddBusiness(t, time.Duration(s.ResolutionMin)*time.Minute)
}

// inbound applies a customer's message at t: after the first response the
// next-response clock starts (if not already running); a paused clock
// resumes, since the customer answered.
func (s *slaState) inbound(cal Calendar, t time.Time) {
	s.resume(cal, t)
	if s.HasPolicy && !s.FirstAt.IsZero() && s.NextDue.IsZero() && s.ResolvedAt.IsZero() {
		s.NextDue = cal.AddBusiness(t, time.Duration(s.NextMin)*time.Minute)
	}
}

// outbound applies a reply to the customer at t: it meets the first or the
// pending next response.
func (s *slaState) outbound(t time.Time) {
	if s.FirstAt.IsZero() {
		s.FirstAt = t
	}
	s.NextDue = time.Time{}
}

// pause stops the clocks while waiting on the customer (regulation: time
// the customer takes is not the agent's response time).
func (s *slaState) pause(t time.Time) {
	if s.PausedAt.IsZero() {
		s.PausedAt = t
	}
}

// resume restarts paused clocks: each running target keeps the business
// time it had left when the pause began, and the paused business time is
// accumulated for reporting.
func (s *slaState) resume(cal Calendar, t time.Time) {
	if s.PausedAt.IsZero() {
		return
	}
	shift := func(due time.Time) time.Time {
		if due.IsZero() || !due.After(s.PausedAt) {
			return due // already breached before the pause: stays breached
		}
		return cal.AddBusiness(t, cal.Business(s.PausedAt, due))
	}
	if s.FirstAt.IsZero() {
		s.FirstDue = shift(s.FirstDue)
	}
	s.NextDue = shift(s.NextDue)
	if s.ResolvedAt.IsZero() {
		s.ResolutionDue = shift(s.ResolutionDue)
	}
	if t.After(s.PausedAt) {
		s.PausedMs += cal.Business(s.PausedAt, t).Milliseconds()
	}
	s.PausedAt = time.Time{}
}

// resolve stops every clock.
func (s *slaState) resolve(t time.Time) {
	s.ResolvedAt = t
	s.NextDue = time.Time{}
	s.PausedAt = time.Time{}
}

// reopen restarts the resolution clock from t.
func (s *slaState) reopen(cal Calendar, t time.Time) {
	s.ResolvedAt = time.Time{}
	s.PausedAt = time.Time{}
	if s.HasPolicy {
		s.ResolutionDue = cal.AddBusiness(t, time.Duration(s.ResolutionMin)*time.Minute)
	}
}

// left is the business time from now to the earliest unmet target
// (negative once past); frozen at the pause while waiting on the customer.
func (s *slaState) left(cal Calendar, now time.Time) (time.Duration, bool) {
	if s.DueAt.IsZero() || !s.Active {
		return 0, false
	}
	from := now
	if !s.PausedAt.IsZero() {
		from = s.PausedAt
	}
	if s.DueAt.After(from) {
		return cal.Business(from, s.DueAt), true
	}
	return -cal.Business(s.DueAt, from), true
}

// OfficeCalendar is the calendar used until an administrator's work
// calendar is available: Monday to Friday, 09:00–18:00, no holidays.
type OfficeCalendar struct {
	Loc         *time.Location
	Open, Close time.Duration // since midnight
	// Holidays and Workdays override the weekday rule ("2006-01-02").
	Holidays, Workdays map[string]bool
}

// NewOfficeCalendar returns Monday–Friday 09:00–18:00 in loc.
func NewOfficeCalendar(loc *time.Location) *OfficeCalendar {
	return &OfficeCalendar{Loc: loc, Open: 9 * time.Hour, Close: 18 * time.Hour}
}

// Location of the calendar.
func (c *OfficeCalendar) Location() *time.Location { return c.Loc }

// IsWorkday reports whether day (in the calendar's zone) is a working day.
func (c *OfficeCalendar) IsWorkday(day time.Time) bool {
	d := day.In(c.Loc)
	key := d.Format("2006-01-02")
	if c.Workdays[key] {
		return true
	}
	if c.Holidays[key] {
		return false
	}
	return d.Weekday() != time.Saturday && d.Weekday() != time.Sunday
}

func (c *OfficeCalendar) window(day time.Time) (time.Time, time.Time) {
	d := day.In(c.Loc)
	mid := time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, c.Loc)
	return mid.Add(c.Open), mid.Add(c.Close)
}

func nextMidnight(t time.Time, loc *time.Location) time.Time {
	d := t.In(loc)
	return time.Date(d.Year(), d.Month(), d.Day()+1, 0, 0, 0, 0, loc)
}

// AddBusiness returns the instant d of business time after t.
func (c *OfficeCalendar) AddBusiness(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	cur := t
	for i := 0; i < 3700; i++ { // ten years of days bounds a bad calendar
		if c.IsWorkday(cur) {
			open, closeAt := c.window(cur)
			if cur.Before(open) {
				cur = open
			}
			if cur.Before(closeAt) {
				if avail := closeAt.Sub(cur); d <= avail {
					return cur.Add(d)
				} else {
					d -= avail
				}
			}
		}
		cur = nextMidnight(cur, c.Loc)
	}
	return cur
}

// Business returns the business time between a and b (0 if b ≤ a).
func (c *OfficeCalendar) Business(a, b time.Time) time.Duration {
	var total time.Duration
	cur := a
	for i := 0; cur.Before(b) && i < 3700; i++ {
		if c.IsWorkday(cur) {
			open, closeAt := c.window(cur)
			from, to := maxTime(cur, open), minTime(closeAt, b)
			if to.After(from) {
				total += to.Sub(from)
			}
		}
		cur = nextMidnight(cur, c.Loc)
	}
	return total
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// matchPolicy picks the most specific enabled policy for a channel and
// priority: both match, then channel only, then priority only, then the
// catch-all.
func matchPolicy(ps []Policy, channel, priority string) (Policy, bool) {
	best, score := Policy{}, -1
	for _, p := range ps {
		if !p.Enabled || (p.Channel != "" && p.Channel != channel) || (p.Priority != "" && p.Priority != priority) {
			continue
		}
		sc := 0
		if p.Channel != "" {
			sc += 2
		}
		if p.Priority != "" {
			sc++
		}
		if sc > score {
			best, score = p, sc
		}
	}
	return best, score >= 0
}
