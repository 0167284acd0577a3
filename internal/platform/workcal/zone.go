package workcal

import "time"

// DefaultZone is the business time zone when none is configured.
const DefaultZone = "Asia/Shanghai"

// Shanghai is China's business time zone, the default for "today", due
// dates and business hours. The zone database is embedded (time/tzdata), so
// this never depends on the host.
func Shanghai() *time.Location {
	loc, err := time.LoadLocation(DefaultZone)
	if err != nil {
		// Unreachable with the embedded tzdata; China has had no DST since 1991.
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}
