package jinja

import (
	"fmt"
	"html"
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

type filterFunc func(r *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error)

var filters map[string]filterFunc

func init() {
	filters = map[string]filterFunc{
		"abs": fAbs, "attr": fAttr, "batch": fBatch, "capitalize": strFilter(pyCapitalize),
		"center": fCenter, "count": fLength, "d": fDefault, "default": fDefault,
		"dictsort": fDictsort, "e": fEscape, "escape": fEscape, "first": fFirst,
		"float": fFloat, "forceescape": fEscape, "format": fFormat, "groupby": fGroupby,
		"indent": fIndent, "int": fInt, "items": fItems, "join": fJoin, "last": fLast,
		"length": fLength, "list": fList, "lower": strFilter(strings.ToLower), "map": fMap,
		"max": fMinMax(true), "min": fMinMax(false), "reject": fSelect(false, false),
		"rejectattr": fSelect(false, true), "replace": fReplace, "reverse": fReverse,
		"round": fRound, "safe": fSafe, "select": fSelect(true, false),
		"selectattr": fSelect(true, true), "slice": fSlice, "sort": fSort, "string": fString,
		"striptags": fStriptags, "sum": fSum, "title": strFilter(jinjaTitle), "tojson": fToJSON,
		"trim": fTrim, "truncate": fTruncate, "unique": fUnique, "upper": strFilter(strings.ToUpper),
		"wordcount": fWordcount,
	}
}

// params resolves positional and keyword arguments against names with
// defaults (Python calling convention).
func params(args []Value, kwargs []NamedValue, names []string, defs []Value) ([]Value, error) {
	out := make([]Value, len(names))
	copy(out, defs)
	if len(args) > len(names) {
		return nil, fmt.Errorf("too many arguments")
	}
	copy(out, args)
	for _, kw := range kwargs {
		found := false
		for i, n := range names {
			if n == kw.Name {
				out[i], found = kw.Value, true
			}
		}
		if !found {
			return nil, fmt.Errorf("unexpected keyword argument '%s'", kw.Name)
		}
	}
	return out, nil
}

func strFilter(f func(string) string) filterFunc {
	return func(_ *renderer, v Value, _ []Value, _ []NamedValue) (Value, error) {
		return Str(f(v.str())), nil
	}
}

var titleSplit = regexp.MustCompile(`([-\s({\[<]+)`)

// jinjaTitle is Jinja's title filter (not str.title).
func jinjaTitle(s string) string {
	var b strings.Builder
	last := 0
	for _, m := range titleSplit.FindAllStringIndex(s, -1) {
		b.WriteString(titleWord(s[last:m[0]]))
		b.WriteString(s[m[0]:m[1]])
		last = m[1]
	}
	b.WriteString(titleWord(s[last:]))
	return b.String()
}

func titleWord(w string) string {
	if w == "" {
		return w
	}
	rs := []rune(w)
	return string(unicode.ToUpper(rs[0])) + strings.ToLower(string(rs[1:]))
}

func fAbs(_ *renderer, v Value, _ []Value, _ []NamedValue) (Value, error) {
	switch v.kind {
	case KindInt, KindBool:
		if v.i < 0 {
			return Int(-v.i), nil
		}
		return Int(v.i), nil
	case KindFloat:
		return Float(math.Abs(v.f)), nil
	}
	return Value{}, fmt.Errorf("bad operand type for abs(): '%s'", v.typeName())
}

// fAttr looks up an attribute only, never a dict item (Jinja's attr).
func fAttr(r *renderer, v Value, args []Value, _ []NamedValue) (Value, error) {
	if len(args) != 1 {
		return Value{}, fmt.Errorf("attr takes one argument")
	}
	name := args[0].str()
	if v.kind == KindDict {
		if m, ok := dictMethod(v, name); ok {
			return m, nil
		}
		return Undefined(fmt.Sprintf("'dict object' has no attribute '%s'", name)), nil
	}
	return r.getAttr(pos{}, v, name)
}

func fBatch(_ *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"linecount", "fill_with"}, []Value{Int(1), None()})
	if err != nil {
		return Value{}, err
	}
	n := int(p[0].i)
	if n <= 0 {
		return Value{}, fmt.Errorf("batch size must be positive")
	}
	items, _ := v.iterate()
	var out []Value
	for i := 0; i < len(items); i += n {
		row := append([]Value(nil), items[i:min(i+n, len(items))]...)
		for len(row) < n && p[1].kind != KindNone {
			row = append(row, p[1])
		}
		out = append(out, ListOf(row))
	}
	return ListOf(out), nil
}

