package customers

// Excel/CSV import and export of accounts (regulations 3 and 4).
//
// An import is an upload stored in the imports table and processed by a
// durable job (ImportJobKind) as the importer: every row is checked first
// (the same rules and messages as the account form), duplicates inside the
// file and against existing accounts are found in batches, and then either
// nothing is written (a preview, or any bad row) or every row is written in
// one transaction. Progress is recorded while rows are checked; the error
// report (.xlsx) lists the bad rows with their reasons.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/httpx"
	"prelude/internal/platform/i18n"
	"prelude/internal/platform/jobs"
	"prelude/internal/platform/mask"
	"prelude/internal/platform/region"
	"prelude/internal/platform/valid"
)

// ImportJobKind is the job that processes an uploaded import.
const ImportJobKind = "customers.import"

const (
	importPreviewRows = 20   // parsed rows shown by a preview
	maxListedErrors   = 1000 // row errors kept in the import resource (the report has all)
	bulkChunk         = 200  // rows per multi-row INSERT (SQLite)
	// Rows per COPY (PostgreSQL). Each COPY costs the server a fixed part
	// (the statement's setup and its triggers'; pgx also described the
	// table before each): a 100,000-row import took 10.1 s of server CPU in
	// COPYs of 1,000 rows and 8.8 in COPYs of 5,000 or 10,000. The first
	// chunk is small so that the server starts while the next is built.
	bulkChunkCopy      = 5000
	bulkChunkCopyFirst = 1000
	lookupChunk        = 2000  // values per IN (...) when looking for duplicates
	lookupChunkArray   = 20000 // values per array (PostgreSQL) when looking for duplicates
)

// maxExportRows caps an export (a variable so tests can lower it).
var maxExportRows = 100000

// Import statuses, modes and duplicate choices.
const (
	ImportQueued  = "queued"
	ImportRunning = "running"
	ImportDone    = "done"
	ImportFailed  = "failed"
)

var (
	importModes      = []string{"preview", "commit"}
	importDuplicates = []string{"skip", "update", "create"}
)

// PrincipalFunc rebuilds a user's principal (roles, scope, departments) for
// work done on their behalf in the background; nil means the user is
// disabled. The server passes org.Service.PrincipalFor.
type PrincipalFunc func(ctx context.Context, userID string) (*authz.Principal, error)

// importDeps are what imports need beyond the Service.
type importDeps struct {
	queue      *jobs.Queue
	principals PrincipalFunc
}

// importDepsOf attaches importDeps to a Service (set by RegisterImportJobs)
// without widening the Service struct that other files own.
var importDepsOf sync.Map // *Service → *importDeps

func (s *Service) importDeps() (*importDeps, error) {
	d, ok := importDepsOf.Load(s)
	if !ok {
		return nil, errors.New("customers: RegisterImportJobs was not called")
	}
	return d.(*importDeps), nil
}

// RegisterImportJobs registers the import job on q; principals rebuilds the
// importer's principal when the job runs. The server calls it once.
func (s *Service) RegisterImportJobs(q *jobs.Queue, principals PrincipalFunc) {
	importDepsOf.Store(s, &importDeps{queue: q, principals: principals})
	q.Register(ImportJobKind, s.runImportJob, jobs.KindOptions{MaxAttempts: 3, Timeout: 30 * time.Minute})
}

// ---- API types ----

// Import is an upload being (or having been) imported.
type Import struct {
	ID         string         `json:"id"`
	UserID     string         `json:"user_id"`
	Status     string         `json:"status" doc:"queued, running, done or failed (a commit with bad rows fails and writes nothing)"`
	Phase      string         `json:"phase" doc:"while running: validating or writing"`
	Mode       string         `json:"mode" doc:"preview (writes nothing) or commit"`
	Duplicates string         `json:"duplicates" doc:"skip, update or create"`
	Filename   string         `json:"filename"`
	Progress   ImportProgress `json:"progress"`
	Counts     ImportCounts   `json:"counts"`
	// Error is a problem with the whole file or job ("" rows).
	Error *ImportProblem `json:"error"`
	// Rows are the first parsed rows as they would be saved (previews).
	Rows []ImportRow `json:"rows"`
	// Errors are the row problems (at most 1000; the report has all).
	Errors          []ImportRowError `json:"errors"`
	ErrorsTruncated bool             `json:"errors_truncated"`
	ReportURL       *string          `json:"report_url"`
	CreatedAt       time.Time        `json:"created_at"`
	UpdatedAt       time.Time        `json:"updated_at"`
	FinishedAt      *time.Time       `json:"finished_at"`
}

// ImportProgress is how far the rows have been checked.
type ImportProgress struct {
	Processed int `json:"processed"`
	Total     int `json:"total"`
	Percent   int `json:"percent"`
}

// ImportCounts says what happened (or, for a preview, would happen).
type ImportCounts struct {
	Created int `json:"created"`
	Updated int `json:"updated"`
	Skipped int `json:"skipped"`
	Errors  int `json:"errors" doc:"rows with at least one problem"`
}

// ImportProblem is a file-level problem.
type ImportProblem struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// ImportRowError is one problem of one row.
type ImportRowError struct {
	Row     int    `json:"row" doc:"row number as the spreadsheet shows it (the header is row 1)"`
	Column  string `json:"column" doc:"the column header, e.g. 联系人手机"`
	Field   string `json:"field" doc:"the API field, e.g. contacts.0.mobile"`
	Message string `json:"message"`
}

// ImportRow is a parsed row as it would be saved.
type ImportRow struct {
	Row       int            `json:"row"`
	Action    string         `json:"action" doc:"create, update, skip or error"`
	Duplicate *Duplicate     `json:"duplicate,omitempty" doc:"the existing account a skipped or updated row matches"`
	Account   ImportAccount  `json:"account"`
	Contact   *ImportContact `json:"contact"`
}

// ImportAccount is the account part of a parsed row.
type ImportAccount struct {
	Name         string   `json:"name"`
	Kind         string   `json:"kind"`
	USCC         string   `json:"uscc"`
	Industry     string   `json:"industry"`
	Size         string   `json:"size"`
	ProvinceCode string   `json:"province_code"`
	CityCode     string   `json:"city_code"`
	DistrictCode string   `json:"district_code"`
	RegionName   string   `json:"region_name"`
	Address      string   `json:"address"`
	Source       string   `json:"source"`
	Level        string   `json:"level"`
	Status       string   `json:"status"`
	Tags         []string `json:"tags"`
	OwnerID      string   `json:"owner_id"`
	OwnerName    string   `json:"owner_name"`
	Needs        string   `json:"needs"`
	Concerns     string   `json:"concerns"`
}

// ImportContact is the contact part of a parsed row (details masked).
type ImportContact struct {
	Name         string `json:"name"`
	Title        string `json:"title"`
	Mobile       string `json:"mobile"`
	Phone        string `json:"phone"`
	Email        string `json:"email"`
	WeChat       string `json:"wechat"`
	PurchaseRole string `json:"purchase_role"`
	Masked       bool   `json:"masked"`
}

// ---- storage ----

// importRecord is a row of the imports table (without the blobs).
type importRecord struct {
	ID, UserID, Status, Phase, Mode, Duplicates, Filename  string
	Total, Processed, Created, Updated, Skipped, ErrorRows int
	Result                                                 string
	HasReport                                              bool
	CreatedAt, UpdatedAt, FinishedAt                       db.Time
}

const importCols = `id, user_id, status, phase, mode, duplicates, filename, total_rows, processed_rows, created_rows, updated_rows,
	skipped_rows, error_rows, result, has_report, created_at, updated_at, finished_at`

func scanImport(sc interface{ Scan(...any) error }) (*importRecord, error) {
	var r importRecord
	err := sc.Scan(&r.ID, &r.UserID, &r.Status, &r.Phase, &r.Mode, &r.Duplicates, &r.Filename, &r.Total, &r.Processed, &r.Created, &r.Updated,
		&r.Skipped, &r.ErrorRows, &r.Result, &r.HasReport, &r.CreatedAt, &r.UpdatedAt, &r.FinishedAt)
	return &r, err
}

// importResult is the stored JSON of an import: messages are kept as keys
// and translated when read, in the reader's language.
type importResult struct {
	Rows      []ImportRow      `json:"rows,omitempty"`
	Errors    []storedRowError `json:"errors,omitempty"`
	Truncated bool             `json:"truncated,omitempty"`
	Problem   *storedProblem   `json:"problem,omitempty"`
}

type storedRowError struct {
	Row    int    `json:"row"`
	Column string `json:"column"`
	Field  string `json:"field"`
	Key    string `json:"key"`
	Args   []any  `json:"args,omitempty"`
}

type storedProblem struct {
	Code string `json:"code"`
	Key  string `json:"key"`
	Args []any  `json:"args,omitempty"`
}

// jsonArgs restores integer arguments that JSON turned into floats, so that
// "%d" formats them.
func jsonArgs(args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		if f, ok := a.(float64); ok && f == float64(int64(f)) {
			out[i] = int64(f)
		} else {
			out[i] = a
		}
	}
	return out
}

