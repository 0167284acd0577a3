package web

import (
	"os"
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
