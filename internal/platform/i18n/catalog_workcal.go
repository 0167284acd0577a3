package i18n

// Messages of the work calendar (工作日历): holidays, make-up workdays,
// business hours and .ics import.
func init() {
	for k, e := range map[string]entry{
		"entity.work_calendar_day": {"日历日期设置", "Calendar day"},

		"workcal.bad_date":             {"日期格式应为 YYYY-MM-DD", "must be a date in the form YYYY-MM-DD"},
		"workcal.year_range":           {"年份必须在 %d 到 %d 之间", "the year must be between %d and %d"},
		"workcal.bad_zone":             {"不是有效的时区名称（例如 Asia/Shanghai）", "is not a valid time zone name (e.g. Asia/Shanghai)"},
		"workcal.no_weekdays":          {"至少需要一个工作日", "at least one working weekday is required"},
		"workcal.bad_weekday":          {"工作日用 1（周一）到 7（周日）表示，且不能重复", "weekdays are 1 (Monday) to 7 (Sunday), each at most once"},
		"workcal.no_hours":             {"至少需要一段工作时间", "at least one business-hours interval is required"},
		"workcal.bad_hours":            {"工作时间应为 HH:MM，开始早于结束，且各段不能重叠", "business hours must be HH:MM, each start before its end, with no overlaps"},
		"workcal.no_business_time":     {"工作日历中在十年内没有足够的工作时间，请检查节假日和工作时间设置", "The work calendar has too little business time within ten years; check its holidays and business hours"},
		"workcal.ics_line":             {"第 %d 行有误", "problem at line %d"},
		"workcal.ics_too_big":          {"日历文件过大（上限 %d KB）", "The calendar file is too large (limit %d KB)"},
		"workcal.ics_not_utf8":         {"日历文件不是 UTF-8 编码", "The calendar file is not UTF-8 encoded"},
		"workcal.ics_not_calendar":     {"不是 iCalendar（.ics）文件：应以 BEGIN:VCALENDAR 开头", "Not an iCalendar (.ics) file: it must start with BEGIN:VCALENDAR"},
		"workcal.ics_too_many":         {"日历文件中的事件过多（上限 %d 个）", "Too many events in the calendar file (limit %d)"},
		"workcal.ics_too_many_days":    {"日历文件涉及的日期过多（上限 %d 天）", "The calendar file covers too many dates (limit %d)"},
		"workcal.ics_unterminated":     {"事件缺少 END:VEVENT", "An event has no END:VEVENT"},
		"workcal.ics_bad_line":         {"日历文件中有无法识别的行", "The calendar file has a line that cannot be read"},
		"workcal.ics_line_too_long":    {"日历文件中有过长的行（上限 %d 字节）", "The calendar file has an over-long line (limit %d bytes)"},
		"workcal.ics_no_start":         {"事件缺少开始日期（DTSTART）", "An event has no start date (DTSTART)"},
		"workcal.ics_bad_date":         {"日期格式不正确（应为 YYYYMMDD）", "A date is malformed (expected YYYYMMDD)"},
		"workcal.ics_end_before_start": {"事件的结束日期（DTEND）不晚于开始日期", "An event ends (DTEND) on or before its start"},
		"workcal.ics_event_too_long":   {"单个事件不能超过 %d 天", "An event may span at most %d days"},
		"workcal.ics_bad_duration":     {"事件时长（DURATION）应为整天，例如 P3D", "An event's DURATION must be whole days, e.g. P3D"},
	} {
		catalog[k] = e
	}
}
