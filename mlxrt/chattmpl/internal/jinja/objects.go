package jinja

import (
	"fmt"
	"strings"
	"time"
)

// loopObj is the "loop" variable of a for loop.
type loopObj struct {
	items   []Value
	index   int
	depth   int
	recurse func(Value) (Value, error)
	last    Value
	changed bool
}

func (l *loopObj) Attr(name string) (Value, bool) {
	n := len(l.items)
	switch name {
	case "index":
		return Int(int64(l.index + 1)), true
	case "index0":
		return Int(int64(l.index)), true
	case "revindex":
		return Int(int64(n - l.index)), true
	case "revindex0":
		return Int(int64(n - l.index - 1)), true
	case "first":
		return Bool(l.index == 0), true
	case "last":
		return Bool(l.index == n-1), true
	case "length":
		return Int(int64(n)), true
	case "depth":
		return Int(int64(l.depth)), true
	case "depth0":
		return Int(int64(l.depth - 1)), true
	case "previtem":
		if l.index == 0 {
			return Undefined("there is no previous item"), true
		}
		return l.items[l.index-1], true
	case "nextitem":
		if l.index == n-1 {
			return Undefined("there is no next item"), true
		}
		return l.items[l.index+1], true
	case "cycle":
		return FuncOf("cycle", func(_ *renderer, args []Value, _ []NamedValue) (Value, error) {
			if len(args) == 0 {
				return Value{}, fmt.Errorf("no items for cycling given")
			}
			return args[l.index%len(args)], nil
		}), true
	case "changed":
		return FuncOf("changed", func(_ *renderer, args []Value, _ []NamedValue) (Value, error) {
			v := tupleOf(args)
			if l.changed && equal(v, l.last) {
				return Bool(false), nil
			}
			l.last, l.changed = v, true
			return Bool(true), nil
		}), true
	}
	return Value{}, false
}

func (l *loopObj) Repr() string { return fmt.Sprintf("<LoopContext %d/%d>", l.index+1, len(l.items)) }

func (l *loopObj) call(_ *renderer, args []Value) (Value, error) {
	if l.recurse == nil {
		return Value{}, fmt.Errorf("the loop must have the 'recursive' marker to be called recursively")
	}
	if len(args) != 1 {
		return Value{}, fmt.Errorf("loop() takes one argument")
	}
	return l.recurse(args[0])
}

// namespace is the object namespace() returns; {% set ns.x = ... %} writes it.
type namespace struct{ d *Dict }

func (n *namespace) Attr(name string) (Value, bool) { return n.d.Get(name) }

func (n *namespace) Repr() string {
	return "<Namespace " + DictOf(n.d).repr() + ">"
}

// builtinGlobals returns the global functions transformers' environment has.
func builtinGlobals() map[string]Value {
	return map[string]Value{
		"range":           FuncOf("range", fnRange),
		"namespace":       FuncOf("namespace", fnNamespace),
		"dict":            FuncOf("dict", fnDict),
		"raise_exception": FuncOf("raise_exception", fnRaise),
		"strftime_now":    FuncOf("strftime_now", fnStrftimeNow),
		"joiner":          FuncOf("joiner", fnJoiner),
		"cycler":          FuncOf("cycler", fnCycler),
	}
}

func intArg(v Value, what string) (int64, error) {
	if v.kind == KindInt || v.kind == KindBool {
		return v.i, nil
	}
	return 0, fmt.Errorf("%s must be an integer, not %s", what, v.typeName())
}

func fnRange(r *renderer, args []Value, _ []NamedValue) (Value, error) {
	var start, stop, step int64 = 0, 0, 1
	var err error
	switch len(args) {
	case 1:
		stop, err = intArg(args[0], "range() argument")
	case 2, 3:
		if start, err = intArg(args[0], "range() argument"); err == nil {
			stop, err = intArg(args[1], "range() argument")
		}
		if err == nil && len(args) == 3 {
			step, err = intArg(args[2], "range() argument")
		}
	default:
		return Value{}, fmt.Errorf("range expected 1 to 3 arguments, got %d", len(args))
	}
	if err != nil {
		return Value{}, err
	}
	if step == 0 {
		return Value{}, fmt.Errorf("range() arg 3 must not be zero")
	}
	n := int64(0)
	if step > 0 && stop > start {
		n = (stop - start + step - 1) / step
	} else if step < 0 && stop < start {
		n = (start - stop - step - 1) / -step
	}
	if err := r.step(int(min(n, 1<<40))); err != nil {
		return Value{}, err
	}
	items := make([]Value, 0, n)
	for i := int64(0); i < n; i++ {
		items = append(items, Int(start+i*step))
	}
	return ListOf(items), nil
}

func fnNamespace(_ *renderer, args []Value, kwargs []NamedValue) (Value, error) {
	return objectOf(&namespace{d: mergeDicts(args, kwargs)}), nil
}

func fnDict(_ *renderer, args []Value, kwargs []NamedValue) (Value, error) {
	return DictOf(mergeDicts(args, kwargs)), nil
}

