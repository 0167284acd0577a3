package httpx_test

import (
	"net/http/httptest"
	"testing"

	"prelude/internal/platform/httpx"
	"prelude/internal/platform/jsonappend"
)

type pageItem struct {
	Name string `json:"name"`
	N    int64  `json:"n"`
}

func appendPageItem(b []byte, it *pageItem) []byte {
	b = append(b, `{"name":`...)
	b = jsonappend.String(b, it.Name)
	b = append(b, `,"n":`...)
	b = jsonappend.Int(b, it.N)
	return append(b, '}')
}

func TestWritePageJSONIsWriteJSON(t *testing.T) {
	items := []*pageItem{{"a<b", 1}, {"询价", -2}}
	for _, tc := range []struct {
		items []*pageItem
		next  *httpx.Cursor
	}{{nil, nil}, {items[:0], nil}, {items, nil}, {items, &httpx.Cursor{Key: "1796663032429", ID: "01a2-<&>"}}} {
		want := httptest.NewRecorder()
		httpx.WriteJSON(want, 200, httpx.NewPage(tc.items, tc.next, len(tc.items)))
		got := httptest.NewRecorder()
		httpx.WritePageJSON(got, tc.items, tc.next, len(tc.items), appendPageItem)
		if got.Body.String() != want.Body.String() || got.Code != want.Code || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") {
			t.Fatalf("got %d %q %s, want %d %q %s", got.Code, got.Header().Get("Content-Type"), got.Body, want.Code, want.Header().Get("Content-Type"), want.Body)
		}
	}
}
