package webchat

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"html"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/idna"

	"prelude/internal/inquiries"
	"prelude/internal/platform/audit"
	"prelude/internal/platform/auth"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/i18n"
	"prelude/internal/platform/live"
	"prelude/internal/platform/valid"
)

// Config wires the service; zero values take the defaults.
type Config struct {
	// BaseURL is Prelude's public address, used in the embed code.
	BaseURL string
	// Key keys the HMAC of visitor addresses (the server's secret).
	Key []byte
	// TokenTTL is how long a visitor token lives after its last message
	// (default 30 days).
	TokenTTL time.Duration
	// MaxLength bounds a visitor's message in characters (default 2,000).
	MaxLength int
	// Limits of the public side (zero: DefaultLimits).
	Limits Limits
	// Subscribe delivers live events (platform/live's broker).
	Subscribe func(ctx context.Context, topics ...string) (<-chan live.Event, error)
}

// Service holds the chat sites and the visitors' conversations.
type Service struct {
	db    *db.DB
	audit *audit.Log
	inq   *inquiries.Service
	cfg   Config
	cache siteCache
}

// NewService wires web chat on the inbox.
func NewService(d *db.DB, a *audit.Log, inq *inquiries.Service, cfg Config) *Service {
	if cfg.TokenTTL == 0 {
		cfg.TokenTTL = 30 * 24 * time.Hour
	}
	if cfg.MaxLength == 0 {
		cfg.MaxLength = 2000
	}
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits()
	}
	return &Service{db: d, audit: a, inq: inq, cfg: cfg, cache: siteCache{m: map[string]cachedSite{}}}
}

// Limits bound what the public side accepts. The per-minute limits are
// token buckets kept by each instance (a flood is one address, or one
// site's page, being abused); on PostgreSQL, where several instances share
// the load, the write limits are also kept in the database (see
// platform/ratelimit) so a flood spread over the instances gets no more.
// The hourly cap on new conversations is counted in the database too.
// Mobile networks in China put many visitors behind one address (CGNAT):
// the per-address numbers leave room for that.
type Limits struct {
	// WritesPerMinute and WritesBurst: messages and new conversations per
	// address.
	WritesPerMinute, WritesBurst int
	// SiteWritesPerMinute and SiteWritesBurst: the same per site, whatever
	// the address.
	SiteWritesPerMinute, SiteWritesBurst int
	// ReadsPerMinute and ReadsBurst: site info, lists and stream
	// connections per address.
	ReadsPerMinute, ReadsBurst int
	// ConversationsPerHour caps new conversations per address.
	ConversationsPerHour int
	// StreamsPerAddress caps open streams per address and instance.
	StreamsPerAddress int
}

// DefaultLimits are the limits unless configured.
func DefaultLimits() Limits {
	return Limits{WritesPerMinute: 30, WritesBurst: 15, SiteWritesPerMinute: 1200, SiteWritesBurst: 400, ReadsPerMinute: 120, ReadsBurst: 60,
		ConversationsPerHour: 20, StreamsPerAddress: 20}
}

// SetLimits replaces the limits; it takes effect for the per-minute
// buckets only before the first public request (tests set tight limits).
func (s *Service) SetLimits(l Limits) { s.cfg.Limits = l }

// Limits returns the limits in force.
func (s *Service) Limits() Limits { return s.cfg.Limits }

// Limits.
const (
	maxOrigins = 20
	// siteCacheTTL is how long an instance keeps a site it looked up for the
	// public side: an administrator's change (origins, disabling) reaches
	// every instance within it.
	siteCacheTTL = 5 * time.Second
	// sinceWindow is how far back the stream re-reads after an event, so a
	// message whose transaction committed after a later-stamped one is
	// still delivered (the stream skips what it has sent).
	sinceWindow = 10 * time.Second
)

var (
	siteKeyRE = regexp.MustCompile(`^cs_[A-Za-z0-9_-]{24}$`)
	tokenRE   = regexp.MustCompile(`^pcv_[A-Za-z0-9_-]{43}$`)
	uuidRE    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
)

// ValidSiteKey reports whether s is shaped like a site key.
func ValidSiteKey(s string) bool { return siteKeyRE.MatchString(s) }

