package workcal

import (
	"errors"
	"strings"
	"testing"
)

const holidayFeed = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//holiday-cn//CN\r\n" +
	"BEGIN:VEVENT\r\nUID:2028-nd\r\nDTSTART;VALUE=DATE:20281001\r\nDTEND;VALUE=DATE:20281008\r\nSUMMARY:国庆节 假期\r\n" +
	"BEGIN:VALARM\r\nTRIGGER:-PT15M\r\nSUMMARY:上班提醒\r\nEND:VALARM\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20280930\r\nSUMMARY:国庆节 补班\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nDTSTART:20281009\r\nDURATION:P1D\r\nSUMMARY:National Day (make-up workday)\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20280101\r\nSUMMARY:元旦\\, 新年\r\n  快乐\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nDTSTART:20280105T090000Z\r\nDTEND:20280105T100000Z\r\nSUMMARY:a meeting\r\nEND:VEVENT\r\n" +
	"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20280106\r\nRRULE:FREQ=YEARLY\r\nSUMMARY:birthday\r\nEND:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

func TestParseICSHolidayFeed(t *testing.T) {
	res, err := ParseICS([]byte("\xef\xbb\xbf" + holidayFeed))
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped != 2 {
		t.Errorf("skipped %d, want the timed and the recurring event", res.Skipped)
	}
	got := map[string]ImportDay{}
	for _, d := range res.Days {
		got[d.Date] = d
	}
	if len(res.Days) != 10 {
		t.Fatalf("%d days: %+v", len(res.Days), res.Days)
	}
	for _, d := range []string{"2028-10-01", "2028-10-04", "2028-10-07"} {
		if got[d].Kind != KindHoliday || got[d].Name != "国庆节 假期" {
			t.Errorf("%s: %+v", d, got[d])
		}
	}
	if _, ok := got["2028-10-08"]; ok {
		t.Error("DTEND is exclusive")
	}
	if got["2028-09-30"].Kind != KindWorkday || got["2028-10-09"].Kind != KindWorkday {
		t.Errorf("make-up workdays: %+v %+v", got["2028-09-30"], got["2028-10-09"])
	}
	if got["2028-01-01"].Name != "元旦, 新年 快乐" {
		t.Errorf("unescaped/unfolded summary %q", got["2028-01-01"].Name)
	}
	if res.Days[0].Date != "2028-01-01" {
		t.Error("days must be sorted")
	}
}

func TestParseICSErrorsPointAtTheLine(t *testing.T) {
	for name, tc := range map[string]struct {
		in   string
		key  string
		line int
	}{
		"not a calendar":  {"hello", "workcal.ics_not_calendar", 1},
		"empty":           {"", "workcal.ics_not_calendar", 1},
		"bad date":        {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:2028-10-01\nEND:VEVENT\nEND:VCALENDAR", "workcal.ics_bad_date", 3},
		"end before":      {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20281001\nDTEND;VALUE=DATE:20281001\nEND:VEVENT\nEND:VCALENDAR", "workcal.ics_end_before_start", 4},
		"no start":        {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:x\nEND:VEVENT\nEND:VCALENDAR", "workcal.ics_no_start", 2},
		"unterminated":    {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20281001\n", "workcal.ics_unterminated", 2},
		"no colon":        {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART\nEND:VEVENT", "workcal.ics_bad_line", 3},
		"too long event":  {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20280101\nDTEND;VALUE=DATE:20300101\nEND:VEVENT\nEND:VCALENDAR", "workcal.ics_event_too_long", 3},
		"bad duration":    {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20280101\nDURATION:PT1H\nEND:VEVENT\nEND:VCALENDAR", "workcal.ics_bad_duration", 4},
		"year range":      {"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:19000101\nEND:VEVENT\nEND:VCALENDAR", "workcal.year_range", 3},
		"control char":    {"BEGIN:VCALENDAR\nSUMMARY:a\x00b\n", "workcal.ics_bad_line", 2},
		"invalid utf8":    {"BEGIN:VCALENDAR\n\xff\n", "workcal.ics_not_utf8", 0},
		"stray fold":      {" BEGIN:VCALENDAR", "workcal.ics_bad_line", 1},
		"huge line":       {"BEGIN:VCALENDAR\nX:" + strings.Repeat("a", 9000), "workcal.ics_line_too_long", 2},
		"too big":         {strings.Repeat("a", MaxICSBytes+1), "workcal.ics_too_big", 0},
		"too many events": {"BEGIN:VCALENDAR\n" + strings.Repeat("BEGIN:VEVENT\nDTSTART;VALUE=DATE:20280101\nEND:VEVENT\n", maxICSEvents+1), "workcal.ics_too_many", 2 + 3*maxICSEvents},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := ParseICS([]byte(tc.in))
			var ie *ICSError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v", err)
			}
			if ie.Key != tc.key || ie.Line != tc.line {
				t.Fatalf("got %s at line %d, want %s at %d", ie.Key, ie.Line, tc.key, tc.line)
			}
		})
	}
}

func FuzzParseICS(f *testing.F) {
	f.Add([]byte(holidayFeed))
	f.Add([]byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=\"a:b\";VALUE=DATE:20280101\nDTEND:20280103\nEND:VEVENT\nEND:VCALENDAR"))
	f.Add([]byte("BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20280101\nDURATION:P2W\nSUMMARY:补班\nEND:VEVENT\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := ParseICS(data)
		if err != nil {
			var ie *ICSError
			if !errors.As(err, &ie) || ie.Key == "" {
				t.Fatalf("error without a message key: %v", err)
			}
			return
		}
		if len(res.Days) > maxICSDays {
			t.Fatalf("%d days", len(res.Days))
		}
		prev := ""
		for _, d := range res.Days {
			if _, err := dateKey(d.Date); err != nil || d.Date <= prev {
				t.Fatalf("bad or unsorted date %q after %q", d.Date, prev)
			}
			if d.Kind != KindHoliday && d.Kind != KindWorkday {
				t.Fatalf("kind %q", d.Kind)
			}
			prev = d.Date
		}
	})
}
