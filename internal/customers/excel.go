package customers

// Spreadsheet formats of the customer archive: reading uploaded .xlsx and
// .csv files into rows keyed by the import template's columns, and writing
// the template, the error report and exports. Everything a user can upload is
// hostile until proven otherwise: sizes are bounded before anything is
// inflated, parsing never panics out, and every problem is a domain error
// naming the file, the row or the column.

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/xml"
	"errors"
	"io"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	xunicode "golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"prelude/internal/platform/errs"
)

// Limits on uploads. Variables so that tests can lower them.
var (
	// maxImportRows is the most data rows one import takes.
	maxImportRows = 100000
	// unzipSizeLimit bounds the inflated size of an .xlsx (zip-bomb guard).
	// The sheet itself is streamed, never held in memory; the shared
	// strings are (as excelize does below 50 MB).
	unzipSizeLimit int64 = 200 << 20
	// maxMergeTail bounds what is read after a sheet's data when looking
	// for merged cells.
	maxMergeTail int64 = 8 << 20
)

// maxUploadBytes is the request body limit of an import.
const maxUploadBytes = 20 << 20

// headerSearchRows is how many leading non-empty rows may precede the header
// row (a title row above the table is common).
const headerSearchRows = 10

// Import template columns, in template order.
const (
	colName = iota
	colKind
	colUSCC
	colIndustry
	colSize
	colProvince
	colCity
	colDistrict
	colAddress
	colSource
	colLevel
	colStatus
	colTags
	colOwner
	colNeeds
	colConcerns
	colContactName
	colContactTitle
	colContactMobile
	colContactPhone
	colContactEmail
	colContactWeChat
	colPurchaseRole
	numImportColumns
)

// importColumn is one column of the template.
type importColumn struct {
	Header   string   // Chinese header as in the template (without the * mark)
	Field    string   // the validation field it feeds ("contacts.0.mobile")
	Required bool     // the header must be present and the cell filled
	Aliases  []string // other accepted headers (API-style English names)
	Note     string   // explanation on the 说明 sheet
	Width    float64
}

var importColumns = [numImportColumns]importColumn{
	colName:          {"客户名称", "name", true, []string{"name", "account_name", "公司名称", "客户全称"}, "企业全称或个人姓名，最多 128 个字符。", 28},
	colKind:          {"客户类型", "kind", false, []string{"kind"}, "留空为“企业”。", 10},
	colUSCC:          {"统一社会信用代码", "uscc", false, []string{"uscc"}, "18 位，含校验位；只有企业客户填写。", 22},
	colIndustry:      {"行业", "industry", false, []string{"industry"}, "自由填写，最多 64 个字符。", 12},
	colSize:          {"规模", "size", false, []string{"size"}, "", 10},
	colProvince:      {"省份", "province_code", false, []string{"province"}, "省级行政区名称，可用简称：广东省 或 广东、北京市 或 北京。", 10},
	colCity:          {"城市", "city_code", false, []string{"city"}, "地级市名称，可用简称：深圳市 或 深圳。直辖市可留空或填写市名。", 10},
	colDistrict:      {"区县", "district_code", false, []string{"district"}, "区县名称，如 南山区；同名区县须同时填写省份或城市。", 10},
	colAddress:       {"详细地址", "address", false, []string{"address"}, "街道门牌，最多 256 个字符。", 30},
	colSource:        {"客户来源", "source", false, []string{"source"}, "", 12},
	colLevel:         {"客户等级", "level", false, []string{"level"}, "系统设置中的客户等级（默认 A、B、C、D）。", 10},
	colStatus:        {"客户状态", "status", false, []string{"status"}, "留空为“潜在客户”。", 10},
	colTags:          {"标签", "tags", false, []string{"tags"}, "多个标签用 ，或 , 或 、 分隔；每个最多 32 个字符，最多 20 个。", 16},
	colOwner:         {"负责人", "owner_id", false, []string{"owner", "owner_username"}, "负责人的用户名（登录名）；留空则为导入人。", 12},
	colNeeds:         {"需求", "needs", false, []string{"needs"}, "最多 4000 个字符。", 30},
	colConcerns:      {"关注点", "concerns", false, []string{"concerns"}, "最多 4000 个字符。", 30},
	colContactName:   {"联系人姓名", "contacts.0.name", false, []string{"contact_name"}, "填写任一联系人列时必填。", 12},
	colContactTitle:  {"联系人职务", "contacts.0.title", false, []string{"contact_title"}, "", 12},
	colContactMobile: {"联系人手机", "contacts.0.mobile", false, []string{"contact_mobile", "mobile"}, "11 位中国大陆手机号，或以 + 开头的国际号码；请设置为文本格式以免显示为科学计数法。", 15},
	colContactPhone:  {"联系人电话", "contacts.0.phone", false, []string{"contact_phone", "phone"}, "座机，如 0755-12345678。", 15},
	colContactEmail:  {"联系人邮箱", "contacts.0.email", false, []string{"contact_email", "email"}, "", 22},
	colContactWeChat: {"联系人微信", "contacts.0.wechat", false, []string{"contact_wechat", "wechat"}, "6–20 位字母、数字、_ 或 -。", 15},
	colPurchaseRole:  {"采购角色", "contacts.0.purchase_role", false, []string{"purchase_role"}, "", 12},
}

// Columns written by exports in addition to the template's. Imports accept
// and ignore them (and the report's reason column), so an export or a
// corrected error report can be imported again.
const (
	hdrOwnerName   = "负责人姓名"
	hdrLastContact = "最后联系时间"
	hdrCreatedAt   = "创建时间"
	hdrReason      = "错误原因"
)

var ignoredHeaders = []string{hdrOwnerName, hdrLastContact, hdrCreatedAt, hdrReason}

// Sheet names.
const (
	sheetAccounts = "客户"
	sheetHelp     = "说明"
)

// Chinese labels of the enumerations, accepted in imports next to the API
// values and written by exports. Aliases are further accepted spellings.
type enumLabels struct {
	values  []string
	labels  map[string]string   // value → label
	aliases map[string][]string // value → other spellings
}