// ValidToken reports whether s is shaped like a visitor token.
func ValidToken(s string) bool { return tokenRE.MatchString(s) }

// ValidMessageID reports whether s is shaped like a message id (UUID).
func ValidMessageID(s string) bool { return uuidRE.MatchString(s) }

func newSiteKey() string { return auth.NewToken("cs_")[:27] }

// ---- sites (administration) ----

const siteCols = `id, name, site_key, allowed_origins, enabled, department_id, greeting_zh, greeting_en, offline_zh, offline_en,
	ask_name, ask_phone, version, created_at, updated_at`

func (s *Service) scanSite(sc interface{ Scan(...any) error }) (*Site, error) {
	var x Site
	var origins string
	var dept *string
	var created, updated db.Time
	if err := sc.Scan(&x.ID, &x.Name, &x.SiteKey, &origins, &x.Enabled, &dept, &x.GreetingZH, &x.GreetingEN, &x.OfflineZH, &x.OfflineEN,
		&x.AskName, &x.AskPhone, &x.Version, &created, &updated); err != nil {
		return nil, err
	}
	x.AllowedOrigins = decodeOrigins(origins)
	if dept != nil && *dept != "" {
		x.DepartmentID = dept
	}
	x.CreatedAt, x.UpdatedAt = time.Time(created).UTC(), time.Time(updated).UTC()
	x.EmbedCode = EmbedCode(s.cfg.BaseURL, x.SiteKey)
	return &x, nil
}

// EmbedCode is the snippet a website pastes before </body>.
func EmbedCode(baseURL, key string) string {
	return `<script src="` + html.EscapeString(strings.TrimRight(baseURL, "/")) + `/widget.js" data-site="` + html.EscapeString(key) + `" async></script>`
}

func (s *Service) getSite(ctx context.Context, q db.Querier, id string) (*Site, error) {
	if !valid.LooksLikeID(id) {
		return nil, errs.NotFoundf("entity.chat_site")
	}
	x, err := s.scanSite(q.QueryRow(ctx, "SELECT "+siteCols+" FROM chat_sites WHERE id = ?", id))
	if errors.Is(err, db.ErrNotFound) {
		return nil, errs.NotFoundf("entity.chat_site")
	}
	return x, err
}

