package audit

import (
	"encoding/json"
	"fmt"
	"prelude/internal/platform/jsonappend"
	"reflect"
	"slices"
	"strconv"
)

// encodeJSON is an entry's changes or detail as stored: "" for nothing,
// else the value's JSON exactly as encoding/json writes it (the entry's MAC
// covers these bytes). Audit values are nearly always maps of strings,
// numbers, booleans and string lists; those are written by appendJSON
// without reflection: for an import's 200,000 entries encoding/json took a
// second of CPU (half of preparing them), and as much again in garbage
// collection. Anything else goes through encoding/json.
func encodeJSON(v any) string {
	if v == nil || (reflect.ValueOf(v).Kind() == reflect.Map && reflect.ValueOf(v).Len() == 0) {
		return ""
	}
	if b, ok := appendJSON(make([]byte, 0, 256), v); ok {
		return string(b)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%q", fmt.Sprint(v))
	}
	return string(b)
}

// encoded is the event's changes and detail as stored.
func (ev *Event) encoded() (changes, detail string) {
	changes, detail = ev.ChangesJSON, ev.DetailJSON
	if changes == "" {
		changes = encodeJSON(ev.Changes)
	}
	if detail == "" {
		detail = encodeJSON(ev.Detail)
	}
	return changes, detail
}

// Object builds the JSON of an entry's changes or detail member by member,
// exactly as the map with those members would be encoded. Members must be
// added in the order encoding/json writes a map's keys (byte-wise
// ascending); a key out of order panics, a programming error. Reset lets
// one Object (and its buffer) serve entry after entry.
type Object struct {
	b    []byte
	last string
}

// Reset empties the object.
func (o *Object) Reset() { o.b, o.last = o.b[:0], "" }

func (o *Object) key(k string) {
	if len(o.b) == 0 {
		o.b = append(o.b, '{')
	} else {
		if k <= o.last {
			panic("audit: Object key " + strconv.Quote(k) + " after " + strconv.Quote(o.last))
		}
		o.b = append(o.b, ',')
	}
	o.last = k
	o.b = jsonappend.String(o.b, k)
	o.b = append(o.b, ':')
}

// Created adds a created field's change, [null, v].
func (o *Object) Created(k, v string) {
	o.key(k)
	o.b = append(o.b, "[null,"...)
	o.b = jsonappend.String(o.b, v)
	o.b = append(o.b, ']')
}

// CreatedList adds a created list field's change, [null, [v...]].
func (o *Object) CreatedList(k string, vs []string) {
	o.key(k)
	o.b = append(o.b, "[null,"...)
	o.b, _ = appendJSON(o.b, vs)
	o.b = append(o.b, ']')
}

// CreatedBool adds a created flag's change, [null, v].
func (o *Object) CreatedBool(k string, v bool) {
	o.key(k)
	o.b = append(o.b, "[null,"...)
	o.b = strconv.AppendBool(o.b, v)
	o.b = append(o.b, ']')
}

// Text adds a string member.
func (o *Object) Text(k, v string) {
	o.key(k)
	o.b = jsonappend.String(o.b, v)
}

// Int adds a number member.
func (o *Object) Int(k string, v int64) {
	o.key(k)
	o.b = strconv.AppendInt(o.b, v, 10)
}

// JSON is the object's text; "" for no members, as for an empty map.
func (o *Object) JSON() string {
	if len(o.b) == 0 {
		return ""
	}
	o.b = append(o.b, '}')
	s := string(o.b)
	o.b = o.b[:len(o.b)-1]
	return s
}

// appendJSON appends v as json.Marshal would, for the kinds of values it
// knows; ok is false (and b unusable) for any other, anywhere inside v.
func appendJSON(b []byte, v any) (_ []byte, ok bool) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return jsonappend.String(b, x), true
	case bool:
		return strconv.AppendBool(b, x), true
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	case int32:
		return strconv.AppendInt(b, int64(x), 10), true
	case []string:
		if x == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, s := range x {
			if i > 0 {
				b = append(b, ',')
			}
			b = jsonappend.String(b, s)
		}
		return append(b, ']'), true
	case []any:
		if x == nil {
			return append(b, "null"...), true
		}
		return appendList(b, x)
	case [2]any:
		return appendList(b, x[:])
	case map[string]any:
		if x == nil {
			return append(b, "null"...), true
		}
		return appendMap(b, x)
	case map[string][2]any:
		if x == nil {
			return append(b, "null"...), true
		}
		return appendMap(b, x)
	case map[string]string:
		if x == nil {
			return append(b, "null"...), true
		}
		return appendMap(b, x)
	}
	return b, false
}

func appendList(b []byte, xs []any) ([]byte, bool) {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		var ok bool
		if b, ok = appendJSON(b, x); !ok {
			return b, false
		}
	}
	return append(b, ']'), true
}

// appendMap writes a map with its keys sorted byte-wise, as encoding/json
// does.
func appendMap[V any](b []byte, m map[string]V) ([]byte, bool) {
	var buf [32]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonappend.String(b, k)
		b = append(b, ':')
		var ok bool
		switch v := any(m).(type) {
		case map[string][2]any:
			// Not boxed into an interface again: the usual audit value.
			pair := v[k]
			b = append(b, '[')
			if b, ok = appendJSON(b, pair[0]); ok {
				b = append(b, ',')
				if b, ok = appendJSON(b, pair[1]); ok {
					b = append(b, ']')
				}
			}
		default:
			b, ok = appendJSON(b, any(m[k]))
		}
		if !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}
