package region

import (
	"slices"
	"strings"
	"testing"
)

func TestCounts(t *testing.T) {
	provinces := Provinces()
	if len(provinces) != 34 {
		t.Errorf("provinces: %d, want 34", len(provinces))
	}
	if !slices.IsSortedFunc(provinces, byCode) {
		t.Errorf("provinces not sorted")
	}
	cities, districts := 0, 0
	for _, p := range provinces {
		cs := Children(p.Code)
		if !slices.IsSortedFunc(cs, byCode) {
			t.Errorf("cities of %s not sorted", p.Name)
		}
		cities += len(cs)
		for _, c := range cs {
			if c.Level != LevelCity || c.Parent != p.Code {
				t.Errorf("city %+v under %s", c, p.Code)
			}
			for _, d := range Children(c.Code) {
				if d.Level != LevelDistrict || d.Parent != c.Code || Children(d.Code) != nil {
					t.Errorf("district %+v under %s", d, c.Code)
				}
				districts++
			}
		}
	}
	if cities < 300 || cities > 400 || districts < 2800 || districts > 3000 {
		t.Errorf("implausible counts: %d cities, %d districts", cities, districts)
	}
	t.Logf("%d provinces, %d cities, %d districts", len(provinces), cities, districts)
}

func TestLookupAndPath(t *testing.T) {
	for code, want := range map[string]Region{
		"110000": {Code: "110000", Name: "北京市", Level: 1},
		"110101": {Code: "110101", Name: "东城区", Parent: "110100", Level: 3},
		"440000": {Code: "440000", Name: "广东省", Level: 1},
		"440300": {Code: "440300", Name: "深圳市", Parent: "440000", Level: 2},
		"440305": {Code: "440305", Name: "南山区", Parent: "440300", Level: 3},
		"810000": {Code: "810000", Name: "香港特别行政区", Level: 1},
	} {
		if got, ok := Lookup(code); !ok || got != want {
			t.Errorf("Lookup(%s) = %+v, %v", code, got, ok)
		}
	}
	for _, bad := range []string{"", "44", "4403", "440399", "999999", "440305 "} {
		if _, ok := Lookup(bad); ok {
			t.Errorf("Lookup(%q) found", bad)
		}
	}

	for code, want := range map[string]string{
		"440305": "440000 440300 440305",
		"440300": "440000 440300",
		"110101": "110000 110100 110101",
		"500229": "500000 500200 500229", // 重庆 城口县 under the 县 row
		"419001": "410000 419000 419001", // 济源, governed by 河南 directly
		"441900": "440000 441900",        // 东莞 has no districts
		"999999": "",
	} {
		var codes []string
		for _, r := range Path(code) {
			codes = append(codes, r.Code)
		}
		if got := strings.Join(codes, " "); got != want {
			t.Errorf("Path(%s) = %s, want %s", code, got, want)
		}
	}

	for code, want := range map[string]string{
		"440305": "广东省 深圳市 南山区",
		"110101": "北京市 东城区",
		"110100": "北京市",
		"500229": "重庆市 城口县",
		"500101": "重庆市 万州区",
		"419001": "河南省 济源市",
		"620201": "甘肃省 嘉峪关市",
		"441900": "广东省 东莞市",
		"999999": "",
	} {
		if got := FullName(code); got != want {
			t.Errorf("FullName(%s) = %q, want %q", code, got, want)
		}
	}
	if Children("440305") != nil || Children("") != nil || Children("710000") != nil {
		t.Errorf("Children of a district, of \"\" or of 台湾省 should be empty")
	}
}

func TestValidate(t *testing.T) {
	for _, c := range []struct {
		p, c, d, field string
	}{
		{"440000", "440300", "440305", ""},
		{"", "", "", ""},
		{"440000", "", "", ""},
		{"440000", "", "440305", ""}, // city left out: the district must still be in the province
		{"", "440300", "440305", ""},
		{"110000", "110100", "110101", ""},
		{"500000", "500200", "500229", ""},
		{"410000", "419000", "419001", ""},
		{"440000", "441900", "", ""},
		{"440000", "440100", "440305", "district_code"}, // 南山区 is in 深圳, not 广州
		{"", "440100", "440305", "district_code"},
		{"110000", "", "440305", "district_code"},
		{"110000", "440300", "", "city_code"},
		{"440300", "", "", "province_code"}, // a city is not a province
		{"440000", "440305", "", "city_code"},
		{"440000", "440300", "440300", "district_code"},
		{"110000", "110000", "110101", "city_code"}, // the municipality's city is 110100
		{"990000", "440300", "440305", "province_code"},
		{"440000", "440300", "44030", "district_code"},
	} {
		field, ok := Validate(c.p, c.c, c.d)
		if field != c.field || ok != (c.field == "") {
			t.Errorf("Validate(%q, %q, %q) = %q, %v; want %q", c.p, c.c, c.d, field, ok, c.field)
		}
	}
}

