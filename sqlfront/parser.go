package sqlfront

import (
	"math"
	"strconv"
	"strings"
)

// maxDepth bounds expression nesting, and maxChain the operators folded in a
// row at one nesting level, so the height of an expression tree stays
// bounded: hostile input can neither exhaust the stack nor make the binder's
// per-node work quadratic in a huge tree.
const (
	maxDepth = 256
	maxChain = 1000
)

type parser struct {
	toks  []Token
	i     int
	depth int
}

// Parse parses one query (optionally ending in ';') into its syntax tree.
// Every failure is an *Error carrying the line:column of the offending token.
func Parse(sql string) (*SelectStmt, error) {
	toks, err := Tokenize(sql)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	stmt, perr := p.parseStatement()
	if perr != nil {
		return nil, perr
	}
	return stmt, nil
}

// ParseExpr parses a single expression (used by tests and tools).
func ParseExpr(sql string) (Expr, error) {
	toks, err := Tokenize(sql)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	e, perr := p.parseExpr(0)
	if perr != nil {
		return nil, perr
	}
	if t := p.peek(); t.Kind != TokEOF {
		return nil, p.expected("end of expression")
	}
	return e, nil
}

func (p *parser) peek() Token { return p.peekAt(0) }

func (p *parser) peekAt(k int) Token {
	if p.i+k < len(p.toks) {
		return p.toks[p.i+k]
	}
	return p.toks[len(p.toks)-1]
}

func (p *parser) next() Token {
	t := p.peek()
	if p.i < len(p.toks)-1 {
		p.i++
	}
	return t
}

func (p *parser) expected(what string) *Error {
	t := p.peek()
	return errAt(t.Pos, "expected %s, found %s", what, t.describe())
}

func isKw(t Token, kw string) bool    { return t.Kind == TokKeyword && t.Value == kw }
func isOp(t Token, op string) bool    { return t.Kind == TokOp && t.Value == op }
func isWord(t Token, w string) bool   { return t.Kind == TokIdent && t.Value == w }
func isIdentTok(t Token) bool         { return t.Kind == TokIdent || t.Kind == TokQuotedIdent }
func (p *parser) isKw(kw string) bool { return isKw(p.peek(), kw) }
func (p *parser) isOp(op string) bool { return isOp(p.peek(), op) }

func (p *parser) acceptKw(kw string) bool {
	if p.isKw(kw) {
		p.next()
		return true
	}
	return false
}

func (p *parser) acceptOp(op string) bool {
	if p.isOp(op) {
		p.next()
		return true
	}
	return false
}

func (p *parser) acceptWord(w string) bool {
	if isWord(p.peek(), w) {
		p.next()
		return true
	}
	return false
}

func (p *parser) expectKw(kw string) *Error {
	if !p.acceptKw(kw) {
		return p.expected(kw)
	}
	return nil
}

func (p *parser) expectOp(op string) *Error {
	if !p.acceptOp(op) {
		return p.expected("'" + op + "'")
	}
	return nil
}

func (p *parser) expectWord(w string) *Error {
	if !p.acceptWord(w) {
		return p.expected(strings.ToUpper(w))
	}
	return nil
}

func (p *parser) parseIdent(what string) (Ident, *Error) {
	t := p.peek()
	if !isIdentTok(t) {
		return Ident{}, p.expected(what)
	}
	p.next()
	return Ident{Name: t.Value, P: t.Pos}, nil
}

func (p *parser) parseInt(what string) (int64, Pos, *Error) {
	t := p.peek()
	if t.Kind != TokInt {
		return 0, t.Pos, p.expected(what)
	}
	p.next()
	n, err := strconv.ParseInt(t.Text, 10, 64)
	if err != nil {
		return 0, t.Pos, errAt(t.Pos, "integer %s out of range for %s", t.Text, what)
	}
	return n, t.Pos, nil
}

// clause ranks enforce the SQL order of the standard clauses.
const (
	rankWhere = iota + 1
	rankGroup
	rankHaving
	rankNamedWindow
	rankOrder
	rankLimit
	rankOffset
)