// Sites lists the chat sites (administrators only: they hold the keys).
func (s *Service) Sites(ctx context.Context) ([]*Site, error) {
	if err := authz.From(ctx).Require(authz.ChatSitesManage); err != nil {
		return nil, err
	}
	rows, err := s.db.Query(ctx, "SELECT "+siteCols+" FROM chat_sites ORDER BY created_at, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []*Site{}
	for rows.Next() {
		x, err := s.scanSite(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

// Site returns one chat site.
func (s *Service) Site(ctx context.Context, id string) (*Site, error) {
	if err := authz.From(ctx).Require(authz.ChatSitesManage); err != nil {
		return nil, err
	}
	return s.getSite(ctx, s.db, id)
}

// siteFields are a site's editable values, validated together.
type siteFields struct {
	Name                                         string
	Origins                                      []string
	Enabled                                      bool
	DepartmentID                                 string
	GreetingZH, GreetingEN, OfflineZH, OfflineEN string
	AskName, AskPhone                            bool
}

func (s *Service) validate(ctx context.Context, q db.Querier, f *siteFields) error {
	var v errs.Validation
	f.Name = valid.Text(&v, "name", f.Name, true, 100)
	f.Origins = normaliseOrigins(&v, "allowed_origins", f.Origins)
	f.GreetingZH = valid.Text(&v, "greeting_zh", f.GreetingZH, false, 500)
	f.GreetingEN = valid.Text(&v, "greeting_en", f.GreetingEN, false, 500)
	f.OfflineZH = valid.Text(&v, "offline_zh", f.OfflineZH, false, 500)
	f.OfflineEN = valid.Text(&v, "offline_en", f.OfflineEN, false, 500)
	f.DepartmentID = valid.RefID(&v, "department_id", f.DepartmentID)
	if f.DepartmentID != "" && !v.Has("department_id") {
		var one int
		err := q.QueryRow(ctx, "SELECT 1 FROM departments WHERE id = ?", f.DepartmentID).Scan(&one)
		if errors.Is(err, db.ErrNotFound) {
			v.Add("department_id", "field.not_found")
		} else if err != nil {
			return err
		}
	}
	return v.Err()
}

// normaliseOrigins checks each origin and returns them in the form
// browsers send in the Origin header: lower-case scheme and host (IDN as
// punycode), no default port, no path.
func normaliseOrigins(v *errs.Validation, field string, in []string) []string {
	if len(in) == 0 {
		v.Add(field, "webchat.origins_required")
		return nil
	}
	if len(in) > maxOrigins {
		v.Add(field, "field.too_many", maxOrigins)
		return nil
	}
	out := make([]string, 0, len(in))
	for i, raw := range in {
		o, ok := NormaliseOrigin(raw)
		name := field + "." + strconv.Itoa(i)
		switch {
		case !ok:
			v.Add(name, "webchat.origin_invalid")
		case containsString(out, o):
			v.Add(name, "webchat.origin_duplicate")
		default:
			out = append(out, o)
		}
	}
	return out
}

// NormaliseOrigin turns "https://Www.Example.com:443/" into
// "https://www.example.com"; ok is false for anything that is not exactly
// an http(s) origin.
func NormaliseOrigin(raw string) (string, bool) {
	raw = strings.TrimSpace(raw)
	if raw == "" || len(raw) > 300 || strings.ContainsAny(raw, " \t\r\n\\") {
		return "", false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#") {
		return "", false
	}
	if u.Path != "" && u.Path != "/" {
		return "", false
	}
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" {
		return "", false
	}
	host, port := u.Hostname(), u.Port()
	if host == "" || strings.HasSuffix(u.Host, ":") {
		return "", false
	}
	if strings.Contains(host, ":") { // IPv6 literal
		host = "[" + strings.ToLower(host) + "]"
	} else {
		ascii, err := idna.Lookup.ToASCII(host)
		if err != nil || ascii == "" {
			return "", false
		}
		host = strings.ToLower(ascii)
	}
	if port != "" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 || strconv.Itoa(n) != port {
			return "", false
		}
		if (scheme == "https" && n == 443) || (scheme == "http" && n == 80) {
			port = ""
		}
	}
	out := scheme + "://" + host
	if port != "" {
		out += ":" + port
	}
	return out, true
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func encodeOrigins(list []string) string {
	if list == nil {
		list = []string{}
	}
	b, _ := json.Marshal(list)
	return string(b)
}

func decodeOrigins(s string) []string {
	out := []string{}
	_ = json.Unmarshal([]byte(s), &out)
	return out
}

// CreateSite adds a chat site with a fresh key.
func (s *Service) CreateSite(ctx context.Context, in SiteInput) (*Site, error) {
	if err := authz.From(ctx).Require(authz.ChatSitesManage); err != nil {
		return nil, err
	}
	f := siteFields{Name: in.Name, Origins: in.AllowedOrigins, Enabled: true, DepartmentID: in.DepartmentID, GreetingZH: in.GreetingZH,
		GreetingEN: in.GreetingEN, OfflineZH: in.OfflineZH, OfflineEN: in.OfflineEN, AskName: true}
	if in.Enabled != nil {
		f.Enabled = *in.Enabled
	}
	if in.AskName != nil {
		f.AskName = *in.AskName
	}
	if in.AskPhone != nil {
		f.AskPhone = *in.AskPhone
	}
	if err := s.validate(ctx, s.db, &f); err != nil {
		return nil, err
	}
	id := db.NewID()
	var out *Site
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		now := db.Ms(tx.Now())
		if _, err := tx.Exec(ctx, "INSERT INTO chat_sites ("+siteCols+") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
			id, f.Name, newSiteKey(), encodeOrigins(f.Origins), f.Enabled, nullable(f.DepartmentID), f.GreetingZH, f.GreetingEN, f.OfflineZH, f.OfflineEN,
			f.AskName, f.AskPhone, now, now); err != nil {
			return err
		}
		var err error
		if out, err = s.getSite(ctx, tx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "chat_site.create", EntityType: "chat_site", EntityID: id, Changes: audit.Diff(nil, out, auditRedact...)})
	})
	return out, err
}

