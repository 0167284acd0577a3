package workcal

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
)

// RefreshEvery is how stale a cached calendar may be on an instance that did
// not make the edit: one indexed read of a counter at most this often.
const RefreshEvery = 3 * time.Second

// Service stores the work calendar and hands out cached snapshots.
type Service struct {
	db    *db.DB
	audit *audit.Log

	cached       atomic.Pointer[cacheEntry]
	refresh      sync.Mutex // one reload at a time; others keep the old snapshot
	refreshEvery time.Duration
}

type cacheEntry struct {
	snap      *Snapshot
	version   int64
	checkedAt time.Time
}

// NewService returns the calendar service.
func NewService(d *db.DB, a *audit.Log) *Service {
	return &Service{db: d, audit: a, refreshEvery: RefreshEvery}
}

// Current returns the calendar as it is now: a cached snapshot, reloaded
// when an administrator's edit (here or on another instance) bumped the
// calendar's version. If the database cannot be reached the last snapshot is
// kept, since due times computed on a slightly old calendar beat none.
func (s *Service) Current(ctx context.Context) (Calendar, error) {
	snap, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	return snap, nil
}

// Snapshot is Current with the concrete type (TryAddBusiness).
func (s *Service) Snapshot(ctx context.Context) (*Snapshot, error) { return s.current(ctx) }

func (s *Service) current(ctx context.Context) (*Snapshot, error) {
	if c := s.cached.Load(); c != nil && time.Since(c.checkedAt) < s.refreshEvery {
		return c.snap, nil
	}
	s.refresh.Lock()
	defer s.refresh.Unlock()
	c := s.cached.Load()
	if c != nil && time.Since(c.checkedAt) < s.refreshEvery {
		return c.snap, nil
	}
	v, err := readVersion(ctx, s.db, cacheName)
	if err != nil {
		if c != nil {
			return c.snap, nil
		}
		return nil, err
	}
	if c != nil && c.version == v {
		s.cached.Store(&cacheEntry{snap: c.snap, version: v, checkedAt: time.Now()})
		return c.snap, nil
	}
	snap, err := s.load(ctx)
	if err != nil {
		if c != nil {
			return c.snap, nil
		}
		return nil, err
	}
	s.cached.Store(&cacheEntry{snap: snap, version: v, checkedAt: time.Now()})
	return snap, nil
}

func (s *Service) load(ctx context.Context) (*Snapshot, error) {
	var snap *Snapshot
	err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		set, err := loadSettings(ctx, tx)
		if err != nil {
			return err
		}
		days, err := listDays(ctx, tx, "0000-00-00", "9999-99-99")
		if err != nil {
			return err
		}
		ov := make([]Override, len(days))
		for i, d := range days {
			ov[i] = Override{Date: d.Date, Kind: d.Kind}
		}
		snap, err = NewSnapshot(set.Zone, set.Weekdays, set.Hours, ov)
		if err != nil {
			return fmt.Errorf("stored work calendar is invalid: %w", err)
		}
		return nil
	})
	return snap, err
}

// invalidate makes the next Current reload (after this instance's own edit).
func (s *Service) invalidate() { s.cached.Store(nil) }

func requireSignedIn(ctx context.Context) error {
	if authz.From(ctx) == nil {
		return &errs.Error{Kind: errs.Unauthorized, Code: "unauthorized", Key: "err.unauthorized"}
	}
	return nil
}

// ListDays returns the stored holidays and make-up workdays of a year.
func (s *Service) ListDays(ctx context.Context, year int) ([]Day, error) {
	if err := requireSignedIn(ctx); err != nil {
		return nil, err
	}
	if year < minYear || year > maxYear {
		var v errs.Validation
		v.Add("year", "workcal.year_range", minYear, maxYear)
		return nil, v.Err()
	}
	y := fmt.Sprintf("%04d", year)
	var out []Day
	err := s.db.Read(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		out, err = listDays(ctx, tx, y+"-01-01", y+"-12-31")
		return err
	})
	return out, err
}

// PutDay adds or changes the override of one date. ifMatch (0 = none) must
// name the current version of an existing day; created reports a new row.
func (s *Service) PutDay(ctx context.Context, date string, ifMatch int64, in DayInput) (day *Day, created bool, err error) {
	p := authz.From(ctx)
	if err := p.Require(authz.SettingsCalendar); err != nil {
		return nil, false, err
	}
	var v errs.Validation
	validDate(&v, "date", date)
	validKind(&v, in.Kind)
	name := validName(&v, in.Name)
	if err := v.Err(); err != nil {
		return nil, false, err
	}
	err = s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		old, err := getDay(ctx, tx, date)
		if err != nil {
			return err
		}
		switch {
		case old == nil && ifMatch != 0:
			// The client edited a day that someone else has since removed.
			return errs.StaleVersion()
		case old != nil:
			if err := errs.CheckVersion(ifMatch, old.Version); err != nil {
				return err
			}
		}
		if _, err := upsertDay(ctx, tx, date, in.Kind, name, "admin"); err != nil {
			return err
		}
		if err := bumpVersion(ctx, tx, cacheName); err != nil {
			return err
		}
		changes := map[string][2]any{"kind": {nil, in.Kind}, "name": {nil, name}}
		if old != nil {
			changes = map[string][2]any{"kind": {old.Kind, in.Kind}, "name": {old.Name, name}}
		}
		if day, err = getDay(ctx, tx, date); err != nil {
			return err
		}
		created = old == nil
		tx.AfterCommit(s.invalidate)
		return s.audit.Record(ctx, tx, audit.Event{Action: "workcal.day_set", EntityType: "work_calendar_day", EntityID: date, Changes: changes})
	})
	return day, created, err
}

