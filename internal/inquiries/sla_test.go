package inquiries

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var cst = time.FixedZone("CST", 8*3600)

func at(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, cst) }

// nationalDay2025 is a small work calendar with the 2025 National Day
// holiday (1–8 October off) and its make-up workdays (Sunday 28 September
// and Saturday 11 October), 09:00–18:00.
func nationalDay2025() *OfficeCalendar {
	c := NewOfficeCalendar(cst)
	c.Holidays = map[string]bool{}
	for d := 1; d <= 8; d++ {
		c.Holidays[at(2025, 10, d, 0, 0).Format("2006-01-02")] = true
	}
	c.Workdays = map[string]bool{"2025-09-28": true, "2025-10-11": true}
	return c
}

func TestBusinessTimeSkipsHolidaysAndUsesMakeUpWorkdays(t *testing.T) {
	cal := nationalDay2025()
	for _, tc := range []struct {
		name  string
		from  time.Time
		add   time.Duration
		want  time.Time
		inBiz time.Duration
	}{
		{"same day", at(2025, 9, 24, 10, 0), time.Hour, at(2025, 9, 24, 11, 0), time.Hour},
		{"before opening starts at 09:00", at(2025, 9, 24, 7, 0), time.Hour, at(2025, 9, 24, 10, 0), time.Hour},
		{"Friday evening runs into the make-up Sunday", at(2025, 9, 26, 17, 30), time.Hour, at(2025, 9, 28, 9, 30), time.Hour},
		{"eve of the holiday runs past the whole week off", at(2025, 9, 30, 17, 30), time.Hour, at(2025, 10, 9, 9, 30), time.Hour},
		{"Friday after the holiday runs into the make-up Saturday", at(2025, 10, 10, 17, 0), 2 * time.Hour, at(2025, 10, 11, 10, 0), 2 * time.Hour},
		{"after closing starts next workday", at(2025, 9, 24, 19, 0), 30 * time.Minute, at(2025, 9, 25, 9, 30), 30 * time.Minute},
	} {
		got := cal.AddBusiness(tc.from, tc.add)
		if !got.Equal(tc.want) {
			t.Errorf("%s: AddBusiness = %s, want %s", tc.name, got.In(cst), tc.want)
		}
		if b := cal.Business(tc.from, got); b != tc.inBiz {
			t.Errorf("%s: Business back = %s, want %s", tc.name, b, tc.inBiz)
		}
	}
	if cal.IsWorkday(at(2025, 10, 3, 12, 0)) || !cal.IsWorkday(at(2025, 9, 28, 12, 0)) || cal.IsWorkday(at(2025, 9, 27, 12, 0)) {
		t.Fatal("holiday / make-up workday / weekend classification wrong")
	}
}

func newState(first, next, resolution int) slaState {
	return slaState{Active: true, HasPolicy: true, FirstMin: first, NextMin: next, ResolutionMin: resolution, WarnBefore: 15 * time.Minute}
}

func TestFirstResponseDueOnMakeUpWorkdayAndMetByReply(t *testing.T) {
	cal := nationalDay2025()
	st := newState(60, 240, 2400)
	created := at(2025, 9, 26, 17, 30) // Friday before National Day
	st.start(cal, created)
	st.alarms(created)
	if want := at(2025, 9, 28, 9, 30); !st.FirstDue.Equal(want) || st.DueKind != TargetFirstResponse || !st.DueAt.Equal(want) {
		t.Fatalf("first response due %s (%s), want %s on the make-up Sunday", st.FirstDue.In(cst), st.DueKind, want)
	}
	if want := at(2025, 9, 28, 9, 15); !st.WarnAt.Equal(want) {
		t.Fatalf("warning at %s, want %s", st.WarnAt.In(cst), want)
	}
	left, ok := st.left(cal, created)
	if !ok || left != time.Hour {
		t.Fatalf("time left %s, want 1h of business time", left)
	}
	reply := at(2025, 9, 28, 9, 10)
	st.outbound(reply)
	st.alarms(reply)
	if st.DueKind != TargetResolution {
		t.Fatalf("after the first reply the running target is %q", st.DueKind)
	}
	// The customer writes back: the next-response clock starts.
	back := at(2025, 9, 28, 10, 0)
	st.inbound(cal, back)
	st.alarms(back)
	if want := at(2025, 9, 28, 14, 0); !st.NextDue.Equal(want) || st.DueKind != TargetNextResponse {
		t.Fatalf("next response due %s (%s), want %s", st.NextDue.In(cst), st.DueKind, want)
	}
}