// auditRedact keeps the key out of the audit log (it is not secret, but
// the log need not spread it) and leaves out derived fields.
var auditRedact = []string{"site_key", "embed_code", "version", "created_at", "updated_at"}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// UpdateSite changes the given fields (If-Match).
func (s *Service) UpdateSite(ctx context.Context, id string, version int64, in SitePatch) (*Site, error) {
	if err := authz.From(ctx).Require(authz.ChatSitesManage); err != nil {
		return nil, err
	}
	var out *Site
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		before, err := s.getSite(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, before.Version); err != nil {
			return err
		}
		f := siteFields{Name: before.Name, Origins: before.AllowedOrigins, Enabled: before.Enabled, GreetingZH: before.GreetingZH,
			GreetingEN: before.GreetingEN, OfflineZH: before.OfflineZH, OfflineEN: before.OfflineEN, AskName: before.AskName, AskPhone: before.AskPhone}
		if before.DepartmentID != nil {
			f.DepartmentID = *before.DepartmentID
		}
		set := func(dst *string, src *string) {
			if src != nil {
				*dst = *src
			}
		}
		set(&f.Name, in.Name)
		set(&f.DepartmentID, in.DepartmentID)
		set(&f.GreetingZH, in.GreetingZH)
		set(&f.GreetingEN, in.GreetingEN)
		set(&f.OfflineZH, in.OfflineZH)
		set(&f.OfflineEN, in.OfflineEN)
		if in.AllowedOrigins != nil {
			f.Origins = *in.AllowedOrigins
		}
		if in.Enabled != nil {
			f.Enabled = *in.Enabled
		}
		if in.AskName != nil {
			f.AskName = *in.AskName
		}
		if in.AskPhone != nil {
			f.AskPhone = *in.AskPhone
		}
		if err := s.validate(ctx, tx, &f); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, `UPDATE chat_sites SET name = ?, allowed_origins = ?, enabled = ?, department_id = ?, greeting_zh = ?, greeting_en = ?,
			offline_zh = ?, offline_en = ?, ask_name = ?, ask_phone = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			f.Name, encodeOrigins(f.Origins), f.Enabled, nullable(f.DepartmentID), f.GreetingZH, f.GreetingEN, f.OfflineZH, f.OfflineEN,
			f.AskName, f.AskPhone, db.Ms(tx.Now()), id, before.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		if out, err = s.getSite(ctx, tx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "chat_site.update", EntityType: "chat_site", EntityID: id, Changes: audit.Diff(before, out, auditRedact...)})
	})
	if err != nil {
		return nil, err
	}
	s.cache.forget()
	return out, nil
}

// RotateKey gives the site a new key: pages with the old embed code stop
// working at once (on other instances within seconds), and visitors of the
// old key keep their conversations.
func (s *Service) RotateKey(ctx context.Context, id string, version int64) (*Site, error) {
	if err := authz.From(ctx).Require(authz.ChatSitesManage); err != nil {
		return nil, err
	}
	var out *Site
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		before, err := s.getSite(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, before.Version); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE chat_sites SET site_key = ?, version = version + 1, updated_at = ? WHERE id = ?", newSiteKey(), db.Ms(tx.Now()), id); err != nil {
			return err
		}
		if out, err = s.getSite(ctx, tx, id); err != nil {
			return err
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "chat_site.rotate_key", EntityType: "chat_site", EntityID: id})
	})
	if err != nil {
		return nil, err
	}
	s.cache.forget()
	return out, nil
}

// DeleteSite removes a site and its visitors' tokens; the conversations
// stay in the inbox as the inquiries they are.
func (s *Service) DeleteSite(ctx context.Context, id string, version int64) error {
	if err := authz.From(ctx).Require(authz.ChatSitesManage); err != nil {
		return err
	}
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		before, err := s.getSite(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := errs.CheckVersion(version, before.Version); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM chat_visitors WHERE site_id = ?", id); err != nil {
			return err
		}
		res, err := tx.Exec(ctx, "DELETE FROM chat_sites WHERE id = ? AND version = ?", id, before.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.StaleVersion()
		}
		return s.audit.Record(ctx, tx, audit.Event{Action: "chat_site.delete", EntityType: "chat_site", EntityID: id, Changes: audit.Diff(before, nil, auditRedact...)})
	})
	if err == nil {
		s.cache.forget()
	}
	return err
}

// ---- the public side ----

// siteCache keeps sites the public side looked up, for siteCacheTTL.
type siteCache struct {
	mu sync.Mutex
	m  map[string]cachedSite
}

type cachedSite struct {
	site *Site
	at   time.Time
}

func (c *siteCache) get(key string) (*Site, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || time.Since(e.at) > siteCacheTTL {
		return nil, false
	}
	return e.site, true
}

func (c *siteCache) put(key string, x *Site) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) > 1000 {
		c.m = map[string]cachedSite{}
	}
	c.m[key] = cachedSite{site: x, at: time.Now()}
}

func (c *siteCache) forget() {
	c.mu.Lock()
	c.m = map[string]cachedSite{}
	c.mu.Unlock()
}

// CachedSite returns an enabled site by key from the cache, if there.
func (s *Service) CachedSite(key string) (*Site, bool) { return s.cache.get(key) }

// SiteByKey returns the enabled site with this key; a disabled or unknown
// one is "not found" (a page embedding it shows nothing).
func (s *Service) SiteByKey(ctx context.Context, key string) (*Site, error) {
	if x, ok := s.cache.get(key); ok {
		return x, nil
	}
	if !ValidSiteKey(key) {
		return nil, errs.NotFoundf("entity.chat_site")
	}
	x, err := s.scanSite(s.db.QueryRow(ctx, "SELECT "+siteCols+" FROM chat_sites WHERE site_key = ? AND enabled = ?", key, true))
	if errors.Is(err, db.ErrNotFound) {
		return nil, errs.NotFoundf("entity.chat_site")
	}
	if err != nil {
		return nil, err
	}
	s.cache.put(key, x)
	return x, nil
}

// Allows reports whether a page of origin may use the site. Requests
// without an Origin header (no browser page: curl, a server) are allowed:
// CORS protects visitors' browsers, and such clients could send anything.
func (x *Site) Allows(origin string) bool {
	if origin == "" {
		return true
	}
	return containsString(x.AllowedOrigins, origin)
}

// Public is the site as the widget shows it, in lang.
func (s *Service) Public(ctx context.Context, x *Site, lang i18n.Lang) (*PublicSite, error) {
	online, err := s.inq.ChatOnline(ctx, deref(x.DepartmentID))
	if err != nil {
		return nil, err
	}
	// The visitor's language, or the default text in it: a visitor who
	// reads English is better served by the default than by Chinese.
	pick := func(zh, en, key string) string {
		if lang == i18n.EN {
			zh = en
		}
		if zh != "" {
			return zh
		}
		return i18n.T(lang, key)
	}
	return &PublicSite{Name: x.Name, Lang: string(lang), Greeting: pick(x.GreetingZH, x.GreetingEN, "webchat.default_greeting"), Online: online,
		OfflineMessage: pick(x.OfflineZH, x.OfflineEN, "webchat.default_offline"), AskName: x.AskName, AskPhone: x.AskPhone, MaxLength: s.cfg.MaxLength}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// ipHash is the keyed hash of an address kept for the hourly cap.
func (s *Service) ipHash(ip string) string {
	m := hmac.New(sha256.New, s.cfg.Key)
	m.Write([]byte("webchat-ip\x00" + ip))
	return hex.EncodeToString(m.Sum(nil))[:40]
}

func (s *Service) checkMessage(v *errs.Validation, body, clientID string) (string, string) {
	body = valid.Text(v, "body", body, true, s.cfg.MaxLength)
	clientID = strings.ToLower(strings.TrimSpace(clientID))
	if clientID != "" && !uuidRE.MatchString(clientID) {
		v.Add("client_id", "webchat.client_id")
	}
	return body, clientID
}

// Start opens a conversation: a web_chat inquiry matched to the customer
// archive by the phone number and routed to the site's team, and a token
// for the visitor. A retried start (same client_id) opens nothing new: it
// gives a fresh token to the conversation the first attempt opened.
func (s *Service) Start(ctx context.Context, x *Site, in StartInput, ip string) (*Started, error) {
	out, err := s.start(ctx, x, in, ip)
	if errors.Is(err, db.ErrUnique) && in.ClientID != "" {
		// The same first message raced in on another request: answer as
		// for a retry.
		return s.start(ctx, x, in, ip)
	}
	return out, err
}

// ValidateStart checks and normalises a start request (the API does it
// before any look-up, so bad input is a 422 whatever the site).
func (s *Service) ValidateStart(in *StartInput) error {
	var v errs.Validation
	in.Name = valid.Text(&v, "name", in.Name, false, 64)
	in.Phone = valid.Mobile(&v, "phone", in.Phone, false)
	in.Body, in.ClientID = s.checkMessage(&v, in.Body, in.ClientID)
	return v.Err()
}

// ValidateMessage checks and normalises a visitor's message.
func (s *Service) ValidateMessage(in *MessageInput) error {
	var v errs.Validation
	in.Body, in.ClientID = s.checkMessage(&v, in.Body, in.ClientID)
	return v.Err()
}

func (s *Service) start(ctx context.Context, x *Site, in StartInput, ip string) (*Started, error) {
	if err := s.ValidateStart(&in); err != nil {
		return nil, err
	}
	ipHash := s.ipHash(ip)
	token := auth.NewToken("pcv_")
	var out *Started
	err := s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		now := tx.Now()
		var inquiryID string
		var msg *VisitorMsg
		if in.ClientID != "" {
			id, m, err := s.inq.FindChatMessage(ctx, tx, in.ClientID)
			switch {
			case err == nil:
				// The first attempt committed: only a visitor of this site
				// may have sent it.
				var one int
				if err := tx.QueryRow(ctx, "SELECT 1 FROM chat_visitors WHERE inquiry_id = ? AND site_id = ? LIMIT 1", id, x.ID).Scan(&one); err != nil {
					if errors.Is(err, db.ErrNotFound) {
						var v errs.Validation
						v.Add("client_id", "webchat.client_id_used")
						return v.Err()
					}
					return err
				}
				inquiryID, msg = id, m
			case !errors.Is(err, db.ErrNotFound):
				return err
			}
		}
		if inquiryID == "" {
			var n int
			var oldest db.Time
			hourAgo := db.Ms(now.Add(-time.Hour))
			if err := tx.QueryRow(ctx, "SELECT COUNT(*), MIN(created_at) FROM chat_visitors WHERE ip_hash = ? AND created_at > ?", ipHash, hourAgo).Scan(&n, &oldest); err != nil {
				return err
			}
			if n >= s.cfg.Limits.ConversationsPerHour {
				wait := max(1, int(time.Time(oldest).Add(time.Hour).Sub(now).Seconds()+0.999))
				return &errs.Error{Kind: errs.RateLimited, Code: "chat_conversation_limit", Key: "webchat.conversation_limit", Args: []any{wait}, RetryAfter: wait}
			}
			var err error
			inquiryID, msg, err = s.inq.OpenChat(ctx, tx, inquiries.ChatStart{Name: in.Name, Mobile: in.Phone, Body: in.Body, Team: deref(x.DepartmentID),
				Key: in.ClientID, Site: x.Name})
			if err != nil {
				return err
			}
		}
		exp := now.Add(s.cfg.TokenTTL)
		if _, err := tx.Exec(ctx, `INSERT INTO chat_visitors (id, site_id, inquiry_id, token_hash, ip_hash, expires_at, last_seen_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, db.NewID(), x.ID, inquiryID, auth.HashToken(token), ipHash, db.Ms(exp), db.Ms(now), db.Ms(now)); err != nil {
			return err
		}
		out = &Started{Token: token, ExpiresAt: exp.UTC(), Message: msg}
		return nil
	})
	return out, err
}