var (
	kindEnum = enumLabels{Kinds, map[string]string{"company": "企业", "individual": "个人"},
		map[string][]string{"company": {"公司", "单位", "企业客户"}, "individual": {"个人客户", "自然人"}}}
	sizeEnum = enumLabels{Sizes, map[string]string{"micro": "微型", "small": "小型", "medium": "中型", "large": "大型", "enterprise": "特大型"},
		map[string][]string{"micro": {"微型企业"}, "small": {"小型企业"}, "medium": {"中型企业"}, "large": {"大型企业"}, "enterprise": {"超大型", "集团"}}}
	sourceEnum = enumLabels{Sources, map[string]string{"referral": "转介绍", "website": "官网", "exhibition": "展会", "ecommerce": "电商平台",
		"cold_call": "电话开发", "advertising": "广告", "partner": "合作伙伴", "inquiry": "询盘", "other": "其他"},
		map[string][]string{"referral": {"客户介绍", "老客户介绍"}, "website": {"网站", "官方网站"}, "exhibition": {"展览会"}, "ecommerce": {"电商"},
			"cold_call": {"陌拜", "陌生拜访", "电话营销"}, "partner": {"渠道"}, "inquiry": {"咨询"}}}
	statusEnum = enumLabels{Statuses, map[string]string{"prospect": "潜在客户", "active": "合作中", "dormant": "休眠", "lost": "流失"},
		map[string][]string{"prospect": {"潜在"}, "active": {"活跃", "成交客户"}, "dormant": {"沉睡", "休眠客户"}, "lost": {"已流失", "流失客户"}}}
	roleEnum = enumLabels{PurchaseRoles, map[string]string{"decision_maker": "决策者", "influencer": "影响者", "user": "使用者", "gatekeeper": "把关者", "other": "其他"},
		map[string][]string{"decision_maker": {"决策人"}, "influencer": {"影响人"}, "user": {"用户", "使用人"}, "gatekeeper": {"守门人"}}}
)

// parse maps a label, alias or API value to the value; ok is false for
// anything else. Empty input is ("", true).
func (e enumLabels) parse(s string) (string, bool) {
	if s == "" {
		return "", true
	}
	// Exactly a value or a label: the common case, without normalising.
	if _, ok := e.labels[s]; ok {
		return s, true
	}
	for v, l := range e.labels {
		if l == s {
			return v, true
		}
	}
	k := labelKey(s)
	if k == "" {
		return "", true
	}
	for _, v := range e.values {
		if k == labelKey(v) || k == labelKey(e.labels[v]) {
			return v, true
		}
		for _, a := range e.aliases[v] {
			if k == labelKey(a) {
				return v, true
			}
		}
	}
	return "", false
}

// label returns the Chinese label of a value (the value itself if unknown).
func (e enumLabels) label(v string) string {
	if l, ok := e.labels[v]; ok {
		return l
	}
	return v
}

// choices lists the labels for messages and the template: 企业、个人.
func (e enumLabels) choices() string {
	out := make([]string, len(e.values))
	for i, v := range e.values {
		out[i] = e.label(v)
	}
	return strings.Join(out, "、")
}

func labelKey(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(norm.NFKC.String(s)), ""))
}

// headerKey normalises a header cell: full-width forms, spaces, the
// required-column mark and a "(必填)" note do not matter.
func headerKey(s string) string {
	k := labelKey(s)
	k = strings.NewReplacer("*", "", "(必填)", "", "（必填）", "").Replace(k)
	return k
}

var headerIndex = func() map[string]int {
	m := map[string]int{}
	for i, c := range importColumns {
		m[headerKey(c.Header)] = i
		for _, a := range c.Aliases {
			m[headerKey(a)] = i
		}
	}
	for _, h := range ignoredHeaders {
		m[headerKey(h)] = -1
	}
	return m
}()

// table is an uploaded sheet: its header and its non-empty data rows.
type table struct {
	headerRow int      // 1-based row number of the header
	headers   []string // header cells as written (trimmed), by file column
	colOf     []int    // file column → template column (-1: ignored)
	present   [numImportColumns]bool
	total     int // non-empty data rows
	rows      []tableRow
}

// tableRow is one data row: its number as the spreadsheet shows it, its
// cells by file column (for the error report) and by template column.
type tableRow struct {
	num    int
	raw    []string
	fields [numImportColumns]string
}

// fileError is a problem with the whole upload (422).
func fileError(code, key string, args ...any) *errs.Error {
	return &errs.Error{Kind: errs.Invalid, Code: code, Key: key, Args: args}
}

func invalidFile() *errs.Error {
	return fileError("invalid_file", "customers.import_invalid_file")
}

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
	utf8BOM  = []byte{0xEF, 0xBB, 0xBF}
)

// readTable reads an uploaded .xlsx or .csv. With keep false it only checks
// the file and counts its rows (the upload request does this before
// queueing). Problems are *errs.Error values of kind Invalid.
func readTable(data []byte, keep bool) (t *table, err error) {
	defer func() {
		// A malformed file must never take the server down, whatever the
		// readers below missed (FuzzScanSheet runs them without this net).
		if r := recover(); r != nil {
			t, err = nil, invalidFile()
		}
	}()
	switch {
	case len(bytes.TrimSpace(data)) == 0:
		return nil, fileError("empty_file", "customers.import_empty")
	case bytes.HasPrefix(data, zipMagic):
		return readXLSX(data, keep)
	case bytes.HasPrefix(data, oleMagic):
		// Legacy .xls, or an encrypted workbook (also an OLE container).
		return nil, fileError("unsupported_format", "customers.import_xls")
	}
	return readCSV(data, keep)
}

// tableBuilder turns raw rows into a table: finds the header, maps columns,
// skips empty rows and enforces the row limit.
type tableBuilder struct {
	keep   bool
	t      *table
	before int // non-empty rows seen before the header
}

