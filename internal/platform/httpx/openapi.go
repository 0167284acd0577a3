package httpx

import (
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"time"
)

// OpenAPI builds an OpenAPI 3.1 document from the registered routes, with
// JSON Schemas reflected from the request and response types, so the
// document cannot drift from the code.
func (rt *Router) OpenAPI(title, version string) map[string]any {
	g := &schemaGen{components: map[string]any{}}
	paths := map[string]map[string]any{}
	for _, route := range rt.Routes() {
		path := route.Path
		item := paths[path]
		if item == nil {
			item = map[string]any{}
			paths[path] = item
		}
		op := map[string]any{
			"summary":     route.Summary,
			"operationId": operationID(route),
			"tags":        []string{route.Tag},
		}
		var params []any
		for _, name := range pathParams(path) {
			params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
		for _, q := range route.Query {
			params = append(params, map[string]any{"name": q, "in": "query", "required": false, "schema": map[string]any{"type": "string"}})
		}
		if route.Method == http.MethodPatch || route.Method == http.MethodDelete {
			params = append(params, map[string]any{"name": "If-Match", "in": "header", "required": false,
				"description": "Version from the resource's ETag; a stale value gets 412", "schema": map[string]any{"type": "string"}})
		}
		if route.Method == http.MethodPost {
			params = append(params, map[string]any{"name": "Idempotency-Key", "in": "header", "required": false,
				"description": "Retries with the same key and body return the first result", "schema": map[string]any{"type": "string", "maxLength": 255}})
		}
		if len(params) > 0 {
			op["parameters"] = params
		}
		if route.Request != nil {
			op["requestBody"] = map[string]any{"required": true, "content": map[string]any{
				"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(route.Request))}}}
		}
		responses := map[string]any{}
		ok := map[string]any{"description": http.StatusText(route.Status)}
		if route.Response != nil && route.Status != http.StatusNoContent {
			ok["content"] = map[string]any{"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(route.Response))}}
		}
		responses[itoa(route.Status)] = ok
		responses["default"] = map[string]any{"description": "Error", "content": map[string]any{
			"application/json": map[string]any{"schema": g.schema(reflect.TypeOf(ErrorBody{}))}}}
		op["responses"] = responses
		if route.Public {
			op["security"] = []any{}
		}
		if route.Permission != "" {
			op["x-permission"] = route.Permission
		}
		item[strings.ToLower(route.Method)] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info":    map[string]any{"title": title, "version": version},
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": g.components,
			"securitySchemes": map[string]any{
				"session": map[string]any{"type": "apiKey", "in": "cookie", "name": "prelude_session"},
				"bearer":  map[string]any{"type": "http", "scheme": "bearer"},
			},
		},
		"security": []any{map[string]any{"session": []any{}}, map[string]any{"bearer": []any{}}},
	}
}

var paramRe = regexp.MustCompile(`\{([a-zA-Z_]+)\.*\}`)

func pathParams(p string) []string {
	var out []string
	for _, m := range paramRe.FindAllStringSubmatch(p, -1) {
		out = append(out, m[1])
	}
	return out
}

func operationID(r Route) string {
	parts := strings.FieldsFunc(strings.TrimPrefix(r.Path, "/api/v1/"), func(c rune) bool { return c == '/' || c == '{' || c == '}' || c == '-' || c == '.' })
	return strings.ToLower(r.Method) + "_" + strings.Join(parts, "_")
}

type schemaGen struct{ components map[string]any }

var timeType = reflect.TypeOf(time.Time{})

func (g *schemaGen) schema(t reflect.Type) map[string]any {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == timeType {
		return map[string]any{"type": "string", "format": "date-time"}
	}
	if sc, ok := reflect.New(t).Interface().(interface{ JSONSchema() map[string]any }); ok {
		return sc.JSONSchema()
	}
	switch t.Kind() {
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return map[string]any{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return map[string]any{"type": "number"}
	case reflect.Slice, reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			return map[string]any{"type": "string", "contentEncoding": "base64"}
		}
		return map[string]any{"type": "array", "items": g.schema(t.Elem())}
	case reflect.Map:
		return map[string]any{"type": "object", "additionalProperties": g.schema(t.Elem())}
	case reflect.Interface:
		return map[string]any{}
	case reflect.Struct:
		name := componentName(t)
		if name != "" {
			if _, done := g.components[name]; !done {
				g.components[name] = map[string]any{} // break cycles
				g.components[name] = g.structSchema(t)
			}
			return map[string]any{"$ref": "#/components/schemas/" + name}
		}
		return g.structSchema(t)
	}
	return map[string]any{}
}

func componentName(t reflect.Type) string {
	if t.Name() == "" {
		return ""
	}
	pkg := t.PkgPath()
	if i := strings.LastIndex(pkg, "/"); i >= 0 {
		pkg = pkg[i+1:]
	}
	name := t.Name()
	// Generic instantiations carry brackets that are not valid in $ref names.
	name = strings.NewReplacer("[", "_", "]", "", "*", "", ".", "_", "/", "_").Replace(name)
	return pkg + "." + name
}

func (g *schemaGen) structSchema(t reflect.Type) map[string]any {
	props := map[string]any{}
	var required []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			emb := g.structSchema(derefType(f.Type))
			for k, v := range emb["properties"].(map[string]any) {
				props[k] = v
			}
			if req, ok := emb["required"].([]string); ok {
				required = append(required, req...)
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		s := g.schema(f.Type)
		if d := f.Tag.Get("doc"); d != "" {
			s = map[string]any{"allOf": []any{s}, "description": d}
		}
		props[name] = s
		if !strings.Contains(opts, "omitempty") && f.Type.Kind() != reflect.Pointer {
			required = append(required, name)
		}
	}
	out := map[string]any{"type": "object", "properties": props}
	if len(required) > 0 {
		out["required"] = required
	}
	return out
}

func derefType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}