func fCenter(_ *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"width"}, []Value{Int(80)})
	if err != nil {
		return Value{}, err
	}
	s := v.str()
	n := int(p[0].i) - len([]rune(s))
	if n <= 0 {
		return Str(s), nil
	}
	left := n / 2
	if n%2 == 1 && int(p[0].i)%2 == 1 {
		left++
	}
	return Str(strings.Repeat(" ", left) + s + strings.Repeat(" ", n-left)), nil
}

func fDefault(_ *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"default_value", "boolean"}, []Value{Str(""), Bool(false)})
	if err != nil {
		return Value{}, err
	}
	if v.kind == KindUndefined || p[1].truth() && !v.truth() {
		return p[0], nil
	}
	return v, nil
}

func fDictsort(_ *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"case_sensitive", "by", "reverse"}, []Value{Bool(false), Str("key"), Bool(false)})
	if err != nil {
		return Value{}, err
	}
	if v.kind != KindDict {
		return Value{}, fmt.Errorf("dictsort needs a dict")
	}
	items := append([]Value(nil), dictItems(v.dict()).list().Items...)
	idx := 0
	if p[1].str() == "value" {
		idx = 1
	}
	err = sortValues(items, func(x Value) Value { return x.list().Items[idx] }, p[0].truth(), p[2].truth())
	return ListOf(items), err
}

func fEscape(_ *renderer, v Value, _ []Value, _ []NamedValue) (Value, error) {
	s := html.EscapeString(v.str())
	return Str(strings.ReplaceAll(s, "&#34;", "&#34;")), nil
}

func fFirst(_ *renderer, v Value, _ []Value, _ []NamedValue) (Value, error) {
	items, ok := v.iterate()
	if !ok {
		return Value{}, fmt.Errorf("'%s' object is not iterable", v.typeName())
	}
	if len(items) == 0 {
		return Undefined("No first item, sequence was empty."), nil
	}
	return items[0], nil
}

func fLast(_ *renderer, v Value, _ []Value, _ []NamedValue) (Value, error) {
	items, ok := v.iterate()
	if !ok {
		return Value{}, fmt.Errorf("'%s' object is not iterable", v.typeName())
	}
	if len(items) == 0 {
		return Undefined("No last item, sequence was empty."), nil
	}
	return items[len(items)-1], nil
}

func fFloat(_ *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"default"}, []Value{Float(0)})
	if err != nil {
		return Value{}, err
	}
	switch v.kind {
	case KindInt, KindBool, KindFloat:
		return Float(v.num()), nil
	case KindString:
		if f, err := strconv.ParseFloat(strings.TrimSpace(v.s), 64); err == nil {
			return Float(f), nil
		}
	}
	return p[0], nil
}

func fInt(_ *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"default", "base"}, []Value{Int(0), Int(10)})
	if err != nil {
		return Value{}, err
	}
	switch v.kind {
	case KindInt, KindBool:
		return Int(v.i), nil
	case KindFloat:
		return Int(int64(v.f)), nil
	case KindString:
		s := strings.ReplaceAll(strings.TrimSpace(v.s), "_", "")
		if i, err := strconv.ParseInt(s, int(p[1].i), 64); err == nil {
			return Int(i), nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return Int(int64(f)), nil
		}
	}
	return p[0], nil
}

func fFormat(_ *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	if len(kwargs) > 0 {
		d := NewDict()
		for _, kw := range kwargs {
			d.Set(kw.Name, kw.Value)
		}
		s, err := percentFormat(v.str(), DictOf(d))
		return Str(s), err
	}
	s, err := percentFormat(v.str(), tupleOf(args))
	return Str(s), err
}

func fGroupby(r *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"attribute", "default", "case_sensitive"}, []Value{None(), None(), Bool(false)})
	if err != nil {
		return Value{}, err
	}
	items, _ := v.iterate()
	key := func(x Value) Value {
		k, _ := attrPath(r, x, p[0])
		if k.kind == KindUndefined && p[1].kind != KindNone {
			return p[1]
		}
		return k
	}
	sorted := append([]Value(nil), items...)
	if err := sortValues(sorted, key, p[2].truth(), false); err != nil {
		return Value{}, err
	}
	var out []Value
	for _, it := range sorted {
		k := key(it)
		if n := len(out); n > 0 && equal(out[n-1].list().Items[0], k) {
			g := out[n-1].list().Items[1].list()
			g.Items = append(g.Items, it)
			continue
		}
		out = append(out, tupleOf([]Value{k, ListOf([]Value{it})}))
	}
	return ListOf(out), nil
}

