package jinja

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

type method func(r *renderer, self Value, args []Value, kwargs []NamedValue) (Value, error)

func bind(self Value, name string, m method) Value {
	return FuncOf(name, func(r *renderer, args []Value, kwargs []NamedValue) (Value, error) {
		return m(r, self, args, kwargs)
	})
}

// unsafe returns a method that fails like the immutable sandbox.
func unsafe(self Value, name string) Value {
	return FuncOf(name, func(*renderer, []Value, []NamedValue) (Value, error) {
		return Value{}, fmt.Errorf("access to attribute '%s' of '%s' object is unsafe.", name, self.typeName())
	})
}

func dictMethod(self Value, name string) (Value, bool) {
	d := self.dict()
	switch name {
	case "items":
		return bind(self, name, func(*renderer, Value, []Value, []NamedValue) (Value, error) {
			return dictItems(d), nil
		}), true
	case "keys":
		return bind(self, name, func(*renderer, Value, []Value, []NamedValue) (Value, error) {
			out := make([]Value, 0, d.Len())
			for _, k := range d.keys {
				out = append(out, Str(k))
			}
			return ListOf(out), nil
		}), true
	case "values":
		return bind(self, name, func(*renderer, Value, []Value, []NamedValue) (Value, error) {
			out := make([]Value, 0, d.Len())
			for _, k := range d.keys {
				out = append(out, d.vals[k])
			}
			return ListOf(out), nil
		}), true
	case "get":
		return bind(self, name, func(_ *renderer, _ Value, args []Value, _ []NamedValue) (Value, error) {
			if len(args) == 0 || len(args) > 2 {
				return Value{}, fmt.Errorf("get expected 1 or 2 arguments, got %d", len(args))
			}
			if args[0].kind == KindString {
				if v, ok := d.Get(args[0].s); ok {
					return v, nil
				}
			}
			if len(args) == 2 {
				return args[1], nil
			}
			return None(), nil
		}), true
	case "copy":
		return bind(self, name, func(*renderer, Value, []Value, []NamedValue) (Value, error) {
			c := NewDict()
			for _, k := range d.keys {
				c.Set(k, d.vals[k])
			}
			return DictOf(c), nil
		}), true
	case "update", "pop", "popitem", "setdefault", "clear":
		return unsafe(self, name), true
	}
	return Value{}, false
}

func dictItems(d *Dict) Value {
	out := make([]Value, 0, d.Len())
	for _, k := range d.keys {
		out = append(out, tupleOf([]Value{Str(k), d.vals[k]}))
	}
	return ListOf(out)
}

func listMethod(self Value, name string) (Value, bool) {
	l := self.list()
	switch name {
	case "index":
		return bind(self, name, func(_ *renderer, _ Value, args []Value, _ []NamedValue) (Value, error) {
			if len(args) != 1 {
				return Value{}, fmt.Errorf("index expected 1 argument")
			}
			for i, it := range l.Items {
				if equal(it, args[0]) {
					return Int(int64(i)), nil
				}
			}
			return Value{}, fmt.Errorf("%s is not in list", args[0].repr())
		}), true
	case "count":
		return bind(self, name, func(_ *renderer, _ Value, args []Value, _ []NamedValue) (Value, error) {
			if len(args) != 1 {
				return Value{}, fmt.Errorf("count expected 1 argument")
			}
			n := 0
			for _, it := range l.Items {
				if equal(it, args[0]) {
					n++
				}
			}
			return Int(int64(n)), nil
		}), true
	case "copy":
		return bind(self, name, func(*renderer, Value, []Value, []NamedValue) (Value, error) {
			return ListOf(append([]Value(nil), l.Items...)), nil
		}), true
	case "append", "extend", "insert", "pop", "remove", "reverse", "sort", "clear":
		return unsafe(self, name), true
	}
	return Value{}, false
}

func strArg(args []Value, i int, what string) (string, bool, error) {
	if i >= len(args) || args[i].kind == KindNone {
		return "", false, nil
	}
	if args[i].kind != KindString {
		return "", false, fmt.Errorf("%s must be str, not %s", what, args[i].typeName())
	}
	return args[i].s, true, nil
}

