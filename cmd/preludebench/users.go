package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"
	"sync"
)

type accountRef struct {
	ID           string `json:"id"`
	ProvinceCode string `json:"province_code"`
	CityCode     string `json:"city_code"`
	DistrictCode string `json:"district_code"`
	Industry     string `json:"industry"`
	Status       string `json:"status"`
}

// user is a signed-in demo user and the accounts they can see.
type user struct {
	username string
	short    string // for generated names
	id       string
	roles    []string
	scope    string
	cookie   string
	accounts []accountRef // visible to this user (taken from their own list)
	filters  []string     // list_accounts query suffixes that fit their data

	// inquiry is the one post_message replies to, created on first use.
	mu      sync.Mutex
	inquiry string
}

// ownInquiry returns the user's benchmark inquiry, opening it (on one of
// their accounts, so it is in their scope) the first time.
func (w *worker) ownInquiry(ctx context.Context, rng *rand.Rand) (string, error) {
	u := w.u
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.inquiry != "" {
		return u.inquiry, nil
	}
	var out struct {
		ID string `json:"id"`
	}
	body := map[string]any{"channel": "web_chat", "body": "压测咨询：请问 A 型号 200 台的报价和交货期？", "customer": map[string]any{"account_id": w.account(rng).ID}}
	if _, err := w.c.do(ctx, u.cookie, "POST", body, &out, "/api/v1/inquiries"); err != nil {
		return "", err
	}
	u.inquiry = out.ID
	return u.inquiry, nil
}

// worker is one closed-loop client acting as one user at a time (with
// fewer workers than users, it switches user at random before every op).
type worker struct {
	c        *client
	u        *user
	password string
	seq      int
}

func (w *worker) get(ctx context.Context, format string, args ...any) error {
	_, err := w.c.do(ctx, w.u.cookie, "GET", nil, nil, format, args...)
	return err
}

func (w *worker) account(rng *rand.Rand) accountRef {
	return w.u.accounts[rng.IntN(len(w.u.accounts))]
}

// prepareUsers signs every user in and lists the accounts they can see, so
// that every op works inside the user's data scope.
func prepareUsers(ctx context.Context, c *client, names []string, password string, perUser int) ([]*user, error) {
	var out []*user
	for _, name := range names {
		u := &user{username: name, short: strings.TrimPrefix(name, "demo.")}
		cookie, err := c.login(ctx, name, password)
		if err != nil {
			return nil, fmt.Errorf("sign in as %s: %w (is the demo data loaded? prelude demo --scale small)", name, err)
		}
		u.cookie = cookie
		var me struct {
			ID        string   `json:"id"`
			Roles     []string `json:"roles"`
			DataScope string   `json:"data_scope"`
		}
		if _, err := c.do(ctx, cookie, "GET", nil, &me, "/api/v1/me"); err != nil {
			return nil, err
		}
		u.id, u.roles, u.scope = me.ID, me.Roles, me.DataScope
		cursor := ""
		for len(u.accounts) < perUser {
			var page struct {
				Items      []accountRef `json:"items"`
				NextCursor *string      `json:"next_cursor"`
			}
			q := "/api/v1/accounts?limit=100"
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			if _, err := c.do(ctx, cookie, "GET", nil, &page, q); err != nil {
				return nil, fmt.Errorf("list accounts of %s: %w", name, err)
			}
			u.accounts = append(u.accounts, page.Items...)
			if page.NextCursor == nil {
				break
			}
			cursor = *page.NextCursor
		}
		if len(u.accounts) == 0 {
			return nil, fmt.Errorf("%s sees no accounts: pick users who own or supervise some (demo.head00-03, demo.sales*, demo.presales*)", name)
		}
		u.accounts = u.accounts[:min(len(u.accounts), perUser)]
		u.filters = listFilters(u.accounts)
		out = append(out, u)
	}
	return out, nil
}

// listFilters are the account-list filters the op rotates through: the
// default order, the common filters, and values taken from the user's own
// accounts so that they select something.
func listFilters(accs []accountRef) []string {
	f := []string{"", "&status=active", "&level=A", "&sort=-last_contact_at", "&sort=name", "&no_contact_days=30"}
	a := accs[len(accs)/2]
	if a.ProvinceCode != "" {
		f = append(f, "&province_code="+url.QueryEscape(a.ProvinceCode))
	}
	if a.Industry != "" {
		f = append(f, "&industry="+url.QueryEscape(a.Industry))
	}
	f = append(f, "&q="+url.QueryEscape("科技"))
	return slices.Clip(f)
}