func fIndent(_ *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"width", "first", "blank"}, []Value{Int(4), Bool(false), Bool(false)})
	if err != nil {
		return Value{}, err
	}
	ind := p[0].str()
	if p[0].kind == KindInt {
		ind = strings.Repeat(" ", int(p[0].i))
	}
	s := v.str() + ""
	nl := "\n"
	lines := strings.Split(s, nl)
	for i := 1; i < len(lines); i++ {
		if p[2].truth() || strings.TrimSpace(lines[i]) != "" {
			lines[i] = ind + lines[i]
		}
	}
	out := strings.Join(lines, nl)
	if p[1].truth() {
		out = ind + out
	}
	return Str(out), nil
}

func fItems(_ *renderer, v Value, _ []Value, _ []NamedValue) (Value, error) {
	switch v.kind {
	case KindUndefined:
		return ListOf(nil), nil
	case KindDict:
		return dictItems(v.dict()), nil
	}
	return Value{}, fmt.Errorf("can only get item pairs from a mapping")
}

func fJoin(r *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"d", "attribute"}, []Value{Str(""), None()})
	if err != nil {
		return Value{}, err
	}
	items, ok := v.iterate()
	if !ok {
		return Value{}, fmt.Errorf("'%s' object is not iterable", v.typeName())
	}
	parts := make([]string, len(items))
	n := 0
	for i, it := range items {
		if p[1].kind != KindNone {
			if it, err = attrPath(r, it, p[1]); err != nil {
				return Value{}, err
			}
		}
		parts[i] = it.str()
		n += len(parts[i])
	}
	if err := r.checkLen(n); err != nil {
		return Value{}, err
	}
	return Str(strings.Join(parts, p[0].str())), nil
}

func fLength(_ *renderer, v Value, _ []Value, _ []NamedValue) (Value, error) {
	n, ok := v.length()
	if !ok {
		return Value{}, fmt.Errorf("object of type '%s' has no len()", v.typeName())
	}
	return Int(int64(n)), nil
}

func fList(_ *renderer, v Value, _ []Value, _ []NamedValue) (Value, error) {
	items, ok := v.iterate()
	if !ok {
		return Value{}, fmt.Errorf("'%s' object is not iterable", v.typeName())
	}
	return ListOf(append([]Value(nil), items...)), nil
}

// attrPath looks up a dotted attribute ("a.b" or an int index) on v, as
// Jinja's make_attrgetter.
func attrPath(r *renderer, v Value, attr Value) (Value, error) {
	if attr.kind == KindInt {
		return r.getItem(pos{}, v, attr)
	}
	for _, part := range strings.Split(attr.str(), ".") {
		var err error
		key := Str(part)
		if n, e := strconv.Atoi(part); e == nil {
			key = Int(int64(n))
		}
		if v, err = r.getItem(pos{}, v, key); err != nil {
			return Value{}, err
		}
	}
	return v, nil
}

func fMap(r *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	items, ok := v.iterate()
	if !ok {
		return Value{}, fmt.Errorf("'%s' object is not iterable", v.typeName())
	}
	out := make([]Value, 0, len(items))
	var attr, def Value
	hasAttr := false
	for _, kw := range kwargs {
		switch kw.Name {
		case "attribute":
			attr, hasAttr = kw.Value, true
		case "default":
			def = kw.Value
		}
	}
	if hasAttr {
		for _, it := range items {
			x, err := attrPath(r, it, attr)
			if err != nil {
				return Value{}, err
			}
			if x.kind == KindUndefined && def.kind != KindUndefined {
				x = def
			}
			out = append(out, x)
		}
		return ListOf(out), nil
	}
	if len(args) == 0 {
		return Value{}, fmt.Errorf("map requires a filter argument")
	}
	f, ok := filters[args[0].str()]
	if !ok {
		return Value{}, fmt.Errorf("no filter named '%s'", args[0].str())
	}
	for _, it := range items {
		x, err := f(r, it, args[1:], nil)
		if err != nil {
			return Value{}, err
		}
		out = append(out, x)
	}
	return ListOf(out), nil
}