// pyStrip is Python's str.strip family: whitespace, or the given characters.
func pyStrip(s string, args []Value, left, right bool) (string, error) {
	chars, ok, err := strArg(args, 0, "strip arg")
	if err != nil {
		return "", err
	}
	pred := unicode.IsSpace
	if ok {
		pred = func(r rune) bool { return strings.ContainsRune(chars, r) }
	}
	if left {
		s = strings.TrimLeftFunc(s, pred)
	}
	if right {
		s = strings.TrimRightFunc(s, pred)
	}
	return s, nil
}

// pySplit is Python's str.split / rsplit.
func pySplit(s string, args []Value, kwargs []NamedValue, fromRight bool) (Value, error) {
	var sepV, maxV Value = None(), Int(-1)
	if len(args) > 0 {
		sepV = args[0]
	}
	if len(args) > 1 {
		maxV = args[1]
	}
	for _, kw := range kwargs {
		switch kw.Name {
		case "sep":
			sepV = kw.Value
		case "maxsplit":
			maxV = kw.Value
		}
	}
	maxSplit := int(maxV.i)
	var parts []string
	if sepV.kind == KindNone {
		fields := strings.FieldsFunc(s, unicode.IsSpace)
		if maxSplit >= 0 && len(fields) > maxSplit+1 {
			// Re-split keeping the remainder intact.
			parts = splitWhitespaceN(s, maxSplit, fromRight)
		} else {
			parts = fields
		}
	} else {
		if sepV.kind != KindString {
			return Value{}, fmt.Errorf("must be str or None, not %s", sepV.typeName())
		}
		if sepV.s == "" {
			return Value{}, fmt.Errorf("empty separator")
		}
		switch {
		case maxSplit < 0:
			parts = strings.Split(s, sepV.s)
		case fromRight:
			parts = rsplitN(s, sepV.s, maxSplit)
		default:
			parts = strings.SplitN(s, sepV.s, maxSplit+1)
		}
	}
	out := make([]Value, len(parts))
	for i, p := range parts {
		out[i] = Str(p)
	}
	return ListOf(out), nil
}

func rsplitN(s, sep string, n int) []string {
	var parts []string
	for n > 0 {
		i := strings.LastIndex(s, sep)
		if i < 0 {
			break
		}
		parts = append(parts, s[i+len(sep):])
		s = s[:i]
		n--
	}
	parts = append(parts, s)
	for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
		parts[i], parts[j] = parts[j], parts[i]
	}
	return parts
}

func splitWhitespaceN(s string, n int, fromRight bool) []string {
	if fromRight {
		s = strings.TrimRightFunc(s, unicode.IsSpace)
		var parts []string
		for len(parts) < n {
			t := strings.TrimRightFunc(s, unicode.IsSpace)
			i := strings.LastIndexFunc(t, unicode.IsSpace)
			if i < 0 {
				break
			}
			_, w := utf8.DecodeRuneInString(t[i:])
			parts = append([]string{t[i+w:]}, parts...)
			s = strings.TrimRightFunc(t[:i], unicode.IsSpace)
		}
		if s != "" {
			parts = append([]string{s}, parts...)
		}
		return parts
	}
	s = strings.TrimLeftFunc(s, unicode.IsSpace)
	var parts []string
	for len(parts) < n {
		i := strings.IndexFunc(s, unicode.IsSpace)
		if i < 0 {
			break
		}
		parts = append(parts, s[:i])
		s = strings.TrimLeftFunc(s[i:], unicode.IsSpace)
	}
	if s != "" {
		parts = append(parts, s)
	}
	return parts
}

// pyTitle is Python's str.title.
func pyTitle(s string) string {
	var b strings.Builder
	prevCased := false
	for _, r := range s {
		cased := unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
		if cased {
			if prevCased {
				b.WriteRune(unicode.ToLower(r))
			} else {
				b.WriteRune(unicode.ToTitle(r))
			}
		} else {
			b.WriteRune(r)
		}
		prevCased = cased
	}
	return b.String()
}

// pyCapitalize is Python's str.capitalize.
func pyCapitalize(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	if n == 0 {
		return s
	}
	return string(unicode.ToTitle(r)) + strings.ToLower(s[n:])
}

