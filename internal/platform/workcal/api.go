package workcal

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"prelude/internal/platform/authz"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
)

// API exposes the work calendar over HTTP.
type API struct{ Svc *Service }

type dueResult struct {
	From    time.Time `json:"from"`
	Minutes int       `json:"minutes"`
	Due     time.Time `json:"due"`
}

type dayList struct {
	Items []Day `json:"items"`
	Year  int   `json:"year"`
}

func writeDay(w http.ResponseWriter, status int, d *Day) {
	httpx.SetETag(w, d.Version)
	httpx.WriteJSON(w, status, d)
}

// Routes registers the work-calendar endpoints.
func (a *API) Routes(rt *httpx.Router) {
	s := a.Svc
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/work-calendar/days", Tag: "work-calendar", Summary: "Holidays and make-up workdays of a year",
		Query: []string{"year"}, Response: dayList{}},
		func(w http.ResponseWriter, r *http.Request) error {
			year := time.Now().Year()
			if q := r.URL.Query().Get("year"); q != "" {
				n, err := strconv.Atoi(q)
				if err != nil {
					return httpx.BadParam("year")
				}
				year = n
			}
			days, err := s.ListDays(r.Context(), year)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, dayList{Items: days, Year: year})
			return nil
		})
	rt.Handle(httpx.Route{Method: "PUT", Path: "/api/v1/work-calendar/days/{date}", Tag: "work-calendar", Summary: "Set a date as holiday or make-up workday (If-Match to change an existing one)",
		Permission: authz.SettingsCalendar, Request: DayInput{}, Response: Day{}},
		func(w http.ResponseWriter, r *http.Request) error {
			ifMatch, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			var in DayInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			d, created, err := s.PutDay(r.Context(), r.PathValue("date"), ifMatch, in)
			if err != nil {
				return err
			}
			status := 200
			if created {
				status = 201
				w.Header().Set("Location", "/api/v1/work-calendar/days/"+d.Date)
			}
			writeDay(w, status, d)
			return nil
		})
	rt.Handle(httpx.Route{Method: "DELETE", Path: "/api/v1/work-calendar/days/{date}", Tag: "work-calendar", Summary: "Remove a date's override (it follows the weekly pattern again)",
		Permission: authz.SettingsCalendar, Status: 204},
		func(w http.ResponseWriter, r *http.Request) error {
			ifMatch, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			if err := s.DeleteDay(r.Context(), r.PathValue("date"), ifMatch); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/work-calendar/settings", Tag: "work-calendar", Summary: "Time zone, working weekdays and business hours", Response: Settings{}},
		func(w http.ResponseWriter, r *http.Request) error {
			set, err := s.Settings(r.Context())
			if err != nil {
				return err
			}
			httpx.SetETag(w, set.Version)
			httpx.WriteJSON(w, 200, set)
			return nil
		})
	rt.Handle(httpx.Route{Method: "PATCH", Path: "/api/v1/work-calendar/settings", Tag: "work-calendar", Summary: "Change the time zone, working weekdays or business hours",
		Permission: authz.SettingsCalendar, Request: SettingsInput{}, Response: Settings{}},
		func(w http.ResponseWriter, r *http.Request) error {
			ifMatch, err := httpx.IfMatch(r)
			if err != nil {
				return err
			}
			var in SettingsInput
			if err := httpx.Decode(r, &in); err != nil {
				return err
			}
			set, err := s.UpdateSettings(r.Context(), ifMatch, in)
			if err != nil {
				return err
			}
			httpx.SetETag(w, set.Version)
			httpx.WriteJSON(w, 200, set)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/work-calendar/import", Tag: "work-calendar", Summary: "Import holidays and make-up workdays from an .ics file (body: text/calendar; ?dry_run=true to preview)",
		Permission: authz.SettingsCalendar, Query: []string{"dry_run"}, Response: ImportResult{}, BodyLimit: MaxICSBytes},
		func(w http.ResponseWriter, r *http.Request) error {
			dry, err := httpx.QueryBool(r, "dry_run")
			if err != nil {
				return err
			}
			data, err := io.ReadAll(r.Body)
			if err != nil {
				var mbe *http.MaxBytesError
				if errors.As(err, &mbe) {
					return &errs.Error{Kind: errs.TooLarge, Code: "body_too_large", Key: "err.too_large", Args: []any{mbe.Limit}}
				}
				return err
			}
			if len(data) == 0 {
				return &errs.Error{Kind: errs.BadRequest, Code: "empty_body", Key: "err.empty_body"}
			}
			res, err := s.Import(r.Context(), data, dry != nil && *dry)
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, res)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/work-calendar/due", Tag: "work-calendar", Summary: "When does a response target of N business minutes starting at `from` fall due",
		Query: []string{"from", "minutes"}, Response: dueResult{}},
		func(w http.ResponseWriter, r *http.Request) error {
			if err := requireSignedIn(r.Context()); err != nil {
				return err
			}
			from, err := httpx.QueryTime(r, "from")
			if err != nil {
				return err
			}
			if from.IsZero() {
				from = time.Now()
			}
			mins, err := strconv.Atoi(r.URL.Query().Get("minutes"))
			if err != nil || mins < 0 || mins > 366*24*60 {
				return httpx.BadParam("minutes")
			}
			snap, err := s.Snapshot(r.Context())
			if err != nil {
				return err
			}
			due, err := snap.TryAddBusiness(from, time.Duration(mins)*time.Minute)
			if err != nil {
				return errs.New(errs.Invalid, "no_business_time", "workcal.no_business_time")
			}
			httpx.WriteJSON(w, 200, dueResult{From: from.UTC(), Minutes: mins, Due: due.UTC()})
			return nil
		})
}
