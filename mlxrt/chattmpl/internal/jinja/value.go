package jinja

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind is the type of a Value.
type Kind uint8

// Value kinds.
const (
	KindUndefined Kind = iota
	KindNone
	KindBool
	KindInt
	KindFloat
	KindString
	KindList
	KindDict
	KindFunc
	KindObject
)

// Value is a template value with Python semantics. The zero Value is
// undefined. Lists and dicts are shared by reference, as in Python.
type Value struct {
	kind Kind
	i    int64 // Int; Bool as 0/1
	f    float64
	s    string // String; the name of an Undefined
	ref  any    // *List, *Dict, *Func, Object
}

// List is a Python list (or tuple).
type List struct {
	Items []Value
	Tuple bool
}

// Dict is a Python dict with string keys, in insertion order.
type Dict struct {
	keys []string
	vals map[string]Value
}

// NewDict returns an empty ordered dict.
func NewDict() *Dict { return &Dict{vals: map[string]Value{}} }

// Set sets key to v, keeping the position of an existing key.
func (d *Dict) Set(key string, v Value) {
	if _, ok := d.vals[key]; !ok {
		d.keys = append(d.keys, key)
	}
	d.vals[key] = v
}

// Get returns the value of key.
func (d *Dict) Get(key string) (Value, bool) {
	v, ok := d.vals[key]
	return v, ok
}

// Keys returns the keys in insertion order. The caller must not modify it.
func (d *Dict) Keys() []string { return d.keys }

// Len returns the number of entries.
func (d *Dict) Len() int { return len(d.keys) }

// Func is a callable value (global function, macro, bound method).
type Func struct {
	Name string
	Call func(r *renderer, args []Value, kwargs []NamedValue) (Value, error)
}

// NamedValue is a keyword argument.
type NamedValue struct {
	Name  string
	Value Value
}

// Object is a value with attributes (loop, namespace, cycler).
type Object interface {
	Attr(name string) (Value, bool)
	Repr() string
}

// Constructors.

// Undefined returns an undefined value named name (for error messages).
func Undefined(name string) Value { return Value{kind: KindUndefined, s: name} }

// None returns Python's None.
func None() Value { return Value{kind: KindNone} }

// Bool returns a bool value.
func Bool(b bool) Value {
	if b {
		return Value{kind: KindBool, i: 1}
	}
	return Value{kind: KindBool}
}

// Int returns an int value.
func Int(i int64) Value { return Value{kind: KindInt, i: i} }

// Float returns a float value.
func Float(f float64) Value { return Value{kind: KindFloat, f: f} }

// Str returns a string value.
func Str(s string) Value { return Value{kind: KindString, s: s} }

// ListOf returns a list value holding items (not copied).
func ListOf(items []Value) Value { return Value{kind: KindList, ref: &List{Items: items}} }

func tupleOf(items []Value) Value {
	return Value{kind: KindList, ref: &List{Items: items, Tuple: true}}
}

// DictOf returns a dict value.
func DictOf(d *Dict) Value { return Value{kind: KindDict, ref: d} }

// FuncOf returns a callable value.
func FuncOf(name string, fn func(r *renderer, args []Value, kwargs []NamedValue) (Value, error)) Value {
	return Value{kind: KindFunc, ref: &Func{Name: name, Call: fn}}
}

func objectOf(o Object) Value { return Value{kind: KindObject, ref: o} }

// Kind returns the kind of v.
func (v Value) Kind() Kind { return v.kind }

func (v Value) list() *List { return v.ref.(*List) }
func (v Value) dict() *Dict { return v.ref.(*Dict) }

func (v Value) isNum() bool { return v.kind == KindInt || v.kind == KindFloat || v.kind == KindBool }

func (v Value) num() float64 {
	if v.kind == KindFloat {
		return v.f
	}
	return float64(v.i)
}

// truth is Python's bool().
func (v Value) truth() bool {
	switch v.kind {
	case KindUndefined, KindNone:
		return false
	case KindBool, KindInt:
		return v.i != 0
	case KindFloat:
		return v.f != 0
	case KindString:
		return v.s != ""
	case KindList:
		return len(v.list().Items) > 0
	case KindDict:
		return v.dict().Len() > 0
	}
	return true
}