func TestWaitingOnCustomerPausesAndResumesWithTheTimeLeft(t *testing.T) {
	cal := nationalDay2025()
	st := newState(60, 240, 600)
	created := at(2025, 9, 24, 10, 0) // Wednesday
	st.start(cal, created)
	st.outbound(at(2025, 9, 24, 10, 5))
	// Resolution due: 600 business minutes = 10 h → Thursday 11:00.
	if want := at(2025, 9, 25, 11, 0); !st.ResolutionDue.Equal(want) {
		t.Fatalf("resolution due %s, want %s", st.ResolutionDue.In(cst), want)
	}
	pause := at(2025, 9, 24, 12, 0)
	st.pause(pause)
	st.alarms(pause)
	if !st.WarnAt.IsZero() || !st.BreachAt.IsZero() {
		t.Fatal("a paused clock must not raise alarms")
	}
	frozen, _ := st.left(cal, at(2025, 9, 30, 16, 0))
	if frozen != 8*time.Hour {
		t.Fatalf("time left while paused %s, want the 8h left at the pause", frozen)
	}
	// The customer answers a week later, across the holiday eve.
	resume := at(2025, 9, 30, 17, 0)
	st.inbound(cal, resume)
	st.alarms(resume)
	// 8 h left from Tue 17:00: 1 h on Tuesday, then 7 h on Thursday 9 October.
	if want := at(2025, 10, 9, 16, 0); !st.ResolutionDue.Equal(want) {
		t.Fatalf("resumed resolution due %s, want %s", st.ResolutionDue.In(cst), want)
	}
	// Paused: Wed 12:00–18:00 (6 h), Thu, Fri (9 h each), make-up Sunday (9 h), Mon (9 h), Tue until 17:00 (8 h).
	if want := (6 + 9 + 9 + 9 + 9 + 8) * time.Hour; time.Duration(st.PausedMs)*time.Millisecond != want {
		t.Fatalf("paused business time %s, want %s", time.Duration(st.PausedMs)*time.Millisecond, want)
	}
}

func TestBreachAlarmPointsAtPastTargetUntilRecorded(t *testing.T) {
	cal := NewOfficeCalendar(cst)
	st := newState(30, 60, 600)
	created := at(2025, 9, 24, 10, 0)
	st.start(cal, created)
	later := at(2025, 9, 24, 11, 0) // first response (10:30) missed
	st.alarms(later)
	if !st.BreachAt.Equal(at(2025, 9, 24, 10, 30)) {
		t.Fatalf("breach alarm %s, want the missed 10:30", st.BreachAt)
	}
	st.alarmsFrom(later, false)
	if !st.BreachAt.Equal(st.ResolutionDue) {
		t.Fatalf("after recording, breach alarm %s, want the resolution due %s", st.BreachAt, st.ResolutionDue)
	}
	st.WarnedDue = st.ResolutionDue
	st.alarms(later)
	if !st.WarnAt.IsZero() {
		t.Fatal("a warning already sent for this due time is not sent again")
	}
	st.resolve(later)
	st.Active = false
	st.alarms(later)
	if !st.BreachAt.IsZero() || !st.DueAt.IsZero() {
		t.Fatal("a resolved inquiry has no running target")
	}
}

func TestPolicyMatchPrefersTheMostSpecific(t *testing.T) {
	ps := []Policy{
		{ID: "default", Enabled: true},
		{ID: "email", Channel: "email", Enabled: true},
		{ID: "urgent", Priority: "urgent", Enabled: true},
		{ID: "email-urgent", Channel: "email", Priority: "urgent", Enabled: true},
		{ID: "chat-off", Channel: "web_chat", Enabled: false},
	}
	for _, tc := range [][3]string{{"email", "urgent", "email-urgent"}, {"email", "low", "email"}, {"phone", "urgent", "urgent"}, {"web_chat", "normal", "default"}} {
		p, ok := matchPolicy(ps, tc[0], tc[1])
		if !ok || p.ID != tc[2] {
			t.Errorf("%s/%s: %s, want %s", tc[0], tc[1], p.ID, tc[2])
		}
	}
}

