package org

import (
	"sort"
	"strconv"
	"time"

	"prelude/internal/platform/db"
)

func parseMs(s string) (int64, error) { return strconv.ParseInt(s, 10, 64) }
func formatMs(t time.Time) string     { return strconv.FormatInt(db.Ms(t), 10) }

func sortRoles(rs []*Role, order map[string]int) {
	sort.SliceStable(rs, func(i, j int) bool {
		oi, iok := order[rs[i].Name]
		oj, jok := order[rs[j].Name]
		if iok != jok {
			return iok
		}
		if oi != oj {
			return oi < oj
		}
		return rs[i].Name < rs[j].Name
	})
}
