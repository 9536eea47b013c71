package jinja

// node is a statement of the template body.
type node interface{ line() int }

// expr is an expression.
type expr interface{ line() int }

type pos struct{ ln int }

func (p pos) line() int { return p.ln }

type (
	dataNode struct {
		pos
		text string
	}
	outputNode struct {
		pos
		e expr
	}
	ifNode struct {
		pos
		conds  []expr
		bodies [][]node
		orElse []node
	}
	forNode struct {
		pos
		targets   []string
		iter      expr
		cond      expr
		body      []node
		orElse    []node
		recursive bool
	}
	setNode struct {
		pos
		target target
		e      expr
	}
	setBlockNode struct {
		pos
		target  target
		body    []node
		filters []*filterExpr
	}
	macroNode struct {
		pos
		name   string
		params []param
		body   []node
	}
	callBlockNode struct {
		pos
		call   *callExpr
		params []param
		body   []node
	}
	filterBlockNode struct {
		pos
		filters []*filterExpr
		body    []node
	}
	withNode struct {
		pos
		names []string
		exprs []expr
		body  []node
	}
	breakNode    struct{ pos }
	continueNode struct{ pos }
	doNode       struct {
		pos
		e expr
	}
)

// target is the left side of a set: names (a tuple when more than one) or
// one namespace attribute (ns.attr).
type target struct {
	names []string
	attr  string // when set, names[0] is the namespace
}

type param struct {
	name string
	def  expr // nil: no default
}

type (
	literal struct {
		pos
		v Value
	}
	nameExpr struct {
		pos
		name string
	}
	listExpr struct {
		pos
		items []expr
		tuple bool
	}
	dictExpr struct {
		pos
		keys, vals []expr
	}
	attrExpr struct {
		pos
		obj  expr
		name string
	}
	itemExpr struct {
		pos
		obj, key expr
	}
	sliceExpr struct {
		pos
		obj               expr
		start, stop, step expr
	}
	callExpr struct {
		pos
		fn     expr
		args   []expr
		kwargs []kwarg
	}
	filterExpr struct {
		pos
		e      expr // nil inside filter blocks
		name   string
		args   []expr
		kwargs []kwarg
	}
	testExpr struct {
		pos
		e      expr
		name   string
		args   []expr
		negate bool
	}
	unaryExpr struct {
		pos
		op string
		e  expr
	}
	binExpr struct {
		pos
		op   string
		a, b expr
	}
	compareExpr struct {
		pos
		first expr
		ops   []string
		rest  []expr
	}
	condExpr struct {
		pos
		cond, a, b expr // b may be nil (undefined)
	}
)

type kwarg struct {
	name string
	e    expr
}