// str is Python's str() as Jinja prints it (Undefined prints as "").
func (v Value) str() string {
	switch v.kind {
	case KindUndefined:
		return ""
	case KindString:
		return v.s
	}
	return v.repr()
}

// repr is Python's repr().
func (v Value) repr() string {
	var b strings.Builder
	v.writeRepr(&b, 0)
	return b.String()
}

func (v Value) writeRepr(b *strings.Builder, depth int) {
	if depth > 64 {
		b.WriteString("...")
		return
	}
	switch v.kind {
	case KindUndefined:
		b.WriteString("")
	case KindNone:
		b.WriteString("None")
	case KindBool:
		if v.i != 0 {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case KindInt:
		b.WriteString(strconv.FormatInt(v.i, 10))
	case KindFloat:
		b.WriteString(formatFloat(v.f))
	case KindString:
		b.WriteString(pyRepr(v.s))
	case KindList:
		l := v.list()
		open, close := "[", "]"
		if l.Tuple {
			open, close = "(", ")"
		}
		b.WriteString(open)
		for i, it := range l.Items {
			if i > 0 {
				b.WriteString(", ")
			}
			it.writeRepr(b, depth+1)
		}
		if l.Tuple && len(l.Items) == 1 {
			b.WriteString(",")
		}
		b.WriteString(close)
	case KindDict:
		d := v.dict()
		b.WriteString("{")
		for i, k := range d.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(pyRepr(k))
			b.WriteString(": ")
			d.vals[k].writeRepr(b, depth+1)
		}
		b.WriteString("}")
	case KindFunc:
		b.WriteString("<function " + v.ref.(*Func).Name + ">")
	case KindObject:
		b.WriteString(v.ref.(Object).Repr())
	}
}

// formatFloat is Python's repr of a float.
func formatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return "inf"
	case math.IsInf(f, -1):
		return "-inf"
	case math.IsNaN(f):
		return "nan"
	}
	e := strconv.FormatFloat(f, 'e', -1, 64) // d.ddde±XX
	mant, expPart, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expPart)
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	digits := strings.Replace(mant, ".", "", 1)
	sign := ""
	if neg {
		sign = "-"
	}
	if exp < -4 || exp >= 16 {
		m := digits[:1]
		if len(digits) > 1 {
			m += "." + digits[1:]
		}
		es := "+"
		if exp < 0 {
			es, exp = "-", -exp
		}
		return sign + m + "e" + es + pad2(exp)
	}
	if exp < 0 {
		return sign + "0." + strings.Repeat("0", -exp-1) + digits
	}
	if len(digits) <= exp+1 {
		return sign + digits + strings.Repeat("0", exp+1-len(digits)) + ".0"
	}
	return sign + digits[:exp+1] + "." + digits[exp+1:]
}

func pad2(n int) string {
	s := strconv.Itoa(n)
	if len(s) < 2 {
		s = "0" + s
	}
	return s
}