func (b *tableBuilder) add(num int, cells []string) error {
	empty := true
	for i, c := range cells {
		c = strings.TrimSpace(c)
		cells[i] = c
		if c != "" {
			empty = false
		}
	}
	if empty {
		return nil
	}
	t := b.t
	if t.headers == nil {
		if !b.isHeader(cells) {
			if b.before++; b.before >= headerSearchRows {
				return missingHeaders(nil)
			}
			return nil
		}
		return b.setHeader(num, cells)
	}
	t.total++
	if t.total > maxImportRows {
		return fileError("too_many_rows", "customers.import_too_many_rows", maxImportRows)
	}
	if !b.keep {
		return nil
	}
	row := tableRow{num: num, raw: make([]string, len(t.headers))}
	for i, c := range cells {
		if i >= len(t.headers) {
			break
		}
		row.raw[i] = c
		if col := t.colOf[i]; col >= 0 {
			row.fields[col] = c
		}
	}
	t.rows = append(t.rows, row)
	return nil
}

// isHeader: the first row naming any known column is the header.
func (b *tableBuilder) isHeader(cells []string) bool {
	for _, c := range cells {
		if _, ok := headerIndex[headerKey(c)]; ok && c != "" {
			return true
		}
	}
	return false
}

func (b *tableBuilder) setHeader(num int, cells []string) error {
	t := b.t
	// Trailing empty header cells do not count as columns.
	n := len(cells)
	for n > 0 && cells[n-1] == "" {
		n--
	}
	t.headerRow = num
	t.headers = append([]string(nil), cells[:n]...)
	t.colOf = make([]int, n)
	var unknown, dup []string
	seen := map[int]bool{}
	for i, h := range t.headers {
		t.colOf[i] = -1
		if h == "" {
			continue // an unnamed column is ignored
		}
		col, ok := headerIndex[headerKey(h)]
		switch {
		case !ok:
			unknown = append(unknown, h)
		case col < 0:
		case seen[col]:
			dup = append(dup, h)
		default:
			seen[col] = true
			t.colOf[i] = col
			t.present[col] = true
		}
	}
	if len(unknown) > 0 {
		return fileError("unknown_columns", "customers.import_unknown_columns", strings.Join(unknown, "、"))
	}
	if len(dup) > 0 {
		return fileError("duplicate_columns", "customers.import_duplicate_columns", strings.Join(dup, "、"))
	}
	var missing []string
	for i, c := range importColumns {
		if c.Required && !t.present[i] {
			missing = append(missing, c.Header)
		}
	}
	if len(missing) > 0 {
		return missingHeaders(missing)
	}
	return nil
}

func missingHeaders(missing []string) error {
	if missing == nil {
		for _, c := range importColumns {
			if c.Required {
				missing = append(missing, c.Header)
			}
		}
	}
	return fileError("missing_columns", "customers.import_missing_columns", strings.Join(missing, "、"))
}

func (b *tableBuilder) finish() (*table, error) {
	if b.t.headers == nil {
		return nil, missingHeaders(nil)
	}
	if b.t.total == 0 {
		return nil, fileError("empty_file", "customers.import_empty")
	}
	return b.t, nil
}

// ---- .xlsx ----

// Reading uses a streaming scanner of the sheet's XML rather than excelize's
// row iterator: excelize decodes every cell with encoding/xml, which took 6 s
// (18 s on a busy machine) for 100,000 rows; the scanner reads the same rows
// in a fraction of a second with constant memory. It understands what
// SpreadsheetML writers produce (Excel, WPS, LibreOffice, excelize,
// openpyxl): shared and inline strings, rich-text runs (phonetic runs
// skipped), numbers, booleans, namespace prefixes, entities and _xHHHH_
// escapes. Writing still uses excelize.

// xlsxParts is where a workbook keeps its sheets and shared strings.
type xlsxParts struct {
	files   map[string]*zip.File // by lower-case path
	sheets  []xlsxSheet          // in workbook order
	strings string               // shared strings part ("" if none)
}

type xlsxSheet struct{ name, part string }

func readXLSX(data []byte, keep bool) (*table, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, invalidFile()
	}
	// The zip-bomb guard: the declared sizes bound what is inflated, and
	// archive/zip refuses an entry that inflates beyond its declared size.
	var total uint64
	for _, f := range zr.File {
		total += f.UncompressedSize64
		if total > uint64(unzipSizeLimit) || f.UncompressedSize64 > uint64(unzipSizeLimit) {
			return nil, tooBig()
		}
	}
	parts, err := workbookParts(zr)
	if err != nil {
		return nil, err
	}
	sheet := parts.sheets[0]
	for _, sh := range parts.sheets {
		if strings.TrimSpace(sh.name) == sheetAccounts {
			sheet = sh
			break
		}
	}
	sf := parts.files[strings.ToLower(sheet.part)]
	if sf == nil {
		return nil, invalidFile()
	}
	var sst []string
	if f := parts.files[strings.ToLower(parts.strings)]; f != nil {
		if sst, err = readSharedStrings(f); errs.CodeOf(err) == "file_too_large" {
			return nil, err
		} else if err != nil {
			return nil, invalidFile()
		}
	}
	// The merged cells, listed after the rows, are found by a second pass
	// over the sheet. It runs alongside the main pass, which keeps the rows
	// it reads meanwhile until the merges are known (usually a small
	// share), and the main pass inflates the sheet ahead of its scanner:
	// for a 100,000-row upload, both waited in turn.
	merged := make(chan mergeResult, 1)
	go func() {
		defer func() {
			if recover() != nil {
				merged <- mergeResult{err: invalidFile()}
			}
		}()
		rs, err := mergedRanges(sf)
		if mergesHook != nil {
			mergesHook()
		}
		merged <- mergeResult{rs, err}
	}()
	rc, err := sf.Open()
	if err != nil {
		<-merged
		return nil, invalidFile()
	}
	sheetData := readAhead(rc)
	defer sheetData.Close()
	b := &tableBuilder{keep: keep, t: &table{}}
	var mf *mergeFiller
	var early []keptRow // rows read before the merges were known
	add := func(num int, cells []string) error {
		if b.t.headers != nil {
			cells = mf.fill(num, b.t.headerRow, cells, len(b.t.headers))
		} else {
			mf.fill(num, num, nil, 0) // ranges at or above the header are not data
		}
		return b.add(num, cells)
	}
	// merges takes the merges when they are known (waiting for them if
	// wait) and adds the rows kept meanwhile.
	var got *mergeResult
	merges := func(wait bool) error {
		if got != nil {
			return got.err
		}
		if wait {
			m := <-merged
			got = &m
		} else {
			select {
			case m := <-merged:
				got = &m
			default:
				return nil
			}
		}
		if got.err != nil {
			return got.err
		}
		mf = newMergeFiller(got.ranges)
		for _, k := range early {
			if err := add(k.num, k.cells); err != nil {
				return err
			}
		}
		early = nil
		return nil
	}
	err = scanSheet(sheetData, sst, func() int { return len(b.t.headers) }, func(num int, cells []string) error {
		// Past a bound the pass waits for the merges: kept rows are memory.
		if err := merges(len(early) >= maxEarlyRows); err != nil {
			return err
		}
		if mf == nil {
			early = append(early, keptRow{num, slices.Clone(cells)})
			return nil
		}
		return add(num, cells)
	})
	// A problem with the merges, or with a row kept before they were
	// known, comes first: it was first when the merges' pass ran first.
	if merr := merges(true); merr != nil {
		return nil, merr
	}
	if err != nil {
		return nil, err
	}
	return b.finish()
}