// visitor is a verified token's conversation.
type visitor struct {
	id, inquiryID string
	expiresAt     time.Time
}

// Typing tells the agents that the visitor holding token is writing.
func (s *Service) Typing(ctx context.Context, x *Site, token string) error {
	vis, err := s.Visitor(ctx, x, token)
	if err != nil {
		return err
	}
	return s.inq.VisitorTyping(ctx, vis.inquiryID)
}

// Visitor checks a token for the site: unknown (or another site's) and
// expired tokens are 401 with their own codes, so the widget can start
// over.
func (s *Service) Visitor(ctx context.Context, x *Site, token string) (*visitor, error) {
	if token == "" || !ValidToken(token) {
		return nil, errs.New(errs.Unauthorized, "chat_token_invalid", "webchat.token_invalid")
	}
	var v visitor
	var siteID string
	var exp db.Time
	err := s.db.QueryRow(ctx, "SELECT id, site_id, inquiry_id, expires_at FROM chat_visitors WHERE token_hash = ?", auth.HashToken(token)).Scan(&v.id, &siteID, &v.inquiryID, &exp)
	if errors.Is(err, db.ErrNotFound) || (err == nil && siteID != x.ID) {
		return nil, errs.New(errs.Unauthorized, "chat_token_invalid", "webchat.token_invalid")
	}
	if err != nil {
		return nil, err
	}
	v.expiresAt = time.Time(exp)
	if !v.expiresAt.After(s.db.Now()) {
		return nil, errs.New(errs.Unauthorized, "chat_token_expired", "webchat.token_expired")
	}
	return &v, nil
}