// pyRepr is Python's repr of a str.
func pyRepr(s string) string {
	q := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		q = '"'
	}
	var b strings.Builder
	b.WriteByte(q)
	for _, r := range s {
		switch {
		case r == rune(q) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x` + hex2(int(r)))
		case r >= 0x80 && !isPrintable(r):
			switch {
			case r <= 0xff:
				b.WriteString(`\x` + hex2(int(r)))
			case r <= 0xffff:
				b.WriteString(`\u` + strconv.FormatInt(int64(r)+0x10000, 16)[1:])
			default:
				b.WriteString(`\U` + strconv.FormatInt(int64(r)+0x100000000, 16)[1:])
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte(q)
	return b.String()
}

// isPrintable approximates Python's str.isprintable for one character.
func isPrintable(r rune) bool {
	if r == ' ' {
		return true
	}
	if unicode.IsSpace(r) {
		return false
	}
	return unicode.IsPrint(r) || unicode.Is(unicode.Mn, r) || unicode.Is(unicode.Mc, r) || unicode.Is(unicode.Me, r) ||
		unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S)
}

func hex2(n int) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[n>>4&0xf], digits[n&0xf]})
}

// equal is Python's ==.
func equal(a, b Value) bool {
	if a.isNum() && b.isNum() {
		if a.kind == KindFloat || b.kind == KindFloat {
			return a.num() == b.num()
		}
		return a.i == b.i
	}
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case KindUndefined, KindNone:
		return true
	case KindString:
		return a.s == b.s
	case KindList:
		x, y := a.list().Items, b.list().Items
		if len(x) != len(y) {
			return false
		}
		for i := range x {
			if !equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case KindDict:
		x, y := a.dict(), b.dict()
		if x.Len() != y.Len() {
			return false
		}
		for _, k := range x.keys {
			w, ok := y.vals[k]
			if !ok || !equal(x.vals[k], w) {
				return false
			}
		}
		return true
	}
	return a.ref == b.ref
}

// less is Python's < for comparable values; ok is false when the types do
// not compare.
func less(a, b Value) (lt, ok bool) {
	if a.isNum() && b.isNum() {
		if a.kind == KindFloat || b.kind == KindFloat {
			return a.num() < b.num(), true
		}
		return a.i < b.i, true
	}
	if a.kind == KindString && b.kind == KindString {
		return a.s < b.s, true
	}
	if a.kind == KindList && b.kind == KindList {
		x, y := a.list().Items, b.list().Items
		for i := 0; i < len(x) && i < len(y); i++ {
			if !equal(x[i], y[i]) {
				return less(x[i], y[i])
			}
		}
		return len(x) < len(y), true
	}
	return false, false
}

// typeName is Python's type name, for error messages.
func (v Value) typeName() string {
	switch v.kind {
	case KindUndefined:
		return "Undefined"
	case KindNone:
		return "NoneType"
	case KindBool:
		return "bool"
	case KindInt:
		return "int"
	case KindFloat:
		return "float"
	case KindString:
		return "str"
	case KindList:
		if v.list().Tuple {
			return "tuple"
		}
		return "list"
	case KindDict:
		return "dict"
	case KindFunc:
		return "function"
	}
	return "object"
}

// length is Python's len(); ok is false for values without a length.
func (v Value) length() (int, bool) {
	switch v.kind {
	case KindString:
		return utf8.RuneCountInString(v.s), true
	case KindList:
		return len(v.list().Items), true
	case KindDict:
		return v.dict().Len(), true
	case KindUndefined:
		return 0, true
	}
	return 0, false
}

// iterate returns the items a for loop visits: list items, dict keys,
// string characters; undefined iterates as empty.
func (v Value) iterate() ([]Value, bool) {
	switch v.kind {
	case KindList:
		return v.list().Items, true
	case KindDict:
		d := v.dict()
		out := make([]Value, len(d.keys))
		for i, k := range d.keys {
			out[i] = Str(k)
		}
		return out, true
	case KindString:
		out := make([]Value, 0, len(v.s))
		for _, r := range v.s {
			out = append(out, Str(string(r)))
		}
		return out, true
	case KindUndefined:
		return nil, true
	}
	return nil, false
}

// sortValues sorts in place with Python ordering (case-insensitive for
// strings unless caseSensitive), stable.
func sortValues(items []Value, key func(Value) Value, caseSensitive, reverse bool) error {
	var bad error
	k := func(v Value) Value {
		kv := key(v)
		if !caseSensitive && kv.kind == KindString {
			return Str(strings.ToLower(kv.s))
		}
		return kv
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := k(items[i]), k(items[j])
		if reverse {
			a, b = b, a
		}
		lt, ok := less(a, b)
		if !ok && bad == nil {
			bad = &Error{Msg: "'<' not supported between instances of '" + a.typeName() + "' and '" + b.typeName() + "'"}
		}
		return lt
	})
	return bad
}

// Lookup returns the value of key in a dict value.
func Lookup(v Value, key string) (Value, bool) {
	if v.kind != KindDict {
		return Value{}, false
	}
	return v.dict().Get(key)
}

// Keys returns the keys of a dict value in order.
func Keys(v Value) []string {
	if v.kind != KindDict {
		return nil
	}
	return v.dict().Keys()
}

// Items returns the items of a list value.
func Items(v Value) []Value {
	if v.kind != KindList {
		return nil
	}
	return v.list().Items
}

// AsString returns the string of a string value, else its str().
func AsString(v Value) string { return v.str() }