func TestFindByName(t *testing.T) {
	for name, want := range map[string]string{
		"广东省": "440000", "广东": "440000", "深圳": "440300", "深圳市": "440300", " 深圳市 ": "440300",
		"北京市": "110000", "北京": "110000", "内蒙古": "150000", "广西": "450000", "新疆": "650000",
		"香港": "810000", "台湾": "710000", "延边": "222400", "锡林郭勒": "152500", "大兴安岭": "232700",
		"吉林": "220000", "海南": "460000", "龙胜": "450328", "海西": "632800",
	} {
		if got, ok := FindByName(name); !ok || got.Code != want {
			t.Errorf("FindByName(%q) = %+v, %v; want %s", name, got, ok, want)
		}
	}
	// Ambiguous (朝阳区: 北京 and 长春; 南山: 深圳 and 鹤岗), unknown, or a stand-in level.
	for _, name := range []string{"朝阳区", "南山区", "南山", "", "火星", "市辖区", "县", "省直辖县级行政区划", "区"} {
		if got, ok := FindByName(name); ok {
			t.Errorf("FindByName(%q) = %+v", name, got)
		}
	}
	for _, c := range []struct{ parent, name, want string }{
		{"110000", "朝阳区", "110105"},
		{"110000", "北京市", "110100"},
		{"220000", "吉林", "220200"},
		{"220100", "朝阳区", "220104"},
		{"440000", "南山", "440305"},
		{"440000", "朝阳区", ""},
	} {
		got, ok := FindIn(c.parent, c.name)
		if c.want == "" && ok || c.want != "" && (!ok || got.Code != c.want) {
			t.Errorf("FindIn(%s, %q) = %+v, %v; want %q", c.parent, c.name, got, ok, c.want)
		}
	}
}

func TestShortName(t *testing.T) {
	for name, want := range map[string]string{
		"广西壮族自治区": "广西", "宁夏回族自治区": "宁夏", "西藏自治区": "西藏", "内蒙古自治区": "内蒙古",
		"黔东南苗族侗族自治州": "黔东南", "伊犁哈萨克自治州": "伊犁", "海西蒙古族藏族自治州": "海西",
		"双江拉祜族佤族布朗族傣族自治县": "双江", "鄂伦春自治旗": "鄂伦春", "城区": "城区",
		"神农架林区": "神农架", "澳门特别行政区": "澳门", "准格尔旗": "准格尔",
	} {
		if got := shortName(name); got != want {
			t.Errorf("shortName(%s) = %s, want %s", name, got, want)
		}
	}
}

func TestTree(t *testing.T) {
	tree := Tree()
	if len(tree) != 34 {
		t.Fatalf("tree: %d provinces", len(tree))
	}
	n := 0
	var walk func([]Node, int)
	walk = func(nodes []Node, depth int) {
		for _, node := range nodes {
			n++
			if r, ok := Lookup(node.Code); !ok || r.Name != node.Name || r.Level != depth {
				t.Fatalf("node %s %s at depth %d", node.Code, node.Name, depth)
			}
			walk(node.Children, depth+1)
		}
	}
	walk(tree, 1)
	if want := strings.Count(data, "\n") - strings.Count(data, "#"); n != want {
		t.Errorf("tree has %d nodes, the data %d", n, want)
	}
	if &Tree()[0] != &tree[0] {
		t.Errorf("Tree is not cached")
	}
}

func TestParseRejectsBadData(t *testing.T) {
	for _, bad := range []string{
		"440000\t\t广东省\n440000\t\t广东省\n",
		"440300\t440000\t深圳市\n",
		"440000\t\n",
		"4400\t\t广东省\n",
	} {
		if _, err := parse(bad); err == nil {
			t.Errorf("parse(%q) accepted", bad)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	codes := []string{"110101", "440305", "650000", "999999"}
	load()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		Lookup(codes[i%len(codes)])
	}
}