// DeleteDay removes a date's override: the date follows the weekly pattern
// again.
func (s *Service) DeleteDay(ctx context.Context, date string, ifMatch int64) error {
	p := authz.From(ctx)
	if err := p.Require(authz.SettingsCalendar); err != nil {
		return err
	}
	var v errs.Validation
	validDate(&v, "date", date)
	if err := v.Err(); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		old, err := getDay(ctx, tx, date)
		if err != nil {
			return err
		}
		if old == nil {
			return errs.NotFoundf("entity.work_calendar_day")
		}
		if err := errs.CheckVersion(ifMatch, old.Version); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM work_calendar_days WHERE day = ?", date); err != nil {
			return err
		}
		if err := bumpVersion(ctx, tx, cacheName); err != nil {
			return err
		}
		tx.AfterCommit(s.invalidate)
		return s.audit.Record(ctx, tx, audit.Event{Action: "workcal.day_delete", EntityType: "work_calendar_day", EntityID: date,
			Changes: map[string][2]any{"kind": {old.Kind, nil}, "name": {old.Name, nil}}})
	})
}

// Settings returns the zone and business hours.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	if err := requireSignedIn(ctx); err != nil {
		return Settings{}, err
	}
	return loadSettings(ctx, s.db)
}

// UpdateSettings changes the zone, working weekdays or business hours.
func (s *Service) UpdateSettings(ctx context.Context, ifMatch int64, in SettingsInput) (Settings, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.SettingsCalendar); err != nil {
		return Settings{}, err
	}
	var out Settings
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		old, err := loadSettings(ctx, tx)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(ifMatch, old.Version); err != nil {
			return err
		}
		next := old
		if in.Zone != nil {
			next.Zone = *in.Zone
		}
		if in.Weekdays != nil {
			next.Weekdays = *in.Weekdays
		}
		if in.Hours != nil {
			next.Hours = *in.Hours
		}
		if err := validSettings(next); err != nil {
			return err
		}
		wd, hrs := formatWeekdays(next.Weekdays), formatHours(next.Hours)
		if _, err := tx.Exec(ctx, "UPDATE work_calendar_settings SET zone = ?, weekdays = ?, hours = ?, version = version + 1, updated_at = ? WHERE id = 1",
			next.Zone, wd, hrs, db.Ms(tx.Now())); err != nil {
			return err
		}
		if err := bumpVersion(ctx, tx, cacheName); err != nil {
			return err
		}
		if out, err = loadSettings(ctx, tx); err != nil {
			return err
		}
		tx.AfterCommit(s.invalidate)
		return s.audit.Record(ctx, tx, audit.Event{Action: "workcal.settings_update", EntityType: "work_calendar_settings", EntityID: "1",
			Changes: map[string][2]any{
				"zone":     {old.Zone, out.Zone},
				"weekdays": {formatWeekdays(old.Weekdays), wd},
				"hours":    {formatHours(old.Hours), hrs},
			}})
	})
	return out, err
}

// ImportResult reports what an .ics import did (or would do, on a dry run).
type ImportResult struct {
	Holidays int         `json:"holidays"`
	Workdays int         `json:"workdays"`
	Skipped  int         `json:"skipped"`
	DryRun   bool        `json:"dry_run"`
	Days     []ImportDay `json:"days"`
}

// Import reads an iCalendar file and stores its all-day events as holidays
// or make-up workdays (see ParseICS), all or nothing.
func (s *Service) Import(ctx context.Context, data []byte, dryRun bool) (ImportResult, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.SettingsCalendar); err != nil {
		return ImportResult{}, err
	}
	parsed, err := ParseICS(data)
	if err != nil {
		var pe *ICSError
		if errors.As(err, &pe) {
			e := errs.New(errs.Invalid, "invalid_ics", pe.Key, pe.Args...)
			if pe.Line > 0 {
				e.Fields = map[string]errs.Field{"file": {Key: "workcal.ics_line", Args: []any{pe.Line}}}
			}
			return ImportResult{}, e
		}
		return ImportResult{}, err
	}
	res := ImportResult{Skipped: parsed.Skipped, DryRun: dryRun, Days: parsed.Days}
	for _, d := range parsed.Days {
		if d.Kind == KindWorkday {
			res.Workdays++
		} else {
			res.Holidays++
		}
	}
	if dryRun {
		return res, nil
	}
	err = s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		for _, d := range parsed.Days {
			if _, err := upsertDay(ctx, tx, d.Date, d.Kind, d.Name, "ics"); err != nil {
				return err
			}
		}
		if err := bumpVersion(ctx, tx, cacheName); err != nil {
			return err
		}
		tx.AfterCommit(s.invalidate)
		return s.audit.Record(ctx, tx, audit.Event{Action: "workcal.import", EntityType: "work_calendar", EntityID: "ics",
			Detail: map[string]any{"holidays": res.Holidays, "workdays": res.Workdays, "skipped": res.Skipped,
				"first": first(parsed.Days), "last": last(parsed.Days), "bytes": strconv.Itoa(len(data))}})
	})
	return res, err
}

func first(ds []ImportDay) string {
	if len(ds) == 0 {
		return ""
	}
	return ds[0].Date
}

func last(ds []ImportDay) string {
	if len(ds) == 0 {
		return ""
	}
	return ds[len(ds)-1].Date
}
