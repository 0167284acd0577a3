package customers

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"prelude/internal/platform/audit"
	"prelude/internal/platform/authz"
	"prelude/internal/platform/db"
	"prelude/internal/platform/db/dbtest"
	"prelude/internal/platform/errs"
	"prelude/internal/platform/jobs"
	"prelude/internal/platform/mask"
	"prelude/internal/platform/search"
)

// xlsxOf builds a workbook whose 客户 sheet holds rows (row 1 first).
func xlsxOf(t *testing.T, rows [][]any, edit func(f *excelize.File)) []byte {
	t.Helper()
	f, err := newWorkbook(sheetAccounts)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for i, r := range rows {
		if err := f.SetSheetRow(sheetAccounts, "A"+strconv.Itoa(i+1), &r); err != nil {
			t.Fatal(err)
		}
	}
	if edit != nil {
		edit(f)
	}
	b, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func codeOf(err error) string { return errs.CodeOf(err) }

func TestHeaderMatching(t *testing.T) {
	// Any order, the * mark, full-width forms, spaces and API-style aliases.
	data := xlsxOf(t, [][]any{
		{"联系人手机", " 客户名称＊ ", "省份", "uscc", "负责人姓名"},
		{"13812345678", "甲公司", "广东", "", "张三"},
	}, nil)
	tb, err := readTable(data, true)
	if err != nil {
		t.Fatal(err)
	}
	if tb.headerRow != 1 || tb.total != 1 || !tb.present[colName] || !tb.present[colUSCC] || tb.present[colKind] {
		t.Fatalf("table: %+v", tb)
	}
	r := tb.rows[0]
	if r.num != 2 || r.fields[colName] != "甲公司" || r.fields[colContactMobile] != "13812345678" || r.fields[colProvince] != "广东" {
		t.Fatalf("row: %+v", r.fields)
	}
	// 负责人姓名 (an export column) is accepted and ignored.
	if tb.colOf[4] != -1 {
		t.Fatalf("export column mapped to %d", tb.colOf[4])
	}

	// A title row above the header is skipped; row numbers stay as shown.
	tb, err = readTable(xlsxOf(t, [][]any{{"2026 年展会客户"}, {}, {"客户名称*", "行业"}, {"乙公司", "软件"}}, nil), true)
	if err != nil || tb.headerRow != 3 || tb.rows[0].num != 4 {
		t.Fatalf("title row: %v %+v", err, tb)
	}

	for _, c := range []struct {
		rows [][]any
		code string
		msg  string
	}{
		{[][]any{{"客户名称", "传真", "备注二"}, {"甲"}}, "unknown_columns", "传真、备注二"},
		{[][]any{{"行业", "城市"}, {"软件", "深圳"}}, "missing_columns", "客户名称"},
		{[][]any{{"客户名称", "客户名称*"}, {"甲"}}, "duplicate_columns", "客户名称*"},
		{[][]any{{"客户名称*"}}, "empty_file", ""},
		{[][]any{{"a"}, {"b"}, {"c"}, {"d"}, {"e"}, {"f"}, {"g"}, {"h"}, {"i"}, {"j"}, {"k"}}, "missing_columns", "客户名称"},
	} {
		_, err := readTable(xlsxOf(t, c.rows, nil), true)
		if codeOf(err) != c.code || errs.KindOf(err) != errs.Invalid || !strings.Contains(argsText(err), c.msg) {
			t.Errorf("%v: got %v", c.rows[0], err)
		}
	}
}

// argsText joins a domain error's message arguments.
func argsText(err error) string {
	var b strings.Builder
	if e, ok := err.(*errs.Error); ok {
		for _, a := range e.Args {
			fmt.Fprint(&b, a)
		}
	}
	return b.String()
}

func TestRegionByName(t *testing.T) {
	for _, c := range []struct {
		p, c, d         string
		wp, wc, wd, bad string
	}{
		{"广东省", "深圳市", "南山区", "440000", "440300", "440305", ""},
		{"广东", "深圳", "南山区", "440000", "440300", "440305", ""},
		{"", "深圳", "", "440000", "440300", "", ""},
		{"", "", "宝安区", "440000", "440300", "440306", ""},
		{"", "", "南山区", "", "", "", "district_code"}, // 深圳 and 鹤岗 both have one
		{"", "深圳", "南山区", "440000", "440300", "440305", ""},
		{"北京", "", "朝阳区", "110000", "110100", "110105", ""},
		{"北京市", "北京市", "东城区", "110000", "110100", "110101", ""},
		{"吉林", "吉林", "", "220000", "220200", "", ""},
		{"", "吉林", "", "220000", "220200", "", ""},
		{"重庆", "", "城口县", "500000", "500200", "500229", ""},
		{"", "", "朝阳区", "", "", "", "district_code"}, // 北京 and 长春 both have one
		{"广东", "北京", "", "440000", "", "", "city_code"},
		{"火星", "", "", "", "", "", "province_code"},
		{"深圳", "", "", "", "", "", "province_code"}, // a city in the province column
		{"广东", "深圳", "朝阳区", "440000", "440300", "", "district_code"},
	} {
		p, ci, d, bad := resolveRegion(c.p, c.c, c.d)
		if bad != c.bad || bad == "" && (p != c.wp || ci != c.wc || d != c.wd) {
			t.Errorf("%s/%s/%s: got %s %s %s bad=%q", c.p, c.c, c.d, p, ci, d, bad)
		}
	}
}

func TestNumberFormattedMobiles(t *testing.T) {
	data := xlsxOf(t, [][]any{{"客户名称", "联系人手机", "统一社会信用代码"}}, func(f *excelize.File) {
		sci, _ := f.NewStyle(&excelize.Style{NumFmt: 11}) // 0.00E+00: Excel shows 1.38E+10
		f.SetCellValue(sheetAccounts, "A2", "甲公司")
		f.SetCellInt(sheetAccounts, "B2", 13812345678)
		f.SetCellStyle(sheetAccounts, "B2", "B2", sci)
		if v, _ := f.GetCellValue(sheetAccounts, "B2"); v == "13812345678" {
			t.Fatalf("the formatted value should differ from the digits: %q", v)
		}
		f.SetCellValue(sheetAccounts, "A3", "乙公司")
		f.SetCellFloat(sheetAccounts, "B3", 13912345678, -1, 64)
		f.SetCellValue(sheetAccounts, "A4", "丙公司")
		f.SetCellStr(sheetAccounts, "B4", "139 1234 5678")
	})
	tb, err := readTable(data, true)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"13812345678", "13912345678", "139 1234 5678"} {
		if got := tb.rows[i].fields[colContactMobile]; got != want {
			t.Errorf("row %d: %q, want %q", i+2, got, want)
		}
	}
	for in, want := range map[string]string{"1.3812345678E10": "13812345678", "1.3812345678e+10": "13812345678", "1E3": "1000",
		"13812345678": "13812345678", "2026-01-02": "2026-01-02", "E10": "E10", "12e": "12e"} {
		if got := expandNumber(in); got != want {
			t.Errorf("expandNumber(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMergedCells(t *testing.T) {
	data := xlsxOf(t, [][]any{
		{"客户导入"}, // a merged title row
		{"客户名称", "客户来源", "行业", "城市"},
		{"甲公司", "展会", "软件", "深圳"},
		{"乙公司", nil, "", nil},
		{"丙公司", nil, "制造", nil},
		{"丁公司", "官网", "", ""},
	}, func(f *excelize.File) {
		for _, m := range [][2]string{{"A1", "D1"}, {"B3", "B5"}, {"C4", "D4"}} {
			if err := f.MergeCell(sheetAccounts, m[0], m[1]); err != nil {
				t.Fatal(err)
			}
		}
	})
	tb, err := readTable(data, true)
	if err != nil {
		t.Fatal(err)
	}
	if tb.headerRow != 2 || len(tb.rows) != 4 {
		t.Fatalf("table: header %d, %d rows", tb.headerRow, len(tb.rows))
	}
	got := func(i, col int) string { return tb.rows[i].fields[col] }
	// B3:B5 → 展会 in rows 3–5; C4:D4 → "" (C4 is empty) across C4 and D4.
	if got(0, colSource) != "展会" || got(1, colSource) != "展会" || got(2, colSource) != "展会" || got(3, colSource) != "官网" {
		t.Fatalf("vertical merge: %q %q %q %q", got(0, colSource), got(1, colSource), got(2, colSource), got(3, colSource))
	}
	if got(2, colIndustry) != "制造" || got(1, colCity) != "" {
		t.Fatalf("other cells: %+v", tb.rows[1].fields)
	}
	// A merged header cell leaves the others empty: ignored, not a crash.
	data = xlsxOf(t, [][]any{{"客户名称", nil, "行业"}, {"甲公司", "x", "软件"}}, func(f *excelize.File) {
		f.MergeCell(sheetAccounts, "A1", "B1")
	})
	if tb, err = readTable(data, true); err != nil || tb.rows[0].fields[colIndustry] != "软件" || tb.rows[0].fields[colName] != "甲公司" {
		t.Fatalf("merged header: %v %+v", err, tb)
	}
}

func TestCSVEncodings(t *testing.T) {
	text := "客户名称,联系人姓名,联系人手机,标签\r\n深圳市腾云科技有限公司,王伟,13812345678,\"重点，华南\"\r\n,,,\r\n成都天府软件园,,,\r\n"
	gb, err := simplifiedchinese.GB18030.NewEncoder().String(text)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"utf-8":       []byte(text),
		"utf-8 BOM":   append(append([]byte{}, utf8BOM...), text...),
		"gb18030":     []byte(gb),
		"tab, no BOM": []byte(strings.ReplaceAll(strings.ReplaceAll(text, ",", "\t"), "\"重点，华南\"", "重点，华南")),
	} {
		tb, err := readTable(data, true)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if tb.total != 2 || tb.rows[0].fields[colName] != "深圳市腾云科技有限公司" || tb.rows[0].fields[colTags] != "重点，华南" ||
			tb.rows[1].num != 4 || tb.rows[1].fields[colName] != "成都天府软件园" {
			t.Fatalf("%s: %+v", name, tb.rows)
		}
	}
	if got := splitTags(" 重点，华南、 展会 ,新客户;"); strings.Join(got, "|") != "重点|华南|展会|新客户" {
		t.Fatalf("tags: %q", got)
	}
}

func TestHostileFiles(t *testing.T) {
	garbage := make([]byte, 10<<20)
	rand.Read(garbage)
	zipGarbage := append([]byte("PK\x03\x04"), garbage[:4096]...)
	var notXLSX bytes.Buffer
	zw := zip.NewWriter(&notXLSX)
	w, _ := zw.Create("word/document.xml")
	w.Write([]byte("<w:document/>"))
	zw.Close()
	for name, c := range map[string]struct {
		data []byte
		code string
	}{
		"10 MB of random bytes":  {garbage, "invalid_file"},
		"zip magic then garbage": {zipGarbage, "invalid_file"},
		"a zip that is no xlsx":  {notXLSX.Bytes(), "invalid_file"},
		"legacy .xls":            {append(append([]byte{}, oleMagic...), garbage[:1024]...), "unsupported_format"},
		"empty":                  {[]byte("  \n"), "empty_file"},
		"binary as text":         {[]byte("客户名称\n甲\x00公司\n"), "invalid_file"},
		"plain prose":            {[]byte("这不是表格。\n只是一段文字。\n"), "missing_columns"},
	} {
		_, err := readTable(c.data, false)
		if codeOf(err) != c.code {
			t.Errorf("%s: %v, want %s", name, err, c.code)
		}
	}
}

func TestZipBomb(t *testing.T) {
	defer func(n int64) { unzipSizeLimit = n }(unzipSizeLimit)
	unzipSizeLimit = 1 << 20
	// A real workbook plus a part that inflates far beyond the limit from a
	// few kilobytes.
	base := xlsxOf(t, [][]any{{"客户名称"}, {"甲公司"}}, nil)
	zr, err := zip.NewReader(bytes.NewReader(base), int64(len(base)))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	zw := zip.NewWriter(&out)
	for _, f := range zr.File {
		zw.Copy(f)
	}
	w, _ := zw.Create("xl/media/bomb.bin")
	zeros := make([]byte, 1<<20)
	for range 4 {
		w.Write(zeros)
	}
	zw.Close()
	if out.Len() > 64<<10 {
		t.Fatalf("bomb is %d bytes", out.Len())
	}
	if _, err := readTable(out.Bytes(), false); codeOf(err) != "file_too_large" {
		t.Fatalf("bomb: %v", err)
	}
	// The same workbook without the bomb is fine under the lowered limits.
	if _, err := readTable(base, false); err != nil {
		t.Fatal(err)
	}
}

func TestRowLimit(t *testing.T) {
	defer func(n int) { maxImportRows = n }(maxImportRows)
	maxImportRows = 5
	csv := "客户名称\n" + strings.Repeat("某公司\n", 5)
	if tb, err := readTable([]byte(csv), false); err != nil || tb.total != 5 || tb.rows != nil {
		t.Fatalf("5 rows: %v", err)
	}
	_, err := readTable([]byte(csv+"又一家\n"), false)
	if codeOf(err) != "too_many_rows" {
		t.Fatalf("6 rows: %v", err)
	}
}

func TestTemplateAndReport(t *testing.T) {
	b, err := buildTemplate(DefaultLevels)
	if err != nil {
		t.Fatal(err)
	}
	// The template's own header is recognised (it has no data rows yet).
	if _, err := readTable(b.Bytes(), false); codeOf(err) != "empty_file" {
		t.Fatalf("template: %v", err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.GetSheetList(); strings.Join(got, ",") != "客户,说明" {
		t.Fatalf("sheets: %v", got)
	}
	head, _ := f.GetRows(sheetAccounts)
	if len(head[0]) != int(numImportColumns) || head[0][0] != "客户名称*" || head[0][numImportColumns-1] != "采购角色" {
		t.Fatalf("header: %v", head[0])
	}
	help, _ := f.GetRows(sheetHelp)
	joined := ""
	for _, r := range help {
		joined += strings.Join(r, "|") + "\n"
	}
	for _, want := range []string{"企业、个人", "潜在客户", "决策者", "微型", "展会"} {
		if !strings.Contains(joined, want) {
			t.Errorf("说明 lacks %s", want)
		}
	}
	f.Close()

	rep, err := buildReport([]string{"客户名称", "联系人手机"}, []reportRow{{num: 3, raw: []string{"甲", "123"}, bad: map[int]bool{1: true}, reasons: "第 3 行：联系人手机：不是有效的手机号码"}})
	if err != nil {
		t.Fatal(err)
	}
	tb, err := readTable(rep.Bytes(), true) // a corrected report can be imported again
	if err != nil || tb.rows[0].fields[colContactMobile] != "123" {
		t.Fatalf("report: %v", err)
	}
}

func TestEnumLabels(t *testing.T) {
	for in, want := range map[string]string{"企业": "company", "company": "company", " 个人 ": "individual", "Company": "company", "": ""} {
		if got, ok := kindEnum.parse(in); !ok || got != want {
			t.Errorf("kind %q: %q %v", in, got, ok)
		}
	}
	if _, ok := statusEnum.parse("VIP"); ok {
		t.Error("VIP accepted as a status")
	}
	if v, ok := roleEnum.parse("决策人"); !ok || v != "decision_maker" {
		t.Errorf("alias: %q", v)
	}
	if v, ok := parseLevel(DefaultLevels, "b级"); !ok || v != "B" {
		t.Errorf("level: %q", v)
	}
}

// The scanner reads what excelize's own row iterator reads.
func TestScannerMatchesExcelize(t *testing.T) {
	f := excelize.NewFile()
	defer f.Close()
	const sh = "Sheet1"
	vals := map[string]any{
		"A1": "客户名称", "B1": "  leading and trailing  ", "C1": `<tag> & "quotes" 'apos'`, "D1": "多行\n文本", "E1": "_x000D_ literal",
		"A2": 13812345678, "B2": 3.25, "C2": true, "D2": false, "E2": -0.5,
		"A4": "after a gap row", "AA4": "far right", "C5": "", "D5": "x",
	}
	for cell, v := range vals {
		if err := f.SetCellValue(sh, cell, v); err != nil {
			t.Fatal(err)
		}
	}
	f.SetCellRichText(sh, "B3", []excelize.RichTextRun{{Text: "富"}, {Text: "文本", Font: &excelize.Font{Bold: true}}})
	f.SetCellFormula(sh, "C3", "1+1")
	f.NewSheet("Sheet2")
	sw, _ := f.NewStreamWriter("Sheet2")
	sw.SetRow("A1", []any{"流式", 42, "a&b"})
	sw.Flush()
	buf, err := f.WriteToBuffer()
	if err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	zr, _ := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	parts, err := workbookParts(zr)
	if err != nil {
		t.Fatal(err)
	}
	var sst []string
	if sf := parts.files[strings.ToLower(parts.strings)]; sf != nil {
		if sst, err = readSharedStrings(sf); err != nil {
			t.Fatal(err)
		}
	}
	ef, _ := excelize.OpenReader(bytes.NewReader(data))
	defer ef.Close()
	for _, s := range parts.sheets {
		want, err := ef.GetRows(s.name, excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		var got [][]string
		rc, _ := parts.files[strings.ToLower(s.part)].Open()
		err = scanSheet(rc, sst, func() int { return 0 }, func(num int, cells []string) error {
			for len(got) < num-1 {
				got = append(got, nil)
			}
			got = append(got, append([]string(nil), cells...))
			return nil
		})
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		norm := func(rows [][]string) string {
			var b strings.Builder
			for i, r := range rows {
				for len(r) > 0 && r[len(r)-1] == "" {
					r = r[:len(r)-1]
				}
				fmt.Fprintf(&b, "%d:%q\n", i+1, r)
			}
			return strings.TrimRight(b.String(), "\n")
		}
		if norm(got) != norm(want) {
			t.Errorf("%s:\nscanner:\n%s\nexcelize:\n%s", s.name, norm(got), norm(want))
		}
	}
}

// Other writers: namespace prefixes, phonetic guides, CDATA, comments,
// character references, inline strings, cells without references.
func TestScannerHandWritten(t *testing.T) {
	sheet := `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>
<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>客户名称</x:t></x:is></x:c><x:c t="s"><x:v>0</x:v></x:c></x:row>
<!-- a comment with a > sign -->
<x:row><x:c t="inlineStr"><x:is><x:r><x:t xml:space="preserve">甲 </x:t></x:r><x:r><x:rPr><x:b/></x:rPr><x:t>公司</x:t></x:r><x:rPh sb="0" eb="1"><x:t>コウ</x:t></x:rPh></x:is></x:c>
<x:c><x:v>1.3812345678E10</x:v></x:c><x:c r="D2" t="str"><x:f>A1&amp;"x"</x:f><x:v>&#x4E59;&amp;&#20025;</x:v></x:c></x:row>
<x:row r="5" spans="1:3"><x:c r="A5" t="inlineStr"><x:is><x:t><![CDATA[<丙> & 丁]]></x:t></x:is></x:c><x:c r="C5" t="e"><x:v>#N/A</x:v></x:c></x:row>
</x:sheetData><x:mergeCells count="1"><x:mergeCell ref="A5:B5"/></x:mergeCells></x:worksheet>`
	sst := `<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><si><r><t>联系</t></r><r><t>人手机</t></r><rPh><t>ignored</t></rPh></si></sst>`
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range map[string]string{
		"_rels/.rels":                `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="/xl/workbook.xml"/></Relationships>`,
		"xl/workbook.xml":            `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="数据" sheetId="1" r:id="rId7"/></sheets></workbook>`,
		"xl/_rels/workbook.xml.rels": `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId7" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/data.xml"/><Relationship Id="rId8" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="strings.xml"/></Relationships>`,
		"xl/worksheets/data.xml":     sheet,
		"xl/strings.xml":             sst,
	} {
		w, _ := zw.Create(name)
		w.Write([]byte(body))
	}
	zw.Close()
	tb, err := readTable(buf.Bytes(), true)
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.rows) != 2 {
		t.Fatalf("rows: %+v", tb.rows)
	}
	r := tb.rows[0]
	if r.num != 2 || r.fields[colName] != "甲 公司" || r.fields[colContactMobile] != "13812345678" {
		t.Fatalf("row 2: %q", r.raw)
	}
	if tb.rows[1].num != 5 || tb.rows[1].fields[colName] != "<丙> & 丁" || tb.rows[1].fields[colContactMobile] != "<丙> & 丁" {
		t.Fatalf("row 5 (merged A5:B5): %q", tb.rows[1].raw)
	}
	// D2 is outside the two header columns: dropped, not an error.
	if len(r.raw) != 2 {
		t.Fatalf("raw: %q", r.raw)
	}
	if got := xmlText([]byte("&#x4E59;&amp;&#20025;&lt;_x000D_&#99999999;")); got != "乙&丹<\r&#99999999;" {
		t.Fatalf("xmlText: %q", got)
	}
	// Truncated or malformed XML is an invalid file, not a panic.
	for _, broken := range []string{sheet[:len(sheet)/2], strings.Replace(sheet, "</x:c>", "", 1), strings.Replace(sheet, `r="5"`, `r="1"`, 1)} {
		var b2 bytes.Buffer
		zw := zip.NewWriter(&b2)
		zr, _ := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
		for _, f := range zr.File {
			if f.Name == "xl/worksheets/data.xml" {
				w, _ := zw.Create(f.Name)
				w.Write([]byte(broken))
				continue
			}
			zw.Copy(f)
		}
		zw.Close()
		if _, err := readTable(b2.Bytes(), true); codeOf(err) != "invalid_file" {
			t.Errorf("broken sheet: %v", err)
		}
	}
}

// The import checks rows with prepareAccount's rules, but with the levels
// and the owners loaded once (see importRun.prepare): both must give the same
// account, contacts, department and field problems for every input.
func TestImportRulesMatchForm(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := db.Ms(d.Now())
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := d.Exec(ctx, q, args...); err != nil {
				t.Fatal(err)
			}
		}
		exec("INSERT INTO departments (id, name, created_at, updated_at) VALUES ('d1', '一部', ?, ?), ('d2', '二部', ?, ?)", now, now, now, now)
		for _, u := range []struct {
			id, dept string
			active   bool
		}{{"me", "d1", true}, {"peer", "d1", true}, {"far", "d2", true}, {"gone", "d1", false}, {"nodept", "", true}} {
			var dept any
			if u.dept != "" {
				dept = u.dept
			}
			exec(`INSERT INTO users (id, username, username_key, display_name, department_id, password_hash, active, created_at, updated_at)
				VALUES (?, ?, ?, ?, ?, 'x', ?, ?, ?)`, u.id, u.id, u.id, u.id, dept, u.active, now, now)
		}
		exec("INSERT INTO settings (key, value, updated_at) VALUES ('customers.levels', 'S,A,B', ?)", now)
		s := NewService(d, audit.New(d, []byte("k")), search.New(d))
		long := strings.Repeat("长", 4001)
		inputs := []AccountInput{
			{Name: "甲公司"},
			{Name: "  乙公司  ", Kind: "company", USCC: " 91350100m000100y43 ", Industry: "软件", Size: "medium", ProvinceCode: "440000", CityCode: "440300",
				DistrictCode: "440305", Address: "科技园", Source: "exhibition", Level: "A", Status: "active", Tags: []string{"a", " a ", "b"}, Needs: "n", Concerns: "c"},
			{Name: ""},
			{Name: strings.Repeat("名", 129), Kind: "vip", Size: "huge", Source: "tv", Level: "D", Status: "x"},
			{Name: "丙", Kind: "individual", USCC: "91350100M000100Y43"},
			{Name: "丁", USCC: "91350100M000100Y44", ProvinceCode: "440000", CityCode: "110100"},
			{Name: "戊", ProvinceCode: "999999"},
			{Name: "己", DistrictCode: "440305"},
			{Name: "庚", Needs: long, Concerns: long, Address: strings.Repeat("址", 257), Industry: strings.Repeat("业", 65)},
			{Name: "辛", Tags: strings.Split(strings.Repeat("t,", 21)+"u", ",")},
			{Name: "壬", Tags: []string{strings.Repeat("签", 33)}},
			{Name: "癸\x01"},
			{Name: "a", OwnerID: "peer"},
			{Name: "b", OwnerID: "far"},
			{Name: "c", OwnerID: "gone"},
			{Name: "d", OwnerID: "nobody"},
			{Name: "e", OwnerID: "nodept"},
			{Name: "f", Contacts: []ContactInput{{Name: "王伟", Title: "总监", Mobile: "+86 138-1234-5678", Phone: "0755-12345678", Email: " w@x.cn ", WeChat: "wang_wei", PurchaseRole: "user", IsPrimary: true}}},
			{Name: "g", Contacts: []ContactInput{{Mobile: "123", Phone: "abc", Email: "bad", WeChat: "中文", PurchaseRole: "boss", Notes: long}}},
		}
		for _, scope := range []authz.Scope{authz.ScopeOwn, authz.ScopeDepartment, authz.ScopeAll} {
			p := &authz.Principal{UserID: "me", Username: "me", DepartmentID: "d1", Departments: []string{"d1"}, Scope: scope, Permissions: map[string]bool{}}
			ctx := authz.With(ctx, p)
			run := &importRun{s: s, p: p, levels: s.levels(ctx, d)}
			if err := run.loadUsers(ctx); err != nil {
				t.Fatal(err)
			}
			for i, in := range inputs {
				var v1, v2 errs.Validation
				a1, c1, d1, err := s.prepareAccount(ctx, d, in, &v1)
				if err != nil {
					t.Fatal(err)
				}
				a2, c2, d2 := run.prepare(in, &v2)
				if !reflect.DeepEqual(a1, a2) || !reflect.DeepEqual(c1, c2) || deref(d1) != deref(d2) {
					t.Errorf("%s input %d: form %+v %+v %q\nimport %+v %+v %q", scope, i, a1, c1, deref(d1), a2, c2, deref(d2))
				}
				if e1, e2 := fmt.Sprint(v1.Err()), fmt.Sprint(v2.Err()); e1 != e2 || !reflect.DeepEqual(fieldsOf(v1.Err()), fieldsOf(v2.Err())) {
					t.Errorf("%s input %d: form %v\nimport %v", scope, i, fieldsOf(v1.Err()), fieldsOf(v2.Err()))
				}
			}
		}
	})
}

func fieldsOf(err error) map[string]errs.Field {
	if e, ok := err.(*errs.Error); ok {
		return e.Fields
	}
	return nil
}

// The sheet scanner and the CSV reader never panic (readTable's recover is
// only a last net) and never return rows out of order.
func FuzzScanSheet(f *testing.F) {
	f.Add([]byte(`<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>客户名称</t></is></c></row><row r="3"><c t="s"><v>0</v></c><c r="C3"><v>1.2E3</v></c></row></sheetData><mergeCells><mergeCell ref="A1:B2"/></mergeCells></worksheet>`))
	f.Add([]byte(`<x:sheetData><x:row><x:c><x:v>&#x41;&amp;_x000D_</x:v></x:c></x:row></x:sheetData>`))
	f.Add([]byte("<sheetData><row r=\"2\"><c r=\"XFD2\" t='s'><v>9</v></c></row><!-- > --><![CDATA[x]]></sheetData>"))
	f.Add([]byte("客户名称,联系人手机\n\"甲\"\"公司\",13812345678\n"))
	f.Add([]byte("<sheetData></row>0")) // once emitted a row 0
	f.Fuzz(func(t *testing.T, data []byte) {
		last := 0
		scanSheet(bytes.NewReader(data), []string{"a"}, func() int { return 30 }, func(num int, cells []string) error {
			if num <= last {
				t.Fatalf("row %d after %d", num, last)
			}
			last = num
			return nil
		})
		afterSheetData(bytes.NewReader(data))
		readCSV(data, true)
		xmlText(data)
		attr(data, "r")
		tagName(data)
		columnOf(data)
	})
}

// BenchmarkReadXLSX100k reads a 100,000-row upload as the import does (the
// upload check, whose rows the job then uses):
//
//	go test ./internal/customers -run '^$' -bench ReadXLSX100k
func BenchmarkReadXLSX100k(b *testing.B) {
	f := excelize.NewFile()
	f.SetSheetName("Sheet1", sheetAccounts)
	sw, err := f.NewStreamWriter(sheetAccounts)
	if err != nil {
		b.Fatal(err)
	}
	header := []any{"客户名称", "客户类型", "统一社会信用代码", "省份", "城市", "区县", "客户来源", "客户等级", "标签", "负责人",
		"联系人姓名", "联系人职务", "联系人手机", "联系人邮箱", "采购角色"}
	sw.SetRow("A1", header)
	for i := range 100000 {
		sw.SetRow("A"+strconv.Itoa(i+2), []any{fmt.Sprintf("基准测试客户%06d有限公司", i), "企业", "", "广东", "深圳", "南山区", "展会", "B", "基准，导入", "",
			fmt.Sprintf("联系人%d", i), "经理", fmt.Sprintf("139%08d", i), fmt.Sprintf("c%d@bench.cn", i), "决策者"})
	}
	if err := sw.Flush(); err != nil {
		b.Fatal(err)
	}
	buf, err := f.WriteToBuffer()
	if err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.ResetTimer()
	for range b.N {
		t, err := readTable(data, true)
		if err != nil || t.total != 100000 {
			b.Fatal(err)
		}
	}
}

// The rows read before the merges' pass reports are kept and added when it
// does: the sheet tests again, with that pass reporting last.
func TestReadXLSXMergesLate(t *testing.T) {
	mergesHook = func() { time.Sleep(30 * time.Millisecond) }
	defer func() { mergesHook = nil }()
	for name, test := range map[string]func(*testing.T){"header": TestHeaderMatching, "merged": TestMergedCells, "numbers": TestNumberFormattedMobiles,
		"hostile": TestHostileFiles, "bomb": TestZipBomb, "limit": TestRowLimit, "excelize": TestScannerMatchesExcelize, "hand": TestScannerHandWritten} {
		t.Run(name, test)
	}
}

// A job that finds no rows parsed by its upload (run by another instance,
// after a restart, or retried) reads the stored upload and imports it the
// same way.
func TestImportJobReadsStoredUpload(t *testing.T) {
	dbtest.ForEach(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		now := db.Ms(d.Now())
		for _, q := range []string{
			"INSERT INTO departments (id, name, created_at, updated_at) VALUES ('d1', '一部', ?, ?)",
			`INSERT INTO users (id, username, username_key, display_name, department_id, password_hash, active, created_at, updated_at)
				VALUES ('me', 'me', 'me', '我', 'd1', 'x', TRUE, ?, ?)`,
		} {
			if _, err := d.Exec(ctx, q, now, now); err != nil {
				t.Fatal(err)
			}
		}
		s := NewService(d, audit.New(d, []byte("0123456789abcdef0123456789abcdef")), search.New(d))
		p := &authz.Principal{UserID: "me", Username: "me", DisplayName: "我", DepartmentID: "d1", Departments: []string{"d1"}, Scope: authz.ScopeAll,
			Permissions: map[string]bool{authz.CustomersImport: true}}
		s.RegisterImportJobs(jobs.New(d, nil, jobs.Options{}), func(context.Context, string) (*authz.Principal, error) { return p, nil })
		ctx = authz.With(ctx, p)
		data := xlsxOf(t, [][]any{{"客户名称", "联系人姓名", "联系人手机"}, {"甲公司", "王伟", "13812345678"}, {"乙公司", "", ""}}, nil)
		im, err := s.StartImport(ctx, data, ImportOptions{Mode: "commit"})
		if err != nil {
			t.Fatal(err)
		}
		parsedUploads.Delete(im.ID)
		if err := s.runImportJob(ctx, &jobs.Job{Kind: ImportJobKind, Payload: []byte(`{"import_id":"` + im.ID + `"}`), Attempt: 1, MaxAttempts: 3}); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetImport(ctx, im.ID, "")
		if err != nil || got.Status != ImportDone || got.Counts.Created != 2 {
			t.Fatalf("import: %+v %v", got, err)
		}
		var accounts, contacts int
		var stored []byte
		if err := d.QueryRow(ctx, "SELECT (SELECT COUNT(*) FROM accounts), (SELECT COUNT(*) FROM contacts), (SELECT data FROM imports)").Scan(&accounts, &contacts, &stored); err != nil {
			t.Fatal(err)
		}
		if accounts != 2 || contacts != 1 || stored != nil {
			t.Fatalf("%d accounts, %d contacts, upload kept: %v", accounts, contacts, stored != nil)
		}
	})
}