var rankNames = map[int]string{rankWhere: "WHERE", rankGroup: "GROUP BY", rankHaving: "HAVING",
	rankNamedWindow: "WINDOW", rankOrder: "ORDER BY", rankLimit: "LIMIT", rankOffset: "OFFSET"}

func (p *parser) parseStatement() (*SelectStmt, *Error) {
	s := &SelectStmt{P: p.peek().Pos}
	s.Explain = p.acceptKw("EXPLAIN")
	if err := p.expectKw("SELECT"); err != nil {
		return nil, err
	}
	if p.acceptKw("DISTINCT") {
		s.Distinct = true
	} else {
		p.acceptKw("ALL")
	}
	for {
		it, err := p.parseSelectItem()
		if err != nil {
			return nil, err
		}
		s.Items = append(s.Items, it)
		if !p.acceptOp(",") {
			break
		}
	}
	if err := p.expectKw("FROM"); err != nil {
		return nil, err
	}
	name, err := p.parseIdent("table name")
	if err != nil {
		return nil, err
	}
	s.From.Name = name
	if p.acceptKw("AS") {
		a, err := p.parseIdent("table alias")
		if err != nil {
			return nil, err
		}
		s.From.Alias = &a
	} else if isIdentTok(p.peek()) {
		a, _ := p.parseIdent("table alias")
		s.From.Alias = &a
	}
	if err := p.parseClauses(s); err != nil {
		return nil, err
	}
	p.acceptOp(";")
	if p.peek().Kind != TokEOF {
		return nil, p.expected("end of query")
	}
	return s, nil
}

// parseClauses parses the clauses after FROM. Standard clauses keep their SQL
// order; the streaming clauses (WINDOW TUMBLING/SLIDING/SESSION, EMIT, WITH)
// may stand at any clause boundary, each at most once.
func (p *parser) parseClauses(s *SelectStmt) *Error {
	rank := 0
	seenStd := map[int]bool{}
	std := func(r int) *Error {
		t := p.peek()
		if seenStd[r] {
			return errAt(t.Pos, "duplicate %s clause", rankNames[r])
		}
		if rank > r {
			return errAt(t.Pos, "%s must come before %s", rankNames[r], rankNames[rank])
		}
		seenStd[r] = true
		rank = r
		return nil
	}
	emitSeen, withSeen := false, false
	for {
		t := p.peek()
		if t.Kind != TokKeyword {
			return nil
		}
		var err *Error
		switch t.Value {
		case "WHERE":
			if err = std(rankWhere); err == nil {
				p.next()
				s.Where, err = p.parseExpr(0)
			}
		case "GROUP":
			if err = std(rankGroup); err == nil {
				p.next()
				if err = p.expectKw("BY"); err == nil {
					s.GroupBy, err = p.parseExprList()
				}
			}
		case "HAVING":
			if err = std(rankHaving); err == nil {
				p.next()
				s.Having, err = p.parseExpr(0)
			}
		case "WINDOW":
			k := p.peekAt(1)
			if (isWord(k, "tumbling") || isWord(k, "sliding") || isWord(k, "session")) && isOp(p.peekAt(2), "(") {
				if s.Window != nil {
					return errAt(t.Pos, "duplicate WINDOW %s clause: a query has at most one time window", strings.ToUpper(k.Value))
				}
				s.Window, err = p.parseTimeWindow()
			} else if err = std(rankNamedWindow); err == nil {
				p.next()
				s.NamedWindows, err = p.parseNamedWindows()
			}
		case "ORDER":
			if err = std(rankOrder); err == nil {
				p.next()
				if err = p.expectKw("BY"); err == nil {
					s.OrderBy, err = p.parseOrderItems()
				}
			}
		case "LIMIT":
			if err = std(rankLimit); err == nil {
				p.next()
				var n int64
				if n, _, err = p.parseInt("LIMIT count"); err == nil {
					s.Limit = &n
				}
			}
		case "OFFSET":
			if err = std(rankOffset); err == nil {
				p.next()
				var n int64
				if n, _, err = p.parseInt("OFFSET count"); err == nil {
					s.Offset = &n
				}
			}
		case "EMIT":
			if emitSeen {
				return errAt(t.Pos, "duplicate EMIT clause")
			}
			emitSeen = true
			p.next()
			switch {
			case p.acceptWord("changes"):
				s.Emit = EmitChanges
			case p.acceptWord("final"):
				s.Emit = EmitFinal
			default:
				return p.expected("CHANGES or FINAL")
			}
		case "WITH":
			if withSeen {
				return errAt(t.Pos, "duplicate WITH clause")
			}
			withSeen = true
			p.next()
			s.With, err = p.parseSettings()
		default:
			return nil
		}
		if err != nil {
			return err
		}
	}
}