func (r *importRecord) view(lang i18n.Lang) *Import {
	im := &Import{ID: r.ID, UserID: r.UserID, Status: r.Status, Phase: r.Phase, Mode: r.Mode, Duplicates: r.Duplicates, Filename: r.Filename,
		Progress:  ImportProgress{Processed: r.Processed, Total: r.Total},
		Counts:    ImportCounts{Created: r.Created, Updated: r.Updated, Skipped: r.Skipped, Errors: r.ErrorRows},
		Rows:      []ImportRow{},
		Errors:    []ImportRowError{},
		CreatedAt: time.Time(r.CreatedAt), UpdatedAt: time.Time(r.UpdatedAt), FinishedAt: timePtr(r.FinishedAt)}
	if r.Total > 0 {
		im.Progress.Percent = min(100, r.Processed*100/r.Total)
	}
	if r.Status == ImportDone || r.Status == ImportFailed {
		im.Progress.Percent = 100
	}
	var res importResult
	if r.Result != "" && json.Unmarshal([]byte(r.Result), &res) == nil {
		if res.Rows != nil {
			im.Rows = res.Rows
		}
		for _, e := range res.Errors {
			im.Errors = append(im.Errors, ImportRowError{Row: e.Row, Column: e.Column, Field: e.Field, Message: i18n.T(lang, e.Key, jsonArgs(e.Args)...)})
		}
		im.ErrorsTruncated = res.Truncated
		if res.Problem != nil {
			im.Error = &ImportProblem{Code: res.Problem.Code, Message: i18n.T(lang, res.Problem.Key, jsonArgs(res.Problem.Args)...)}
		}
	}
	if r.HasReport {
		u := "/api/v1/account-imports/" + r.ID + "/report.xlsx"
		im.ReportURL = &u
	}
	return im
}

// ---- starting an import ----

// uploadSlots bounds how many uploads are parsed at once (each may inflate
// to unzipSizeLimit).
var uploadSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)/2))

// ImportOptions are the choices made at upload.
type ImportOptions struct {
	Mode       string
	Duplicates string
	Filename   string
	// Lang is the language of the answer's messages.
	Lang i18n.Lang
}

