package workcal

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Holiday schedules are published as iCalendar feeds (one all-day VEVENT
// per holiday stretch or per day, "国庆节 假期" / "国庆节 补班"). The parser is
// deliberately small: it reads only what a holiday feed carries, refuses
// anything oversized, and points at the offending line.

// Import limits.
const (
	MaxICSBytes    = 1 << 20
	maxICSEvents   = 2000
	maxICSDays     = 3660
	maxEventDays   = 366
	maxICSLineSize = 8192
)

// ImportDay is one date an .ics file sets.
type ImportDay struct {
	Date string `json:"date"`
	Kind string `json:"kind"`
	Name string `json:"name"`
}

// ICSResult is a parsed file: the dates in order, and how many events were
// left out (timed events, recurring events).
type ICSResult struct {
	Days    []ImportDay
	Skipped int
}

// ICSError is a problem at a line of the file; Key is an i18n message key.
type ICSError struct {
	Line int
	Key  string
	Args []any
}

func (e *ICSError) Error() string {
	return fmt.Sprintf("ics line %d: %s %v", e.Line, e.Key, e.Args)
}

type icsLine struct {
	no    int
	name  string
	param string
	value string
}

// ParseICS reads an iCalendar file: every all-day VEVENT becomes holidays for
// each of its dates, or make-up workdays when its SUMMARY says so (班, 补班,
// 上班, "workday"). Events with a time of day or a recurrence rule are
// skipped and counted. When two events name the same date the later one wins.
func ParseICS(data []byte) (ICSResult, error) {
	var res ICSResult
	if len(data) > MaxICSBytes {
		return res, &ICSError{Key: "workcal.ics_too_big", Args: []any{MaxICSBytes / 1024}}
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(data) {
		return res, &ICSError{Key: "workcal.ics_not_utf8"}
	}
	head, _, _ := strings.Cut(strings.TrimLeft(string(data), " \t\r\n"), "\n")
	if !strings.EqualFold(strings.TrimSpace(head), "BEGIN:VCALENDAR") {
		return res, &ICSError{Line: 1, Key: "workcal.ics_not_calendar"}
	}
	lines, err := unfold(string(data))
	if err != nil {
		return res, err
	}
	if len(lines) == 0 || !strings.EqualFold(lines[0].name, "BEGIN") || !strings.EqualFold(lines[0].value, "VCALENDAR") {
		return res, &ICSError{Line: 1, Key: "workcal.ics_not_calendar"}
	}
	byDate := map[string]ImportDay{}
	var (
		inEvent, recurring       bool
		depth, events, eventAt   int
		start, end, dur, summary icsLine
	)
	for _, l := range lines {
		name := strings.ToUpper(l.name)
		switch {
		case name == "BEGIN" && strings.EqualFold(l.value, "VEVENT") && !inEvent:
			inEvent, depth, recurring, eventAt = true, 0, false, l.no
			start, end, dur, summary = icsLine{}, icsLine{}, icsLine{}, icsLine{}
			if events++; events > maxICSEvents {
				return res, &ICSError{Line: l.no, Key: "workcal.ics_too_many", Args: []any{maxICSEvents}}
			}
		case !inEvent:
		case name == "BEGIN":
			depth++ // VALARM and friends: their properties are not the event's
		case name == "END" && depth > 0:
			depth--
		case name == "END" && strings.EqualFold(l.value, "VEVENT"):
			inEvent = false
			if recurring {
				res.Skipped++
				continue
			}
			days, allDay, err := eventDays(eventAt, start, end, dur)
			if err != nil {
				return res, err
			}
			if !allDay {
				res.Skipped++
				continue
			}
			kind, title := KindHoliday, unescapeText(summary.value)
			if isWorkdayTitle(title) {
				kind = KindWorkday
			}
			title = truncateRunes(strings.Join(strings.Fields(title), " "), maxNameRunes)
			for _, d := range days {
				byDate[d] = ImportDay{Date: d, Kind: kind, Name: title}
			}
			if len(byDate) > maxICSDays {
				return res, &ICSError{Line: l.no, Key: "workcal.ics_too_many_days", Args: []any{maxICSDays}}
			}
		case depth > 0:
		case name == "DTSTART":
			start = l
		case name == "DTEND":
			end = l
		case name == "DURATION":
			dur = l
		case name == "SUMMARY":
			summary = l
		case name == "RRULE" || name == "RDATE":
			recurring = true
		}
	}
	if inEvent {
		return res, &ICSError{Line: eventAt, Key: "workcal.ics_unterminated"}
	}
	res.Days = make([]ImportDay, 0, len(byDate))
	for _, d := range byDate {
		res.Days = append(res.Days, d)
	}
	sort.Slice(res.Days, func(i, j int) bool { return res.Days[i].Date < res.Days[j].Date })
	return res, nil
}

// unfold splits the file into logical lines (RFC 5545 §3.1: a line starting
// with a space or tab continues the previous one) and each into name,
// parameters and value.
func unfold(s string) ([]icsLine, error) {
	var out []icsLine
	var cur strings.Builder
	curNo := 0
	flush := func() error {
		if cur.Len() == 0 {
			return nil
		}
		raw := cur.String()
		cur.Reset()
		colon := valueColon(raw)
		if colon < 0 {
			return &ICSError{Line: curNo, Key: "workcal.ics_bad_line"}
		}
		head := raw[:colon]
		name, param, _ := strings.Cut(head, ";")
		if name == "" || strings.ContainsAny(name, " \t\"") {
			return &ICSError{Line: curNo, Key: "workcal.ics_bad_line"}
		}
		out = append(out, icsLine{no: curNo, name: name, param: param, value: raw[colon+1:]})
		return nil
	}
	for i, line := range strings.Split(s, "\n") {
		line = strings.TrimSuffix(line, "\r")
		if len(line) > maxICSLineSize || cur.Len()+len(line) > maxICSLineSize {
			return nil, &ICSError{Line: i + 1, Key: "workcal.ics_line_too_long", Args: []any{maxICSLineSize}}
		}
		if strings.ContainsFunc(line, func(r rune) bool { return r < 0x20 && r != '\t' }) {
			return nil, &ICSError{Line: i + 1, Key: "workcal.ics_bad_line"}
		}
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if cur.Len() == 0 {
				return nil, &ICSError{Line: i + 1, Key: "workcal.ics_bad_line"}
			}
			cur.WriteString(line[1:])
			continue
		}
		if err := flush(); err != nil {
			return nil, err
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		cur.WriteString(line)
		curNo = i + 1
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return out, nil
}

// valueColon finds the colon that starts the value: the first one outside
// a quoted parameter value.
func valueColon(s string) int {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			quoted = !quoted
		case ':':
			if !quoted {
				return i
			}
		}
	}
	return -1
}

// eventDays lists the dates of an all-day event; allDay is false for an
// event with a time of day.
func eventDays(at int, start, end, dur icsLine) ([]string, bool, error) {
	if start.name == "" {
		return nil, false, &ICSError{Line: at, Key: "workcal.ics_no_start"}
	}
	first, allDay, err := icsDate(start)
	if err != nil || !allDay {
		return nil, false, err
	}
	last := first // inclusive
	switch {
	case end.name != "":
		e, endAllDay, err := icsDate(end)
		if err != nil {
			return nil, false, err
		}
		if !endAllDay {
			return nil, false, &ICSError{Line: end.no, Key: "workcal.ics_bad_date"}
		}
		if !e.After(first) {
			return nil, false, &ICSError{Line: end.no, Key: "workcal.ics_end_before_start"}
		}
		last = e.AddDate(0, 0, -1) // DTEND of an all-day event is exclusive
	case dur.name != "":
		n, err := durationDays(dur)
		if err != nil {
			return nil, false, err
		}
		last = first.AddDate(0, 0, n-1)
	}
	if last.Sub(first) >= maxEventDays*24*time.Hour {
		return nil, false, &ICSError{Line: start.no, Key: "workcal.ics_event_too_long", Args: []any{maxEventDays}}
	}
	var out []string
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		out = append(out, d.Format("2006-01-02"))
	}
	return out, true, nil
}