// mergesHook, when set (by tests), runs before the merges' pass reports.
var mergesHook func()

type mergeResult struct {
	ranges []cellRange
	err    error
}

// maxEarlyRows bounds the rows kept while the merges are not known.
const maxEarlyRows = 20000

type keptRow struct {
	num   int
	cells []string
}

// readAhead inflates r in a goroutine, a buffer ahead of the reader.
// Closing the result stops the goroutine (and closes r).
func readAhead(r io.ReadCloser) io.ReadCloser {
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if recover() != nil {
				pw.CloseWithError(errBadXML)
			}
		}()
		_, err := io.CopyBuffer(pw, r, make([]byte, 64<<10))
		pw.CloseWithError(err) // nil: EOF
	}()
	return &aheadReader{PipeReader: pr, src: r, done: done}
}

type aheadReader struct {
	*io.PipeReader
	src  io.Closer
	done chan struct{}
}

func (a *aheadReader) Close() error {
	a.PipeReader.Close() // unblocks the goroutine's write
	<-a.done
	return a.src.Close()
}

func tooBig() *errs.Error {
	return fileError("file_too_large", "customers.import_too_big", unzipSizeLimit>>20)
}

// workbookParts resolves the package relationships: _rels/.rels names the
// workbook, whose relationships name the sheets and the shared strings.
func workbookParts(zr *zip.Reader) (*xlsxParts, error) {
	p := &xlsxParts{files: map[string]*zip.File{}}
	for _, f := range zr.File {
		p.files[strings.ToLower(strings.TrimPrefix(strings.ReplaceAll(f.Name, `\`, "/"), "/"))] = f
	}
	type rels struct {
		Rels []struct {
			ID     string `xml:"Id,attr"`
			Type   string `xml:"Type,attr"`
			Target string `xml:"Target,attr"`
			Mode   string `xml:"TargetMode,attr"`
		} `xml:"Relationship"`
	}
	small := func(name string) []byte {
		f := p.files[strings.ToLower(name)]
		if f == nil || f.UncompressedSize64 > 16<<20 {
			return nil
		}
		rc, err := f.Open()
		if err != nil {
			return nil
		}
		defer rc.Close()
		b, _ := io.ReadAll(io.LimitReader(rc, 16<<20))
		return b
	}
	resolve := func(base, target string) string {
		if strings.HasPrefix(target, "/") {
			return strings.TrimPrefix(target, "/")
		}
		return strings.TrimPrefix(path.Join(path.Dir(base), target), "/")
	}
	wbPart := "xl/workbook.xml"
	var root rels
	if xml.Unmarshal(small("_rels/.rels"), &root) == nil {
		for _, r := range root.Rels {
			if strings.HasSuffix(r.Type, "/officeDocument") && r.Mode != "External" {
				wbPart = resolve("/", r.Target)
			}
		}
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var wbRels rels
	if xml.Unmarshal(small(wbPart), &wb) != nil ||
		xml.Unmarshal(small(path.Join(path.Dir(wbPart), "_rels", path.Base(wbPart)+".rels")), &wbRels) != nil {
		return nil, invalidFile()
	}
	byID := map[string]string{}
	for _, r := range wbRels.Rels {
		if r.Mode == "External" {
			continue
		}
		byID[r.ID] = resolve(wbPart, r.Target)
		if strings.HasSuffix(r.Type, "/sharedStrings") {
			p.strings = byID[r.ID]
		}
	}
	for _, s := range wb.Sheets {
		if part, ok := byID[s.RID]; ok {
			p.sheets = append(p.sheets, xlsxSheet{s.Name, part})
		}
	}
	if len(p.sheets) == 0 {
		return nil, invalidFile()
	}
	return p, nil
}

// xmlScanner reads markup from a stream: each call to next skips (or
// keeps) the text up to the next tag and returns the tag's contents.
type xmlScanner struct {
	r    *bufio.Reader
	tag  []byte
	text []byte
}

func newXMLScanner(r io.Reader) *xmlScanner {
	return &xmlScanner{r: bufio.NewReaderSize(r, 256<<10)}
}

var errBadXML = errors.New("malformed XML")

// next returns the contents of the next tag (between < and >); the text
// before it is in s.text when keepText. Comments are skipped and CDATA
// sections join the text.
func (s *xmlScanner) next(keepText bool) ([]byte, error) {
	s.text = s.text[:0]
	for {
		for {
			chunk, err := s.r.ReadSlice('<')
			if keepText {
				s.text = append(s.text, chunk...)
			}
			if err == nil {
				break
			}
			if err != bufio.ErrBufferFull {
				return nil, err
			}
		}
		if keepText {
			s.text = s.text[:len(s.text)-1]
		}
		s.tag = s.tag[:0]
		var quote byte
		for {
			chunk, err := s.r.ReadSlice('>')
			s.tag = append(s.tag, chunk...)
			if err == bufio.ErrBufferFull {
				continue
			}
			if err != nil {
				return nil, errBadXML
			}
			t := s.tag
			if bytes.HasPrefix(t, []byte("!--")) {
				if bytes.HasSuffix(t, []byte("-->")) {
					break // a comment
				}
				continue
			}
			if bytes.HasPrefix(t, []byte("![CDATA[")) {
				if bytes.HasSuffix(t, []byte("]]>")) {
					if keepText {
						s.text = append(s.text, t[8:len(t)-3]...)
					}
					break
				}
				continue
			}
			for _, c := range chunk {
				switch {
				case quote == 0 && (c == '"' || c == '\''):
					quote = c
				case c == quote:
					quote = 0
				}
			}
			if quote == 0 {
				return s.tag[:len(s.tag)-1], nil
			}
		}
	}
}

// tagName splits a tag into its local name (without a namespace prefix)
// and whether it closes (</x>) or is empty (<x/>).
func tagName(tag []byte) (name []byte, closing, empty bool) {
	if len(tag) > 0 && tag[0] == '/' {
		closing, tag = true, tag[1:]
	}
	if len(tag) > 0 && tag[len(tag)-1] == '/' {
		empty, tag = true, tag[:len(tag)-1]
	}
	if end := spaceAt(tag); end >= 0 {
		tag = tag[:end]
	}
	if i := bytes.IndexByte(tag, ':'); i >= 0 {
		tag = tag[i+1:]
	}
	return tag, closing, empty
}

// spaceAt is the index of the first XML white space in b, or -1.
func spaceAt(b []byte) int {
	for i, c := range b {
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			return i
		}
	}
	return -1
}

// attr returns an attribute's raw value ("" if absent).
func attr(tag []byte, name string) []byte {
	i := spaceAt(tag)
	if i < 0 {
		return nil
	}
	rest := tag[i:]
	for len(rest) > 0 {
		rest = bytes.TrimLeft(rest, " \t\r\n/")
		eq := bytes.IndexByte(rest, '=')
		if eq < 0 {
			return nil
		}
		key := bytes.TrimSpace(rest[:eq])
		rest = bytes.TrimLeft(rest[eq+1:], " \t\r\n")
		if len(rest) == 0 || (rest[0] != '"' && rest[0] != '\'') {
			return nil
		}
		q := rest[0]
		end := bytes.IndexByte(rest[1:], q)
		if end < 0 {
			return nil
		}
		val := rest[1 : end+1]
		rest = rest[end+2:]
		if string(key) == name {
			return val
		}
	}
	return nil
}

var xmlEntities = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'", "&amp;", "&")

var (
	charRef  = regexp.MustCompile(`&#(x[0-9A-Fa-f]{1,6}|[0-9]{1,7});`)
	xmlEscOO = regexp.MustCompile(`_x([0-9A-Fa-f]{4})_`)
)

// xmlText decodes element text: entities, character references and the
// _xHHHH_ escapes spreadsheets use for control characters.
func xmlText(b []byte) string {
	s := string(b)
	if strings.IndexByte(s, '&') >= 0 {
		s = charRef.ReplaceAllStringFunc(s, func(m string) string {
			ref := m[2 : len(m)-1]
			base := 10
			if ref[0] == 'x' {
				ref, base = ref[1:], 16
			}
			n, err := strconv.ParseInt(ref, base, 32)
			if err != nil || !utf8.ValidRune(rune(n)) {
				return "\uFFFD"
			}
			return string(rune(n))
		})
		s = xmlEntities.Replace(s)
	}
	if strings.Contains(s, "_x") {
		s = xmlEscOO.ReplaceAllStringFunc(s, func(m string) string {
			n, _ := strconv.ParseUint(m[2:6], 16, 16)
			return string(rune(n))
		})
	}
	return s
}

// readRichText reads the text of an <si> or <is> element (after its start
// tag) up to its end tag: plain <t>, or the <t> of each <r> run; phonetic
// guides (<rPh>) are not part of the value.
func readRichText(sc *xmlScanner, end string) (string, error) {
	var b strings.Builder
	phonetic := 0
	for {
		tag, err := sc.next(false)
		if err != nil {
			return "", errBadXML
		}
		name, closing, empty := tagName(tag)
		switch string(name) {
		case end:
			if closing {
				return b.String(), nil
			}
		case "rPh":
			if !empty {
				if closing {
					phonetic--
				} else {
					phonetic++
				}
			}
		case "t":
			if closing || empty {
				continue
			}
			closeTag, err := sc.next(true)
			if err != nil {
				return "", errBadXML
			}
			if n, c, _ := tagName(closeTag); string(n) != "t" || !c {
				return "", errBadXML
			}
			if phonetic == 0 {
				b.WriteString(xmlText(sc.text))
			}
		}
	}
}

// readSharedStrings reads the shared string table.
func readSharedStrings(f *zip.File) ([]string, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	sc := newXMLScanner(rc)
	var out []string
	for {
		tag, err := sc.next(false)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		name, closing, empty := tagName(tag)
		if string(name) != "si" || closing {
			continue
		}
		if empty {
			out = append(out, "")
			continue
		}
		s, err := readRichText(sc, "si")
		if err != nil {
			return nil, err
		}
		if out = append(out, s); len(out) > maxSharedStrings {
			return nil, tooBig()
		}
	}
}

// maxSharedStrings bounds the shared string table (100,000 rows of the
// template's 23 columns need at most 2.3 million).
const maxSharedStrings = 4 << 20

// maxColumns is the widest sheet Excel makes (XFD).
const maxColumns = 16384

// scanSheet streams a worksheet's rows to emit with 1-based row numbers and
// cells by 0-based column; width (when not 0) is the number of columns
// wanted, further cells are dropped.
func scanSheet(r io.Reader, sst []string, width func() int, emit func(num int, cells []string) error) error {
	sc := newXMLScanner(r)
	bad := invalidFile()
	inData, inRow := false, false
	num, col := 0, 0
	var cells []string
	for {
		tag, err := sc.next(false)
		if err == io.EOF {
			if inData {
				return bad // the sheet data never ended
			}
			return nil
		}
		if err != nil {
			return bad
		}
		name, closing, empty := tagName(tag)
		if !inData {
			if string(name) == "sheetData" && !closing {
				if empty {
					return nil
				}
				inData = true
			}
			continue
		}
		switch string(name) {
		case "sheetData":
			if closing {
				return nil
			}
		case "row":
			if closing != inRow {
				return bad // </row> without <row>, or a row inside a row
			}
			if closing {
				inRow = false
				if err := emit(num, cells); err != nil {
					return err
				}
				continue
			}
			next := num + 1
			if v := attr(tag, "r"); v != nil {
				n, err := strconv.Atoi(string(v))
				if err != nil || n < next || n > 1048576 {
					return bad
				}
				next = n
			}
			num, col, cells = next, 0, cells[:0]
			if empty {
				if err := emit(num, cells); err != nil {
					return err
				}
				continue
			}
			inRow = true
		case "c":
			if !inRow {
				return bad
			}
			if closing {
				continue
			}
			next := col + 1
			if ref := attr(tag, "r"); ref != nil {
				c := columnOf(ref)
				if c < next {
					return bad
				}
				next = c
			}
			col = next
			if col > maxColumns {
				return bad
			}
			if empty {
				continue
			}
			val, err := readCell(sc, string(attr(tag, "t")), sst)
			if err != nil {
				return bad
			}
			if w := width(); val == "" || (w > 0 && col > w) {
				continue
			}
			for len(cells) < col {
				cells = append(cells, "")
			}
			cells[col-1] = val
		}
	}
}

// columnOf is the 1-based column of a cell reference ("AB12" → 28), 0 if
// it has no column letters.
func columnOf(ref []byte) int {
	n := 0
	for i, c := range ref {
		switch {
		case c >= 'A' && c <= 'Z':
			n = n*26 + int(c-'A') + 1
		case c >= 'a' && c <= 'z':
			n = n*26 + int(c-'a') + 1
		case i > 0 && c >= '0' && c <= '9':
			return n
		default:
			return 0
		}
		if n > maxColumns {
			return maxColumns + 1
		}
	}
	return 0
}

// readCell reads a cell's value (after its start tag) up to </c>.
func readCell(sc *xmlScanner, typ string, sst []string) (string, error) {
	var val string
	for {
		tag, err := sc.next(false)
		if err != nil {
			return "", errBadXML
		}
		name, closing, empty := tagName(tag)
		switch string(name) {
		case "c":
			if closing {
				return val, nil
			}
			return "", errBadXML
		case "v":
			if closing || empty {
				continue
			}
			closeTag, err := sc.next(true)
			if err != nil {
				return "", errBadXML
			}
			if n, c, _ := tagName(closeTag); string(n) != "v" || !c {
				return "", errBadXML
			}
			raw := strings.TrimSpace(xmlText(sc.text))
			switch typ {
			case "s":
				i, err := strconv.Atoi(raw)
				if err != nil || i < 0 || i >= len(sst) {
					return "", errBadXML
				}
				val = sst[i]
			case "", "n":
				val = expandNumber(raw)
			default: // str (a formula's text), b (1/0), e (#N/A…), d (ISO date)
				val = xmlText(sc.text)
			}
		case "is":
			if closing || empty {
				continue
			}
			if val, err = readRichText(sc, "is"); err != nil {
				return "", err
			}
		case "f", "extLst":
			if !closing && !empty {
				if err := skipTo(sc, string(name)); err != nil {
					return "", err
				}
			}
		}
	}
}

func skipTo(sc *xmlScanner, end string) error {
	for {
		tag, err := sc.next(false)
		if err != nil {
			return errBadXML
		}
		if name, closing, _ := tagName(tag); closing && string(name) == end {
			return nil
		}
	}
}

var expNumber = regexp.MustCompile(`^-?\d+(\.\d+)?[eE][+-]?\d+$`)

// expandNumber writes a number stored in exponent form out in full: a mobile
// typed as a number is kept by Excel as 13812345678 but shown as 1.38E+10,
// and some writers store the exponent form itself. Raw cell values carry the
// full precision, so nothing is lost.
func expandNumber(s string) string {
	if len(s) < 3 || !expNumber.MatchString(s) {
		return s
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return s
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// cellRange is a merged range, 1-based and inclusive.
type cellRange struct{ r1, c1, r2, c2 int }

// mergedRanges finds the merged cells of a sheet: the <mergeCells> element
// that follows the sheet data. (excelize's GetMergeCells would load the whole
// worksheet into memory first.)
func mergedRanges(zf *zip.File) ([]cellRange, error) {
	rc, err := zf.Open()
	if err != nil {
		return nil, invalidFile()
	}
	defer rc.Close()
	tail, err := afterSheetData(rc)
	if err != nil {
		return nil, invalidFile()
	}
	var out []cellRange
	for _, m := range mergeRef.FindAllSubmatch(tail, -1) {
		a, b, _ := strings.Cut(string(m[1]), ":")
		if b == "" {
			b = a
		}
		c1, r1, err1 := excelize.CellNameToCoordinates(a)
		c2, r2, err2 := excelize.CellNameToCoordinates(b)
		if err1 != nil || err2 != nil {
			continue
		}
		out = append(out, cellRange{min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)})
	}
	return out, nil
}

var mergeRef = regexp.MustCompile(`<(?:\w+:)?mergeCell\s[^>]*?\bref\s*=\s*["']([A-Za-z]{1,3}\d{1,7}(?::[A-Za-z]{1,3}\d{1,7})?)["']`)

// afterSheetData streams the sheet XML and returns what follows the end of
// <sheetData> (bounded by maxMergeTail).
func afterSheetData(r io.Reader) ([]byte, error) {
	const chunk = 256 << 10
	buf := make([]byte, 0, chunk+64)
	tmp := make([]byte, chunk)
	for {
		n, err := r.Read(tmp)
		buf = append(buf, tmp[:n]...)
		for {
			i := bytes.Index(buf, []byte("sheetData"))
			if i < 0 {
				break
			}
			// A closing tag: "</sheetData>" or "</x:sheetData>", or an empty
			// element "<sheetData/>".
			start := bytes.LastIndexByte(buf[:i], '<')
			end := bytes.IndexByte(buf[i:], '>')
			if start < 0 || end < 0 {
				break // wait for more input
			}
			tag := buf[start : i+end+1]
			buf = buf[i+end+1:]
			if bytes.HasPrefix(tag, []byte("</")) || bytes.HasSuffix(tag, []byte("/>")) {
				rest, err2 := io.ReadAll(io.LimitReader(r, maxMergeTail))
				if err2 != nil {
					return nil, err2
				}
				return append(buf, rest...), nil
			}
		}
		if len(buf) > 64 {
			buf = append(buf[:0], buf[len(buf)-64:]...)
		}
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// mergeFiller copies a merged range's top-left value into the range's other
// cells of data rows, as the spreadsheet shows them.
type mergeFiller struct {
	pending []cellRange // not yet started, sorted by r1
	active  []activeMerge
}

type activeMerge struct {
	cellRange
	val string
}

func newMergeFiller(rs []cellRange) *mergeFiller {
	// Sorting keeps activation in row order; few files have many merges.
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].r1 < rs[j-1].r1; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
	return &mergeFiller{pending: rs}
}

// fill applies the merges covering row num; ranges starting at or above the
// header row are ignored (a merged title or header is not data). width is
// the number of header columns; cells beyond it are not made.
func (m *mergeFiller) fill(num, headerRow int, cells []string, width int) []string {
	for len(m.pending) > 0 && m.pending[0].r1 <= num {
		r := m.pending[0]
		m.pending = m.pending[1:]
		if r.r1 <= headerRow || width == 0 {
			continue
		}
		val := ""
		if r.c1-1 < len(cells) {
			val = cells[r.c1-1]
		}
		m.active = append(m.active, activeMerge{r, val})
	}
	kept := m.active[:0]
	for _, a := range m.active {
		if a.r2 < num {
			continue
		}
		kept = append(kept, a)
		for c := a.c1; c <= min(a.c2, width); c++ {
			for len(cells) < c {
				cells = append(cells, "")
			}
			if c == a.c1 && a.r1 == num {
				continue
			}
			cells[c-1] = a.val
		}
	}
	m.active = kept
	return cells
}

// ---- .csv ----

func readCSV(data []byte, keep bool) (*table, error) {
	text, err := decodeText(data)
	if err != nil {
		return nil, err
	}
	cr := csv.NewReader(strings.NewReader(text))
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	cr.Comma = sniffDelimiter(text)
	b := &tableBuilder{keep: keep, t: &table{}}
	for num := 1; ; num++ {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, invalidFile()
		}
		if b.t.headers != nil && len(rec) > len(b.t.headers) {
			rec = rec[:len(b.t.headers)]
		}
		if err := b.add(num, rec); err != nil {
			return nil, err
		}
	}
	return b.finish()
}

// decodeText turns an uploaded text file into UTF-8: UTF-8 with or without
// a BOM, UTF-16 with a BOM (Excel's "Unicode text"), else GB18030 (which
// covers GBK and GB2312, what Excel writes for "CSV" on Chinese Windows).
// Binary data is refused.
func decodeText(data []byte) (string, error) {
	var s string
	switch {
	case bytes.HasPrefix(data, utf8BOM):
		s = string(data[3:])
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}), bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		out, _, err := transform.Bytes(xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM).NewDecoder(), data)
		if err != nil {
			return "", invalidFile()
		}
		s = string(out)
	case utf8.Valid(data):
		s = string(data)
	default:
		out, _, err := transform.Bytes(simplifiedchinese.GB18030.NewDecoder(), data)
		if err != nil {
			return "", invalidFile()
		}
		s = string(out)
	}
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool {
		return r == utf8.RuneError || r == 0 || (unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r')
	}) {
		return "", invalidFile()
	}
	return s, nil
}

// sniffDelimiter picks comma, tab or semicolon from the first line.
func sniffDelimiter(text string) rune {
	line, _, _ := strings.Cut(text, "\n")
	best, n := ',', strings.Count(line, ",")
	for _, d := range []rune{'\t', ';'} {
		if c := strings.Count(line, string(d)); c > n {
			best, n = d, c
		}
	}
	return best
}

// ---- writing ----

// newWorkbook returns an empty workbook whose first sheet is named name.
func newWorkbook(name string) (*excelize.File, error) {
	f := excelize.NewFile()
	if err := f.SetSheetName("Sheet1", name); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func headerStyle(f *excelize.File, required bool) (int, error) {
	color := "1F2937"
	if required {
		color = "C00000"
	}
	return f.NewStyle(&excelize.Style{
		Font:      &excelize.Font{Bold: true, Color: color},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"E5EDF7"}},
		Alignment: &excelize.Alignment{Vertical: "center"},
		Border:    []excelize.Border{{Type: "bottom", Color: "9CA3AF", Style: 1}},
	})
}

// textStyle formats cells as text ("@"), so that mobiles and codes typed
// into the template stay digits instead of turning into 1.38E+10.
func textStyle(f *excelize.File) (int, error) {
	return f.NewStyle(&excelize.Style{NumFmt: 49})
}

// buildTemplate builds the import template: the 客户 sheet with the headers (the
// required ones marked with * and in red), text-formatted cells and drop-down
// lists, and the 说明 sheet explaining each column.
func buildTemplate(levels []string) (*bytes.Buffer, error) {
	f, err := newWorkbook(sheetAccounts)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	plain, err := headerStyle(f, false)
	if err != nil {
		return nil, err
	}
	req, err := headerStyle(f, true)
	if err != nil {
		return nil, err
	}
	text, err := textStyle(f)
	if err != nil {
		return nil, err
	}
	const lastRow = 10001
	for i, c := range importColumns {
		cell, _ := excelize.CoordinatesToCellName(i+1, 1)
		name, _ := excelize.ColumnNumberToName(i + 1)
		h, style := c.Header, plain
		if c.Required {
			h, style = c.Header+"*", req
		}
		if err := f.SetCellValue(sheetAccounts, cell, h); err != nil {
			return nil, err
		}
		if err := f.SetCellStyle(sheetAccounts, cell, cell, style); err != nil {
			return nil, err
		}
		if err := f.SetColWidth(sheetAccounts, name, name, c.Width); err != nil {
			return nil, err
		}
		if err := f.SetColStyle(sheetAccounts, name, text); err != nil {
			return nil, err
		}
		var list []string
		switch i {
		case colKind:
			list = labelsOf(kindEnum)
		case colSize:
			list = labelsOf(sizeEnum)
		case colSource:
			list = labelsOf(sourceEnum)
		case colStatus:
			list = labelsOf(statusEnum)
		case colLevel:
			list = levels
		case colPurchaseRole:
			list = labelsOf(roleEnum)
		}
		if len(list) > 0 {
			dv := excelize.NewDataValidation(true)
			dv.Sqref = name + "2:" + name + strconv.Itoa(lastRow)
			if err := dv.SetDropList(list); err == nil {
				// Typing another accepted spelling (an API value) stays allowed.
				dv.ShowErrorMessage = false
				if err := f.AddDataValidation(sheetAccounts, dv); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := f.SetPanes(sheetAccounts, &excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return nil, err
	}
	if _, err := f.NewSheet(sheetHelp); err != nil {
		return nil, err
	}
	help := [][]any{{"列名", "是否必填", "说明", "可选值"}}
	for i, c := range importColumns {
		must := ""
		if c.Required {
			must = "必填"
		}
		choices := ""
		switch i {
		case colKind:
			choices = kindEnum.choices()
		case colSize:
			choices = sizeEnum.choices()
		case colSource:
			choices = sourceEnum.choices()
		case colStatus:
			choices = statusEnum.choices()
		case colLevel:
			choices = strings.Join(levels, "、")
		case colPurchaseRole:
			choices = roleEnum.choices()
		}
		help = append(help, []any{c.Header, must, c.Note, choices})
	}
	help = append(help, []any{}, []any{"通用规则"},
		[]any{"", "", "表头必须在第一行（上方可有标题行），列的顺序不限；不认识的列会被拒绝。"},
		[]any{"", "", "可选值既可填中文名称，也可填系统代码（如 company、prospect、decision_maker）。"},
		[]any{"", "", "每行一个客户，可附带一位联系人（作为主要联系人）。一次最多导入 100000 行。"},
		[]any{"", "", "先“预览”检查：任一行有错误时不会写入任何数据，可下载错误报告（含“错误原因”列）修改后重新导入。"},
		[]any{"", "", "与已有客户重复（统一社会信用代码、名称、联系人手机或邮箱相同）时，可选择跳过、补充更新或仍然新建；同一文件内的重复行会报错。"},
		[]any{}, []any{"示例", "", "深圳市腾云科技有限公司 | 企业 | 91440300MA5XXXXXXX | 软件 | 中型 | 广东 | 深圳 | 南山区 | 科技园 1 号 | 展会 | A | 潜在客户 | 重点，华南 | zhang.san | 售前管理系统 | 数据迁移 | 王伟 | IT 总监 | 13812345678"})
	for i, r := range help {
		if err := f.SetSheetRow(sheetHelp, "A"+strconv.Itoa(i+1), &r); err != nil {
			return nil, err
		}
	}
	if err := f.SetCellStyle(sheetHelp, "A1", "D1", plain); err != nil {
		return nil, err
	}
	for col, w := range map[string]float64{"A": 18, "B": 10, "C": 70, "D": 60} {
		if err := f.SetColWidth(sheetHelp, col, col, w); err != nil {
			return nil, err
		}
	}
	f.SetActiveSheet(0)
	return f.WriteToBuffer()
}

func labelsOf(e enumLabels) []string {
	out := make([]string, len(e.values))
	for i, v := range e.values {
		out[i] = e.label(v)
	}
	return out
}

// reportRow is one bad row of the error report.
type reportRow struct {
	num     int
	raw     []string
	bad     map[int]bool // file columns with a problem
	reasons string
}

// buildReport writes the error report: the upload's columns as they were,
// the bad rows only, the cells at fault highlighted, and 错误原因 last.
func buildReport(headers []string, rows []reportRow) (*bytes.Buffer, error) {
	f, err := newWorkbook(sheetAccounts)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sw, err := f.NewStreamWriter(sheetAccounts)
	if err != nil {
		return nil, err
	}
	hs, err := headerStyle(f, false)
	if err != nil {
		return nil, err
	}
	bad, err := f.NewStyle(&excelize.Style{Fill: excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"FDE2E1"}}, NumFmt: 49})
	if err != nil {
		return nil, err
	}
	text, err := textStyle(f)
	if err != nil {
		return nil, err
	}
	reason, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Color: "C00000"}, Alignment: &excelize.Alignment{WrapText: true}})
	if err != nil {
		return nil, err
	}
	width := len(headers) + 1
	if err := sw.SetColWidth(width, width, 60); err != nil {
		return nil, err
	}
	if len(headers) > 0 {
		if err := sw.SetColWidth(1, len(headers), 16); err != nil {
			return nil, err
		}
	}
	head := make([]any, 0, width)
	for _, h := range headers {
		head = append(head, excelize.Cell{Value: h, StyleID: hs})
	}
	head = append(head, excelize.Cell{Value: hdrReason, StyleID: hs})
	if err := sw.SetRow("A1", head); err != nil {
		return nil, err
	}
	for i, r := range rows {
		vals := make([]any, 0, width)
		for c := range headers {
			v := ""
			if c < len(r.raw) {
				v = r.raw[c]
			}
			st := text
			if r.bad[c] {
				st = bad
			}
			vals = append(vals, excelize.Cell{Value: v, StyleID: st})
		}
		vals = append(vals, excelize.Cell{Value: r.reasons, StyleID: reason})
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, vals); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	return f.WriteToBuffer()
}

// exportHeaders are the export's columns: the template's plus three.
func exportHeaders() []string {
	out := make([]string, 0, numImportColumns+3)
	for _, c := range importColumns {
		out = append(out, c.Header)
	}
	return append(out, hdrOwnerName, hdrLastContact, hdrCreatedAt)
}