// StartImport checks an upload (format, columns, row count), stores it and
// queues its processing. File problems are 422s; nothing is stored then.
func (s *Service) StartImport(ctx context.Context, data []byte, o ImportOptions) (*Import, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersImport); err != nil {
		return nil, err
	}
	if o.Mode == "" {
		o.Mode = "preview"
	}
	if o.Duplicates == "" {
		o.Duplicates = "skip"
	}
	if !slices.Contains(importModes, o.Mode) {
		return nil, httpx.BadParam("mode")
	}
	if !slices.Contains(importDuplicates, o.Duplicates) {
		return nil, httpx.BadParam("duplicates")
	}
	if o.Duplicates == "update" && o.Mode == "commit" {
		if err := p.Require(authz.CustomersUpdate); err != nil {
			return nil, err
		}
	}
	var fv errs.Validation
	o.Filename = valid.Text(&fv, "filename", o.Filename, false, 255)
	if fv.Err() != nil {
		o.Filename = ""
	}
	deps, err := s.importDeps()
	if err != nil {
		return nil, err
	}
	select {
	case uploadSlots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	t, err := readTable(data, true)
	<-uploadSlots
	if err != nil {
		return nil, err
	}
	id := db.NewID()
	// Usually the job runs here right away: hand it the parsed rows.
	parsedUploads.Store(id, t)
	time.AfterFunc(parsedTTL, func() { parsedUploads.Delete(id) })
	err = s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		now := db.Ms(tx.Now())
		if _, err := tx.Exec(ctx, `INSERT INTO imports (id, user_id, status, mode, duplicates, filename, size_bytes, total_rows, data, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, p.UserID, ImportQueued, o.Mode, o.Duplicates, o.Filename, len(data), t.total, data, now, now); err != nil {
			return err
		}
		// Enqueued in the same transaction: the job exists iff the import does.
		_, err := deps.queue.Enqueue(ctx, ImportJobKind, importPayload{ImportID: id}, jobs.EnqueueOptions{})
		return err
	})
	if err != nil {
		parsedUploads.Delete(id)
		return nil, err
	}
	return s.GetImport(ctx, id, o.Lang)
}

// parsedUploads hands the rows parsed while checking an upload to its job
// when the job runs in the same process soon after (the usual case), so a
// large file is not parsed twice; a job elsewhere, later or retried parses
// the stored upload.
var parsedUploads sync.Map // import ID → *table

const parsedTTL = 2 * time.Minute

type importPayload struct {
	ImportID string `json:"import_id"`
}

// GetImport returns an import the caller may see: their own, or any with
// the all-data scope; others are 404.
func (s *Service) GetImport(ctx context.Context, id string, lang i18n.Lang) (*Import, error) {
	rec, err := s.visibleImport(ctx, id)
	if err != nil {
		return nil, err
	}
	return rec.view(lang), nil
}

func (s *Service) visibleImport(ctx context.Context, id string) (*importRecord, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersImport); err != nil {
		return nil, err
	}
	// IDs are UUIDs: anything else (NUL bytes, invalid UTF-8, which
	// PostgreSQL refuses as text) simply does not exist.
	if len(id) > 64 || !utf8.ValidString(id) || strings.ContainsRune(id, 0) {
		return nil, errs.NotFoundf("entity.import")
	}
	rec, err := scanImport(s.db.QueryRow(ctx, "SELECT "+importCols+" FROM imports WHERE id = ?", id))
	if isNotFound(err) || err == nil && rec.UserID != p.UserID && p.Scope != authz.ScopeAll {
		return nil, errs.NotFoundf("entity.import")
	}
	return rec, err
}

// ListImports lists the caller's imports (all of them with the all-data
// scope), newest first.
func (s *Service) ListImports(ctx context.Context, lp httpx.ListParams, lang i18n.Lang) ([]*Import, *httpx.Cursor, error) {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersImport); err != nil {
		return nil, nil, err
	}
	cond, args := "1 = 1", []any{}
	if p.Scope != authz.ScopeAll {
		cond, args = "user_id = ?", append(args, p.UserID)
	}
	if lp.Cursor != nil {
		ms, err := parseInt(lp.Cursor.Key)
		if err != nil {
			return nil, nil, httpx.BadParam("cursor")
		}
		cond += " AND (created_at < ? OR (created_at = ? AND id < ?))"
		args = append(args, ms, ms, lp.Cursor.ID)
	}
	args = append(args, lp.Limit+1)
	// The list leaves out each import's rows and errors (read one import for them).
	cols := strings.Replace(importCols, "result,", "'' AS result,", 1)
	rows, err := s.db.Query(ctx, "SELECT "+cols+" FROM imports WHERE "+cond+" ORDER BY created_at DESC, id DESC LIMIT ?", args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	var out []*Import
	for rows.Next() {
		rec, err := scanImport(rows)
		if err != nil {
			return nil, nil, err
		}
		out = append(out, rec.view(lang))
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	var next *httpx.Cursor
	if len(out) > lp.Limit {
		out = out[:lp.Limit]
		last := out[len(out)-1]
		next = &httpx.Cursor{Key: formatInt(db.Ms(last.CreatedAt)), ID: last.ID}
	}
	return out, next, nil
}

// ImportReport returns an import's error report (.xlsx).
func (s *Service) ImportReport(ctx context.Context, id string) ([]byte, error) {
	if _, err := s.visibleImport(ctx, id); err != nil {
		return nil, err
	}
	var report []byte
	if err := s.db.QueryRow(ctx, "SELECT report FROM imports WHERE id = ?", id).Scan(&report); err != nil {
		return nil, err
	}
	if len(report) == 0 {
		return nil, errs.NotFoundf("entity.import_report")
	}
	return report, nil
}

// ImportTemplate builds the import template.
func (s *Service) ImportTemplate(ctx context.Context) ([]byte, error) {
	if err := authz.From(ctx).Require(authz.CustomersImport); err != nil {
		return nil, err
	}
	b, err := buildTemplate(s.levels(ctx, s.db))
	if err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// ---- running an import ----

func (s *Service) runImportJob(ctx context.Context, j *jobs.Job) error {
	var pl importPayload
	if err := j.Decode(&pl); err != nil || pl.ImportID == "" {
		return jobs.Permanent(fmt.Errorf("customers.import: bad payload %s", j.Payload))
	}
	var rec *importRecord
	var data []byte
	var err error
	if _, parsed := parsedUploads.Load(pl.ImportID); parsed {
		// The upload's rows are at hand: its bytes (megabytes) are not read back.
		rec, err = scanImport(s.db.QueryRow(ctx, "SELECT "+importCols+" FROM imports WHERE id = ?", pl.ImportID))
	} else {
		err = s.db.QueryRow(ctx, "SELECT "+importCols+", data FROM imports WHERE id = ?", pl.ImportID).Scan(scanDest(&rec, &data)...)
	}
	if isNotFound(err) {
		return nil // deleted meanwhile
	}
	if err != nil {
		return err
	}
	if rec.Status == ImportDone || rec.Status == ImportFailed {
		return nil // a repeated delivery of a finished import
	}
	deps, err := s.importDeps()
	if err != nil {
		return err
	}
	p, err := deps.principals(ctx, rec.UserID)
	if err != nil {
		return err
	}
	if p == nil || !p.Can(authz.CustomersImport) {
		return s.finishImport(ctx, rec, ImportFailed, nil, &importResult{Problem: &storedProblem{Code: "forbidden", Key: "customers.import_user_inactive"}}, nil)
	}
	ctx = authz.With(ctx, p)
	err = s.processImport(ctx, rec, data)
	if err == nil || errors.Is(err, errImportFinished) {
		return nil
	}
	rec.Created, rec.Updated, rec.Skipped = 0, 0, 0 // nothing was written
	if de := (*errs.Error)(nil); errors.As(err, &de) && de.Kind != errs.Internal {
		// A problem with the file or the data, not the system: final.
		return s.finishImport(context.WithoutCancel(ctx), rec, ImportFailed, nil,
			&importResult{Problem: &storedProblem{Code: de.Code, Key: de.Key, Args: de.Args}}, nil)
	}
	if j.Attempt >= j.MaxAttempts || jobs.IsPermanent(err) {
		if ferr := s.finishImport(context.WithoutCancel(ctx), rec, ImportFailed, nil,
			&importResult{Problem: &storedProblem{Code: "internal", Key: "customers.import_failed"}}, nil); ferr != nil {
			return errors.Join(err, ferr)
		}
	}
	return err
}

// scanDest lets one Scan fill an importRecord plus trailing columns.
func scanDest(rec **importRecord, extra ...any) []any {
	r := &importRecord{}
	*rec = r
	return append([]any{&r.ID, &r.UserID, &r.Status, &r.Phase, &r.Mode, &r.Duplicates, &r.Filename, &r.Total, &r.Processed, &r.Created,
		&r.Updated, &r.Skipped, &r.ErrorRows, &r.Result, &r.HasReport, &r.CreatedAt, &r.UpdatedAt, &r.FinishedAt}, extra...)
}

// finishImport records the outcome (outside the write transaction, or in
// tx when given) and drops the upload. Only a queued or running import is
// finished, so a second delivery of the job cannot overwrite the first.
func (s *Service) finishImport(ctx context.Context, rec *importRecord, status string, outer *db.Tx, res *importResult, report []byte) error {
	body, err := json.Marshal(res)
	if err != nil {
		return err
	}
	var rep any
	if len(report) > 0 {
		rep = report
	}
	run := func(ctx context.Context, tx *db.Tx) error {
		now := db.Ms(tx.Now())
		res, err := tx.Exec(ctx, `UPDATE imports SET status = ?, phase = '', processed_rows = ?, created_rows = ?, updated_rows = ?, skipped_rows = ?,
			error_rows = ?, result = ?, has_report = ?, report = ?, data = NULL, updated_at = ?, finished_at = ? WHERE id = ? AND status IN (?, ?)`,
			status, rec.Processed, rec.Created, rec.Updated, rec.Skipped, rec.ErrorRows, string(body), rep != nil, rep, now, now, rec.ID, ImportQueued, ImportRunning)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 && outer != nil {
			// Another delivery of the job finished it first: roll back.
			return errImportFinished
		}
		return nil
	}
	if outer != nil {
		return run(ctx, outer)
	}
	return s.db.InTx(ctx, run)
}

var errImportFinished = errors.New("customers: import already finished")

func (s *Service) setImportState(ctx context.Context, id, phase string, processed int) error {
	_, err := s.db.Exec(ctx, "UPDATE imports SET status = ?, phase = ?, processed_rows = ?, updated_at = ? WHERE id = ? AND status IN (?, ?)",
		ImportRunning, phase, processed, db.Ms(s.db.Now()), id, ImportQueued, ImportRunning)
	return err
}

// importRun is the work on one import.
type importRun struct {
	s      *Service
	rec    *importRecord
	t      *table
	p      *authz.Principal
	lang   i18n.Lang
	levels []string
	users  map[string]importUser // by lower-case username
	byID   map[string]importUser
	names  map[string][]importUser // by display name
	rows   []*prepRow
	done   atomic.Int64
}

type importUser struct {
	id, username, name, dept string
	active                   bool
}

// prepRow is one row after checking.
type prepRow struct {
	src     *tableRow
	acc     *Account
	nameKey string // NameKey(acc.Name)
	contact *ContactInput
	cid     string // the contact's ID once written
	dept    *string
	errs    []storedRowError
	action  string // create | update | skip | error
	dup     *Duplicate
	target  string // account to update
}

func (r *prepRow) fail(field, key string, args ...any) {
	r.errs = append(r.errs, storedRowError{Row: r.src.num, Column: columnOfField(field), Field: field, Key: key, Args: args})
}

var fieldColumns = func() map[string]int {
	m := map[string]int{}
	for i, c := range importColumns {
		m[c.Field] = i
	}
	return m
}()

func columnOfField(field string) string {
	if i, ok := fieldColumns[field]; ok {
		return importColumns[i].Header
	}
	return ""
}

func (s *Service) processImport(ctx context.Context, rec *importRecord, data []byte) error {
	p := authz.From(ctx)
	if err := s.setImportState(ctx, rec.ID, "validating", 0); err != nil {
		return err
	}
	var t *table
	if v, ok := parsedUploads.LoadAndDelete(rec.ID); ok {
		t = v.(*table)
	} else {
		if data == nil {
			// Dropped from parsedUploads since the job looked.
			if err := s.db.QueryRow(ctx, "SELECT data FROM imports WHERE id = ?", rec.ID).Scan(&data); err != nil {
				return err
			}
		}
		var err error
		if t, err = readTable(data, true); err != nil {
			return err
		}
	}
	lang := p.Locale
	if lang == "" {
		lang = i18n.Default
	}
	run := &importRun{s: s, rec: rec, t: t, p: p, lang: lang, levels: s.levels(ctx, s.db)}
	if err := run.loadUsers(ctx); err != nil {
		return err
	}
	if err := run.check(ctx); err != nil {
		return err
	}
	run.inFileDuplicates()
	if rec.Duplicates != "create" {
		if err := run.matchExisting(ctx); err != nil {
			return err
		}
	}
	res, report, err := run.summarise()
	if err != nil {
		return err
	}
	rec.Total, rec.Processed = t.total, t.total
	if rec.Mode == "preview" {
		return s.finishImport(ctx, rec, ImportDone, nil, res, report)
	}
	if rec.ErrorRows > 0 {
		rec.Created, rec.Updated, rec.Skipped = 0, 0, 0 // nothing is written
		return s.finishImport(ctx, rec, ImportFailed, nil, res, report)
	}
	if err := s.setImportState(ctx, rec.ID, "writing", t.total); err != nil {
		return err
	}
	res.Rows = nil
	restore := ""
	err = s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		if tx.Dialect() == db.SQLite {
			// A large import outgrows SQLite's default 2 MB page cache, which
			// then spills to the WAL and reads pages back: give this
			// transaction room (the memory is taken only as needed), and put
			// the connection's setting back afterwards.
			var prev int64
			if err := tx.QueryRow(ctx, "PRAGMA cache_size").Scan(&prev); err != nil {
				return err
			}
			if prev == importCacheSize {
				// Another import's setting not yet put back: SQLite's default.
				prev = -2000
			}
			if _, err := tx.Exec(ctx, "PRAGMA cache_size = "+strconv.Itoa(importCacheSize)); err != nil {
				return err
			}
			restore = "PRAGMA cache_size = " + strconv.FormatInt(prev, 10)
		}
		ctx, closeStmts := withStmts(ctx)
		defer closeStmts()
		if err := run.write(ctx, tx); err != nil {
			return err
		}
		return s.finishImport(ctx, rec, ImportDone, tx, res, nil)
	})
	if restore != "" {
		// Only after the COMMIT (committed or rolled back): shrinking the
		// cache inside the transaction made the COMMIT free every page
		// beyond the small cache one by one (two seconds per 100,000 rows),
		// before the import could show as done. The writer connection is
		// the same one; a failure only leaves the larger cache in place.
		_, _ = s.db.Exec(context.WithoutCancel(ctx), restore)
	}
	return err
}

// importCacheSize is the writer's SQLite page cache during an import's
// transaction (negative: KiB).
const importCacheSize = -262144

func (r *importRun) loadUsers(ctx context.Context) error {
	rows, err := r.s.db.Query(ctx, "SELECT id, username, display_name, COALESCE(department_id, ''), active FROM users")
	if err != nil {
		return err
	}
	defer rows.Close()
	r.users, r.byID, r.names = map[string]importUser{}, map[string]importUser{}, map[string][]importUser{}
	for rows.Next() {
		var u importUser
		if err := rows.Scan(&u.id, &u.username, &u.name, &u.dept, &u.active); err != nil {
			return err
		}
		r.users[strings.ToLower(u.username)] = u
		r.byID[u.id] = u
		r.names[u.name] = append(r.names[u.name], u)
	}
	return rows.Err()
}

// check validates every row, in parallel, recording progress as it goes.
// Rows are checked in memory (see prepare), so this is CPU work only.
func (r *importRun) check(ctx context.Context) error {
	rows := r.t.rows
	r.rows = make([]*prepRow, len(rows))
	stop := r.reportProgress(ctx)
	defer stop()
	workers := max(1, min(4, runtime.GOMAXPROCS(0)))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(rows) || ctx.Err() != nil {
					return
				}
				r.rows[i] = r.checkRow(&rows[i])
				r.done.Add(1)
			}
		}()
	}
	wg.Wait()
	return ctx.Err()
}

// reportProgress writes the checked-row count every half second (and so
// roughly every thousand rows) until stopped.
func (r *importRun) reportProgress(ctx context.Context) func() {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		tick := time.NewTicker(500 * time.Millisecond)
		defer tick.Stop()
		last := int64(0)
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				if n := r.done.Load(); n != last {
					last = n
					_ = r.s.setImportState(ctx, r.rec.ID, "validating", int(n))
				}
			}
		}
	}()
	return func() { close(done); <-stopped }
}

// checkRow maps a row's cells to an account (with its contact) and checks it
// with the account form's rules.
func (r *importRun) checkRow(tr *tableRow) *prepRow {
	pr := &prepRow{src: tr}
	f := &tr.fields
	var v errs.Validation
	in := AccountInput{Name: f[colName], USCC: f[colUSCC], Industry: f[colIndustry], Address: f[colAddress],
		Needs: f[colNeeds], Concerns: f[colConcerns]}
	enum := func(field string, e enumLabels, cell string, dst *string) {
		if val, ok := e.parse(cell); ok {
			*dst = val
		} else {
			v.Add(field, "field.one_of", e.choices())
		}
	}
	enum("kind", kindEnum, f[colKind], &in.Kind)
	enum("size", sizeEnum, f[colSize], &in.Size)
	enum("source", sourceEnum, f[colSource], &in.Source)
	enum("status", statusEnum, f[colStatus], &in.Status)
	if lv, ok := parseLevel(r.levels, f[colLevel]); ok {
		in.Level = lv
	} else {
		v.Add("level", "field.one_of", strings.Join(r.levels, "、"))
	}
	var bad string
	in.ProvinceCode, in.CityCode, in.DistrictCode, bad = resolveRegion(f[colProvince], f[colCity], f[colDistrict])
	if bad != "" {
		v.Add(bad, "field.region")
	}
	in.Tags = splitTags(f[colTags])
	if owner := f[colOwner]; owner != "" {
		if u, ok := r.findUser(owner); ok {
			in.OwnerID = u.id
		} else {
			v.Add("owner_id", "customers.import_unknown_owner", owner)
		}
	}
	hasContact := false
	for c := colContactName; c <= colPurchaseRole; c++ {
		if f[c] != "" {
			hasContact = true
		}
	}
	if hasContact {
		c := ContactInput{Name: f[colContactName], Title: f[colContactTitle], Mobile: f[colContactMobile], Phone: f[colContactPhone],
			Email: f[colContactEmail], WeChat: f[colContactWeChat], IsPrimary: true}
		enum("contacts.0.purchase_role", roleEnum, f[colPurchaseRole], &c.PurchaseRole)
		in.Contacts = []ContactInput{c}
	}
	acc, contacts, dept := r.prepare(in, &v)
	pr.acc, pr.dept, pr.nameKey = acc, dept, NameKey(acc.Name)
	if len(contacts) > 0 {
		pr.contact = &contacts[0]
	}
	if verr := (*errs.Error)(nil); errors.As(v.Err(), &verr) {
		fields := make([]string, 0, len(verr.Fields))
		for k := range verr.Fields {
			fields = append(fields, k)
		}
		// Report in column order.
		slices.SortFunc(fields, func(a, b string) int { return fieldOrder(a) - fieldOrder(b) })
		for _, k := range fields {
			pr.fail(k, verr.Fields[k].Key, verr.Fields[k].Args...)
		}
	}
	return pr
}

// prepare is prepareAccount for imports: the same defaults, field rules
// and messages, with the two things prepareAccount looks up for every row
// (the configured levels, the owner's department) loaded once per import
// instead of 200,000 queries per 100,000 rows. TestImportRulesMatchForm
// holds it to prepareAccount.
func (r *importRun) prepare(in AccountInput, v *errs.Validation) (*Account, []ContactInput, *string) {
	p := r.p
	a := &Account{Name: in.Name, Kind: in.Kind, USCC: in.USCC, Industry: in.Industry, Size: in.Size, ProvinceCode: in.ProvinceCode,
		CityCode: in.CityCode, DistrictCode: in.DistrictCode, Address: in.Address, Source: in.Source, Level: in.Level, Status: in.Status,
		Tags: in.Tags, OwnerID: in.OwnerID, Needs: in.Needs, Concerns: in.Concerns, Opinions: in.Opinions, Suggestions: in.Suggestions}
	if a.Kind == "" {
		a.Kind = "company"
	}
	if a.Status == "" {
		a.Status = "prospect"
	}
	if a.OwnerID == "" {
		a.OwnerID = p.UserID
	}
	validateAccountWith(a, r.levels, v)
	contacts := make([]ContactInput, len(in.Contacts))
	for i, c := range in.Contacts {
		contacts[i] = validateContactInput(v, "contacts."+strconv.Itoa(i)+".", c)
	}
	var dept *string
	u, ok := r.byID[a.OwnerID]
	if ok && u.active && u.dept != "" {
		d := u.dept
		dept = &d
	}
	if !ok || !u.active {
		v.Add("owner_id", "field.not_found")
	} else if a.OwnerID != p.UserID && !p.Sees(authz.Record{OwnerID: a.OwnerID, DepartmentID: u.dept}) {
		v.Add("owner_id", "field.not_found")
	}
	return a, contacts, dept
}

// validateAccountWith is validateAccount with the levels given.
func validateAccountWith(a *Account, levels []string, v *errs.Validation) {
	a.Name = valid.Text(v, "name", a.Name, true, 128)
	if !oneOf(Kinds, a.Kind) {
		v.Add("kind", "field.one_of", strings.Join(Kinds, ", "))
	}
	if a.Kind == "company" {
		a.USCC = valid.USCC(v, "uscc", a.USCC, false)
	} else if strings.TrimSpace(a.USCC) != "" {
		v.Add("uscc", "customers.uscc_company_only")
	}
	a.Industry = valid.Text(v, "industry", a.Industry, false, 64)
	if a.Size != "" && !oneOf(Sizes, a.Size) {
		v.Add("size", "field.one_of", strings.Join(Sizes, ", "))
	}
	if field, ok := region.Validate(a.ProvinceCode, a.CityCode, a.DistrictCode); !ok {
		v.Add(field, "field.region")
	}
	a.RegionName = region.FullName(firstNonEmpty(a.DistrictCode, a.CityCode, a.ProvinceCode))
	a.Address = valid.Text(v, "address", a.Address, false, 256)
	if a.Source != "" && !oneOf(Sources, a.Source) {
		v.Add("source", "field.one_of", strings.Join(Sources, ", "))
	}
	if a.Level != "" && !oneOf(levels, a.Level) {
		v.Add("level", "field.one_of", strings.Join(levels, ", "))
	}
	if !oneOf(Statuses, a.Status) {
		v.Add("status", "field.one_of", strings.Join(Statuses, ", "))
	}
	a.Tags = cleanTags(v, a.Tags)
	a.Needs = valid.Text(v, "needs", a.Needs, false, 4000)
	a.Concerns = valid.Text(v, "concerns", a.Concerns, false, 4000)
	a.Opinions = valid.Text(v, "opinions", a.Opinions, false, 4000)
	a.Suggestions = valid.Text(v, "suggestions", a.Suggestions, false, 4000)
}

func fieldOrder(field string) int {
	if i, ok := fieldColumns[field]; ok {
		return i
	}
	return numImportColumns
}

func (r *importRun) findUser(s string) (importUser, bool) {
	if u, ok := r.users[strings.ToLower(strings.TrimSpace(s))]; ok && u.active {
		return u, true
	}
	// A unique display name is accepted too (people type names, not logins).
	var found []importUser
	for _, u := range r.names[strings.TrimSpace(s)] {
		if u.active {
			found = append(found, u)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return importUser{}, false
}

// parseLevel accepts a configured level in any case, also written "A级".
func parseLevel(levels []string, s string) (string, bool) {
	k := labelKey(s)
	if k == "" {
		return "", true
	}
	for _, try := range []string{k, strings.TrimSuffix(strings.TrimSuffix(k, "级"), "类")} {
		for _, l := range levels {
			if labelKey(l) == try {
				return l, true
			}
		}
	}
	return "", false
}

func splitTags(s string) []string {
	var out []string
	for _, t := range strings.FieldsFunc(s, func(r rune) bool {
		return r == '，' || r == ',' || r == '、' || r == ';' || r == '；' || r == '\n'
	}) {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// resolveRegion turns region names into codes, each level looked up under
// the ones given above it; a missing city or province is inferred from the
// level below. bad names the first field that cannot be resolved.
func resolveRegion(prov, city, dist string) (p, c, d, bad string) {
	if prov != "" {
		r, ok := region.FindByName(prov)
		if !ok || r.Level != region.LevelProvince {
			return "", "", "", "province_code"
		}
		p = r.Code
	}
	if city != "" {
		r, ok := findCity(p, city)
		if !ok {
			return p, "", "", "city_code"
		}
		c = r.Code
		if p == "" {
			p = r.Parent
		}
	}
	if dist != "" {
		parent := firstNonEmpty(c, p)
		var r region.Region
		var ok bool
		if parent != "" {
			r, ok = region.FindIn(parent, dist)
		} else {
			r, ok = region.FindByName(dist)
		}
		if !ok || r.Level != region.LevelDistrict {
			return p, c, "", "district_code"
		}
		d = r.Code
		if c == "" {
			c = r.Parent
		}
		if p == "" {
			if cr, ok := region.Lookup(c); ok {
				p = cr.Parent
			}
		}
	}
	return p, c, d, ""
}

// findCity finds a prefecture-level city by name, under a province if
// given: "深圳", "吉林" (the city, not the province), "北京" (the
// municipality's city level).
func findCity(province, name string) (region.Region, bool) {
	if province != "" {
		r, ok := region.FindIn(province, name)
		return r, ok && r.Level == region.LevelCity
	}
	if r, ok := region.FindByName(name); ok {
		switch r.Level {
		case region.LevelCity:
			return r, true
		case region.LevelProvince:
			if c, ok := region.FindIn(r.Code, name); ok && c.Level == region.LevelCity {
				return c, true
			}
		}
	}
	var found []region.Region
	for _, pr := range region.Provinces() {
		if c, ok := region.FindIn(pr.Code, name); ok && c.Level == region.LevelCity {
			found = append(found, c)
		}
	}
	if len(found) == 1 {
		return found[0], true
	}
	return region.Region{}, false
}

// inFileDuplicates flags rows repeating an earlier row's USCC or name.
func (r *importRun) inFileDuplicates() {
	byUSCC, byName := map[string]int{}, map[string]int{}
	for _, pr := range r.rows {
		if pr.acc == nil {
			continue
		}
		if u := pr.acc.USCC; u != "" && !pr.hasError("uscc") {
			if first, ok := byUSCC[u]; ok {
				pr.fail("uscc", "customers.import_dup_in_file", first)
			} else {
				byUSCC[u] = pr.src.num
			}
		}
		if k := pr.nameKey; utf8.RuneCountInString(k) >= 2 {
			if first, ok := byName[k]; ok {
				pr.fail("name", "customers.import_dup_in_file", first)
			} else {
				byName[k] = pr.src.num
			}
		}
	}
}

func (pr *prepRow) hasError(field string) bool {
	for _, e := range pr.errs {
		if e.Field == field {
			return true
		}
	}
	return false
}

// dupHit is an existing live account matching a row.
type dupHit struct {
	id, name, owner string
}

// matchExisting finds likely duplicates of the valid rows among existing
// accounts, with the same criteria as findDuplicates (USCC, name key,
// contact mobile or email) but a few batched queries instead of several
// per row, then decides each row's action.
//
// Hits are rare, so the rows' values are only collected per criterion
// (each value once) and the rows are matched against what the queries
// found afterwards: a map from every value to its rows (300,000 entries
// for 100,000 rows) took a third of a second to build. The criteria are
// looked up concurrently, each on its own connection.
func (r *importRun) matchExisting(ctx context.Context) error {
	criteria := []string{"uscc", "name", "mobile", "email"}
	// rowKey is a row's value for the i-th criterion ("" for none).
	rowKey := func(pr *prepRow, i int) string {
		switch i {
		case 0:
			return pr.acc.USCC
		case 1:
			if k := pr.nameKey; utf8.RuneCountInString(k) >= 2 {
				return k
			}
		case 2:
			if c := pr.contact; c != nil {
				return c.Mobile
			}
		case 3:
			if c := pr.contact; c != nil && c.Email != "" {
				return strings.ToLower(c.Email)
			}
		}
		return ""
	}
	const live = " AND a.merged_into IS NULL AND a.archived_at IS NULL"
	// The columns compared, and the queries (%s: the comparison).
	cols := []string{"a.uscc", "a.name_key", "c.mobile", "LOWER(c.email)"}
	queries := []string{
		"SELECT a.uscc, a.id, a.name, a.owner_id FROM accounts a WHERE %s" + live,
		"SELECT a.name_key, a.id, a.name, a.owner_id FROM accounts a WHERE %s" + live,
		`SELECT c.mobile, a.id, a.name, a.owner_id FROM accounts a JOIN account_contacts ac ON ac.account_id = a.id
			JOIN contacts c ON c.id = ac.contact_id WHERE %s AND c.merged_into IS NULL` + live,
		`SELECT LOWER(c.email), a.id, a.name, a.owner_id FROM accounts a JOIN account_contacts ac ON ac.account_id = a.id
			JOIN contacts c ON c.id = ac.contact_id WHERE %s AND c.merged_into IS NULL` + live,
	}
	found := make([]map[string][]dupHit, len(criteria)) // criterion → value → hits, in the order read
	lookupErrs := make([]error, len(criteria))
	var wg sync.WaitGroup
	for i := range criteria {
		wg.Add(1)
		go func() {
			defer wg.Done()
			found[i], lookupErrs[i] = r.lookupExisting(ctx, queries[i], cols[i], func(yield func(string)) {
				for _, pr := range r.rows {
					if len(pr.errs) == 0 {
						if v := rowKey(pr, i); v != "" {
							yield(v)
						}
					}
				}
			})
		}()
	}
	wg.Wait()
	if err := errors.Join(lookupErrs...); err != nil {
		return err
	}
	hits := map[*prepRow]map[string][]dupHit{} // row → reason → hits
	accounts := map[string]dupHit{}
	for i, reason := range criteria {
		if len(found[i]) == 0 {
			continue
		}
		for _, pr := range r.rows {
			if len(pr.errs) > 0 {
				continue
			}
			v := rowKey(pr, i)
			if v == "" {
				continue
			}
			for _, h := range found[i][v] {
				accounts[h.id] = h
				if hits[pr] == nil {
					hits[pr] = map[string][]dupHit{}
				}
				if !slices.ContainsFunc(hits[pr][reason], func(x dupHit) bool { return x.id == h.id }) {
					hits[pr][reason] = append(hits[pr][reason], h)
				}
			}
		}
	}
	visible, err := r.visibleAccounts(ctx, accounts)
	if err != nil {
		return err
	}
	for _, pr := range r.rows {
		if len(pr.errs) > 0 {
			continue
		}
		byReason := hits[pr]
		if len(byReason) == 0 {
			continue
		}
		// The best match: a visible one, by USCC before name before contact.
		var best, first *dupHit
		var reasons []string
		for _, reason := range []string{"uscc", "name", "mobile", "email"} {
			for _, h := range byReason[reason] {
				if first == nil {
					first = &h
				}
				if best == nil && visible[h.id] {
					best = &h
				}
			}
			if len(byReason[reason]) > 0 {
				reasons = append(reasons, reason)
			}
		}
		shown := best
		if shown == nil {
			shown = first
		}
		d := &Duplicate{ID: shown.id, Name: shown.name, OwnerID: shown.owner, Reasons: reasons, Visible: visible[shown.id]}
		if !d.Visible {
			d.ID, d.OwnerID, d.Name = "", "", maskName(d.Name)
		}
		pr.dup = d
		switch r.rec.Duplicates {
		case "skip":
			pr.action = "skip"
		case "update":
			if best == nil {
				pr.fail("name", "customers.import_dup_hidden")
			} else {
				pr.action, pr.target = "update", best.id
			}
		}
	}
	return nil
}

// lookupExisting runs a duplicate query (%s: where col matches) over the
// distinct values vals yields, in batches, and returns the hits by value.
// PostgreSQL takes each batch as one array: planning a list of 2,000
// parameters cost more than running it.
func (r *importRun) lookupExisting(ctx context.Context, query, col string, vals func(yield func(string))) (map[string][]dupHit, error) {
	pg := r.s.db.Dialect == db.Postgres
	size := lookupChunk
	if pg {
		size = lookupChunkArray
	}
	seen := map[string]bool{}
	batch := make([]string, 0, size)
	out := map[string][]dupHit{}
	run := func() error {
		if len(batch) == 0 {
			return nil
		}
		var q string
		var args []any
		if pg {
			q, args = fmt.Sprintf(query, col+" = ANY(?::text[])"), []any{batch}
		} else {
			q, args = fmt.Sprintf(query, col+" IN ("+db.Placeholders(len(batch))+")"), make([]any, len(batch))
			for i, v := range batch {
				args[i] = v
			}
		}
		rows, err := r.s.db.Query(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var val string
			var h dupHit
			if err := rows.Scan(&val, &h.id, &h.name, &h.owner); err != nil {
				return err
			}
			out[val] = append(out[val], h)
		}
		batch = batch[:0]
		return rows.Err()
	}
	var err error
	vals(func(v string) {
		if err != nil || seen[v] {
			return
		}
		seen[v] = true
		if batch = append(batch, v); len(batch) == size {
			err = run()
		}
	})
	if err == nil {
		err = run()
	}
	return out, err
}

// visibleAccounts reports which accounts are in the importer's scope.
func (r *importRun) visibleAccounts(ctx context.Context, accounts map[string]dupHit) (map[string]bool, error) {
	out := map[string]bool{}
	if r.p.Scope == authz.ScopeAll {
		for id := range accounts {
			out[id] = true
		}
		return out, nil
	}
	ids := make([]any, 0, len(accounts))
	for id := range accounts {
		ids = append(ids, id)
	}
	scope, scopeArgs := r.p.Filter(accountScope)
	for start := 0; start < len(ids); start += lookupChunk {
		chunk := ids[start:min(len(ids), start+lookupChunk)]
		rows, err := r.s.db.Query(ctx, "SELECT a.id FROM accounts a WHERE a.id IN ("+db.Placeholders(len(chunk))+") AND "+scope,
			append(append([]any{}, chunk...), scopeArgs...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// summarise counts the outcome, keeps the preview rows and the row errors,
// and builds the error report.
func (r *importRun) summarise() (*importResult, []byte, error) {
	res := &importResult{}
	rec := r.rec
	rec.Created, rec.Updated, rec.Skipped, rec.ErrorRows = 0, 0, 0, 0
	var bad []reportRow
	fileCol := map[int]int{} // template column → file column
	for i, c := range r.t.colOf {
		if c >= 0 {
			fileCol[c] = i
		}
	}
	for _, pr := range r.rows {
		switch {
		case len(pr.errs) > 0:
			pr.action = "error"
			rec.ErrorRows++
			rr := reportRow{num: pr.src.num, raw: pr.src.raw, bad: map[int]bool{}}
			var reasons []string
			for _, e := range pr.errs {
				if len(res.Errors) < maxListedErrors {
					res.Errors = append(res.Errors, e)
				} else {
					res.Truncated = true
				}
				if i, ok := fieldColumns[e.Field]; ok {
					if fc, ok := fileCol[i]; ok {
						rr.bad[fc] = true
					}
				}
				msg := i18n.T(r.lang, e.Key, e.Args...)
				if e.Column != "" {
					msg = e.Column + "：" + msg
				}
				reasons = append(reasons, msg)
			}
			rr.reasons = i18n.T(r.lang, "customers.import_row_reason", pr.src.num, strings.Join(reasons, "；"))
			bad = append(bad, rr)
		case pr.action == "skip":
			rec.Skipped++
		case pr.action == "update":
			rec.Updated++
		default:
			pr.action = "create"
			rec.Created++
		}
		if len(res.Rows) < importPreviewRows {
			res.Rows = append(res.Rows, r.previewRow(pr))
		}
	}
	if len(bad) == 0 {
		return res, nil, nil
	}
	buf, err := buildReport(r.t.headers, bad)
	if err != nil {
		return nil, nil, err
	}
	return res, buf.Bytes(), nil
}

func (r *importRun) previewRow(pr *prepRow) ImportRow {
	a := pr.acc
	row := ImportRow{Row: pr.src.num, Action: pr.action, Duplicate: pr.dup}
	if a != nil {
		row.Account = ImportAccount{Name: a.Name, Kind: a.Kind, USCC: a.USCC, Industry: a.Industry, Size: a.Size, ProvinceCode: a.ProvinceCode,
			CityCode: a.CityCode, DistrictCode: a.DistrictCode, RegionName: a.RegionName, Address: a.Address, Source: a.Source, Level: a.Level,
			Status: a.Status, Tags: a.Tags, OwnerID: a.OwnerID, OwnerName: r.byID[a.OwnerID].name, Needs: a.Needs, Concerns: a.Concerns}
	}
	if row.Account.Tags == nil {
		row.Account.Tags = []string{}
	}
	if c := pr.contact; c != nil {
		row.Contact = &ImportContact{Name: c.Name, Title: c.Title, Mobile: mask.Mobile(c.Mobile), Phone: mask.Mobile(c.Phone), Email: mask.Email(c.Email),
			WeChat: mask.Mobile(c.WeChat), PurchaseRole: c.PurchaseRole, Masked: c.Mobile != "" || c.Phone != "" || c.Email != "" || c.WeChat != ""}
	}
	return row
}

// ---- writing ----

// write creates and updates the accounts in tx. New accounts are written
// with multi-row INSERTs (SQLite) or COPY (PostgreSQL): the same rows
// createAccountTx writes (account, contact and link, timeline events,
// search outbox, audit entries), without a round trip per row.
//
// The writing is a pipeline: a goroutine builds each chunk's statements
// (IDs, arguments, audit JSON and MACs) while the transaction executes the
// previous ones, so the database (on SQLite the one writer connection, on
// PostgreSQL the one backend of the transaction) is not kept waiting for
// the Go work in between.
//
// The audit entries and the search outbox rows are written after all the
// records. Jobs read both tables in order every few seconds (the sealer
// the unsealed entries, the indexer the outbox), and on PostgreSQL they
// step over every row of a transaction still in progress, checking each:
// with the import's rows there from the start, each run read up to 200,000
// of them for nothing (a quarter to half a second of the server's CPU each
// time, on the cores the import needs) and kept other changes waiting.
func (r *importRun) write(ctx context.Context, tx *db.Tx) error {
	var creates []*prepRow
	for _, pr := range r.rows {
		if pr.action == "create" {
			creates = append(creates, pr)
		}
	}
	chunk, first := bulkChunk, bulkChunk
	if tx.CanCopy() {
		chunk, first = bulkChunkCopy, bulkChunkCopyFirst
	}
	pctx, cancel := context.WithCancel(ctx)
	// One chunk waiting is enough: building one takes a fraction of the
	// time writing it does.
	ch := make(chan *chunkWrite, 1)
	useCopy, at := tx.CanCopy(), tx.Now()
	parts := []func(rows []*prepRow) *chunkWrite{
		func(rows []*prepRow) *chunkWrite { return r.buildRecords(useCopy, at, rows) },
		func(rows []*prepRow) *chunkWrite { return &chunkWrite{audit: r.buildAudit(pctx, at, rows)} },
		func(rows []*prepRow) *chunkWrite { return r.buildOutbox(useCopy, at, rows) },
	}
	go func() {
		defer close(ch)
		for _, build := range parts {
			for start, n := 0, first; start < len(creates) && pctx.Err() == nil; start, n = start+n, chunk {
				select {
				case ch <- build(creates[start:min(len(creates), start+n)]):
				case <-pctx.Done():
					return
				}
			}
		}
	}()
	defer func() {
		cancel()
		for range ch { // wait for the builder to stop
		}
	}()
	for _, pr := range r.rows {
		if pr.action == "update" {
			if err := r.update(ctx, tx, pr); err != nil {
				return err
			}
		}
	}
	for cw := range ch {
		for _, rs := range cw.copies {
			if err := tx.CopyFrom(ctx, rs.table, rs.cols, rs.rows(), rs.row); err != nil {
				return err
			}
		}
		for _, st := range cw.stmts {
			if err := execInsert(ctx, tx, st); err != nil {
				return err
			}
		}
		if cw.audit != nil {
			if err := r.s.audit.RecordPrepared(ctx, tx, cw.audit); err != nil {
				return err
			}
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

// chunkWrite is one chunk of new accounts' rows of some tables, ready to
// be written.
type chunkWrite struct {
	copies []*rowSet    // PostgreSQL: written with COPY
	stmts  []insertStmt // SQLite: multi-row INSERTs
	audit  *audit.Batch
}

// add queues rs for writing: as COPY rows, or as a multi-row INSERT.
func (cw *chunkWrite) add(copy bool, sets ...*rowSet) *chunkWrite {
	for _, rs := range sets {
		switch {
		case rs.rows() == 0:
		case copy:
			cw.copies = append(cw.copies, rs)
		default:
			cw.stmts = append(cw.stmts, buildInsert(rs))
		}
	}
	return cw
}

// buildRecords builds the statements creating the accounts of rows, their
// contacts and links and timeline events (outside the transaction: it
// reads nothing from it but its time) and gives the rows their IDs; copy:
// as rows for COPY.
func (r *importRun) buildRecords(copy bool, at time.Time, rows []*prepRow) *chunkWrite {
	now := db.Ms(at)
	actor := r.p.UserID
	accounts := newRowSet("accounts", `id, name, name_key, kind, uscc, industry, size, province_code, city_code, district_code, address, source, level,
		status, tags, owner_id, department_id, needs, concerns, opinions, suggestions, created_by, created_at, updated_at`, len(rows))
	contacts := newRowSet("contacts", "id, name, title, mobile, phone, email, wechat, notes, owner_id, department_id, created_at, updated_at", len(rows))
	links := newRowSet("account_contacts", "account_id, contact_id, purchase_role, is_primary, created_at", len(rows))
	events := newRowSet("timeline_events", "id, account_id, kind, ref_type, ref_id, actor_id, occurred_at, title, body, data, created_at", 2*len(rows))
	for _, pr := range rows {
		a := pr.acc
		id := db.NewID()
		a.ID = id
		accounts.add(id, a.Name, pr.nameKey, a.Kind, a.USCC, a.Industry, a.Size, a.ProvinceCode, a.CityCode, a.DistrictCode,
			a.Address, a.Source, a.Level, a.Status, encodeTags(a.Tags), a.OwnerID, pr.dept, a.Needs, a.Concerns, a.Opinions, a.Suggestions, actor, now, now)
		if c := pr.contact; c != nil {
			pr.cid = db.NewID()
			contacts.add(pr.cid, c.Name, c.Title, c.Mobile, c.Phone, c.Email, c.WeChat, c.Notes, a.OwnerID, pr.dept, now, now)
			links.add(id, pr.cid, c.PurchaseRole, c.IsPrimary, now)
			events.add(db.NewID(), id, "contact_added", "contact", pr.cid, actor, now, c.Name, c.Title, "", now)
		}
		events.add(db.NewID(), id, "account_created", "account", id, actor, now, a.Name, "", "", now)
	}
	return (&chunkWrite{}).add(copy, accounts, contacts, links, events)
}

// buildAudit prepares the audit entries of rows already built.
func (r *importRun) buildAudit(ctx context.Context, at time.Time, rows []*prepRow) *audit.Batch {
	evs := make([]audit.Event, 0, 2*len(rows))
	var changes, detail audit.Object
	for _, pr := range rows {
		a := pr.acc
		changes.Reset()
		createdChanges(&changes, a)
		detail.Reset()
		detail.Text("import_id", r.rec.ID)
		detail.Int("row", int64(pr.src.num))
		evs = append(evs, audit.Event{Action: "account.import", EntityType: "account", EntityID: a.ID,
			ChangesJSON: changes.JSON(), DetailJSON: detail.JSON()})
		if c := pr.contact; c != nil {
			changes.Reset()
			maskedContactChanges(&changes, c)
			detail.Reset()
			detail.Text("account_id", a.ID)
			detail.Text("import_id", r.rec.ID)
			evs = append(evs, audit.Event{Action: "contact.create", EntityType: "contact", EntityID: pr.cid,
				ChangesJSON: changes.JSON(), DetailJSON: detail.JSON()})
		}
	}
	return r.s.audit.Prepare(ctx, at, evs)
}

// buildOutbox queues the documents of rows already built for search
// indexing (search.Index.MarkDirty, in bulk): indexed asynchronously
// after commit by the search.index job.
func (r *importRun) buildOutbox(copy bool, at time.Time, rows []*prepRow) *chunkWrite {
	now := db.Ms(at)
	dirty := newRowSet("search_dirty", "doc_type, doc_id, queued_at", 2*len(rows))
	for _, pr := range rows {
		if pr.cid != "" {
			dirty.add("contact", pr.cid, now)
		}
		dirty.add("account", pr.acc.ID, now)
	}
	return (&chunkWrite{}).add(copy, dirty)
}

// rowSet collects rows for one table, flat (len(cols) values per row).
type rowSet struct {
	table string
	cols  []string
	width int
	args  []any
}

func newRowSet(table, cols string, capRows int) *rowSet {
	cl := strings.Split(cols, ",")
	for i := range cl {
		cl[i] = strings.TrimSpace(cl[i])
	}
	return &rowSet{table: table, cols: cl, width: len(cl), args: make([]any, 0, len(cl)*capRows)}
}

func (rs *rowSet) add(vals ...any) { rs.args = append(rs.args, vals...) }

func (rs *rowSet) rows() int { return len(rs.args) / rs.width }

// row is the i-th row's values.
func (rs *rowSet) row(i int) []any { return rs.args[i*rs.width : (i+1)*rs.width] }

// insertStmt is a built multi-row INSERT.
type insertStmt struct {
	q    string
	args []any
}

// buildInsert builds a row set's multi-row INSERT.
func buildInsert(rs *rowSet) insertStmt {
	n := rs.rows()
	one := "(" + db.Placeholders(rs.width) + ")"
	var b strings.Builder
	b.Grow(64 + 16*rs.width + n*(len(one)+2))
	b.WriteString("INSERT INTO " + rs.table + " (" + strings.Join(rs.cols, ", ") + ") VALUES ")
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return insertStmt{q: b.String(), args: rs.args}
}

// execInsert runs a built INSERT in tx. On SQLite, when the transaction
// can prepare statements, a full chunk's statement is prepared once and
// reused (parsing it again for each chunk cost a second per 100,000 rows).
func execInsert(ctx context.Context, tx *db.Tx, st insertStmt) error {
	if ps := preparedFor(ctx, tx, st.q); ps != nil {
		// Not interrupted midway (as tx.Exec): on SQLite an interrupted
		// write ends the whole shared transaction (db.Tx.Prepare).
		_, err := ps.ExecContext(context.WithoutCancel(ctx), st.args...)
		return db.MapErr(err)
	}
	_, err := tx.Exec(ctx, st.q, st.args...)
	return err
}

// txPreparer is a transaction that can prepare statements.
type txPreparer interface {
	Prepare(ctx context.Context, q string) (*sql.Stmt, error)
}

type stmtsKey struct{}

// withStmts gives ctx a cache of statements prepared in one transaction.
func withStmts(ctx context.Context) (context.Context, func()) {
	m := map[string]*sql.Stmt{}
	return context.WithValue(ctx, stmtsKey{}, m), func() {
		for _, st := range m {
			st.Close()
		}
	}
}

// preparedFor returns q prepared in tx (nil if it cannot be).
func preparedFor(ctx context.Context, tx *db.Tx, q string) *sql.Stmt {
	m, _ := ctx.Value(stmtsKey{}).(map[string]*sql.Stmt)
	p, ok := any(tx).(txPreparer)
	if m == nil || !ok {
		return nil
	}
	if st, ok := m[q]; ok {
		return st
	}
	st, err := p.Prepare(ctx, q)
	if err != nil {
		return nil
	}
	m[q] = st
	return st
}

// createdChanges writes the audit's {field: [null, value]} of a new
// account to o (audit.Diff(nil, a) without the cost of two JSON round trips
// per row), as JSON directly, keys in order: a map per row and its
// encoding were half of preparing an import's audit entries.
func createdChanges(o *audit.Object, a *Account) {
	set := func(k string, v string) {
		if v != "" {
			o.Created(k, v)
		}
	}
	set("address", a.Address)
	set("city_code", a.CityCode)
	set("concerns", a.Concerns)
	set("district_code", a.DistrictCode)
	set("id", a.ID)
	set("industry", a.Industry)
	set("kind", a.Kind)
	set("level", a.Level)
	set("name", a.Name)
	set("needs", a.Needs)
	set("owner_id", a.OwnerID)
	set("province_code", a.ProvinceCode)
	set("region_name", a.RegionName)
	set("size", a.Size)
	set("source", a.Source)
	set("status", a.Status)
	if len(a.Tags) > 0 {
		o.CreatedList("tags", a.Tags)
	}
	set("uscc", a.USCC)
}

// maskedContactChanges writes a new contact's changes to o: contact
// details stay masked in the audit log, as for contacts created by hand.
func maskedContactChanges(o *audit.Object, c *ContactInput) {
	set := func(k string, v string) {
		if v != "" {
			o.Created(k, v)
		}
	}
	set("email", mask.Email(c.Email))
	o.CreatedBool("is_primary", c.IsPrimary)
	set("mobile", mask.Mobile(c.Mobile))
	set("name", c.Name)
	set("phone", mask.Mobile(c.Phone))
	set("purchase_role", c.PurchaseRole)
	set("title", c.Title)
	set("wechat", mask.Mobile(c.WeChat))
}

// update fills an existing account's empty fields from a row and adds the
// row's contact unless the account already has it.
func (r *importRun) update(ctx context.Context, tx *db.Tx, pr *prepRow) error {
	before, err := getAccount(ctx, tx, pr.target)
	if isNotFound(err) {
		return errs.New(errs.Conflict, "import_target_gone", "customers.import_target_gone")
	}
	if err != nil {
		return err
	}
	src, t := pr.acc, *before
	fill := func(dst *string, v string) {
		if strings.TrimSpace(*dst) == "" {
			*dst = v
		}
	}
	if t.Kind == "company" {
		fill(&t.USCC, src.USCC)
	}
	fill(&t.Industry, src.Industry)
	fill(&t.Size, src.Size)
	if t.ProvinceCode == "" {
		t.ProvinceCode, t.CityCode, t.DistrictCode = src.ProvinceCode, src.CityCode, src.DistrictCode
	}
	fill(&t.Address, src.Address)
	fill(&t.Source, src.Source)
	fill(&t.Level, src.Level)
	fill(&t.Needs, src.Needs)
	fill(&t.Concerns, src.Concerns)
	t.Tags = slices.Clone(t.Tags)
	for _, tag := range src.Tags {
		if !slices.Contains(t.Tags, tag) && len(t.Tags) < 20 {
			t.Tags = append(t.Tags, tag)
		}
	}
	changes := audit.Diff(before, &t, "region_name")
	delete(changes, "region_name")
	if len(changes) > 0 {
		if _, err := tx.Exec(ctx, `UPDATE accounts SET uscc = ?, industry = ?, size = ?, province_code = ?, city_code = ?, district_code = ?,
			address = ?, source = ?, level = ?, needs = ?, concerns = ?, tags = ?, version = version + 1, updated_at = ? WHERE id = ?`,
			t.USCC, t.Industry, t.Size, t.ProvinceCode, t.CityCode, t.DistrictCode, t.Address, t.Source, t.Level, t.Needs, t.Concerns,
			encodeTags(t.Tags), db.Ms(tx.Now()), t.ID); err != nil {
			return err
		}
		for _, f := range []string{"needs", "concerns", "level"} {
			if ch, ok := changes[f]; ok {
				if err := r.s.AddEvent(ctx, tx, Entry{AccountID: t.ID, Kind: "account_" + f + "_changed", RefType: "account", RefID: t.ID,
					Body: toString(ch[1]), Data: map[string]any{"from": ch[0], "to": ch[1]}}); err != nil {
					return err
				}
			}
		}
		if err := r.s.search.MarkDirty(ctx, "account", t.ID); err != nil {
			return err
		}
		if err := r.s.audit.Record(ctx, tx, audit.Event{Action: "account.update", EntityType: "account", EntityID: t.ID, Changes: changes,
			Detail: map[string]any{"import_id": r.rec.ID, "row": pr.src.num}}); err != nil {
			return err
		}
	}
	c := pr.contact
	if c == nil {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT c.name, c.mobile, LOWER(c.email) FROM contacts c JOIN account_contacts ac ON ac.contact_id = c.id
		WHERE ac.account_id = ? AND c.merged_into IS NULL`, t.ID)
	if err != nil {
		return err
	}
	known, existing := false, 0
	for rows.Next() {
		var name, mobile, email string
		if err := rows.Scan(&name, &mobile, &email); err != nil {
			rows.Close()
			return err
		}
		existing++
		if c.Mobile != "" && mobile == c.Mobile || c.Email != "" && email == strings.ToLower(c.Email) ||
			c.Mobile == "" && c.Email == "" && name == c.Name {
			known = true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil || known {
		return err
	}
	nc := *c
	nc.IsPrimary = existing == 0 // an added contact does not displace the primary one
	_, err = r.s.insertContact(ctx, tx, nc, t.ID, t.OwnerID, t.DepartmentID)
	return err
}

// ---- export ----

// cst is China Standard Time, in which exported times are written.
var cst = time.FixedZone("CST", 8*3600)

// ExportAccounts writes the caller's visible accounts matching f (at most
// maxExportRows) as an .xlsx to w, with each account's primary contact;
// contact details are masked unless the caller may reveal them. The export
// is audited before the file is sent.
func (s *Service) ExportAccounts(ctx context.Context, f AccountFilter, w io.Writer, before func(rows int)) error {
	p := authz.From(ctx)
	if err := p.Require(authz.CustomersExport); err != nil {
		return err
	}
	if err := p.Require(authz.CustomersRead); err != nil {
		return err
	}
	clear := p.Can(authz.CustomersReveal)
	usernames := map[string]string{}
	urows, err := s.db.Query(ctx, "SELECT id, username FROM users")
	if err != nil {
		return err
	}
	for urows.Next() {
		var id, name string
		if err := urows.Scan(&id, &name); err != nil {
			urows.Close()
			return err
		}
		usernames[id] = name
	}
	urows.Close()
	if err := urows.Err(); err != nil {
		return err
	}
	xf, err := newWorkbook(sheetAccounts)
	if err != nil {
		return err
	}
	defer xf.Close()
	sw, err := xf.NewStreamWriter(sheetAccounts)
	if err != nil {
		return err
	}
	hs, err := headerStyle(xf, false)
	if err != nil {
		return err
	}
	headers := exportHeaders()
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	for i, c := range importColumns {
		if err := sw.SetColWidth(i+1, i+1, c.Width); err != nil {
			return err
		}
	}
	if err := sw.SetColWidth(numImportColumns+1, len(headers), 18); err != nil {
		return err
	}
	head := make([]any, len(headers))
	for i, h := range headers {
		head[i] = excelize.Cell{Value: h, StyleID: hs}
	}
	if err := sw.SetRow("A1", head); err != nil {
		return err
	}
	n, truncated := 0, false
	lp := httpx.ListParams{}
	for {
		lp.Limit = min(1000, maxExportRows-n)
		items, next, _, err := s.ListAccounts(ctx, f, lp)
		if err != nil {
			return err
		}
		contacts, err := primaryContacts(ctx, s.db, items)
		if err != nil {
			return err
		}
		for _, a := range items {
			n++
			cell, _ := excelize.CoordinatesToCellName(1, n+1)
			if err := sw.SetRow(cell, exportRow(a, contacts[a.ID], usernames[a.OwnerID], clear)); err != nil {
				return err
			}
		}
		if next == nil {
			break
		}
		if n >= maxExportRows {
			truncated = true
			break
		}
		lp.Cursor = next
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	if truncated {
		if _, err := xf.NewSheet(sheetHelp); err != nil {
			return err
		}
		if err := xf.SetCellValue(sheetHelp, "A1", fmt.Sprintf("符合条件的客户超过 %d 个，仅导出了前 %d 个；请缩小筛选范围后分批导出。", maxExportRows, maxExportRows)); err != nil {
			return err
		}
	}
	err = s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		return s.audit.Record(ctx, tx, audit.Event{Action: "account.export", EntityType: "account",
			Detail: map[string]any{"filter": filterDetail(f), "rows": n, "truncated": truncated, "clear_contacts": clear}})
	})
	if err != nil {
		return err
	}
	if before != nil {
		before(n)
	}
	_, err = xf.WriteTo(w)
	return err
}

// checkFilterText refuses filter values no column can hold (NUL bytes and
// invalid UTF-8, which PostgreSQL rejects outright; overlong values) with a
// 400 naming the parameter, instead of letting the database fail.
func checkFilterText(f AccountFilter) error {
	for name, v := range map[string]string{"owner_id": f.OwnerID, "status": f.Status, "level": f.Level, "source": f.Source, "kind": f.Kind,
		"industry": f.Industry, "province_code": f.ProvinceCode, "city_code": f.CityCode, "tag": f.Tag} {
		if len(v) > 200 || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			return httpx.BadParam(name)
		}
	}
	if strings.ContainsRune(f.Q, 0) {
		return httpx.BadParam("q")
	}
	return nil
}

