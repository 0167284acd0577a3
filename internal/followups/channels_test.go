package followups_test

import (
	"fmt"
	"slices"
	"testing"

	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/server/servertest"
)

// Changing a channel's events keeps its write-only secret, a stale version
// is refused, and nobody can change another user's channel.
func TestUpdateChannel(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		e := servertest.Start(t, d)
		admin := e.Admin()
		other := e.User(admin, "channel.other", []string{"sales"}, e.RootDepartment(admin))
		c := admin.Do("POST", "/api/v1/me/channels", map[string]any{"kind": "dingtalk", "target": "https://oapi.dingtalk.com/robot/send?access_token=a", "secret": "SECold"}).Expect(t, 201).Map()
		id, v := c["id"].(string), int64(c["version"].(float64))
		path := "/api/v1/me/channels/" + id
		ifMatch := func(v int64) []string { return []string{"If-Match", fmt.Sprintf(`"%d"`, v)} }

		up := admin.Do("PUT", path, map[string]any{"target": "https://oapi.dingtalk.com/robot/send?access_token=b", "events": []string{"promise_broken"}, "enabled": false}, ifMatch(v)...).Expect(t, 200).Map()
		if up["has_secret"] != true || up["enabled"] != false || up["target"] != "https://oapi.dingtalk.com/robot/send?access_token=b" || int64(up["version"].(float64)) != v+1 {
			t.Fatalf("updated channel: %v", up)
		}
		if evs := up["events"].([]any); len(evs) != 1 || evs[0] != "promise_broken" {
			t.Fatalf("events: %v", evs)
		}
		if _, leaked := up["secret"]; leaked {
			t.Fatal("secret returned")
		}
		var secret string
		if err := d.QueryRow(t.Context(), "SELECT secret FROM notification_channels WHERE id = ?", id).Scan(&secret); err != nil || secret != "SECold" {
			t.Fatalf("secret after an update without one: %q %v", secret, err)
		}

		// the old version is stale now: 412, nothing changes
		admin.Do("PUT", path, map[string]any{"target": "https://x.example.com/hook", "events": []string{}}, ifMatch(v)...).Expect(t, 412)
		// bad input is 422 with the field
		r := admin.Do("PUT", path, map[string]any{"target": "ftp://x", "events": []string{"nope"}, "kind": "email"}, ifMatch(v+1)...).Expect(t, 422)
		fields, _ := r.Map()["error"].(map[string]any)["fields"].(map[string]any)
		for _, f := range []string{"target", "events", "kind"} {
			if _, ok := fields[f]; !ok {
				t.Errorf("no %s error in %v", f, fields)
			}
		}
		// someone else's channel does not exist for them
		other.Do("PUT", path, map[string]any{"target": "https://x.example.com/hook"}).Expect(t, 404)

		// a new secret replaces the old one; the change is audited
		admin.Do("PUT", path, map[string]any{"target": "https://oapi.dingtalk.com/robot/send?access_token=b", "secret": "SECnew", "enabled": true}, ifMatch(v+1)...).Expect(t, 200)
		if err := d.QueryRow(t.Context(), "SELECT secret FROM notification_channels WHERE id = ?", id).Scan(&secret); err != nil || secret != "SECnew" {
			t.Fatalf("secret after replacing it: %q %v", secret, err)
		}
		var actions []string
		rows, err := d.Query(t.Context(), "SELECT action FROM audit_log WHERE entity_id = ? ORDER BY at, id", id)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var a string
			_ = rows.Scan(&a)
			actions = append(actions, a)
		}
		rows.Close()
		if !slices.Equal(actions, []string{"channel.create", "channel.update", "channel.update"}) {
			t.Fatalf("audit: %v", actions)
		}
	})
}