func fMinMax(isMax bool) filterFunc {
	return func(r *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
		p, err := params(args, kwargs, []string{"case_sensitive", "attribute"}, []Value{Bool(false), None()})
		if err != nil {
			return Value{}, err
		}
		items, _ := v.iterate()
		if len(items) == 0 {
			return Undefined("No aggregated item, sequence was empty."), nil
		}
		key := func(x Value) Value {
			if p[1].kind != KindNone {
				x, _ = attrPath(r, x, p[1])
			}
			if !p[0].truth() && x.kind == KindString {
				x = Str(strings.ToLower(x.s))
			}
			return x
		}
		// Like Python's max/min: the first of equal extremes wins.
		best, bestKey := items[0], key(items[0])
		for _, it := range items[1:] {
			k := key(it)
			a, b := bestKey, k
			if !isMax {
				a, b = k, bestKey
			}
			lt, ok := less(a, b)
			if !ok {
				return Value{}, fmt.Errorf("'<' not supported between instances of '%s' and '%s'", a.typeName(), b.typeName())
			}
			if lt {
				best, bestKey = it, k
			}
		}
		return best, nil
	}
}

func fSelect(keep, byAttr bool) filterFunc {
	return func(r *renderer, v Value, args []Value, _ []NamedValue) (Value, error) {
		items, ok := v.iterate()
		if !ok {
			return Value{}, fmt.Errorf("'%s' object is not iterable", v.typeName())
		}
		var attr Value
		if byAttr {
			if len(args) == 0 {
				return Value{}, fmt.Errorf("missing attribute")
			}
			attr, args = args[0], args[1:]
		}
		var test testFunc
		if len(args) > 0 {
			name := args[0].str()
			if test, ok = tests[name]; !ok {
				return Value{}, fmt.Errorf("no test named '%s'", name)
			}
			args = args[1:]
		}
		var out []Value
		for _, it := range items {
			x := it
			if byAttr {
				var err error
				if x, err = attrPath(r, it, attr); err != nil {
					return Value{}, err
				}
			}
			res := x.truth()
			if test != nil {
				var err error
				if res, err = test(x, args); err != nil {
					return Value{}, err
				}
			}
			if res == keep {
				out = append(out, it)
			}
		}
		return ListOf(out), nil
	}
}

func fReplace(r *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"old", "new", "count"}, []Value{Str(""), Str(""), None()})
	if err != nil {
		return Value{}, err
	}
	n := -1
	if p[2].kind == KindInt {
		n = int(p[2].i)
	}
	s := strings.Replace(v.str(), p[0].str(), p[1].str(), n)
	return Str(s), r.checkLen(len(s))
}

func fReverse(_ *renderer, v Value, _ []Value, _ []NamedValue) (Value, error) {
	if v.kind == KindString {
		rs := []rune(v.s)
		for i, j := 0, len(rs)-1; i < j; i, j = i+1, j-1 {
			rs[i], rs[j] = rs[j], rs[i]
		}
		return Str(string(rs)), nil
	}
	items, ok := v.iterate()
	if !ok {
		return Value{}, fmt.Errorf("argument to reversed() must be a sequence")
	}
	out := make([]Value, len(items))
	for i, it := range items {
		out[len(items)-1-i] = it
	}
	return ListOf(out), nil
}

func fRound(_ *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"precision", "method"}, []Value{Int(0), Str("common")})
	if err != nil {
		return Value{}, err
	}
	if !v.isNum() {
		return Value{}, fmt.Errorf("round needs a number")
	}
	if p[1].str() == "common" && p[0].i >= 0 && p[0].i <= 17 {
		// Python's round is correctly rounded on the decimal value.
		f, _ := strconv.ParseFloat(strconv.FormatFloat(v.num(), 'f', int(p[0].i), 64), 64)
		return Float(f), nil
	}
	scale := math.Pow(10, float64(p[0].i))
	x := v.num() * scale
	switch p[1].str() {
	case "common":
		x = math.RoundToEven(x)
	case "ceil":
		x = math.Ceil(x)
	case "floor":
		x = math.Floor(x)
	default:
		return Value{}, fmt.Errorf("method must be common, ceil or floor")
	}
	return Float(x / scale), nil
}

func fSafe(_ *renderer, v Value, _ []Value, _ []NamedValue) (Value, error) { return v, nil }

func fSlice(_ *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"slices", "fill_with"}, []Value{Int(1), None()})
	if err != nil {
		return Value{}, err
	}
	items, _ := v.iterate()
	n := int(p[0].i)
	if n <= 0 {
		return Value{}, fmt.Errorf("slices must be positive")
	}
	per, extra := len(items)/n, len(items)%n
	var out []Value
	off := 0
	for i := 0; i < n; i++ {
		size := per
		if i < extra {
			size++
		}
		row := append([]Value(nil), items[off:off+size]...)
		off += size
		if p[1].kind != KindNone && i >= extra && extra > 0 {
			row = append(row, p[1])
		}
		out = append(out, ListOf(row))
	}
	return ListOf(out), nil
}

