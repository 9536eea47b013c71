package jinja

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// ErrLimit is wrapped by errors from templates that exceed a Limits bound.
var ErrLimit = errors.New("template limit exceeded")

// Error is a template error with the line it happened on (0 if unknown).
// Errors raised by raise_exception carry exactly the template's message.
type Error struct {
	Line   int
	Msg    string
	Raised bool // from raise_exception
	wrap   error
}

func (e *Error) Error() string {
	if e.Raised || e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

func (e *Error) Unwrap() error { return e.wrap }

// Limits bound one render. Zero fields mean no bound for that resource,
// except MaxDepth which defaults to 64.
type Limits struct {
	MaxOutput int       // bytes written in total (including macro output) and longest string built
	MaxSteps  int       // statements executed, loop iterations, calls and range() items
	MaxDepth  int       // nested macro calls
	Deadline  time.Time // checked every 256 steps
	Now       func() time.Time
}

// Template is a compiled template.
type Template struct {
	body []node
}

// Parse compiles a template source.
func Parse(src string) (*Template, error) {
	toks, err := lex(src)
	if err != nil {
		return nil, err
	}
	body, err := parse(toks)
	if err != nil {
		return nil, err
	}
	return &Template{body: body}, nil
}

// Render executes the template with the given global variables.
func (t *Template) Render(vars map[string]Value, lim Limits) (out string, err error) {
	if lim.MaxDepth <= 0 {
		lim.MaxDepth = 64
	}
	if lim.Now == nil {
		lim.Now = time.Now
	}
	r := &renderer{lim: lim}
	defer func() {
		if p := recover(); p != nil {
			out, err = "", &Error{Msg: fmt.Sprintf("internal template error: %v", p)}
		}
	}()
	globals := &scope{vars: builtinGlobals()}
	sc := globals.child()
	for k, v := range vars {
		sc.vars[k] = v
	}
	var b strings.Builder
	r.w = &b
	if err := r.exec(t.body, sc); err != nil {
		if errors.Is(err, errBreak) || errors.Is(err, errContinue) {
			return "", &Error{Msg: "break or continue outside a loop"}
		}
		return "", err
	}
	return b.String(), nil
}

type scope struct {
	vars   map[string]Value
	parent *scope
}

func (s *scope) child() *scope { return &scope{vars: map[string]Value{}, parent: s} }

func (s *scope) lookup(name string) (Value, bool) {
	for c := s; c != nil; c = c.parent {
		if v, ok := c.vars[name]; ok {
			return v, true
		}
	}
	return Value{}, false
}

type renderer struct {
	lim     Limits
	w       *strings.Builder
	written int
	steps   int
	depth   int
}

var (
	errBreak    = errors.New("break")
	errContinue = errors.New("continue")
)

func (r *renderer) limitErr(format string, args ...any) error {
	return &Error{Msg: fmt.Sprintf(format, args...), wrap: ErrLimit}
}

// step counts one unit of work against MaxSteps and the deadline.
func (r *renderer) step(n int) error {
	r.steps += n
	if r.lim.MaxSteps > 0 && r.steps > r.lim.MaxSteps {
		return r.limitErr("template exceeded %d steps", r.lim.MaxSteps)
	}
	if !r.lim.Deadline.IsZero() && r.steps&255 == 0 && time.Now().After(r.lim.Deadline) {
		return r.limitErr("template rendering timed out")
	}
	return nil
}

func (r *renderer) write(s string) error {
	r.written += len(s)
	if r.lim.MaxOutput > 0 && r.written > r.lim.MaxOutput {
		return r.limitErr("template output exceeds %d bytes", r.lim.MaxOutput)
	}
	r.w.WriteString(s)
	return nil
}

// checkLen bounds strings and lists built by expressions.
func (r *renderer) checkLen(n int) error {
	if r.lim.MaxOutput > 0 && n > r.lim.MaxOutput {
		return r.limitErr("template value of %d bytes exceeds %d", n, r.lim.MaxOutput)
	}
	return nil
}

func errAt(n interface{ line() int }, format string, args ...any) error {
	return &Error{Line: n.line(), Msg: fmt.Sprintf(format, args...)}
}

// atLine attaches the line of n to err, keeping template errors (and what
// they wrap) intact.
func atLine(n interface{ line() int }, err error) error {
	var te *Error
	if errors.As(err, &te) {
		if te.Line == 0 && !te.Raised {
			te.Line = n.line()
		}
		return err
	}
	return errAt(n, "%v", err)
}

// capture renders body into a string.
func (r *renderer) capture(body []node, sc *scope) (string, error) {
	saved := r.w
	var b strings.Builder
	r.w = &b
	err := r.exec(body, sc)
	r.w = saved
	return b.String(), err
}

func (r *renderer) exec(body []node, sc *scope) error {
	for _, n := range body {
		if err := r.step(1); err != nil {
			return err
		}
		if err := r.execNode(n, sc); err != nil {
			return err
		}
	}
	return nil
}

func (r *renderer) execNode(n node, sc *scope) error {
	switch n := n.(type) {
	case *dataNode:
		return r.write(n.text)
	case *outputNode:
		v, err := r.eval(n.e, sc)
		if err != nil {
			return err
		}
		return r.write(v.str())
	case *ifNode:
		for i, c := range n.conds {
			v, err := r.eval(c, sc)
			if err != nil {
				return err
			}
			if v.truth() {
				return r.exec(n.bodies[i], sc)
			}
		}
		return r.exec(n.orElse, sc)
	case *forNode:
		return r.execFor(n, sc)
	case *setNode:
		v, err := r.eval(n.e, sc)
		if err != nil {
			return err
		}
		return r.assign(n, n.target, v, sc)
	case *setBlockNode:
		s, err := r.capture(n.body, sc.child())
		if err != nil {
			return err
		}
		v := Str(s)
		for _, f := range n.filters {
			if v, err = r.applyFilter(f, v, sc); err != nil {
				return err
			}
		}
		return r.assign(n, n.target, v, sc)
	case *macroNode:
		sc.vars[n.name] = r.macro(n.name, n.params, n.body, sc, nil)
		return nil
	case *callBlockNode:
		caller := r.macro("caller", n.params, n.body, sc, nil)
		v, err := r.evalCall(n.call, sc, &caller)
		if err != nil {
			return err
		}
		return r.write(v.str())
	case *filterBlockNode:
		s, err := r.capture(n.body, sc.child())
		if err != nil {
			return err
		}
		v := Str(s)
		for _, f := range n.filters {
			if v, err = r.applyFilter(f, v, sc); err != nil {
				return err
			}
		}
		return r.write(v.str())
	case *withNode:
		inner := sc.child()
		for i, name := range n.names {
			v, err := r.eval(n.exprs[i], sc)
			if err != nil {
				return err
			}
			inner.vars[name] = v
		}
		return r.exec(n.body, inner)
	case *breakNode:
		return errBreak
	case *continueNode:
		return errContinue
	case *doNode:
		_, err := r.eval(n.e, sc)
		return err
	}
	return errAt(n, "unknown node %T", n)
}

func (r *renderer) assign(n node, t target, v Value, sc *scope) error {
	if t.attr != "" {
		nsv, ok := sc.lookup(t.names[0])
		ns, isNS := nsv.ref.(*namespace)
		if !ok || !isNS {
			return errAt(n, "cannot assign attribute on non-namespace object")
		}
		ns.d.Set(t.attr, v)
		return nil
	}
	return bindNames(n, t.names, v, sc)
}

// bindNames sets names in sc to v: one name takes v whole; several take
// the items of v, which must iterate to exactly as many (Python's
// unpacking). Errors are reported at n's line.
func bindNames(n interface{ line() int }, names []string, v Value, sc *scope) error {
	if len(names) == 1 {
		sc.vars[names[0]] = v
		return nil
	}
	items, ok := v.iterate()
	if !ok || len(items) != len(names) {
		return errAt(n, "cannot unpack %s into %d names", v.typeName(), len(names))
	}
	for i, name := range names {
		sc.vars[name] = items[i]
	}
	return nil
}

func (r *renderer) execFor(n *forNode, sc *scope) error {
	it, err := r.eval(n.iter, sc)
	if err != nil {
		return err
	}
	return r.loop(n, it, sc, 1)
}

func (r *renderer) loop(n *forNode, it Value, sc *scope, depth int) error {
	items, ok := it.iterate()
	if !ok {
		return errAt(n, "'%s' object is not iterable", it.typeName())
	}
	if n.cond != nil {
		var kept []Value
		for _, item := range items {
			if err := r.step(1); err != nil {
				return err
			}
			s := sc.child()
			if err := bindNames(n, n.targets, item, s); err != nil {
				return err
			}
			c, err := r.eval(n.cond, s)
			if err != nil {
				return err
			}
			if c.truth() {
				kept = append(kept, item)
			}
		}
		items = kept
	}
	if len(items) == 0 {
		return r.exec(n.orElse, sc)
	}
	lp := &loopObj{items: items, depth: depth}
	if n.recursive {
		lp.recurse = func(v Value) (Value, error) {
			s, err := r.captureLoop(n, v, sc, depth+1)
			return Str(s), err
		}
	}
	for i, item := range items {
		if err := r.step(1); err != nil {
			return err
		}
		s := sc.child()
		if err := bindNames(n, n.targets, item, s); err != nil {
			return err
		}
		lp.index = i
		s.vars["loop"] = objectOf(lp)
		err := r.exec(n.body, s)
		switch {
		case errors.Is(err, errBreak):
			return nil
		case errors.Is(err, errContinue):
		case err != nil:
			return err
		}
	}
	return nil
}

func (r *renderer) captureLoop(n *forNode, it Value, sc *scope, depth int) (string, error) {
	if depth > r.lim.MaxDepth {
		return "", r.limitErr("recursive loop deeper than %d", r.lim.MaxDepth)
	}
	saved := r.w
	var b strings.Builder
	r.w = &b
	err := r.loop(n, it, sc, depth)
	r.w = saved
	return b.String(), err
}

// macro builds the callable of a macro definition.
func (r *renderer) macro(name string, params []param, body []node, defScope *scope, _ *Value) Value {
	return FuncOf(name, func(r *renderer, args []Value, kwargs []NamedValue) (Value, error) {
		return r.callMacro(name, params, body, defScope, args, kwargs, nil)
	})
}

func (r *renderer) callMacro(name string, params []param, body []node, defScope *scope, args []Value, kwargs []NamedValue, caller *Value) (Value, error) {
	if r.depth >= r.lim.MaxDepth {
		return Value{}, r.limitErr("macro calls nested deeper than %d", r.lim.MaxDepth)
	}
	if err := r.step(1); err != nil {
		return Value{}, err
	}
	r.depth++
	defer func() { r.depth-- }()
	s := defScope.child()
	var extra []Value
	for i, a := range args {
		if i < len(params) {
			s.vars[params[i].name] = a
		} else {
			extra = append(extra, a)
		}
	}
	kw := NewDict()
	for _, a := range kwargs {
		found := false
		for _, p := range params {
			if p.name == a.Name {
				s.vars[p.name] = a.Value
				found = true
			}
		}
		switch {
		case found:
		case a.Name == "caller":
			s.vars["caller"] = a.Value
		default:
			kw.Set(a.Name, a.Value)
		}
	}
	for _, p := range params {
		if _, ok := s.vars[p.name]; ok {
			continue
		}
		if p.def == nil {
			s.vars[p.name] = Undefined(p.name)
			continue
		}
		v, err := r.eval(p.def, s)
		if err != nil {
			return Value{}, err
		}
		s.vars[p.name] = v
	}
	s.vars["varargs"] = ListOf(extra)
	s.vars["kwargs"] = DictOf(kw)
	if caller != nil {
		s.vars["caller"] = *caller
	}
	out, err := r.capture(body, s)
	if err != nil {
		return Value{}, err
	}
	return Str(out), nil
}

// eval evaluates an expression.
func (r *renderer) eval(e expr, sc *scope) (Value, error) {
	switch e := e.(type) {
	case *literal:
		return e.v, nil
	case *nameExpr:
		if v, ok := sc.lookup(e.name); ok {
			return v, nil
		}
		return Undefined(fmt.Sprintf("'%s' is undefined", e.name)), nil
	case *listExpr:
		items := make([]Value, len(e.items))
		for i, it := range e.items {
			v, err := r.eval(it, sc)
			if err != nil {
				return Value{}, err
			}
			items[i] = v
		}
		if e.tuple {
			return tupleOf(items), nil
		}
		return ListOf(items), nil
	case *dictExpr:
		d := NewDict()
		for i := range e.keys {
			k, err := r.eval(e.keys[i], sc)
			if err != nil {
				return Value{}, err
			}
			v, err := r.eval(e.vals[i], sc)
			if err != nil {
				return Value{}, err
			}
			d.Set(k.str(), v)
		}
		return DictOf(d), nil
	case *attrExpr:
		obj, err := r.eval(e.obj, sc)
		if err != nil {
			return Value{}, err
		}
		return r.getAttr(e, obj, e.name)
	case *itemExpr:
		obj, err := r.eval(e.obj, sc)
		if err != nil {
			return Value{}, err
		}
		key, err := r.eval(e.key, sc)
		if err != nil {
			return Value{}, err
		}
		return r.getItem(e, obj, key)
	case *sliceExpr:
		return r.evalSlice(e, sc)
	case *callExpr:
		return r.evalCall(e, sc, nil)
	case *filterExpr:
		v, err := r.eval(e.e, sc)
		if err != nil {
			return Value{}, err
		}
		return r.applyFilter(e, v, sc)
	case *testExpr:
		return r.evalTest(e, sc)
	case *unaryExpr:
		v, err := r.eval(e.e, sc)
		if err != nil {
			return Value{}, err
		}
		return r.unary(e, v)
	case *binExpr:
		return r.evalBin(e, sc)
	case *compareExpr:
		return r.evalCompare(e, sc)
	case *condExpr:
		c, err := r.eval(e.cond, sc)
		if err != nil {
			return Value{}, err
		}
		if c.truth() {
			return r.eval(e.a, sc)
		}
		if e.b == nil {
			return Undefined("the inline if expression evaluated to false and no else section was defined"), nil
		}
		return r.eval(e.b, sc)
	}
	return Value{}, errAt(e, "unknown expression %T", e)
}

// undefinedErr is the error of using an undefined value.
func undefinedErr(n interface{ line() int }, v Value) error {
	msg := v.s
	if msg == "" {
		msg = "value is undefined"
	}
	return errAt(n, "%s", msg)
}

func (r *renderer) getAttr(n interface{ line() int }, obj Value, name string) (Value, error) {
	switch obj.kind {
	case KindUndefined:
		return Value{}, undefinedErr(n, obj)
	case KindDict:
		if m, ok := dictMethod(obj, name); ok {
			return m, nil
		}
		if v, ok := obj.dict().Get(name); ok {
			return v, nil
		}
		return Undefined(fmt.Sprintf("'dict object' has no attribute '%s'", name)), nil
	case KindString:
		if m, ok := strMethod(obj, name); ok {
			return m, nil
		}
	case KindList:
		if m, ok := listMethod(obj, name); ok {
			return m, nil
		}
	case KindObject:
		if v, ok := obj.ref.(Object).Attr(name); ok {
			return v, nil
		}
	}
	return Undefined(fmt.Sprintf("'%s object' has no attribute '%s'", obj.typeName(), name)), nil
}

func (r *renderer) getItem(n interface{ line() int }, obj, key Value) (Value, error) {
	switch obj.kind {
	case KindUndefined:
		return Value{}, undefinedErr(n, obj)
	case KindDict:
		if key.kind == KindString {
			if v, ok := obj.dict().Get(key.s); ok {
				return v, nil
			}
		}
		return Undefined(fmt.Sprintf("'dict object' has no attribute %s", key.repr())), nil
	case KindList, KindString:
		if key.kind == KindInt || key.kind == KindBool {
			var items []Value
			if obj.kind == KindString {
				items, _ = obj.iterate()
			} else {
				items = obj.list().Items
			}
			i := key.i
			if i < 0 {
				i += int64(len(items))
			}
			if i < 0 || i >= int64(len(items)) {
				return Undefined(fmt.Sprintf("%s object has no element %d", obj.typeName(), key.i)), nil
			}
			return items[i], nil
		}
	}
	if key.kind == KindString {
		return r.getAttr(n, obj, key.s)
	}
	return Undefined(fmt.Sprintf("'%s object' has no attribute %s", obj.typeName(), key.repr())), nil
}

func (r *renderer) evalSlice(e *sliceExpr, sc *scope) (Value, error) {
	obj, err := r.eval(e.obj, sc)
	if err != nil {
		return Value{}, err
	}
	var idx [3]*int64
	for i, x := range []expr{e.start, e.stop, e.step} {
		if x == nil {
			continue
		}
		v, err := r.eval(x, sc)
		if err != nil {
			return Value{}, err
		}
		if v.kind == KindNone {
			continue
		}
		if v.kind != KindInt {
			return Value{}, errAt(e, "slice indices must be integers")
		}
		n := v.i
		idx[i] = &n
	}
	var items []Value
	switch obj.kind {
	case KindUndefined:
		return Value{}, undefinedErr(e, obj)
	case KindString:
		items, _ = obj.iterate()
	case KindList:
		items = obj.list().Items
	default:
		return Value{}, errAt(e, "'%s' object is not subscriptable", obj.typeName())
	}
	sel, err := pySlice(len(items), idx[0], idx[1], idx[2])
	if err != nil {
		return Value{}, errAt(e, "%v", err)
	}
	if obj.kind == KindString {
		var b strings.Builder
		for _, i := range sel {
			b.WriteString(items[i].s)
		}
		return Str(b.String()), nil
	}
	out := make([]Value, len(sel))
	for j, i := range sel {
		out[j] = items[i]
	}
	if obj.list().Tuple {
		return tupleOf(out), nil
	}
	return ListOf(out), nil
}

// pySlice returns the indices Python's seq[start:stop:step] selects.
func pySlice(n int, start, stop, step *int64) ([]int, error) {
	st := int64(1)
	if step != nil {
		st = *step
	}
	if st == 0 {
		return nil, fmt.Errorf("slice step cannot be zero")
	}
	ln := int64(n)
	clamp := func(p *int64, def int64, lo, hi int64) int64 {
		if p == nil {
			return def
		}
		v := *p
		if v < 0 {
			v += ln
		}
		return max(lo, min(v, hi))
	}
	var out []int
	if st > 0 {
		a, b := clamp(start, 0, 0, ln), clamp(stop, ln, 0, ln)
		for i := a; i < b; i += st {
			out = append(out, int(i))
		}
	} else {
		a, b := clamp(start, ln-1, -1, ln-1), clamp(stop, -1, -1, ln-1)
		if stop != nil && *stop < 0 && *stop+ln < 0 {
			b = -1
		}
		for i := a; i > b; i += st {
			out = append(out, int(i))
		}
	}
	return out, nil
}

func (r *renderer) evalArgs(args []expr, kwargs []kwarg, sc *scope) ([]Value, []NamedValue, error) {
	av := make([]Value, len(args))
	for i, a := range args {
		v, err := r.eval(a, sc)
		if err != nil {
			return nil, nil, err
		}
		av[i] = v
	}
	var kv []NamedValue
	for _, k := range kwargs {
		v, err := r.eval(k.e, sc)
		if err != nil {
			return nil, nil, err
		}
		kv = append(kv, NamedValue{k.name, v})
	}
	return av, kv, nil
}

func (r *renderer) evalCall(e *callExpr, sc *scope, caller *Value) (Value, error) {
	fn, err := r.eval(e.fn, sc)
	if err != nil {
		return Value{}, err
	}
	args, kwargs, err := r.evalArgs(e.args, e.kwargs, sc)
	if err != nil {
		return Value{}, err
	}
	if caller != nil {
		kwargs = append(kwargs, NamedValue{"caller", *caller})
	}
	if err := r.step(1); err != nil {
		return Value{}, err
	}
	switch fn.kind {
	case KindFunc:
		v, err := fn.ref.(*Func).Call(r, args, kwargs)
		if err != nil {
			return Value{}, atLine(e, err)
		}
		return v, nil
	case KindObject:
		if c, ok := fn.ref.(interface {
			call(r *renderer, args []Value) (Value, error)
		}); ok {
			return c.call(r, args)
		}
	case KindUndefined:
		return Value{}, undefinedErr(e, fn)
	}
	return Value{}, errAt(e, "'%s' object is not callable", fn.typeName())
}

func (r *renderer) unary(e *unaryExpr, v Value) (Value, error) {
	switch e.op {
	case "not":
		return Bool(!v.truth()), nil
	case "-":
		switch v.kind {
		case KindInt, KindBool:
			return Int(-v.i), nil
		case KindFloat:
			return Float(-v.f), nil
		}
	case "+":
		if v.isNum() {
			if v.kind == KindBool {
				return Int(v.i), nil
			}
			return v, nil
		}
	}
	if v.kind == KindUndefined {
		return Value{}, undefinedErr(e, v)
	}
	return Value{}, errAt(e, "bad operand type for unary %s: '%s'", e.op, v.typeName())
}

func (r *renderer) evalBin(e *binExpr, sc *scope) (Value, error) {
	a, err := r.eval(e.a, sc)
	if err != nil {
		return Value{}, err
	}
	switch e.op {
	case "and":
		if !a.truth() {
			return a, nil
		}
		return r.eval(e.b, sc)
	case "or":
		if a.truth() {
			return a, nil
		}
		return r.eval(e.b, sc)
	}
	b, err := r.eval(e.b, sc)
	if err != nil {
		return Value{}, err
	}
	if e.op == "~" {
		s := a.str() + b.str()
		if err := r.checkLen(len(s)); err != nil {
			return Value{}, err
		}
		return Str(s), nil
	}
	if a.kind == KindUndefined {
		return Value{}, undefinedErr(e, a)
	}
	if b.kind == KindUndefined {
		return Value{}, undefinedErr(e, b)
	}
	v, err := r.arith(e.op, a, b)
	if err != nil {
		return Value{}, atLine(e, err)
	}
	return v, nil
}

func (r *renderer) arith(op string, a, b Value) (Value, error) {
	if a.isNum() && b.isNum() {
		return numOp(op, a, b)
	}
	switch op {
	case "+":
		switch {
		case a.kind == KindString && b.kind == KindString:
			if err := r.checkLen(len(a.s) + len(b.s)); err != nil {
				return Value{}, err
			}
			return Str(a.s + b.s), nil
		case a.kind == KindList && b.kind == KindList:
			x, y := a.list(), b.list()
			if err := r.step(len(x.Items) + len(y.Items)); err != nil {
				return Value{}, err
			}
			items := append(append([]Value(nil), x.Items...), y.Items...)
			if x.Tuple && y.Tuple {
				return tupleOf(items), nil
			}
			return ListOf(items), nil
		}
	case "*":
		if b.kind == KindString || b.kind == KindList {
			a, b = b, a
		}
		if (a.kind == KindString || a.kind == KindList) && (b.kind == KindInt || b.kind == KindBool) {
			n := max(b.i, 0)
			if a.kind == KindString {
				if err := r.checkLen(int(min(n*int64(len(a.s)), math.MaxInt32))); err != nil {
					return Value{}, err
				}
				return Str(strings.Repeat(a.s, int(n))), nil
			}
			items := a.list().Items
			if err := r.step(int(min(n*int64(len(items)), math.MaxInt32))); err != nil {
				return Value{}, err
			}
			var out []Value
			for range n {
				out = append(out, items...)
			}
			return ListOf(out), nil
		}
	case "%":
		if a.kind == KindString {
			s, err := percentFormat(a.s, b)
			if err != nil {
				return Value{}, err
			}
			return Str(s), r.checkLen(len(s))
		}
	}
	return Value{}, fmt.Errorf("unsupported operand type(s) for %s: '%s' and '%s'", op, a.typeName(), b.typeName())
}

func numOp(op string, a, b Value) (Value, error) {
	isFloat := a.kind == KindFloat || b.kind == KindFloat
	switch op {
	case "+":
		if isFloat {
			return Float(a.num() + b.num()), nil
		}
		return Int(a.i + b.i), nil
	case "-":
		if isFloat {
			return Float(a.num() - b.num()), nil
		}
		return Int(a.i - b.i), nil
	case "*":
		if isFloat {
			return Float(a.num() * b.num()), nil
		}
		return Int(a.i * b.i), nil
	case "/":
		if b.num() == 0 {
			return Value{}, fmt.Errorf("division by zero")
		}
		return Float(a.num() / b.num()), nil
	case "//":
		if b.num() == 0 {
			return Value{}, fmt.Errorf("integer division or modulo by zero")
		}
		if isFloat {
			return Float(math.Floor(a.num() / b.num())), nil
		}
		q := a.i / b.i
		if (a.i%b.i != 0) && ((a.i < 0) != (b.i < 0)) {
			q--
		}
		return Int(q), nil
	case "%":
		if b.num() == 0 {
			return Value{}, fmt.Errorf("integer division or modulo by zero")
		}
		if isFloat {
			m := math.Mod(a.num(), b.num())
			if m != 0 && (m < 0) != (b.num() < 0) {
				m += b.num()
			}
			return Float(m), nil
		}
		m := a.i % b.i
		if m != 0 && (m < 0) != (b.i < 0) {
			m += b.i
		}
		return Int(m), nil
	case "**":
		if !isFloat && b.i >= 0 {
			if b.i > 4096 {
				return Value{}, fmt.Errorf("exponent %d too large", b.i)
			}
			res := int64(1)
			for range b.i {
				res *= a.i
			}
			return Int(res), nil
		}
		return Float(math.Pow(a.num(), b.num())), nil
	}
	return Value{}, fmt.Errorf("unknown operator %s", op)
}

func (r *renderer) evalCompare(e *compareExpr, sc *scope) (Value, error) {
	a, err := r.eval(e.first, sc)
	if err != nil {
		return Value{}, err
	}
	for i, op := range e.ops {
		b, err := r.eval(e.rest[i], sc)
		if err != nil {
			return Value{}, err
		}
		ok, err := compareOp(op, a, b)
		if err != nil {
			return Value{}, atLine(e, err)
		}
		if !ok {
			return Bool(false), nil
		}
		a = b
	}
	return Bool(true), nil
}

func compareOp(op string, a, b Value) (bool, error) {
	switch op {
	case "==":
		return equal(a, b), nil
	case "!=":
		return !equal(a, b), nil
	case "in", "notin":
		in, err := contains(b, a)
		if op == "notin" {
			in = !in
		}
		return in, err
	}
	lt, ok := less(a, b)
	gt, _ := less(b, a)
	if !ok {
		return false, fmt.Errorf("'%s' not supported between instances of '%s' and '%s'", op, a.typeName(), b.typeName())
	}
	switch op {
	case "<":
		return lt, nil
	case ">":
		return gt, nil
	case "<=":
		return !gt, nil
	case ">=":
		return !lt, nil
	}
	return false, fmt.Errorf("unknown comparison %s", op)
}

// contains is Python's "x in container".
func contains(container, x Value) (bool, error) {
	switch container.kind {
	case KindString:
		if x.kind != KindString {
			return false, fmt.Errorf("'in <string>' requires string as left operand, not %s", x.typeName())
		}
		return strings.Contains(container.s, x.s), nil
	case KindList:
		for _, it := range container.list().Items {
			if equal(it, x) {
				return true, nil
			}
		}
		return false, nil
	case KindDict:
		if x.kind != KindString {
			return false, nil
		}
		_, ok := container.dict().Get(x.s)
		return ok, nil
	case KindUndefined:
		return false, nil
	}
	return false, fmt.Errorf("argument of type '%s' is not iterable", container.typeName())
}

func (r *renderer) evalTest(e *testExpr, sc *scope) (Value, error) {
	v, err := r.eval(e.e, sc)
	if err != nil {
		return Value{}, err
	}
	fn, ok := tests[e.name]
	if !ok {
		return Value{}, errAt(e, "no test named '%s'", e.name)
	}
	args := make([]Value, len(e.args))
	for i, a := range e.args {
		if args[i], err = r.eval(a, sc); err != nil {
			return Value{}, err
		}
	}
	res, err := fn(v, args)
	if err != nil {
		return Value{}, atLine(e, err)
	}
	return Bool(res != e.negate), nil
}

func (r *renderer) applyFilter(f *filterExpr, v Value, sc *scope) (Value, error) {
	fn, ok := filters[f.name]
	if !ok {
		return Value{}, errAt(f, "no filter named '%s'", f.name)
	}
	args, kwargs, err := r.evalArgs(f.args, f.kwargs, sc)
	if err != nil {
		return Value{}, err
	}
	if err := r.step(1); err != nil {
		return Value{}, err
	}
	out, err := fn(r, v, args, kwargs)
	if err != nil {
		return Value{}, atLine(f, err)
	}
	return out, nil
}