func TestLifecycleMoves(t *testing.T) {
	for _, tc := range []struct {
		from, to string
		ok       bool
	}{
		{StatusNew, StatusAssigned, true}, {StatusAssigned, StatusWaiting, true}, {StatusWaiting, StatusInProgress, true},
		{StatusInProgress, StatusResolved, true}, {StatusResolved, StatusInProgress, true},
		{StatusNew, StatusWaiting, false}, {StatusClosed, StatusInProgress, false}, {StatusResolved, StatusWaiting, false}, {StatusNew, StatusClosed, false},
	} {
		if CanMove(tc.from, tc.to) != tc.ok {
			t.Errorf("%s → %s: allowed=%v", tc.from, tc.to, !tc.ok)
		}
	}
}

func TestRenderFillsKnownVariablesAndListsMissing(t *testing.T) {
	r := Render("{{customer_name}}您好，我是{{ agent_name }}。{{unknown}}{{company}}", map[string]string{"customer_name": "王总", "agent_name": "小李", "company": ""})
	if r.Text != "王总您好，我是小李。{{unknown}}{{company}}" || strings.Join(r.Missing, ",") != "unknown,company" {
		t.Fatalf("%+v", r)
	}
}

func TestReplySubjectAndMessageIDs(t *testing.T) {
	for in, want := range map[string]string{"询价": "Re: 询价", "Re: 询价": "Re: 询价", "RE：回复：询价": "Re: 询价", "Fwd: Re: x": "Re: x"} {
		if got := ReplySubject(in); got != want {
			t.Errorf("%q → %q, want %q", in, got, want)
		}
	}
	if cleanID("<abc@x>") != "abc@x" || cleanID("a b@x") != "" || cleanID(strings.Repeat("a", 400)) != "" {
		t.Fatal("cleanID")
	}
}

func FuzzInviteICS(f *testing.F) {
	f.Add("周会", "会议室 A", "议程;第一项,第二项\r\nATTENDEE:mailto:evil@x", "王总", "wang@example.com")
	f.Fuzz(func(t *testing.T, title, place, agenda, name, email string) {
		m := Meeting{UID: "u@prelude", Title: title, Place: place, Agenda: agenda, StartsAt: time.Unix(1e9, 0), EndsAt: time.Unix(1e9+3600, 0),
			Attendees: []Attendee{{Name: name, Email: email}}, Organizer: Attendee{Name: name, Email: "org@example.com"}}
		out := InviteICS(m, time.Unix(1e9, 0))
		attendees := 0
		for _, line := range strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n") {
			if strings.ContainsAny(line, "\r\n") {
				t.Fatalf("bare line break in %q", line)
			}
			if strings.HasPrefix(line, "ATTENDEE") {
				attendees++
			}
		}
		// User text can never add a property: exactly one attendee line.
		if attendees != 1 || strings.Count(out, "BEGIN:VEVENT") != 1 || !strings.Contains(out, "METHOD:REQUEST") {
			t.Fatalf("structure broken:\n%s", out)
		}
	})
}

func FuzzRender(f *testing.F) {
	f.Add("{{customer_name}}{{x}}{{", "王")
	f.Fuzz(func(t *testing.T, tmpl, name string) {
		r := Render(tmpl, map[string]string{"customer_name": name})
		if !strings.Contains(tmpl, "{{") && r.Text != tmpl {
			t.Fatalf("text without variables changed: %q → %q", tmpl, r.Text)
		}
	})
}

func FuzzMailFields(f *testing.F) {
	f.Add("回复：Re: 询价\x00\xff", "<id@x>", 10)
	f.Fuzz(func(t *testing.T, subject, id string, n int) {
		n = n%300 + 1
		if n < 1 {
			n = 1
		}
		c := clip(subject, n)
		if !utf8.ValidString(c) || utf8.RuneCountInString(c) > n || strings.ContainsRune(c, 0) {
			t.Fatalf("clip(%q, %d) = %q", subject, n, c)
		}
		s := stripReplyPrefix(subject)
		if stripReplyPrefix(s) != s {
			t.Fatalf("strip not idempotent: %q → %q", subject, s)
		}
		if got := cleanID(id); strings.ContainsAny(got, " \t\r\n\x00<>") {
			t.Fatalf("cleanID(%q) = %q", id, got)
		}
	})
}