func prefixes(v Value) ([]string, error) {
	switch v.kind {
	case KindString:
		return []string{v.s}, nil
	case KindList:
		var out []string
		for _, it := range v.list().Items {
			if it.kind != KindString {
				return nil, fmt.Errorf("tuple for startswith must only contain str")
			}
			out = append(out, it.s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("startswith first arg must be str or a tuple of str, not %s", v.typeName())
}

func strPred(s string, f func(rune) bool) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !f(r) {
			return false
		}
	}
	return true
}

func strMethod(self Value, name string) (Value, bool) {
	s := self.s
	simple := func(f func(string) Value) (Value, bool) {
		return bind(self, name, func(*renderer, Value, []Value, []NamedValue) (Value, error) { return f(s), nil }), true
	}
	withArgs := func(f func(args []Value, kwargs []NamedValue) (Value, error)) (Value, bool) {
		return bind(self, name, func(_ *renderer, _ Value, args []Value, kwargs []NamedValue) (Value, error) {
			return f(args, kwargs)
		}), true
	}
	switch name {
	case "strip", "lstrip", "rstrip":
		return withArgs(func(args []Value, _ []NamedValue) (Value, error) {
			out, err := pyStrip(s, args, name != "rstrip", name != "lstrip")
			return Str(out), err
		})
	case "split", "rsplit":
		return withArgs(func(args []Value, kwargs []NamedValue) (Value, error) {
			return pySplit(s, args, kwargs, name == "rsplit")
		})
	case "splitlines":
		return withArgs(func(args []Value, _ []NamedValue) (Value, error) {
			keep := len(args) > 0 && args[0].truth()
			var out []Value
			rest := s
			for rest != "" {
				i := strings.IndexAny(rest, "\n\r\v\f\x1c\x1d\x1e\u0085\u2028\u2029")
				if i < 0 {
					out = append(out, Str(rest))
					break
				}
				_, w := utf8.DecodeRuneInString(rest[i:])
				if rest[i] == '\r' && i+1 < len(rest) && rest[i+1] == '\n' {
					w = 2
				}
				line := rest[:i]
				if keep {
					line = rest[:i+w]
				}
				out = append(out, Str(line))
				rest = rest[i+w:]
			}
			return ListOf(out), nil
		})
	case "startswith", "endswith":
		return withArgs(func(args []Value, _ []NamedValue) (Value, error) {
			if len(args) == 0 {
				return Value{}, fmt.Errorf("%s takes at least 1 argument", name)
			}
			ps, err := prefixes(args[0])
			if err != nil {
				return Value{}, err
			}
			sub := s
			if len(args) > 1 {
				runes := []rune(s)
				var start, stop *int64
				if args[1].kind == KindInt {
					start = &args[1].i
				}
				if len(args) > 2 && args[2].kind == KindInt {
					stop = &args[2].i
				}
				idx, _ := pySlice(len(runes), start, stop, nil)
				var b strings.Builder
				for _, i := range idx {
					b.WriteRune(runes[i])
				}
				sub = b.String()
			}
			for _, p := range ps {
				if name == "startswith" && strings.HasPrefix(sub, p) || name == "endswith" && strings.HasSuffix(sub, p) {
					return Bool(true), nil
				}
			}
			return Bool(false), nil
		})
	case "upper":
		return simple(func(s string) Value { return Str(strings.ToUpper(s)) })
	case "lower", "casefold":
		return simple(func(s string) Value { return Str(strings.ToLower(s)) })
	case "title":
		return simple(func(s string) Value { return Str(pyTitle(s)) })
	case "capitalize":
		return simple(func(s string) Value { return Str(pyCapitalize(s)) })
	case "swapcase":
		return simple(func(s string) Value {
			return Str(strings.Map(func(r rune) rune {
				if unicode.IsUpper(r) {
					return unicode.ToLower(r)
				}
				return unicode.ToUpper(r)
			}, s))
		})
	case "replace":
		return withArgs(func(args []Value, _ []NamedValue) (Value, error) {
			if len(args) < 2 || args[0].kind != KindString || args[1].kind != KindString {
				return Value{}, fmt.Errorf("replace takes two strings")
			}
			n := -1
			if len(args) > 2 && args[2].kind == KindInt {
				n = int(args[2].i)
			}
			return Str(strings.Replace(s, args[0].s, args[1].s, n)), nil
		})
	case "find", "rfind", "index", "rindex", "count":
		return withArgs(func(args []Value, _ []NamedValue) (Value, error) {
			if len(args) < 1 || args[0].kind != KindString {
				return Value{}, fmt.Errorf("%s takes a string", name)
			}
			sub := args[0].s
			var i int
			switch name {
			case "count":
				if sub == "" {
					return Int(int64(utf8.RuneCountInString(s) + 1)), nil
				}
				return Int(int64(strings.Count(s, sub))), nil
			case "find", "index":
				i = strings.Index(s, sub)
			default:
				i = strings.LastIndex(s, sub)
			}
			if i < 0 {
				if name == "index" || name == "rindex" {
					return Value{}, fmt.Errorf("substring not found")
				}
				return Int(-1), nil
			}
			return Int(int64(utf8.RuneCountInString(s[:i]))), nil
		})
	case "join":
		return withArgs(func(args []Value, _ []NamedValue) (Value, error) {
			if len(args) != 1 {
				return Value{}, fmt.Errorf("join takes one argument")
			}
			items, ok := args[0].iterate()
			if !ok {
				return Value{}, fmt.Errorf("can only join an iterable")
			}
			parts := make([]string, len(items))
			for i, it := range items {
				if it.kind != KindString {
					return Value{}, fmt.Errorf("sequence item %d: expected str instance, %s found", i, it.typeName())
				}
				parts[i] = it.s
			}
			return Str(strings.Join(parts, s)), nil
		})
	case "removeprefix", "removesuffix":
		return withArgs(func(args []Value, _ []NamedValue) (Value, error) {
			if len(args) != 1 || args[0].kind != KindString {
				return Value{}, fmt.Errorf("%s takes a string", name)
			}
			if name == "removeprefix" {
				return Str(strings.TrimPrefix(s, args[0].s)), nil
			}
			return Str(strings.TrimSuffix(s, args[0].s)), nil
		})
	case "isdigit", "isdecimal", "isnumeric":
		return simple(func(s string) Value { return Bool(strPred(s, unicode.IsDigit)) })
	case "isalpha":
		return simple(func(s string) Value { return Bool(strPred(s, unicode.IsLetter)) })
	case "isalnum":
		return simple(func(s string) Value {
			return Bool(strPred(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }))
		})
	case "isspace":
		return simple(func(s string) Value { return Bool(strPred(s, unicode.IsSpace)) })
	case "isupper", "islower":
		return simple(func(s string) Value {
			cased := false
			for _, r := range s {
				if unicode.IsUpper(r) || unicode.IsLower(r) {
					cased = true
					if name == "isupper" && unicode.IsLower(r) || name == "islower" && unicode.IsUpper(r) {
						return Bool(false)
					}
				}
			}
			return Bool(cased)
		})
	case "format":
		return withArgs(func(args []Value, kwargs []NamedValue) (Value, error) {
			out, err := braceFormat(s, args, kwargs)
			return Str(out), err
		})
	case "zfill":
		return withArgs(func(args []Value, _ []NamedValue) (Value, error) {
			if len(args) != 1 || args[0].kind != KindInt {
				return Value{}, fmt.Errorf("zfill takes an int")
			}
			n := int(args[0].i) - utf8.RuneCountInString(s)
			if n <= 0 {
				return Str(s), nil
			}
			if strings.HasPrefix(s, "-") || strings.HasPrefix(s, "+") {
				return Str(s[:1] + strings.Repeat("0", n) + s[1:]), nil
			}
			return Str(strings.Repeat("0", n) + s), nil
		})
	case "partition", "rpartition":
		return withArgs(func(args []Value, _ []NamedValue) (Value, error) {
			if len(args) != 1 || args[0].kind != KindString || args[0].s == "" {
				return Value{}, fmt.Errorf("%s takes a non-empty string", name)
			}
			sep := args[0].s
			i := strings.Index(s, sep)
			if name == "rpartition" {
				i = strings.LastIndex(s, sep)
			}
			if i < 0 {
				if name == "rpartition" {
					return tupleOf([]Value{Str(""), Str(""), Str(s)}), nil
				}
				return tupleOf([]Value{Str(s), Str(""), Str("")}), nil
			}
			return tupleOf([]Value{Str(s[:i]), Str(sep), Str(s[i+len(sep):])}), nil
		})
	}
	return Value{}, false
}

