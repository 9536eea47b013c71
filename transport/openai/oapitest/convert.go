package oapitest

import "reflect"

// convertNullable rewrites OpenAPI 3.0's "nullable": true, which JSON Schema
// does not know, into constructs that admit null, everywhere in v.
func convertNullable(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = convertNullable(e)
		}
		if n, ok := x["nullable"].(bool); ok {
			delete(x, "nullable")
			if n {
				return admitNull(x)
			}
		}
	case []any:
		for i, e := range x {
			x[i] = convertNullable(e)
		}
	}
	return v
}

// admitNull makes schema s also accept null: through its "type" (and
// "enum") when it has a single type, else by wrapping it in an anyOf.
func admitNull(s map[string]any) any {
	switch t := s["type"].(type) {
	case string:
		s["type"] = []any{t, "null"}
		if enum, ok := s["enum"].([]any); ok && !hasNull(enum) {
			s["enum"] = append(enum, nil)
		}
		return s
	case []any:
		if !hasString(t, "null") {
			s["type"] = append(t, "null")
		}
		if enum, ok := s["enum"].([]any); ok && !hasNull(enum) {
			s["enum"] = append(enum, nil)
		}
		return s
	}
	return map[string]any{"anyOf": []any{s, map[string]any{"type": "null"}}}
}

func hasNull(a []any) bool {
	for _, e := range a {
		if e == nil {
			return true
		}
	}
	return false
}

func hasString(a []any, s string) bool {
	for _, e := range a {
		if e == s {
			return true
		}
	}
	return false
}

// closeObjects adds "unevaluatedProperties": false to every schema that
// lists properties, so unknown members fail validation. Schemas used as
// allOf parts are left open: a sibling part may add members they do not
// list, and unevaluatedProperties only sees its own subschema's evaluation.
func closeObjects(root map[string]any) {
	skip := map[uintptr]bool{}
	markAllOfParts(root, root, skip)
	closeWalk(root, skip)
}

func closeWalk(v any, skip map[uintptr]bool) {
	switch x := v.(type) {
	case map[string]any:
		if _, ok := x["properties"].(map[string]any); ok && !skip[mapKey(x)] {
			if _, set := x["additionalProperties"]; !set {
				x["unevaluatedProperties"] = false
			}
		}
		for _, e := range x {
			closeWalk(e, skip)
		}
	case []any:
		for _, e := range x {
			closeWalk(e, skip)
		}
	}
}

// markAllOfParts records every schema that is an allOf part, directly or
// through a local $ref, so closeWalk leaves it open.
func markAllOfParts(root map[string]any, v any, skip map[uintptr]bool) {
	switch x := v.(type) {
	case map[string]any:
		if parts, ok := x["allOf"].([]any); ok {
			for _, p := range parts {
				markPart(root, p, skip, 0)
			}
		}
		for _, e := range x {
			markAllOfParts(root, e, skip)
		}
	case []any:
		for _, e := range x {
			markAllOfParts(root, e, skip)
		}
	}
}

func markPart(root map[string]any, p any, skip map[uintptr]bool, depth int) {
	m, ok := p.(map[string]any)
	if !ok || depth > 16 {
		return
	}
	skip[mapKey(m)] = true
	if ref, ok := m["$ref"].(string); ok {
		markPart(root, resolve(root, ref), skip, depth+1)
	}
	if parts, ok := m["allOf"].([]any); ok {
		for _, q := range parts {
			markPart(root, q, skip, depth+1)
		}
	}
}

// resolve follows a local "#/components/schemas/X" reference.
func resolve(root map[string]any, ref string) any {
	const prefix = "#/components/schemas/"
	if len(ref) <= len(prefix) || ref[:len(prefix)] != prefix {
		return nil
	}
	comps, _ := root["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	return schemas[ref[len(prefix):]]
}

// mapKey identifies a schema object by its map's address.
func mapKey(m map[string]any) uintptr { return reflect.ValueOf(m).Pointer() }