func fSort(r *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"reverse", "case_sensitive", "attribute"}, []Value{Bool(false), Bool(false), None()})
	if err != nil {
		return Value{}, err
	}
	items, ok := v.iterate()
	if !ok {
		return Value{}, fmt.Errorf("'%s' object is not iterable", v.typeName())
	}
	out := append([]Value(nil), items...)
	key := func(x Value) Value {
		if p[2].kind != KindNone {
			x, _ = attrPath(r, x, p[2])
		}
		return x
	}
	return ListOf(out), sortValues(out, key, p[1].truth(), p[0].truth())
}

func fString(_ *renderer, v Value, _ []Value, _ []NamedValue) (Value, error) {
	return Str(v.str()), nil
}

var tagRe = regexp.MustCompile(`(?s)<!--.*?-->|<[^>]*>`)

func fStriptags(_ *renderer, v Value, _ []Value, _ []NamedValue) (Value, error) {
	s := tagRe.ReplaceAllString(v.str(), "")
	return Str(html.UnescapeString(strings.Join(strings.Fields(s), " "))), nil
}

func fSum(r *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"attribute", "start"}, []Value{None(), Int(0)})
	if err != nil {
		return Value{}, err
	}
	items, _ := v.iterate()
	acc := p[1]
	for _, it := range items {
		if p[0].kind != KindNone {
			if it, err = attrPath(r, it, p[0]); err != nil {
				return Value{}, err
			}
		}
		if acc, err = r.arith("+", acc, it); err != nil {
			return Value{}, err
		}
	}
	return acc, nil
}

func fTrim(_ *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"chars"}, []Value{None()})
	if err != nil {
		return Value{}, err
	}
	s, err := pyStrip(v.str(), p, true, true)
	return Str(s), err
}

func fTruncate(_ *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"length", "killwords", "end", "leeway"}, []Value{Int(255), Bool(false), Str("..."), Int(5)})
	if err != nil {
		return Value{}, err
	}
	rs := []rune(v.str())
	length, end := int(p[0].i), p[2].str()
	if len(rs) <= length+int(p[3].i) {
		return Str(string(rs)), nil
	}
	cut := max(length-len([]rune(end)), 0)
	if p[1].truth() {
		return Str(string(rs[:cut]) + end), nil
	}
	s := string(rs[:cut])
	if i := strings.LastIndex(s, " "); i >= 0 {
		s = s[:i]
	}
	return Str(s + end), nil
}

func fUnique(r *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"case_sensitive", "attribute"}, []Value{Bool(false), None()})
	if err != nil {
		return Value{}, err
	}
	items, _ := v.iterate()
	var out, seen []Value
	for _, it := range items {
		k := it
		if p[1].kind != KindNone {
			k, _ = attrPath(r, it, p[1])
		}
		if !p[0].truth() && k.kind == KindString {
			k = Str(strings.ToLower(k.s))
		}
		dup := false
		for _, s := range seen {
			if equal(s, k) {
				dup = true
				break
			}
		}
		if !dup {
			seen = append(seen, k)
			out = append(out, it)
		}
	}
	return ListOf(out), nil
}

func fWordcount(_ *renderer, v Value, _ []Value, _ []NamedValue) (Value, error) {
	return Int(int64(len(regexp.MustCompile(`\w+`).FindAllString(v.str(), -1)))), nil
}

func fToJSON(r *renderer, v Value, args []Value, kwargs []NamedValue) (Value, error) {
	p, err := params(args, kwargs, []string{"ensure_ascii", "indent", "separators", "sort_keys"},
		[]Value{Bool(false), None(), None(), Bool(false)})
	if err != nil {
		return Value{}, err
	}
	opts := jsonOpts{ensureASCII: p[0].truth(), sortKeys: p[3].truth(), itemSep: ", ", keySep: ": "}
	switch p[1].kind {
	case KindInt:
		opts.indent, opts.hasIndent = strings.Repeat(" ", int(max(p[1].i, 0))), true
	case KindString:
		opts.indent, opts.hasIndent = p[1].s, true
	}
	if opts.hasIndent {
		opts.itemSep = ","
	}
	if p[2].kind == KindList && len(p[2].list().Items) == 2 {
		opts.itemSep, opts.keySep = p[2].list().Items[0].str(), p[2].list().Items[1].str()
	}
	var b strings.Builder
	if err := writeJSON(&b, v, opts, 0, r); err != nil {
		return Value{}, err
	}
	return Str(b.String()), nil
}