// braceFormat is a subset of str.format: {}, {0}, {name}, with no format
// specs beyond plain conversion.
func braceFormat(s string, args []Value, kwargs []NamedValue) (string, error) {
	var b strings.Builder
	auto := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '{' && i+1 < len(s) && s[i+1] == '{' {
			b.WriteByte('{')
			i++
			continue
		}
		if c == '}' && i+1 < len(s) && s[i+1] == '}' {
			b.WriteByte('}')
			i++
			continue
		}
		if c != '{' {
			b.WriteByte(c)
			continue
		}
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("single '{' encountered in format string")
		}
		field := s[i+1 : i+j]
		field, _, _ = strings.Cut(field, ":")
		field, conv, _ := strings.Cut(field, "!")
		var v Value
		switch {
		case field == "":
			if auto >= len(args) {
				return "", fmt.Errorf("replacement index %d out of range", auto)
			}
			v = args[auto]
			auto++
		case field[0] >= '0' && field[0] <= '9':
			var n int
			fmt.Sscanf(field, "%d", &n)
			if n >= len(args) {
				return "", fmt.Errorf("replacement index %d out of range", n)
			}
			v = args[n]
		default:
			found := false
			for _, kw := range kwargs {
				if kw.Name == field {
					v, found = kw.Value, true
				}
			}
			if !found {
				return "", fmt.Errorf("KeyError: '%s'", field)
			}
		}
		if conv == "r" {
			b.WriteString(v.repr())
		} else {
			b.WriteString(v.str())
		}
		i += j
	}
	return b.String(), nil
}