func (p *parser) parseSelectItem() (SelectItem, *Error) {
	t := p.peek()
	if isOp(t, "*") {
		p.next()
		return SelectItem{Expr: &StarExpr{P: t.Pos}}, nil
	}
	if isIdentTok(t) && isOp(p.peekAt(1), ".") && isOp(p.peekAt(2), "*") {
		p.next()
		p.next()
		p.next()
		return SelectItem{Expr: &StarExpr{Table: &Ident{Name: t.Value, P: t.Pos}, P: t.Pos}}, nil
	}
	e, err := p.parseExpr(0)
	if err != nil {
		return SelectItem{}, err
	}
	it := SelectItem{Expr: e}
	if p.acceptKw("AS") {
		a, err := p.parseIdent("alias")
		if err != nil {
			return SelectItem{}, err
		}
		it.Alias = &a
	} else if isIdentTok(p.peek()) {
		a, _ := p.parseIdent("alias")
		it.Alias = &a
	}
	return it, nil
}

func (p *parser) parseExprList() ([]Expr, *Error) {
	var list []Expr
	for {
		e, err := p.parseExpr(0)
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		if !p.acceptOp(",") {
			return list, nil
		}
	}
}

func (p *parser) parseOrderItems() ([]OrderItem, *Error) {
	var items []OrderItem
	for {
		e, err := p.parseExpr(0)
		if err != nil {
			return nil, err
		}
		it := OrderItem{Expr: e}
		if p.acceptKw("DESC") {
			it.Desc = true
		} else {
			p.acceptKw("ASC")
		}
		if p.acceptWord("nulls") {
			switch {
			case p.acceptWord("first"):
				it.Nulls = NullsFirst
			case p.acceptWord("last"):
				it.Nulls = NullsLast
			default:
				return nil, p.expected("FIRST or LAST")
			}
		}
		items = append(items, it)
		if !p.acceptOp(",") {
			return items, nil
		}
	}
}