// icsDate reads DTSTART/DTEND: a DATE (YYYYMMDD) or a DATE-TIME, which
// makes the event a timed one.
func icsDate(l icsLine) (time.Time, bool, error) {
	v := strings.TrimSpace(l.value)
	isDate := strings.Contains(strings.ToUpper(l.param), "VALUE=DATE") && !strings.Contains(strings.ToUpper(l.param), "VALUE=DATE-TIME")
	if len(v) == 8 {
		isDate = true
	}
	if !isDate {
		if _, err := time.Parse("20060102T150405", strings.TrimSuffix(v, "Z")); err != nil {
			return time.Time{}, false, &ICSError{Line: l.no, Key: "workcal.ics_bad_date"}
		}
		return time.Time{}, false, nil
	}
	t, err := time.Parse("20060102", v)
	if err != nil || len(v) != 8 {
		return time.Time{}, false, &ICSError{Line: l.no, Key: "workcal.ics_bad_date"}
	}
	if t.Year() < minYear || t.Year() > maxYear {
		return time.Time{}, false, &ICSError{Line: l.no, Key: "workcal.year_range", Args: []any{minYear, maxYear}}
	}
	return t, true, nil
}

// durationDays reads the whole-day durations holiday feeds use: P3D, P1W.
func durationDays(l icsLine) (int, error) {
	v := strings.ToUpper(strings.TrimSpace(l.value))
	bad := &ICSError{Line: l.no, Key: "workcal.ics_bad_duration"}
	if len(v) < 3 || v[0] != 'P' {
		return 0, bad
	}
	unit := v[len(v)-1]
	n, err := strconv.Atoi(v[1 : len(v)-1])
	if err != nil || n <= 0 {
		return 0, bad
	}
	switch unit {
	case 'D':
	case 'W':
		n *= 7
	default:
		return 0, bad
	}
	if n > maxEventDays {
		return 0, &ICSError{Line: l.no, Key: "workcal.ics_event_too_long", Args: []any{maxEventDays}}
	}
	return n, nil
}

func unescapeText(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
			switch s[i] {
			case 'n', 'N':
				b.WriteByte(' ')
			default:
				b.WriteByte(s[i])
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// isWorkdayTitle recognises a make-up workday: "国庆节 补班", "调休上班",
// "Working day (make-up)".
func isWorkdayTitle(s string) bool {
	l := strings.ToLower(s)
	return strings.Contains(s, "班") || strings.Contains(l, "workday") || strings.Contains(l, "working day")
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}