// percentFormat is Python's str % args for the common conversions.
func percentFormat(format string, arg Value) (string, error) {
	var args []Value
	var named *Dict
	switch {
	case arg.kind == KindList && arg.list().Tuple:
		args = arg.list().Items
	case arg.kind == KindDict:
		named = arg.dict()
		args = []Value{arg}
	default:
		args = []Value{arg}
	}
	var b strings.Builder
	next := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(format) {
			return "", fmt.Errorf("incomplete format")
		}
		var v Value
		if format[i] == '(' && named != nil {
			j := strings.IndexByte(format[i:], ')')
			if j < 0 {
				return "", fmt.Errorf("incomplete format key")
			}
			key := format[i+1 : i+j]
			var ok bool
			if v, ok = named.Get(key); !ok {
				return "", fmt.Errorf("KeyError: '%s'", key)
			}
			i += j + 1
		} else if format[i] != '%' {
			if next >= len(args) {
				return "", fmt.Errorf("not enough arguments for format string")
			}
			v = args[next]
			next++
		}
		spec := ""
		for i < len(format) && strings.IndexByte("0123456789.-+ #", format[i]) >= 0 {
			spec += string(format[i])
			i++
		}
		if i >= len(format) {
			return "", fmt.Errorf("incomplete format")
		}
		switch format[i] {
		case '%':
			b.WriteByte('%')
		case 's':
			b.WriteString(fmt.Sprintf("%"+spec+"s", v.str()))
		case 'r':
			b.WriteString(fmt.Sprintf("%"+spec+"s", v.repr()))
		case 'd', 'i':
			if !v.isNum() {
				return "", fmt.Errorf("%%d format: a real number is required, not %s", v.typeName())
			}
			b.WriteString(fmt.Sprintf("%"+spec+"d", int64(v.num())))
		case 'f', 'F', 'e', 'g':
			if !v.isNum() {
				return "", fmt.Errorf("must be real number, not %s", v.typeName())
			}
			if !strings.Contains(spec, ".") {
				spec += ".6"
			}
			b.WriteString(fmt.Sprintf("%"+spec+string(format[i]), v.num()))
		case 'x', 'X', 'o':
			b.WriteString(fmt.Sprintf("%"+spec+string(format[i]), int64(v.num())))
		default:
			return "", fmt.Errorf("unsupported format character '%c'", format[i])
		}
	}
	if named == nil && next < len(args) {
		return "", fmt.Errorf("not all arguments converted during string formatting")
	}
	return b.String(), nil
}