// mergeDicts is a new dict holding the entries of the dict arguments, in
// order, then the keyword arguments; later keys overwrite earlier ones.
// Arguments that are not dicts are ignored.
func mergeDicts(args []Value, kwargs []NamedValue) *Dict {
	d := NewDict()
	for _, a := range args {
		if a.kind == KindDict {
			for _, k := range a.dict().Keys() {
				v, _ := a.dict().Get(k)
				d.Set(k, v)
			}
		}
	}
	for _, kv := range kwargs {
		d.Set(kv.Name, kv.Value)
	}
	return d
}

func fnRaise(_ *renderer, args []Value, _ []NamedValue) (Value, error) {
	msg := ""
	if len(args) > 0 {
		msg = args[0].str()
	}
	return Value{}, &Error{Msg: msg, Raised: true}
}

func fnStrftimeNow(r *renderer, args []Value, _ []NamedValue) (Value, error) {
	if len(args) != 1 || args[0].kind != KindString {
		return Value{}, fmt.Errorf("strftime_now takes one format string")
	}
	return Str(strftime(r.lim.Now(), args[0].s)), nil
}

// strftime formats t with the C strftime directives templates use.
func strftime(t time.Time, f string) string {
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		if f[i] != '%' || i+1 == len(f) {
			b.WriteByte(f[i])
			continue
		}
		i++
		switch f[i] {
		case 'Y':
			fmt.Fprintf(&b, "%04d", t.Year())
		case 'y':
			fmt.Fprintf(&b, "%02d", t.Year()%100)
		case 'm':
			fmt.Fprintf(&b, "%02d", int(t.Month()))
		case 'd':
			fmt.Fprintf(&b, "%02d", t.Day())
		case 'e':
			fmt.Fprintf(&b, "%2d", t.Day())
		case '-':
			if i+1 < len(f) {
				i++
				switch f[i] {
				case 'd':
					fmt.Fprintf(&b, "%d", t.Day())
				case 'm':
					fmt.Fprintf(&b, "%d", int(t.Month()))
				case 'H':
					fmt.Fprintf(&b, "%d", t.Hour())
				case 'I':
					fmt.Fprintf(&b, "%d", hour12(t))
				default:
					b.WriteString("%-" + string(f[i]))
				}
			}
		case 'H':
			fmt.Fprintf(&b, "%02d", t.Hour())
		case 'I':
			fmt.Fprintf(&b, "%02d", hour12(t))
		case 'M':
			fmt.Fprintf(&b, "%02d", t.Minute())
		case 'S':
			fmt.Fprintf(&b, "%02d", t.Second())
		case 'p':
			if t.Hour() < 12 {
				b.WriteString("AM")
			} else {
				b.WriteString("PM")
			}
		case 'b', 'h':
			b.WriteString(t.Month().String()[:3])
		case 'B':
			b.WriteString(t.Month().String())
		case 'a':
			b.WriteString(t.Weekday().String()[:3])
		case 'A':
			b.WriteString(t.Weekday().String())
		case 'j':
			fmt.Fprintf(&b, "%03d", t.YearDay())
		case 'Z':
			z, _ := t.Zone()
			b.WriteString(z)
		case 'z':
			b.WriteString(t.Format("-0700"))
		case '%':
			b.WriteByte('%')
		default:
			b.WriteByte('%')
			b.WriteByte(f[i])
		}
	}
	return b.String()
}

func hour12(t time.Time) int {
	h := t.Hour() % 12
	if h == 0 {
		h = 12
	}
	return h
}

type joiner struct {
	sep   string
	start bool
}

func (j *joiner) Attr(string) (Value, bool) { return Value{}, false }
func (j *joiner) Repr() string              { return "<joiner>" }
func (j *joiner) call(_ *renderer, _ []Value) (Value, error) {
	if !j.start {
		j.start = true
		return Str(""), nil
	}
	return Str(j.sep), nil
}

func fnJoiner(_ *renderer, args []Value, _ []NamedValue) (Value, error) {
	sep := ", "
	if len(args) > 0 {
		sep = args[0].str()
	}
	return objectOf(&joiner{sep: sep}), nil
}

type cycler struct {
	items []Value
	pos   int
}

func (c *cycler) Attr(name string) (Value, bool) {
	switch name {
	case "current":
		return c.items[c.pos], true
	case "next":
		return FuncOf("next", func(*renderer, []Value, []NamedValue) (Value, error) {
			v := c.items[c.pos]
			c.pos = (c.pos + 1) % len(c.items)
			return v, nil
		}), true
	case "reset":
		return FuncOf("reset", func(*renderer, []Value, []NamedValue) (Value, error) {
			c.pos = 0
			return None(), nil
		}), true
	}
	return Value{}, false
}

func (c *cycler) Repr() string { return "<Cycler>" }

func fnCycler(_ *renderer, args []Value, _ []NamedValue) (Value, error) {
	if len(args) == 0 {
		return Value{}, fmt.Errorf("cycler needs at least one item")
	}
	return objectOf(&cycler{items: args}), nil
}
