package jinja

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

type jsonOpts struct {
	ensureASCII, sortKeys bool
	indent                string
	hasIndent             bool
	itemSep, keySep       string
}

// maxJSONDepth bounds nesting in tojson and FromJSON.
const maxJSONDepth = 256

// writeJSON is Python's json.dumps.
func writeJSON(b *strings.Builder, v Value, o jsonOpts, depth int, r *renderer) error {
	if depth > maxJSONDepth {
		return fmt.Errorf("maximum recursion depth exceeded in tojson")
	}
	if r != nil {
		if err := r.checkLen(b.Len()); err != nil {
			return err
		}
	}
	newline := func(d int) {
		if o.hasIndent {
			b.WriteByte('\n')
			for range d {
				b.WriteString(o.indent)
			}
		}
	}
	switch v.kind {
	case KindNone:
		b.WriteString("null")
	case KindBool:
		if v.i != 0 {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case KindInt:
		b.WriteString(strconv.FormatInt(v.i, 10))
	case KindFloat:
		switch {
		case math.IsNaN(v.f):
			b.WriteString("NaN")
		case math.IsInf(v.f, 1):
			b.WriteString("Infinity")
		case math.IsInf(v.f, -1):
			b.WriteString("-Infinity")
		default:
			b.WriteString(formatFloat(v.f))
		}
	case KindString:
		writeJSONString(b, v.s, o.ensureASCII)
	case KindList:
		items := v.list().Items
		if len(items) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		for i, it := range items {
			if i > 0 {
				b.WriteString(o.itemSep)
			}
			newline(depth + 1)
			if err := writeJSON(b, it, o, depth+1, r); err != nil {
				return err
			}
		}
		newline(depth)
		b.WriteByte(']')
	case KindDict:
		d := v.dict()
		if d.Len() == 0 {
			b.WriteString("{}")
			return nil
		}
		keys := d.keys
		if o.sortKeys {
			keys = slices.Clone(keys)
			slices.Sort(keys)
		}
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(o.itemSep)
			}
			newline(depth + 1)
			writeJSONString(b, k, o.ensureASCII)
			b.WriteString(o.keySep)
			if err := writeJSON(b, d.vals[k], o, depth+1, r); err != nil {
				return err
			}
		}
		newline(depth)
		b.WriteByte('}')
	default:
		return fmt.Errorf("Object of type %s is not JSON serializable", v.typeName())
	}
	return nil
}

func writeJSONString(b *strings.Builder, s string, ascii bool) {
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20 || ascii && r == 0x7f:
				fmt.Fprintf(b, `\u%04x`, r)
			case ascii && r > 0x7f:
				if r > 0xffff {
					r -= 0x10000
					fmt.Fprintf(b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
				} else {
					fmt.Fprintf(b, `\u%04x`, r)
				}
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
}

// FromJSON decodes JSON into a Value, keeping object key order (as Python's
// json.loads does). Numbers without a fraction or exponent become ints.
func FromJSON(data []byte) (Value, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := decodeJSON(dec, 0)
	if err != nil {
		return Value{}, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return Value{}, fmt.Errorf("unexpected data after JSON value")
	}
	return v, nil
}

func decodeJSON(dec *json.Decoder, depth int) (Value, error) {
	if depth > maxJSONDepth {
		return Value{}, fmt.Errorf("JSON nested deeper than %d", maxJSONDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return Value{}, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			d := NewDict()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return Value{}, err
				}
				k, _ := kt.(string)
				v, err := decodeJSON(dec, depth+1)
				if err != nil {
					return Value{}, err
				}
				d.Set(k, v)
			}
			_, err := dec.Token()
			return DictOf(d), err
		case '[':
			var items []Value
			for dec.More() {
				v, err := decodeJSON(dec, depth+1)
				if err != nil {
					return Value{}, err
				}
				items = append(items, v)
			}
			_, err := dec.Token()
			return ListOf(items), err
		}
	case json.Number:
		if i, err := strconv.ParseInt(string(t), 10, 64); err == nil {
			return Int(i), nil
		}
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return Value{}, err
		}
		return Float(f), nil
	case string:
		return Str(t), nil
	case bool:
		return Bool(t), nil
	case nil:
		return None(), nil
	}
	return Value{}, fmt.Errorf("unexpected JSON token %v", tok)
}

// FromGo converts nil, bool, ints, floats, strings, []any, []Value,
// map[string]any (keys sorted, as Go maps have no order), *Dict and Value.
func FromGo(x any) (Value, error) {
	switch t := x.(type) {
	case nil:
		return None(), nil
	case Value:
		return t, nil
	case bool:
		return Bool(t), nil
	case int:
		return Int(int64(t)), nil
	case int32:
		return Int(int64(t)), nil
	case int64:
		return Int(t), nil
	case float32:
		return Float(float64(t)), nil
	case float64:
		return Float(t), nil
	case string:
		return Str(t), nil
	case json.RawMessage:
		return FromJSON(t)
	case *Dict:
		return DictOf(t), nil
	case []Value:
		return ListOf(t), nil
	case []string:
		items := make([]Value, len(t))
		for i, s := range t {
			items[i] = Str(s)
		}
		return ListOf(items), nil
	case []any:
		items := make([]Value, len(t))
		for i, e := range t {
			v, err := FromGo(e)
			if err != nil {
				return Value{}, err
			}
			items[i] = v
		}
		return ListOf(items), nil
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		d := NewDict()
		for _, k := range keys {
			v, err := FromGo(t[k])
			if err != nil {
				return Value{}, err
			}
			d.Set(k, v)
		}
		return DictOf(d), nil
	}
	return Value{}, fmt.Errorf("cannot convert %T to a template value", x)
}

// Interface returns v as Go values (nil, bool, int64, float64, string,
// []any, map[string]any).
func (v Value) Interface() any {
	switch v.kind {
	case KindNone, KindUndefined:
		return nil
	case KindBool:
		return v.i != 0
	case KindInt:
		return v.i
	case KindFloat:
		return v.f
	case KindString:
		return v.s
	case KindList:
		out := make([]any, len(v.list().Items))
		for i, it := range v.list().Items {
			out[i] = it.Interface()
		}
		return out
	case KindDict:
		out := map[string]any{}
		for _, k := range v.dict().keys {
			out[k] = v.dict().vals[k].Interface()
		}
		return out
	}
	return v.repr()
}
