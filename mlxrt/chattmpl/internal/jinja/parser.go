package jinja

import (
	"fmt"
	"strconv"
)

// maxNesting bounds the parser's recursion (nested expressions and blocks).
const maxNesting = 200

type parser struct {
	toks  []token
	i     int
	depth int
}

func parse(toks []token) ([]node, error) {
	p := &parser{toks: toks}
	body, end, err := p.body()
	if err != nil {
		return nil, err
	}
	if end != "" {
		return nil, p.errAt(p.cur(), "unexpected '%s'", end)
	}
	return body, nil
}

func (p *parser) cur() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) errAt(t token, format string, args ...any) error {
	return &Error{Line: t.line, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) isOp(op string) bool {
	t := p.cur()
	return t.kind == tOp && t.val == op
}

func (p *parser) isName(n string) bool {
	t := p.cur()
	return t.kind == tName && t.val == n
}

func (p *parser) expectOp(op string) error {
	if !p.isOp(op) {
		return p.errAt(p.cur(), "expected '%s', got %s", op, p.cur())
	}
	p.next()
	return nil
}

func (p *parser) expectName() (string, error) {
	t := p.cur()
	if t.kind != tName {
		return "", p.errAt(t, "expected a name, got %s", t)
	}
	p.next()
	return t.val, nil
}

func (p *parser) expectKind(k tokKind) error {
	if p.cur().kind != k {
		return p.errAt(p.cur(), "unexpected %s", p.cur())
	}
	p.next()
	return nil
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxNesting {
		return &Error{Line: p.cur().line, Msg: fmt.Sprintf("nesting deeper than %d", maxNesting), wrap: ErrLimit}
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

// endTags are the block keywords that end a body.
var endTags = map[string]bool{
	"endif": true, "elif": true, "else": true, "endfor": true, "endmacro": true,
	"endset": true, "endfilter": true, "endwith": true, "endcall": true,
	"endgeneration": true,
}

// body parses nodes until EOF or an end tag; it returns the end tag's name
// with the parser positioned after it (its arguments still to read).
func (p *parser) body() ([]node, string, error) {
	if err := p.enter(); err != nil {
		return nil, "", err
	}
	defer p.leave()
	var out []node
	for {
		t := p.cur()
		switch t.kind {
		case tEOF:
			return out, "", nil
		case tData:
			p.next()
			out = append(out, &dataNode{pos{t.line}, t.val})
		case tVarBegin:
			p.next()
			e, err := p.expression()
			if err != nil {
				return nil, "", err
			}
			if err := p.expectKind(tVarEnd); err != nil {
				return nil, "", err
			}
			out = append(out, &outputNode{pos{t.line}, e})
		case tBlockBegin:
			p.next()
			kw := p.cur()
			if kw.kind != tName {
				return nil, "", p.errAt(kw, "expected a statement, got %s", kw)
			}
			if endTags[kw.val] {
				p.next()
				return out, kw.val, nil
			}
			n, err := p.statement()
			if err != nil {
				return nil, "", err
			}
			if n != nil {
				out = append(out, n...)
			}
		default:
			return nil, "", p.errAt(t, "unexpected %s", t)
		}
	}
}

func (p *parser) blockEnd() error { return p.expectKind(tBlockEnd) }

// bodyUntil parses a body that must end with one of the given tags.
func (p *parser) bodyUntil(tags ...string) ([]node, string, error) {
	start := p.cur()
	b, end, err := p.body()
	if err != nil {
		return nil, "", err
	}
	for _, t := range tags {
		if end == t {
			return b, end, nil
		}
	}
	if end == "" {
		return nil, "", p.errAt(start, "missing '%s'", tags[len(tags)-1])
	}
	return nil, "", p.errAt(p.cur(), "unexpected '%s'", end)
}

func (p *parser) statement() ([]node, error) {
	kw := p.next()
	ln := pos{kw.line}
	switch kw.val {
	case "if":
		return p.ifStmt(ln)
	case "for":
		return p.forStmt(ln)
	case "set":
		return p.setStmt(ln)
	case "macro":
		return p.macroStmt(ln)
	case "call":
		return p.callStmt(ln)
	case "filter":
		return p.filterStmt(ln)
	case "with":
		return p.withStmt(ln)
	case "break", "continue":
		if err := p.blockEnd(); err != nil {
			return nil, err
		}
		if kw.val == "break" {
			return []node{&breakNode{ln}}, nil
		}
		return []node{&continueNode{ln}}, nil
	case "generation":
		// transformers' {% generation %} marks assistant text; it renders
		// its body unchanged.
		if err := p.blockEnd(); err != nil {
			return nil, err
		}
		b, _, err := p.bodyUntil("endgeneration")
		if err != nil {
			return nil, err
		}
		return b, p.blockEnd()
	case "include", "import", "from", "extends", "block":
		return nil, p.errAt(kw, "'%s' is not supported in chat templates", kw.val)
	}
	return nil, p.errAt(kw, "unknown statement '%s'", kw.val)
}

func (p *parser) ifStmt(ln pos) ([]node, error) {
	n := &ifNode{pos: ln}
	for {
		c, err := p.expression()
		if err != nil {
			return nil, err
		}
		if err := p.blockEnd(); err != nil {
			return nil, err
		}
		b, end, err := p.bodyUntil("elif", "else", "endif")
		if err != nil {
			return nil, err
		}
		n.conds = append(n.conds, c)
		n.bodies = append(n.bodies, b)
		switch end {
		case "elif":
			continue
		case "else":
			if err := p.blockEnd(); err != nil {
				return nil, err
			}
			b, _, err := p.bodyUntil("endif")
			if err != nil {
				return nil, err
			}
			n.orElse = b
		}
		return []node{n}, p.blockEnd()
	}
}

func (p *parser) forStmt(ln pos) ([]node, error) {
	n := &forNode{pos: ln}
	paren := p.isOp("(")
	if paren {
		p.next()
	}
	for {
		name, err := p.expectName()
		if err != nil {
			return nil, err
		}
		n.targets = append(n.targets, name)
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	if paren {
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
	}
	if !p.isName("in") {
		return nil, p.errAt(p.cur(), "expected 'in' in for loop")
	}
	p.next()
	iter, err := p.orExpr(true)
	if err != nil {
		return nil, err
	}
	n.iter = iter
	if p.isName("if") {
		p.next()
		if n.cond, err = p.orExpr(true); err != nil {
			return nil, err
		}
	}
	if p.isName("recursive") {
		p.next()
		n.recursive = true
	}
	if err := p.blockEnd(); err != nil {
		return nil, err
	}
	b, end, err := p.bodyUntil("else", "endfor")
	if err != nil {
		return nil, err
	}
	n.body = b
	if end == "else" {
		if err := p.blockEnd(); err != nil {
			return nil, err
		}
		if n.orElse, _, err = p.bodyUntil("endfor"); err != nil {
			return nil, err
		}
	}
	return []node{n}, p.blockEnd()
}

func (p *parser) target() (target, error) {
	var t target
	paren := p.isOp("(")
	if paren {
		p.next()
	}
	name, err := p.expectName()
	if err != nil {
		return t, err
	}
	t.names = []string{name}
	if p.isOp(".") && !paren {
		p.next()
		if t.attr, err = p.expectName(); err != nil {
			return t, err
		}
		return t, nil
	}
	for p.isOp(",") {
		p.next()
		if p.isOp("=") || p.isOp(")") {
			break
		}
		name, err := p.expectName()
		if err != nil {
			return t, err
		}
		t.names = append(t.names, name)
	}
	if paren {
		return t, p.expectOp(")")
	}
	return t, nil
}

func (p *parser) setStmt(ln pos) ([]node, error) {
	t, err := p.target()
	if err != nil {
		return nil, err
	}
	if p.isOp("=") {
		p.next()
		e, err := p.tupleOrExpr()
		if err != nil {
			return nil, err
		}
		return []node{&setNode{ln, t, e}}, p.blockEnd()
	}
	n := &setBlockNode{pos: ln, target: t}
	for p.isOp("|") {
		p.next()
		f, err := p.filterCall(nil)
		if err != nil {
			return nil, err
		}
		n.filters = append(n.filters, f)
	}
	if err := p.blockEnd(); err != nil {
		return nil, err
	}
	if n.body, _, err = p.bodyUntil("endset"); err != nil {
		return nil, err
	}
	return []node{n}, p.blockEnd()
}

func (p *parser) params() ([]param, error) {
	var out []param
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	for !p.isOp(")") {
		name, err := p.expectName()
		if err != nil {
			return nil, err
		}
		prm := param{name: name}
		if p.isOp("=") {
			p.next()
			if prm.def, err = p.expression(); err != nil {
				return nil, err
			}
		}
		out = append(out, prm)
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	return out, p.expectOp(")")
}

func (p *parser) macroStmt(ln pos) ([]node, error) {
	name, err := p.expectName()
	if err != nil {
		return nil, err
	}
	prms, err := p.params()
	if err != nil {
		return nil, err
	}
	if err := p.blockEnd(); err != nil {
		return nil, err
	}
	b, _, err := p.bodyUntil("endmacro")
	if err != nil {
		return nil, err
	}
	if p.cur().kind == tName && p.cur().val == name {
		p.next()
	}
	return []node{&macroNode{ln, name, prms, b}}, p.blockEnd()
}

func (p *parser) callStmt(ln pos) ([]node, error) {
	n := &callBlockNode{pos: ln}
	if p.isOp("(") {
		prms, err := p.params()
		if err != nil {
			return nil, err
		}
		n.params = prms
	}
	e, err := p.expression()
	if err != nil {
		return nil, err
	}
	c, ok := e.(*callExpr)
	if !ok {
		return nil, p.errAt(p.cur(), "expected a call in call block")
	}
	n.call = c
	if err := p.blockEnd(); err != nil {
		return nil, err
	}
	if n.body, _, err = p.bodyUntil("endcall"); err != nil {
		return nil, err
	}
	return []node{n}, p.blockEnd()
}

func (p *parser) filterStmt(ln pos) ([]node, error) {
	n := &filterBlockNode{pos: ln}
	for {
		f, err := p.filterCall(nil)
		if err != nil {
			return nil, err
		}
		n.filters = append(n.filters, f)
		if !p.isOp("|") {
			break
		}
		p.next()
	}
	if err := p.blockEnd(); err != nil {
		return nil, err
	}
	var err error
	if n.body, _, err = p.bodyUntil("endfilter"); err != nil {
		return nil, err
	}
	return []node{n}, p.blockEnd()
}

func (p *parser) withStmt(ln pos) ([]node, error) {
	n := &withNode{pos: ln}
	for p.cur().kind == tName {
		name, _ := p.expectName()
		if err := p.expectOp("="); err != nil {
			return nil, err
		}
		e, err := p.expression()
		if err != nil {
			return nil, err
		}
		n.names = append(n.names, name)
		n.exprs = append(n.exprs, e)
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	if err := p.blockEnd(); err != nil {
		return nil, err
	}
	var err error
	if n.body, _, err = p.bodyUntil("endwith"); err != nil {
		return nil, err
	}
	return []node{n}, p.blockEnd()
}

// tupleOrExpr parses "a, b" as a tuple (set statements).
func (p *parser) tupleOrExpr() (expr, error) {
	ln := pos{p.cur().line}
	e, err := p.expression()
	if err != nil || !p.isOp(",") {
		return e, err
	}
	items := []expr{e}
	for p.isOp(",") {
		p.next()
		if p.cur().kind == tBlockEnd {
			break
		}
		e, err := p.expression()
		if err != nil {
			return nil, err
		}
		items = append(items, e)
	}
	return &listExpr{ln, items, true}, nil
}

// expression parses a full expression including inline if/else.
func (p *parser) expression() (expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	ln := pos{p.cur().line}
	e, err := p.orExpr(true)
	if err != nil {
		return nil, err
	}
	for p.isName("if") {
		p.next()
		c, err := p.orExpr(true)
		if err != nil {
			return nil, err
		}
		var b expr
		if p.isName("else") {
			p.next()
			if b, err = p.expression(); err != nil {
				return nil, err
			}
		}
		e = &condExpr{ln, c, e, b}
	}
	return e, nil
}

func (p *parser) orExpr(withCond bool) (expr, error) {
	e, err := p.andExpr()
	for err == nil && p.isName("or") {
		t := p.next()
		var b expr
		if b, err = p.andExpr(); err == nil {
			e = &binExpr{pos{t.line}, "or", e, b}
		}
	}
	return e, err
}

func (p *parser) andExpr() (expr, error) {
	e, err := p.notExpr()
	for err == nil && p.isName("and") {
		t := p.next()
		var b expr
		if b, err = p.notExpr(); err == nil {
			e = &binExpr{pos{t.line}, "and", e, b}
		}
	}
	return e, err
}

func (p *parser) notExpr() (expr, error) {
	if p.isName("not") {
		t := p.next()
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer p.leave()
		e, err := p.notExpr()
		if err != nil {
			return nil, err
		}
		return &unaryExpr{pos{t.line}, "not", e}, nil
	}
	return p.compare()
}

var compareOps = map[string]bool{"==": true, "!=": true, "<": true, ">": true, "<=": true, ">=": true}

func (p *parser) compare() (expr, error) {
	ln := pos{p.cur().line}
	e, err := p.math1()
	if err != nil {
		return nil, err
	}
	c := &compareExpr{pos: ln, first: e}
	for {
		t := p.cur()
		var op string
		switch {
		case t.kind == tOp && compareOps[t.val]:
			op = t.val
			p.next()
		case t.kind == tName && t.val == "in":
			op = "in"
			p.next()
		case t.kind == tName && t.val == "not" && p.toks[p.i+1].kind == tName && p.toks[p.i+1].val == "in":
			op = "notin"
			p.next()
			p.next()
		default:
			if len(c.ops) == 0 {
				return e, nil
			}
			return c, nil
		}
		r, err := p.math1()
		if err != nil {
			return nil, err
		}
		c.ops = append(c.ops, op)
		c.rest = append(c.rest, r)
	}
}

func (p *parser) binLoop(next func() (expr, error), ops ...string) (expr, error) {
	e, err := next()
	for err == nil {
		t := p.cur()
		match := false
		for _, op := range ops {
			if t.kind == tOp && t.val == op {
				match = true
			}
		}
		if !match {
			break
		}
		p.next()
		var b expr
		if b, err = next(); err == nil {
			e = &binExpr{pos{t.line}, t.val, e, b}
		}
	}
	return e, err
}

func (p *parser) math1() (expr, error)  { return p.binLoop(p.concat, "+", "-") }
func (p *parser) concat() (expr, error) { return p.binLoop(p.math2, "~") }
func (p *parser) math2() (expr, error)  { return p.binLoop(p.pow, "*", "/", "//", "%") }
func (p *parser) pow() (expr, error) {
	return p.binLoop(func() (expr, error) { return p.unary(true) }, "**")
}

func (p *parser) unary(withFilter bool) (expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer p.leave()
	t := p.cur()
	var e expr
	var err error
	if t.kind == tOp && (t.val == "-" || t.val == "+") {
		p.next()
		inner, err := p.unary(false)
		if err != nil {
			return nil, err
		}
		e = &unaryExpr{pos{t.line}, t.val, inner}
	} else {
		if e, err = p.primary(); err != nil {
			return nil, err
		}
	}
	if e, err = p.postfix(e); err != nil {
		return nil, err
	}
	if withFilter {
		return p.filterTests(e)
	}
	return e, nil
}

func (p *parser) primary() (expr, error) {
	t := p.next()
	ln := pos{t.line}
	switch t.kind {
	case tName:
		switch t.val {
		case "true", "True":
			return &literal{ln, Bool(true)}, nil
		case "false", "False":
			return &literal{ln, Bool(false)}, nil
		case "none", "None":
			return &literal{ln, None()}, nil
		}
		return &nameExpr{ln, t.val}, nil
	case tString:
		s := t.val
		for p.cur().kind == tString {
			s += p.next().val
		}
		return &literal{ln, Str(s)}, nil
	case tInt:
		v, err := strconv.ParseInt(t.val, 10, 64)
		if err != nil {
			return nil, p.errAt(t, "integer %s out of range", t.val)
		}
		return &literal{ln, Int(v)}, nil
	case tFloat:
		v, err := strconv.ParseFloat(t.val, 64)
		if err != nil {
			return nil, p.errAt(t, "bad number %s", t.val)
		}
		return &literal{ln, Float(v)}, nil
	case tOp:
		switch t.val {
		case "(":
			return p.parenExpr(ln)
		case "[":
			items, err := p.exprList("]")
			if err != nil {
				return nil, err
			}
			return &listExpr{ln, items, false}, nil
		case "{":
			return p.dictLit(ln)
		}
	}
	return nil, p.errAt(t, "unexpected %s", t)
}

func (p *parser) parenExpr(ln pos) (expr, error) {
	if p.isOp(")") {
		p.next()
		return &listExpr{ln, nil, true}, nil
	}
	e, err := p.expression()
	if err != nil {
		return nil, err
	}
	if p.isOp(")") {
		p.next()
		return e, nil
	}
	items := []expr{e}
	for p.isOp(",") {
		p.next()
		if p.isOp(")") {
			break
		}
		e, err := p.expression()
		if err != nil {
			return nil, err
		}
		items = append(items, e)
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	return &listExpr{ln, items, true}, nil
}

func (p *parser) exprList(closing string) ([]expr, error) {
	var items []expr
	for !p.isOp(closing) {
		e, err := p.expression()
		if err != nil {
			return nil, err
		}
		items = append(items, e)
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	return items, p.expectOp(closing)
}

func (p *parser) dictLit(ln pos) (expr, error) {
	d := &dictExpr{pos: ln}
	for !p.isOp("}") {
		k, err := p.expression()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(":"); err != nil {
			return nil, err
		}
		v, err := p.expression()
		if err != nil {
			return nil, err
		}
		d.keys = append(d.keys, k)
		d.vals = append(d.vals, v)
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	return d, p.expectOp("}")
}

func (p *parser) postfix(e expr) (expr, error) {
	for {
		t := p.cur()
		if t.kind != tOp {
			return e, nil
		}
		ln := pos{t.line}
		switch t.val {
		case ".":
			p.next()
			n := p.next()
			switch n.kind {
			case tName:
				e = &attrExpr{ln, e, n.val}
			case tInt:
				v, _ := strconv.ParseInt(n.val, 10, 64)
				e = &itemExpr{ln, e, &literal{ln, Int(v)}}
			default:
				return nil, p.errAt(n, "expected an attribute name after '.'")
			}
		case "[":
			p.next()
			var err error
			if e, err = p.subscript(ln, e); err != nil {
				return nil, err
			}
		case "(":
			p.next()
			c, err := p.callArgs(ln, e)
			if err != nil {
				return nil, err
			}
			e = c
		default:
			return e, nil
		}
	}
}

func (p *parser) subscript(ln pos, obj expr) (expr, error) {
	var parts [3]expr
	idx := 0
	isSlice := false
	for {
		if p.isOp("]") {
			break
		}
		if p.isOp(":") {
			p.next()
			isSlice = true
			idx++
			if idx > 2 {
				return nil, p.errAt(p.cur(), "bad slice")
			}
			continue
		}
		e, err := p.expression()
		if err != nil {
			return nil, err
		}
		parts[idx] = e
		if !p.isOp(":") {
			break
		}
	}
	if err := p.expectOp("]"); err != nil {
		return nil, err
	}
	if isSlice {
		return &sliceExpr{ln, obj, parts[0], parts[1], parts[2]}, nil
	}
	if parts[0] == nil {
		return nil, p.errAt(p.cur(), "empty subscript")
	}
	return &itemExpr{ln, obj, parts[0]}, nil
}

func (p *parser) callArgs(ln pos, fn expr) (*callExpr, error) {
	c := &callExpr{pos: ln, fn: fn}
	for !p.isOp(")") {
		if p.cur().kind == tName && p.toks[p.i+1].kind == tOp && p.toks[p.i+1].val == "=" {
			name := p.next().val
			p.next()
			e, err := p.expression()
			if err != nil {
				return nil, err
			}
			c.kwargs = append(c.kwargs, kwarg{name, e})
		} else {
			e, err := p.expression()
			if err != nil {
				return nil, err
			}
			c.args = append(c.args, e)
		}
		if !p.isOp(",") {
			break
		}
		p.next()
	}
	return c, p.expectOp(")")
}

func (p *parser) filterTests(e expr) (expr, error) {
	for {
		switch {
		case p.isOp("|"):
			p.next()
			f, err := p.filterCall(e)
			if err != nil {
				return nil, err
			}
			e = f
		case p.isName("is"):
			t := p.next()
			te := &testExpr{pos: pos{t.line}, e: e}
			if p.isName("not") {
				p.next()
				te.negate = true
			}
			name, err := p.testName()
			if err != nil {
				return nil, err
			}
			te.name = name
			if p.isOp("(") {
				p.next()
				c, err := p.callArgs(te.pos, nil)
				if err != nil {
					return nil, err
				}
				te.args = c.args
			} else if p.testArgFollows() {
				arg, err := p.unary(false)
				if err != nil {
					return nil, err
				}
				te.args = []expr{arg}
			}
			e = te
		default:
			return e, nil
		}
	}
}

// testName reads a test name; "none", "true" and "false" are names here.
func (p *parser) testName() (string, error) {
	t := p.cur()
	if t.kind == tName {
		p.next()
		return t.val, nil
	}
	return "", p.errAt(t, "expected a test name, got %s", t)
}

// testArgFollows reports whether a test takes an argument without
// parentheses ("is divisibleby 3", "is sameas none").
func (p *parser) testArgFollows() bool {
	t := p.cur()
	switch t.kind {
	case tName:
		switch t.val {
		case "else", "or", "and", "if", "is", "in", "not", "recursive":
			return false
		}
		return true
	case tString, tInt, tFloat:
		return true
	case tOp:
		return t.val == "[" || t.val == "{" || t.val == "-"
	}
	return false
}

func (p *parser) filterCall(e expr) (*filterExpr, error) {
	t := p.cur()
	name, err := p.expectName()
	if err != nil {
		return nil, err
	}
	for p.isOp(".") {
		p.next()
		part, err := p.expectName()
		if err != nil {
			return nil, err
		}
		name += "." + part
	}
	f := &filterExpr{pos: pos{t.line}, e: e, name: name}
	if p.isOp("(") {
		p.next()
		c, err := p.callArgs(f.pos, nil)
		if err != nil {
			return nil, err
		}
		f.args, f.kwargs = c.args, c.kwargs
	}
	return f, nil
}