func filterDetail(f AccountFilter) map[string]any {
	m := map[string]any{}
	for k, v := range map[string]string{"q": f.Q, "owner_id": f.OwnerID, "status": f.Status, "level": f.Level, "source": f.Source, "kind": f.Kind,
		"industry": f.Industry, "province_code": f.ProvinceCode, "city_code": f.CityCode, "tag": f.Tag, "sort": f.Sort} {
		if v != "" {
			m[k] = v
		}
	}
	if f.NoContactDays > 0 {
		m["no_contact_days"] = f.NoContactDays
	}
	if f.IncludeArchive {
		m["archived"] = true
	}
	return m
}

type exportContact struct {
	name, title, mobile, phone, email, wechat, role string
}

// primaryContacts returns each account's primary contact (else its first).
func primaryContacts(ctx context.Context, q db.Querier, accounts []*Account) (map[string]exportContact, error) {
	out := map[string]exportContact{}
	if len(accounts) == 0 {
		return out, nil
	}
	args := make([]any, len(accounts))
	for i, a := range accounts {
		args[i] = a.ID
	}
	rows, err := q.Query(ctx, `SELECT ac.account_id, c.name, c.title, c.mobile, c.phone, c.email, c.wechat, ac.purchase_role
		FROM account_contacts ac JOIN contacts c ON c.id = ac.contact_id
		WHERE ac.account_id IN (`+db.Placeholders(len(args))+`) AND c.merged_into IS NULL
		ORDER BY ac.account_id, ac.is_primary DESC, ac.created_at, c.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var c exportContact
		if err := rows.Scan(&id, &c.name, &c.title, &c.mobile, &c.phone, &c.email, &c.wechat, &c.role); err != nil {
			return nil, err
		}
		if _, ok := out[id]; !ok {
			out[id] = c
		}
	}
	return out, rows.Err()
}

// regionNames returns the province, city and district names of an account
// as the import reads them (stand-in city levels are left empty).
func regionNames(a *Account) (p, c, d string) {
	name := func(code string) string {
		if r, ok := region.Lookup(code); ok {
			switch r.Name {
			case "市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划":
				return ""
			}
			return r.Name
		}
		return ""
	}
	return name(a.ProvinceCode), name(a.CityCode), name(a.DistrictCode)
}

func exportRow(a *Account, c exportContact, username string, clear bool) []any {
	if !clear {
		c.mobile, c.phone, c.email, c.wechat = mask.Mobile(c.mobile), mask.Mobile(c.phone), mask.Email(c.email), mask.Mobile(c.wechat)
	}
	p, city, d := regionNames(a)
	last := ""
	if a.LastContactAt != nil {
		last = a.LastContactAt.In(cst).Format("2006-01-02 15:04")
	}
	vals := []string{a.Name, kindEnum.label(a.Kind), a.USCC, a.Industry, sizeEnum.label(a.Size), p, city, d, a.Address, sourceEnum.label(a.Source),
		a.Level, statusEnum.label(a.Status), strings.Join(a.Tags, "、"), username, a.Needs, a.Concerns,
		c.name, c.title, c.mobile, c.phone, c.email, c.wechat, roleEnum.label(c.role),
		a.OwnerName, last, a.CreatedAt.In(cst).Format("2006-01-02 15:04")}
	out := make([]any, len(vals))
	for i, v := range vals {
		out[i] = v
	}
	return out
}

// ---- HTTP ----

const xlsxType = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

// attachment sets the download headers; the name is given in UTF-8
// (RFC 6266/5987) with an ASCII fallback.
func attachment(w http.ResponseWriter, name, fallback string) {
	w.Header().Set("Content-Type", xlsxType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": fallback})+
		"; filename*=UTF-8''"+url.PathEscape(name))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
}

// ExcelRoutes registers the import and export endpoints.
func (a *API) ExcelRoutes(rt *httpx.Router) {
	s := a.Svc
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/accounts/import-template", Tag: "customers",
		Summary: "Download the account import template (.xlsx with Chinese headers and a 说明 sheet)", Permission: authz.CustomersImport},
		func(w http.ResponseWriter, r *http.Request) error {
			b, err := s.ImportTemplate(r.Context())
			if err != nil {
				return err
			}
			attachment(w, "客户导入模板.xlsx", "account-import-template.xlsx")
			w.Write(b)
			return nil
		})
	rt.Handle(httpx.Route{Method: "POST", Path: "/api/v1/account-imports", Tag: "customers", Status: http.StatusAccepted, BodyLimit: maxUploadBytes,
		Summary:    "Import accounts from an .xlsx or .csv sent as the raw body (UTF-8 or GB18030); processed in the background: poll the import",
		Permission: authz.CustomersImport, Query: []string{"mode", "duplicates", "filename"}, Response: Import{}},
		func(w http.ResponseWriter, r *http.Request) error {
			if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); strings.HasPrefix(mt, "multipart/") {
				return &errs.Error{Kind: errs.BadRequest, Code: "unsupported_media_type", Key: "customers.import_multipart"}
			}
			data, err := io.ReadAll(r.Body)
			if err != nil {
				return err // 413 when over the limit
			}
			q := r.URL.Query()
			name := q.Get("filename")
			if name == "" {
				if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Disposition")); err == nil {
					name = params["filename"]
				}
			}
			im, err := s.StartImport(r.Context(), data, ImportOptions{Mode: q.Get("mode"), Duplicates: q.Get("duplicates"), Filename: name, Lang: httpx.Lang(r)})
			if err != nil {
				return err
			}
			w.Header().Set("Location", "/api/v1/account-imports/"+im.ID)
			httpx.WriteJSON(w, http.StatusAccepted, im)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/account-imports", Tag: "customers", Summary: "My recent imports, newest first",
		Permission: authz.CustomersImport, Query: []string{"limit", "cursor"}, Response: httpx.Page[*Import]{}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			items, next, err := s.ListImports(r.Context(), lp, httpx.Lang(r))
			if err != nil {
				return err
			}
			page := httpx.NewPage(items, next, len(items))
			page.Total = -1
			httpx.WriteJSON(w, 200, page)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/account-imports/{id}", Tag: "customers",
		Summary:    "An import's status, progress, counts, preview rows and row errors",
		Permission: authz.CustomersImport, Response: Import{}},
		func(w http.ResponseWriter, r *http.Request) error {
			im, err := s.GetImport(r.Context(), r.PathValue("id"), httpx.Lang(r))
			if err != nil {
				return err
			}
			httpx.WriteJSON(w, 200, im)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/account-imports/{id}/report.xlsx", Tag: "customers",
		Summary: "Download an import's error report: the bad rows with an 错误原因 column", Permission: authz.CustomersImport},
		func(w http.ResponseWriter, r *http.Request) error {
			b, err := s.ImportReport(r.Context(), r.PathValue("id"))
			if err != nil {
				return err
			}
			attachment(w, "客户导入错误报告.xlsx", "account-import-errors.xlsx")
			w.Write(b)
			return nil
		})
	rt.Handle(httpx.Route{Method: "GET", Path: "/api/v1/accounts/export.xlsx", Tag: "customers",
		Summary:    "Export the filtered account list (my data scope, at most 100,000 rows) as .xlsx; contact details masked without customers.reveal; audited",
		Permission: authz.CustomersExport,
		Query:      []string{"q", "owner_id", "status", "level", "source", "kind", "industry", "province_code", "city_code", "tag", "no_contact_days", "archived", "sort"}},
		func(w http.ResponseWriter, r *http.Request) error {
			lp, err := httpx.ParseList(r)
			if err != nil {
				return err
			}
			f, err := accountFilter(r, lp)
			if err != nil {
				return err
			}
			if err := checkFilterText(f); err != nil {
				return err
			}
			name := "客户导出-" + time.Now().In(cst).Format("20060102-1504") + ".xlsx"
			return s.ExportAccounts(r.Context(), f, w, func(rows int) {
				attachment(w, name, "accounts-export.xlsx")
				w.Header().Set("X-Total-Count", strconv.Itoa(rows))
			})
		})
}