// The import writes its audit entries' JSON directly; it says what the maps
// it used to build said, encoded as audit.Record encodes them.
func TestImportAuditJSONMatchesMaps(t *testing.T) {
	accounts := []*Account{{}, {ID: "01939a7c-0000-7000-8000-000000000001", Name: "基准测试客户000001有限公司", Kind: "company", ProvinceCode: "440000",
		CityCode: "440300", DistrictCode: "440305", RegionName: "广东省 深圳市 南山区", Source: "exhibition", Level: "B", Status: "prospect", OwnerID: "u1",
		Tags: []string{"基准", "导入"}},
		{ID: "x", Name: `A&B <"公司">`, Kind: "individual", USCC: "91350100M000100Y43", Industry: "软件\n", Size: "medium", Address: "科技园\u2028",
			Needs: "n\t", Concerns: "c", Status: "active", OwnerID: "u2", Tags: []string{"<t>"}}}
	var o audit.Object
	stored := func(m map[string][2]any) string { // as audit.Record stores a map
		if len(m) == 0 {
			return ""
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	for _, a := range accounts {
		want := stored(createdChangesMap(a))
		o.Reset() // one object for all, as the import does
		createdChanges(&o, a)
		if got := o.JSON(); got != want {
			t.Errorf("account changes\n got %s\nwant %s", got, want)
		}
	}
	for _, c := range []*ContactInput{{}, {Name: "王伟", Title: "总监", Mobile: "13812345678", Phone: "0755-12345678", Email: "w@x.cn", WeChat: "wang_wei",
		PurchaseRole: "user", IsPrimary: true}, {Name: "<&>", Email: "bad"}} {
		want := stored(maskedContactChangesMap(c))
		o.Reset()
		maskedContactChanges(&o, c)
		if got := o.JSON(); got != want {
			t.Errorf("contact changes\n got %s\nwant %s", got, want)
		}
	}
}

// createdChangesMap is what the import audited for a new account before
// its changes were written as JSON directly.
func createdChangesMap(a *Account) map[string][2]any {
	m := map[string][2]any{}
	set := func(k string, v string) {
		if v != "" {
			m[k] = [2]any{nil, v}
		}
	}
	set("id", a.ID)
	set("name", a.Name)
	set("kind", a.Kind)
	set("uscc", a.USCC)
	set("industry", a.Industry)
	set("size", a.Size)
	set("province_code", a.ProvinceCode)
	set("city_code", a.CityCode)
	set("district_code", a.DistrictCode)
	set("region_name", a.RegionName)
	set("address", a.Address)
	set("source", a.Source)
	set("level", a.Level)
	set("status", a.Status)
	set("owner_id", a.OwnerID)
	set("needs", a.Needs)
	set("concerns", a.Concerns)
	if len(a.Tags) > 0 {
		m["tags"] = [2]any{nil, a.Tags}
	}
	return m
}

// maskedContactChangesMap is what the import audited for a new contact.
func maskedContactChangesMap(c *ContactInput) map[string][2]any {
	m := map[string][2]any{}
	for k, v := range map[string]string{"name": c.Name, "title": c.Title, "mobile": mask.Mobile(c.Mobile), "phone": mask.Mobile(c.Phone),
		"email": mask.Email(c.Email), "wechat": mask.Mobile(c.WeChat), "purchase_role": c.PurchaseRole} {
		if v != "" {
			m[k] = [2]any{nil, v}
		}
	}
	m["is_primary"] = [2]any{nil, c.IsPrimary}
	return m
}