// Tests.

type testFunc func(v Value, args []Value) (bool, error)

var tests map[string]testFunc

func init() {
	cmp := func(op string) testFunc {
		return func(v Value, args []Value) (bool, error) {
			if len(args) != 1 {
				return false, fmt.Errorf("test takes one argument")
			}
			return compareOp(op, v, args[0])
		}
	}
	tests = map[string]testFunc{
		"boolean":   func(v Value, _ []Value) (bool, error) { return v.kind == KindBool, nil },
		"callable":  func(v Value, _ []Value) (bool, error) { return v.kind == KindFunc, nil },
		"defined":   func(v Value, _ []Value) (bool, error) { return v.kind != KindUndefined, nil },
		"undefined": func(v Value, _ []Value) (bool, error) { return v.kind == KindUndefined, nil },
		"none":      func(v Value, _ []Value) (bool, error) { return v.kind == KindNone, nil },
		"true":      func(v Value, _ []Value) (bool, error) { return v.kind == KindBool && v.i == 1, nil },
		"false":     func(v Value, _ []Value) (bool, error) { return v.kind == KindBool && v.i == 0, nil },
		"integer":   func(v Value, _ []Value) (bool, error) { return v.kind == KindInt, nil },
		"float":     func(v Value, _ []Value) (bool, error) { return v.kind == KindFloat, nil },
		"number":    func(v Value, _ []Value) (bool, error) { return v.isNum(), nil },
		"string":    func(v Value, _ []Value) (bool, error) { return v.kind == KindString, nil },
		"mapping":   func(v Value, _ []Value) (bool, error) { return v.kind == KindDict, nil },
		"iterable": func(v Value, _ []Value) (bool, error) {
			return v.kind == KindList || v.kind == KindDict || v.kind == KindString || v.kind == KindUndefined, nil
		},
		"sequence": func(v Value, _ []Value) (bool, error) {
			return v.kind == KindList || v.kind == KindDict || v.kind == KindString, nil
		},
		"escaped": func(Value, []Value) (bool, error) { return false, nil },
		"even":    func(v Value, _ []Value) (bool, error) { return v.kind == KindInt && v.i%2 == 0, nil },
		"odd":     func(v Value, _ []Value) (bool, error) { return v.kind == KindInt && v.i%2 != 0, nil },
		"divisibleby": func(v Value, args []Value) (bool, error) {
			if len(args) != 1 || args[0].kind != KindInt || args[0].i == 0 || v.kind != KindInt {
				return false, fmt.Errorf("divisibleby needs integers")
			}
			return v.i%args[0].i == 0, nil
		},
		"lower": func(v Value, _ []Value) (bool, error) {
			return v.kind == KindString && strings.ToLower(v.s) == v.s && strings.ToUpper(v.s) != v.s, nil
		},
		"upper": func(v Value, _ []Value) (bool, error) {
			return v.kind == KindString && strings.ToUpper(v.s) == v.s && strings.ToLower(v.s) != v.s, nil
		},
		"sameas": func(v Value, args []Value) (bool, error) {
			if len(args) != 1 {
				return false, fmt.Errorf("sameas takes one argument")
			}
			o := args[0]
			if v.kind != o.kind {
				return false, nil
			}
			switch v.kind {
			case KindList, KindDict, KindFunc, KindObject:
				return v.ref == o.ref, nil
			}
			return equal(v, o), nil
		},
		"in": func(v Value, args []Value) (bool, error) {
			if len(args) != 1 {
				return false, fmt.Errorf("in takes one argument")
			}
			return contains(args[0], v)
		},
		"filter": func(v Value, _ []Value) (bool, error) { _, ok := filters[v.str()]; return ok, nil },
		"test":   func(v Value, _ []Value) (bool, error) { _, ok := tests[v.str()]; return ok, nil },
		"eq":     cmp("=="), "equalto": cmp("=="), "==": cmp("=="),
		"ne": cmp("!="), "!=": cmp("!="),
		"lt": cmp("<"), "lessthan": cmp("<"), "<": cmp("<"),
		"le": cmp("<="), "<=": cmp("<="),
		"gt": cmp(">"), "greaterthan": cmp(">"), ">": cmp(">"),
		"ge": cmp(">="), ">=": cmp(">="),
	}
}