func (p *parser) parseTimeWindow() (*TimeWindow, *Error) {
	p.next() // WINDOW
	kt := p.next()
	w := &TimeWindow{P: kt.Pos}
	minArgs, maxArgs := 1, 2
	switch kt.Value {
	case "tumbling":
		w.Kind = Tumbling
	case "sliding":
		w.Kind, minArgs, maxArgs = Sliding, 2, 3
	case "session":
		w.Kind = Session
	}
	p.next() // (
	args, err := p.parseExprList()
	if err != nil {
		return nil, err
	}
	if len(args) < minArgs || len(args) > maxArgs {
		return nil, errAt(kt.Pos, "%s takes %s, got %d arguments", w.Kind, timeWindowUsage(w.Kind), len(args))
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	if len(args) == maxArgs {
		w.TimeCol, args = args[0], args[1:]
	}
	w.Args = args
	return w, nil
}

func timeWindowUsage(k TimeWindowKind) string {
	switch k {
	case Sliding:
		return "([time_column,] size, slide)"
	case Session:
		return "([time_column,] gap)"
	}
	return "([time_column,] size)"
}

func (p *parser) parseNamedWindows() ([]NamedWindow, *Error) {
	var out []NamedWindow
	for {
		name, err := p.parseIdent("window name")
		if err != nil {
			return nil, err
		}
		if err := p.expectKw("AS"); err != nil {
			return nil, err
		}
		spec, err := p.parseWindowSpec()
		if err != nil {
			return nil, err
		}
		out = append(out, NamedWindow{Name: name, Spec: spec})
		// A following ", name AS" continues the list; a time window after a
		// comma is not allowed, so the comma is unambiguous.
		if !p.acceptOp(",") {
			return out, nil
		}
	}
}

func (p *parser) parseWindowSpec() (*WindowSpec, *Error) {
	open := p.peek()
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	spec := &WindowSpec{P: open.Pos}
	frameSeen := false
	setFrame := func() *Error {
		t := p.peek()
		if frameSeen {
			return errAt(t.Pos, "duplicate ROWS frame in window specification")
		}
		frameSeen = true
		f, err := p.parseFrame()
		spec.Frame = f
		return err
	}
	if isWord(p.peek(), "rows") && isKw(p.peekAt(1), "WINDOW") {
		if err := setFrame(); err != nil {
			return nil, err
		}
	}
	if isWord(p.peek(), "partition") {
		p.next()
		if err := p.expectKw("BY"); err != nil {
			return nil, err
		}
		list, err := p.parseExprList()
		if err != nil {
			return nil, err
		}
		spec.PartitionBy = list
	}
	if p.acceptKw("ORDER") {
		if err := p.expectKw("BY"); err != nil {
			return nil, err
		}
		items, err := p.parseOrderItems()
		if err != nil {
			return nil, err
		}
		spec.OrderBy = items
	}
	if t := p.peek(); isWord(t, "range") || isWord(t, "groups") {
		return nil, errAt(t.Pos, "%s frames are not supported; use ROWS", strings.ToUpper(t.Value))
	}
	if isWord(p.peek(), "rows") {
		if err := setFrame(); err != nil {
			return nil, err
		}
	}
	if err := p.expectOp(")"); err != nil {
		if frameSeen || len(spec.OrderBy) > 0 {
			return nil, err
		}
		return nil, p.expected("PARTITION BY, ORDER BY, ROWS or ')'")
	}
	return spec, nil
}

// parseFrame parses ROWS BETWEEN a AND b, ROWS a, or ROWS WINDOW BUFFER n ROWS.
func (p *parser) parseFrame() (*Frame, *Error) {
	rows := p.next()
	f := &Frame{P: rows.Pos}
	if p.acceptKw("WINDOW") {
		if err := p.expectWord("buffer"); err != nil {
			return nil, err
		}
		n, pos, err := p.parseInt("buffer size")
		if err != nil {
			return nil, err
		}
		if n <= 0 {
			return nil, errAt(pos, "BUFFER size must be positive, got %d", n)
		}
		f.Buffer = n
		if err := p.expectWord("rows"); err != nil {
			return nil, err
		}
		return f, nil
	}
	if p.acceptKw("BETWEEN") {
		start, spos, err := p.parseBound()
		if err != nil {
			return nil, err
		}
		if err := p.expectKw("AND"); err != nil {
			return nil, err
		}
		end, epos, err := p.parseBound()
		if err != nil {
			return nil, err
		}
		if start.Kind == UnboundedFollowing {
			return nil, errAt(spos, "frame start cannot be UNBOUNDED FOLLOWING")
		}
		if end.Kind == UnboundedPreceding {
			return nil, errAt(epos, "frame end cannot be UNBOUNDED PRECEDING")
		}
		if boundRank(start) > boundRank(end) {
			return nil, errAt(epos, "frame ends before it starts")
		}
		f.Start, f.End, f.HasEnd = start, end, true
		return f, nil
	}
	start, spos, err := p.parseBound()
	if err != nil {
		return nil, err
	}
	if start.Kind == Following || start.Kind == UnboundedFollowing {
		return nil, errAt(spos, "a single-bound frame must start at or before the current row; use ROWS BETWEEN")
	}
	f.Start, f.End = start, FrameBound{Kind: CurrentRow}
	return f, nil
}

// boundRank orders frame bounds by row offset relative to the current row.
func boundRank(b FrameBound) float64 {
	switch b.Kind {
	case UnboundedPreceding:
		return math.Inf(-1)
	case Preceding:
		return -float64(b.Offset)
	case Following:
		return float64(b.Offset)
	case UnboundedFollowing:
		return math.Inf(1)
	}
	return 0
}

func (p *parser) parseBound() (FrameBound, Pos, *Error) {
	t := p.peek()
	switch {
	case p.acceptWord("unbounded"):
		switch {
		case p.acceptWord("preceding"):
			return FrameBound{Kind: UnboundedPreceding}, t.Pos, nil
		case p.acceptWord("following"):
			return FrameBound{Kind: UnboundedFollowing}, t.Pos, nil
		}
		return FrameBound{}, t.Pos, p.expected("PRECEDING or FOLLOWING")
	case p.acceptWord("current"):
		if err := p.expectWord("row"); err != nil {
			return FrameBound{}, t.Pos, err
		}
		return FrameBound{Kind: CurrentRow}, t.Pos, nil
	case t.Kind == TokInt:
		n, _, err := p.parseInt("frame offset")
		if err != nil {
			return FrameBound{}, t.Pos, err
		}
		switch {
		case p.acceptWord("preceding"):
			return FrameBound{Kind: Preceding, Offset: n}, t.Pos, nil
		case p.acceptWord("following"):
			return FrameBound{Kind: Following, Offset: n}, t.Pos, nil
		}
		return FrameBound{}, t.Pos, p.expected("PRECEDING or FOLLOWING")
	}
	return FrameBound{}, t.Pos, p.expected("UNBOUNDED, CURRENT ROW or a row count")
}

func (p *parser) parseSettings() ([]Setting, *Error) {
	if err := p.expectOp("("); err != nil {
		return nil, err
	}
	var out []Setting
	for {
		kt := p.peek()
		if kt.Kind != TokString {
			return nil, p.expected("setting name as a 'string'")
		}
		p.next()
		if err := p.expectOp("="); err != nil {
			return nil, err
		}
		vt := p.peek()
		switch vt.Kind {
		case TokString, TokInt, TokFloat, TokDuration, TokIdent:
			p.next()
		default:
			return nil, p.expected("setting value")
		}
		out = append(out, Setting{Key: kt.Value, Value: vt.Value, P: kt.Pos})
		if !p.acceptOp(",") {
			break
		}
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	return out, nil
}

// infixPrec returns the binding power of the operator at the cursor, 0 if
// the token does not continue an expression.
func (p *parser) infixPrec() int {
	t := p.peek()
	switch t.Kind {
	case TokOp:
		if t.Value == "::" {
			return precCast
		}
		return binaryPrec(t.Value)
	case TokKeyword:
		switch t.Value {
		case "OR":
			return precOr
		case "AND":
			return precAnd
		case "IS", "IN", "BETWEEN", "LIKE":
			return precCompare
		case "NOT":
			if n := p.peekAt(1); isKw(n, "IN") || isKw(n, "BETWEEN") || isKw(n, "LIKE") {
				return precCompare
			}
		}
	}
	return 0
}

// parseExpr is the Pratt loop: it parses a prefix expression, then folds in
// infix and postfix operators that bind tighter than minPrec.
func (p *parser) parseExpr(minPrec int) (Expr, *Error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, errAt(p.peek().Pos, "expression nested too deeply (more than %d levels)", maxDepth)
	}
	left, err := p.parsePrefix()
	if err != nil {
		return nil, err
	}
	for chain := 0; ; chain++ {
		prec := p.infixPrec()
		if prec == 0 || prec <= minPrec {
			return left, nil
		}
		if chain == maxChain {
			return nil, errAt(p.peek().Pos, "expression has too many operators in a row (more than %d)", maxChain)
		}
		if left, err = p.parseInfix(left, prec); err != nil {
			return nil, err
		}
	}
}

func (p *parser) parseInfix(left Expr, prec int) (Expr, *Error) {
	t := p.next()
	pos := left.Pos()
	if t.Kind == TokOp && t.Value == "::" {
		tn, err := p.parseTypeName()
		if err != nil {
			return nil, err
		}
		return &CastExpr{X: left, Type: tn, P: pos}, nil
	}
	if t.Kind == TokOp || isKw(t, "AND") || isKw(t, "OR") {
		right, err := p.parseExpr(prec)
		if err != nil {
			return nil, err
		}
		return &BinaryExpr{Op: t.Value, L: left, R: right, P: pos}, nil
	}
	not := false
	if t.Value == "NOT" {
		not = true
		t = p.next()
	}
	switch t.Value {
	case "IS":
		n := p.acceptKw("NOT")
		if err := p.expectKw("NULL"); err != nil {
			return nil, err
		}
		return &IsNullExpr{X: left, Not: n, P: pos}, nil
	case "IN":
		if err := p.expectOp("("); err != nil {
			return nil, err
		}
		list, err := p.parseExprList()
		if err != nil {
			return nil, err
		}
		if err := p.expectOp(")"); err != nil {
			return nil, err
		}
		return &InExpr{X: left, List: list, Not: not, P: pos}, nil
	case "BETWEEN":
		lo, err := p.parseExpr(precCompare)
		if err != nil {
			return nil, err
		}
		if err := p.expectKw("AND"); err != nil {
			return nil, err
		}
		hi, err := p.parseExpr(precCompare)
		if err != nil {
			return nil, err
		}
		return &BetweenExpr{X: left, Lo: lo, Hi: hi, Not: not, P: pos}, nil
	default: // LIKE
		pat, err := p.parseExpr(precCompare)
		if err != nil {
			return nil, err
		}
		return &LikeExpr{X: left, Pattern: pat, Not: not, P: pos}, nil
	}
}

// intervalUnits maps the unit words INTERVAL accepts to canonical units.
var intervalUnits = map[string]string{
	"millisecond": "MILLISECOND", "milliseconds": "MILLISECOND", "ms": "MILLISECOND",
	"second": "SECOND", "seconds": "SECOND", "s": "SECOND",
	"minute": "MINUTE", "minutes": "MINUTE", "m": "MINUTE",
	"hour": "HOUR", "hours": "HOUR", "h": "HOUR",
	"day": "DAY", "days": "DAY", "d": "DAY",
}

func (p *parser) parsePrefix() (Expr, *Error) {
	t := p.peek()
	switch t.Kind {
	case TokInt, TokFloat:
		p.next()
		return &NumberLit{Text: t.Text, IsFloat: t.Kind == TokFloat, P: t.Pos}, nil
	case TokString:
		p.next()
		return &StringLit{Value: t.Value, P: t.Pos}, nil
	case TokDuration:
		p.next()
		ms, err := durationMillis(t.Value)
		if err != nil {
			return nil, wrapAt(t.Pos, err, "%v", err)
		}
		return &DurationLit{Text: t.Value, Millis: ms, P: t.Pos}, nil
	case TokKeyword:
		switch t.Value {
		case "TRUE", "FALSE":
			p.next()
			return &BoolLit{Value: t.Value == "TRUE", P: t.Pos}, nil
		case "NULL":
			p.next()
			return &NullLit{P: t.Pos}, nil
		case "NOT":
			p.next()
			x, err := p.parseExpr(precNot)
			if err != nil {
				return nil, err
			}
			return &UnaryExpr{Op: "NOT", X: x, P: t.Pos}, nil
		case "CASE":
			return p.parseCase()
		case "CAST":
			p.next()
			if err := p.expectOp("("); err != nil {
				return nil, err
			}
			x, err := p.parseExpr(0)
			if err != nil {
				return nil, err
			}
			if err := p.expectKw("AS"); err != nil {
				return nil, err
			}
			tn, err := p.parseTypeName()
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return &CastExpr{X: x, Type: tn, P: t.Pos}, nil
		}
	case TokOp:
		switch t.Value {
		case "-", "+":
			p.next()
			x, err := p.parseExpr(precUnary)
			if err != nil {
				return nil, err
			}
			return &UnaryExpr{Op: t.Value, X: x, P: t.Pos}, nil
		case "(":
			p.next()
			x, err := p.parseExpr(0)
			if err != nil {
				return nil, err
			}
			if err := p.expectOp(")"); err != nil {
				return nil, err
			}
			return x, nil
		}
	case TokIdent, TokQuotedIdent:
		return p.parseIdentExpr()
	}
	return nil, p.expected("expression")
}

func (p *parser) parseIdentExpr() (Expr, *Error) {
	t := p.next()
	n := p.peek()
	if t.Kind == TokIdent {
		switch t.Value {
		case "interval":
			if n.Kind == TokString || n.Kind == TokInt {
				return p.parseInterval(t)
			}
		case "timestamp", "date":
			if n.Kind == TokString {
				p.next()
				return &TypedLit{Type: strings.ToUpper(t.Value), Value: n.Value, P: t.Pos}, nil
			}
		}
	}
	if isOp(n, "(") {
		return p.parseCall(t)
	}
	id := Ident{Name: t.Value, P: t.Pos}
	if isOp(n, ".") {
		p.next()
		col, err := p.parseIdent("column name")
		if err != nil {
			return nil, err
		}
		return &ColumnRef{Table: &id, Name: col, P: t.Pos}, nil
	}
	return &ColumnRef{Name: id, P: t.Pos}, nil
}

func (p *parser) parseInterval(kw Token) (Expr, *Error) {
	v := p.next()
	lit := &IntervalLit{Value: v.Value, P: kw.Pos}
	if u := p.peek(); u.Kind == TokIdent {
		if canon, ok := intervalUnits[u.Value]; ok {
			p.next()
			lit.Unit = canon
		}
	}
	if lit.Unit == "" && v.Kind == TokInt {
		return nil, p.expected("interval unit (MILLISECOND, SECOND, MINUTE, HOUR, DAY)")
	}
	if _, err := intervalMillis(lit.Value, lit.Unit); err != nil {
		return nil, wrapAt(v.Pos, err, "%v", err)
	}
	return lit, nil
}

func (p *parser) parseCall(name Token) (Expr, *Error) {
	p.next() // (
	call := &FuncCall{Name: name.Value, P: name.Pos}
	switch {
	case p.acceptOp("*"):
		call.Star = true
	case p.isOp(")"):
	default:
		if p.acceptKw("DISTINCT") {
			call.Distinct = true
		} else {
			p.acceptKw("ALL")
		}
		args, err := p.parseExprList()
		if err != nil {
			return nil, err
		}
		call.Args = args
	}
	if err := p.expectOp(")"); err != nil {
		return nil, err
	}
	if p.acceptKw("OVER") {
		if isIdentTok(p.peek()) {
			id, _ := p.parseIdent("window name")
			call.Over = &Over{Name: &id}
		} else {
			spec, err := p.parseWindowSpec()
			if err != nil {
				return nil, err
			}
			call.Over = &Over{Spec: spec}
		}
	}
	return call, nil
}

func (p *parser) parseCase() (Expr, *Error) {
	c := &CaseExpr{P: p.next().Pos}
	if p.isKw("END") {
		return nil, p.expected("WHEN")
	}
	if !p.isKw("WHEN") {
		op, err := p.parseExpr(0)
		if err != nil {
			return nil, err
		}
		c.Operand = op
	}
	for p.acceptKw("WHEN") {
		cond, err := p.parseExpr(0)
		if err != nil {
			return nil, err
		}
		if err := p.expectKw("THEN"); err != nil {
			return nil, err
		}
		res, err := p.parseExpr(0)
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, When{Cond: cond, Result: res})
	}
	if len(c.Whens) == 0 {
		return nil, p.expected("WHEN")
	}
	if p.acceptKw("ELSE") {
		e, err := p.parseExpr(0)
		if err != nil {
			return nil, err
		}
		c.Else = e
	}
	if err := p.expectKw("END"); err != nil {
		return nil, err
	}
	return c, nil
}

func (p *parser) parseTypeName() (TypeName, *Error) {
	t := p.peek()
	if t.Kind != TokIdent {
		return TypeName{}, p.expected("type name")
	}
	p.next()
	tn := TypeName{Name: strings.ToUpper(t.Value)}
	if tn.Name == "DOUBLE" && p.acceptWord("precision") {
		tn.Name = "DOUBLE PRECISION"
	}
	if p.acceptOp("(") {
		for {
			n, _, err := p.parseInt("type parameter")
			if err != nil {
				return TypeName{}, err
			}
			tn.Args = append(tn.Args, n)
			if !p.acceptOp(",") {
				break
			}
		}
		if err := p.expectOp(")"); err != nil {
			return TypeName{}, err
		}
	}
	return tn, nil
}
