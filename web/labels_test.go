package web

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"prelude/internal/platform/authz"
)

// The role editor shows every permission of the server's catalogue by its
// label; a permission added on the server without a zh-CN and English label
// would show up as a raw key to administrators. This keeps the two in step.
func TestEveryPermissionHasALabel(t *testing.T) {
	for _, file := range []string{"src/locales/zh-CN.ts", "src/locales/en.ts"} {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		src := string(raw)
		perms := block(t, src, "permissions")
		areas := block(t, src, "permissionAreas")
		for _, p := range authz.Catalogue {
			area, action, _ := strings.Cut(p.Key, ".")
			areaBlock := regexp.MustCompile(`(?s)\n    ` + regexp.QuoteMeta(area) + `: \{\n(.*?)\n    \},`).FindStringSubmatch(perms)
			if areaBlock == nil || !regexp.MustCompile(`\n?      `+regexp.QuoteMeta(action)+`: '`).MatchString("\n"+areaBlock[1]) {
				t.Errorf("%s: permission %q has no label", file, p.Key)
			}
			if !regexp.MustCompile(`\n    ` + regexp.QuoteMeta(p.Area) + `: '`).MatchString(areas) {
				t.Errorf("%s: permission area %q has no label", file, p.Area)
			}
		}
	}
}

// block returns the body of the top-level catalogue entry name: { ... }.
func block(t *testing.T, src, name string) string {
	t.Helper()
	m := regexp.MustCompile(`(?s)\n  ` + name + `: \{(\n.*?)\n  \},`).FindStringSubmatch(src)
	if m == nil {
		t.Fatalf("no %s block", name)
	}
	return m[1]
}

// auditActionLiteral finds the actions the services record with a literal
// name: audit.Event{Action: "quote.send"} or action := "user.update".
var auditActionLiteral = regexp.MustCompile(`(?:Action: *|action :?= *)"([a-z_]+\.[a-z_]+)"( *\+)?`)
var auditEntityLiteral = regexp.MustCompile(`EntityType: *"([a-z_]+)"`)

// dynamicAuditActions are recorded with a computed suffix ("order.return_" +
// action); each value the code can produce is listed here.
var dynamicAuditActions = []string{
	"order.return_approve", "order.return_reject", "order.return_receive", "order.return_refund", "order.return_exchange", "order.return_close",
	"quote.accepted", "quote.changes_requested",
	"demo.approve", "demo.reject", "solution.approve", "solution.reject", "opportunity.win", "opportunity.lose",
	"contract.submit", "contract.return", "contract.sign", "contract.start_delivery", "contract.complete", "contract.terminate",
	"invoice.issued", "invoice.rejected",
}

// The audit page names every action and entity type it shows, and offers
// them as filters: an action recorded by a service without a zh-CN and
// English label (or missing from the filter list) would show as a raw key.
func TestEveryAuditActionHasALabel(t *testing.T) {
	actions, entities := map[string]bool{}, map[string]bool{}
	for _, a := range dynamicAuditActions {
		actions[a] = true
	}
	err := filepath.WalkDir("../internal", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range auditActionLiteral.FindAllStringSubmatch(string(src), -1) {
			if m[2] == "" { // a prefix ("order.return_" + action) is listed in dynamicAuditActions
				actions[m[1]] = true
			}
		}
		for _, m := range auditEntityLiteral.FindAllStringSubmatch(string(src), -1) {
			entities[m[1]] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(actions) < 100 || len(entities) < 20 {
		t.Fatalf("found only %d actions and %d entity types: the scan is broken", len(actions), len(entities))
	}
	constants, err := os.ReadFile("src/constants.ts")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range []string{"src/locales/zh-CN.ts", "src/locales/en.ts"} {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		auditBlock := block(t, string(raw), "audit")
		actionsBlock := regexp.MustCompile(`(?s)\n    actions: \{(\n.*?)\n    \},`).FindStringSubmatch(auditBlock)
		typesBlock := regexp.MustCompile(`(?s)\n    entityTypes: \{(\n.*?)\n    \},`).FindStringSubmatch(auditBlock)
		if actionsBlock == nil || typesBlock == nil {
			t.Fatalf("%s: no audit.actions or audit.entityTypes", file)
		}
		for a := range actions {
			entity, verb, _ := strings.Cut(a, ".")
			eb := regexp.MustCompile(`(?s)\n      ` + regexp.QuoteMeta(entity) + `: \{(\n.*?)\n      \},`).FindStringSubmatch(actionsBlock[1])
			if eb == nil || !strings.Contains(eb[1], "\n        "+verb+": '") {
				t.Errorf("%s: audit action %q has no label", file, a)
			}
		}
		for e := range entities {
			if !strings.Contains(typesBlock[1], "\n      "+e+": '") {
				t.Errorf("%s: audit entity type %q has no label", file, e)
			}
		}
	}
	for a := range actions {
		if !strings.Contains(string(constants), "'"+a+"'") {
			t.Errorf("constants.ts: AUDIT_ACTIONS lacks %q", a)
		}
	}
	for e := range entities {
		if !strings.Contains(string(constants), "'"+e+"'") {
			t.Errorf("constants.ts: AUDIT_ENTITY_TYPES lacks %q", e)
		}
	}
}
