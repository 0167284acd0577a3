package server_test

import (
	"strings"
	"testing"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// The work calendar through the API on both databases: the issue's
// National Day case, an administrator's edit moving a due time, stale
// edits refused, staff unable to edit, bad input and .ics imports with
// clear messages, and every change audited.
func TestWorkCalendarThroughTheAPI(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		staff := e.User(admin, "calendar.reader", []string{"presales"}, e.RootDepartment(admin))

		var days struct {
			Items []struct{ Date, Kind, Name, Source string } `json:"items"`
		}
		if err := staff.Do("GET", "/api/v1/work-calendar/days?year=2026", nil).Expect(t, 200).JSON(&days); err != nil {
			t.Fatal(err)
		}
		kinds := map[string]string{}
		for _, x := range days.Items {
			kinds[x.Date] = x.Kind
		}
		if kinds["2026-10-01"] != "holiday" || kinds["2026-10-10"] != "workday" || kinds["2026-09-20"] != "workday" || len(days.Items) != 39 {
			t.Fatalf("2026 has %d days: %v", len(days.Items), kinds)
		}

		due := func(c *servertest.Client, from string) string {
			return c.Do("GET", "/api/v1/work-calendar/due?from="+from+"&minutes=240", nil).Expect(t, 200).Str("due")
		}
		// Friday 2026-09-25 17:00 in Beijing is 09:00 UTC: 中秋 that day,
		// so 4 business hours end Monday 28 Sep 14:30 (06:30 UTC).
		if got := due(staff, "2026-09-25T09:00:00Z"); got != "2026-09-28T06:30:00Z" {
			t.Fatalf("due %s", got)
		}
		// 2027: Friday 24 Sep 17:00 → make-up Sunday 26 Sep 12:00.
		if got := due(staff, "2027-09-24T09:00:00Z"); got != "2027-09-26T04:00:00Z" {
			t.Fatalf("due %s", got)
		}

		// The administrator gives the 28th off: the due time moves a day.
		r := admin.Do("PUT", "/api/v1/work-calendar/days/2026-09-28", map[string]any{"kind": "holiday", "name": "公司活动"}).Expect(t, 201)
		if r.Header.Get("ETag") != `"1"` || r.Str("source") != "admin" {
			t.Fatalf("%s %s", r.Header.Get("ETag"), r.Body)
		}
		if got := due(staff, "2026-09-25T09:00:00Z"); got != "2026-09-29T06:30:00Z" {
			t.Fatalf("after edit due %s", got)
		}
		admin.Do("PUT", "/api/v1/work-calendar/days/2026-09-28", map[string]any{"kind": "workday"}, "If-Match", `"5"`).Expect(t, 412)
		admin.Do("PUT", "/api/v1/work-calendar/days/2026-09-28", map[string]any{"kind": "holiday", "name": "公司活动（改）"}, "If-Match", `"1"`).Expect(t, 200)
		staff.Do("PUT", "/api/v1/work-calendar/days/2026-12-01", map[string]any{"kind": "holiday"}).Expect(t, 403)
		staff.Do("DELETE", "/api/v1/work-calendar/days/2026-09-28", nil).Expect(t, 403)
		admin.Do("DELETE", "/api/v1/work-calendar/days/2026-09-28", nil, "If-Match", `"1"`).Expect(t, 412)
		admin.Do("DELETE", "/api/v1/work-calendar/days/2026-09-28", nil, "If-Match", `"2"`).Expect(t, 204)
		admin.Do("DELETE", "/api/v1/work-calendar/days/2026-09-28", nil).Expect(t, 404)
		if got := due(staff, "2026-09-25T09:00:00Z"); got != "2026-09-28T06:30:00Z" {
			t.Fatalf("after delete due %s", got)
		}

		// Bad input: 422 naming the field, in the caller's language.
		bad := admin.Do("PUT", "/api/v1/work-calendar/days/2026-02-30", map[string]any{"kind": "party"}).Expect(t, 422)
		if f := bad.Map()["error"].(map[string]any)["fields"].(map[string]any); f["date"] == nil || f["kind"] == nil {
			t.Fatalf("%s", bad.Body)
		}
		admin.Do("PUT", "/api/v1/work-calendar/days/2026-12-01", map[string]any{"kind": "holiday", "extra": 1}).Expect(t, 400)
		staff.Do("GET", "/api/v1/work-calendar/days?year=abc", nil).Expect(t, 400)
		staff.Do("GET", "/api/v1/work-calendar/days?year=99999", nil).Expect(t, 422)
		staff.Do("GET", "/api/v1/work-calendar/due?minutes=-5", nil).Expect(t, 400)

		// Settings: If-Match, validation, effect.
		set := admin.Do("GET", "/api/v1/work-calendar/settings", nil).Expect(t, 200)
		if set.Str("zone") != "Asia/Shanghai" || set.Header.Get("ETag") != `"1"` {
			t.Fatalf("%s", set.Body)
		}
		msg := admin.Do("PATCH", "/api/v1/work-calendar/settings", map[string]any{"hours": []map[string]string{{"start": "13:00", "end": "09:00"}}}).Expect(t, 422)
		if !strings.Contains(string(msg.Body), `"hours":"工作时间应为 HH:MM`) {
			t.Fatalf("%s", msg.Body)
		}
		admin.Do("PATCH", "/api/v1/work-calendar/settings", map[string]any{"zone": "UTC"}, "If-Match", `"9"`).Expect(t, 412)
		staff.Do("PATCH", "/api/v1/work-calendar/settings", map[string]any{"zone": "UTC"}).Expect(t, 403)
		admin.Do("PATCH", "/api/v1/work-calendar/settings", map[string]any{"hours": []map[string]string{{"start": "08:00", "end": "12:00"}, {"start": "13:00", "end": "17:00"}}}, "If-Match", `"1"`).Expect(t, 200)
		// Monday 30 Nov 2026 08:00 Beijing + 4h → 12:00 with the new hours.
		if got := due(staff, "2026-11-30T00:00:00Z"); got != "2026-11-30T04:00:00Z" {
			t.Fatalf("new hours due %s", got)
		}

		// .ics import: preview, broken file with its line, real import.
		ics := "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20281001\r\nDTEND;VALUE=DATE:20281008\r\nSUMMARY:国庆节 假期\r\nEND:VEVENT\r\n" +
			"BEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20280930\r\nSUMMARY:国庆节 补班\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
		pre := admin.Do("POST", "/api/v1/work-calendar/import?dry_run=true", ics, "Content-Type", "text/calendar").Expect(t, 200).Map()
		if pre["holidays"].(float64) != 7 || pre["workdays"].(float64) != 1 || pre["dry_run"] != true {
			t.Fatalf("%v", pre)
		}
		broken := admin.Do("POST", "/api/v1/work-calendar/import", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:2028-10-01\nEND:VEVENT\n", "Content-Type", "text/calendar").Expect(t, 422)
		if broken.Code() != "invalid_ics" || !strings.Contains(string(broken.Body), "第 3 行") {
			t.Fatalf("%s", broken.Body)
		}
		admin.Do("POST", "/api/v1/work-calendar/import", "not a calendar", "Content-Type", "text/calendar").Expect(t, 422)
		admin.Do("POST", "/api/v1/work-calendar/import", strings.Repeat("x", 2<<20), "Content-Type", "text/calendar").Expect(t, 413)
		staff.Do("POST", "/api/v1/work-calendar/import", ics, "Content-Type", "text/calendar").Expect(t, 403)
		admin.Do("POST", "/api/v1/work-calendar/import", ics, "Content-Type", "text/calendar").Expect(t, 200)
		if err := staff.Do("GET", "/api/v1/work-calendar/days?year=2028", nil).Expect(t, 200).JSON(&days); err != nil || len(days.Items) != 8 || days.Items[0].Source != "ics" {
			t.Fatalf("%+v %v", days, err)
		}

		// Every change is audited.
		audit := admin.Do("GET", "/api/v1/audit?entity_type=work_calendar_day", nil).Expect(t, 200).Map()
		if items := audit["items"].([]any); len(items) < 3 {
			t.Fatalf("audit entries: %d", len(items))
		}
		for _, action := range []string{"workcal.settings_update", "workcal.import"} {
			if items := admin.Do("GET", "/api/v1/audit?action="+action, nil).Expect(t, 200).Map()["items"].([]any); len(items) != 1 {
				t.Fatalf("%s audited %d times", action, len(items))
			}
		}
	})
}
