package workcal

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"prelude/internal/platform/errs"
)

// Day is one stored override of the weekly pattern.
type Day struct {
	Date      string    `json:"date"` // YYYY-MM-DD
	Kind      string    `json:"kind"` // holiday | workday
	Name      string    `json:"name"`
	Source    string    `json:"source"` // seed | admin | ics
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// DayInput adds or changes one day.
type DayInput struct {
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// Settings are the zone and business hours of every working day.
type Settings struct {
	Zone      string    `json:"zone"`
	Weekdays  []int     `json:"weekdays"` // ISO: 1 = Monday … 7 = Sunday
	Hours     []Span    `json:"hours"`
	Version   int64     `json:"version"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SettingsInput changes the given settings.
type SettingsInput struct {
	Zone     *string `json:"zone"`
	Weekdays *[]int  `json:"weekdays"`
	Hours    *[]Span `json:"hours"`
}

// Limits that keep one edit or import small enough to reason about.
const (
	maxNameRunes = 100
	maxSpans     = 6
	minYear      = 1970
	maxYear      = 2200
)

// validDate checks a YYYY-MM-DD date in the supported range.
func validDate(v *errs.Validation, field, s string) string {
	t, err := time.Parse("2006-01-02", s)
	if err != nil || t.Format("2006-01-02") != s {
		v.Add(field, "workcal.bad_date")
		return s
	}
	if t.Year() < minYear || t.Year() > maxYear {
		v.Add(field, "workcal.year_range", minYear, maxYear)
	}
	return s
}

func validKind(v *errs.Validation, k string) {
	if k != KindHoliday && k != KindWorkday {
		v.Add("kind", "field.one_of", KindHoliday+", "+KindWorkday)
	}
}

func validName(v *errs.Validation, s string) string {
	s = strings.TrimSpace(s)
	switch {
	case !utf8.ValidString(s):
		v.Add("name", "field.invalid")
	case utf8.RuneCountInString(s) > maxNameRunes:
		v.Add("name", "field.too_long", maxNameRunes)
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		v.Add("name", "field.control_chars")
	}
	return s
}

// validSettings checks a complete settings value; every problem names its
// field, and a setting with no working time at all is refused so that due
// times always exist.
func validSettings(s Settings) error {
	var v errs.Validation
	if _, err := time.LoadLocation(s.Zone); err != nil || s.Zone == "" || strings.EqualFold(s.Zone, "local") || len(s.Zone) > 64 {
		v.Add("zone", "workcal.bad_zone")
	}
	if len(s.Weekdays) == 0 {
		v.Add("weekdays", "workcal.no_weekdays")
	}
	seen := map[int]bool{}
	for _, w := range s.Weekdays {
		if w < 1 || w > 7 || seen[w] {
			v.Add("weekdays", "workcal.bad_weekday")
		}
		seen[w] = true
	}
	switch {
	case len(s.Hours) == 0:
		v.Add("hours", "workcal.no_hours")
	case len(s.Hours) > maxSpans:
		v.Add("hours", "field.too_many", maxSpans)
	default:
		if _, err := parseSpans(s.Hours); err != nil {
			v.Add("hours", "workcal.bad_hours")
		}
	}
	return v.Err()
}

func formatWeekdays(ws []int) string {
	ws = slices.Clone(ws)
	slices.Sort(ws)
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = strconv.Itoa(w)
	}
	return strings.Join(parts, ",")
}

func parseWeekdays(s string) []int {
	out := []int{}
	for p := range strings.SplitSeq(s, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(p)); err == nil {
			out = append(out, n)
		}
	}
	return out
}

func formatHours(hs []Span) string {
	iv, _ := parseSpans(hs)
	parts := make([]string, len(iv))
	for i, x := range iv {
		parts[i] = clock(x.start) + "-" + clock(x.end)
	}
	return strings.Join(parts, ",")
}

func parseHours(s string) []Span {
	out := []Span{}
	for p := range strings.SplitSeq(s, ",") {
		if a, b, ok := strings.Cut(strings.TrimSpace(p), "-"); ok {
			out = append(out, Span{Start: a, End: b})
		}
	}
	return out
}

func clock(m int) string {
	return strconv.Itoa(m/60/10) + strconv.Itoa(m/60%10) + ":" + strconv.Itoa(m%60/10) + strconv.Itoa(m%10)
}