// Post adds the visitor's message to their conversation and extends the
// token. A retry of a message already stored (same client_id) returns the
// stored one and adds nothing; created says which happened.
func (s *Service) Post(ctx context.Context, x *Site, token string, in MessageInput) (*VisitorMsg, bool, error) {
	if err := s.ValidateMessage(&in); err != nil {
		return nil, false, err
	}
	vis, err := s.Visitor(ctx, x, token)
	if err != nil {
		return nil, false, err
	}
	var msg *VisitorMsg
	err = s.db.InTx(ctx, func(ctx context.Context, tx *db.Tx) error {
		var err error
		msg, err = s.inq.AppendChat(ctx, tx, vis.inquiryID, in.Body, in.ClientID, "")
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE chat_visitors SET last_seen_at = ?, expires_at = ? WHERE id = ?", db.Ms(tx.Now()), db.Ms(tx.Now().Add(s.cfg.TokenTTL)), vis.id)
		return err
	})
	if errors.Is(err, inquiries.ErrChatDuplicate) || (errors.Is(err, db.ErrUnique) && in.ClientID != "") {
		m, err := s.inq.ChatMessageByKey(ctx, s.db, vis.inquiryID, in.ClientID)
		if errors.Is(err, db.ErrNotFound) {
			// The key belongs to another conversation.
			var v errs.Validation
			v.Add("client_id", "webchat.client_id_used")
			return nil, false, v.Err()
		}
		return m, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return msg, true, nil
}

// Messages lists the visitor's conversation after a message (or from the
// start), at most limit.
func (s *Service) Messages(ctx context.Context, x *Site, token, after string, limit int) ([]*VisitorMsg, bool, error) {
	vis, err := s.Visitor(ctx, x, token)
	if err != nil {
		return nil, false, err
	}
	cur, err := s.cursor(ctx, vis, after)
	if err != nil {
		return nil, false, err
	}
	items, err := s.inq.ChatMessages(ctx, s.db, vis.inquiryID, cur, limit+1)
	if err != nil {
		return nil, false, err
	}
	more := len(items) > limit
	if more {
		items = items[:limit]
	}
	return items, more, nil
}

// cursor resolves "after this message"; an id that is not a visible message
// of the conversation starts from the beginning (the widget skips what it
// has).
func (s *Service) cursor(ctx context.Context, vis *visitor, after string) (inquiries.ChatCursor, error) {
	if after == "" {
		return inquiries.ChatCursor{}, nil
	}
	cur, err := s.inq.ChatMessageAt(ctx, s.db, vis.inquiryID, after)
	if errors.Is(err, db.ErrNotFound) {
		return inquiries.ChatCursor{}, nil
	}
	return cur, err
}
