package sqlfront

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Operator precedences, lowest first. The parser and the printer share them,
// so printing adds exactly the parentheses re-parsing needs.
const (
	precOr      = 1
	precAnd     = 2
	precNot     = 3
	precCompare = 4 // = <> < <= > >= IS IN BETWEEN LIKE
	precConcat  = 5 // ||
	precAdd     = 6 // + -
	precMul     = 7 // * / // %
	precUnary   = 8 // unary - +
	precCast    = 9 // ::
	precAtom    = 10
)

func binaryPrec(op string) int {
	switch op {
	case "OR":
		return precOr
	case "AND":
		return precAnd
	case "=", "<>", "<", "<=", ">", ">=":
		return precCompare
	case "||":
		return precConcat
	case "+", "-":
		return precAdd
	case "*", "/", "//", "%":
		return precMul
	}
	return 0
}

func exprPrec(e Expr) int {
	switch e := e.(type) {
	case *BinaryExpr:
		return binaryPrec(e.Op)
	case *UnaryExpr:
		if e.Op == "NOT" {
			return precNot
		}
		return precUnary
	case *IsNullExpr, *InExpr, *BetweenExpr, *LikeExpr:
		return precCompare
	}
	return precAtom
}

// FormatExpr prints an expression as canonical SQL.
func FormatExpr(e Expr) string {
	var b strings.Builder
	writeExpr(&b, e, 0)
	return b.String()
}

// writeExpr prints e, in parentheses when its precedence is below min.
func writeExpr(b *strings.Builder, e Expr, min int) {
	if exprPrec(e) < min {
		b.WriteByte('(')
		writeExpr(b, e, 0)
		b.WriteByte(')')
		return
	}
	switch e := e.(type) {
	case *NumberLit:
		b.WriteString(e.Text)
	case *StringLit:
		b.WriteString(quoteString(e.Value))
	case *BoolLit:
		if e.Value {
			b.WriteString("TRUE")
		} else {
			b.WriteString("FALSE")
		}
	case *NullLit:
		b.WriteString("NULL")
	case *TypedLit:
		b.WriteString(e.Type + " " + quoteString(e.Value))
	case *IntervalLit:
		b.WriteString("INTERVAL " + quoteString(e.Value))
		if e.Unit != "" {
			b.WriteString(" " + e.Unit)
		}
	case *DurationLit:
		b.WriteString(e.Text)
	case *ColumnRef:
		if e.Table != nil {
			writeIdent(b, *e.Table)
			b.WriteByte('.')
		}
		writeIdent(b, e.Name)
	case *StarExpr:
		if e.Table != nil {
			writeIdent(b, *e.Table)
			b.WriteByte('.')
		}
		b.WriteByte('*')
	case *UnaryExpr:
		if e.Op == "NOT" {
			b.WriteString("NOT ")
			writeExpr(b, e.X, precNot)
			return
		}
		b.WriteString(e.Op)
		if _, nested := e.X.(*UnaryExpr); nested {
			// "--x" would start a comment: parenthesise.
			b.WriteByte('(')
			writeExpr(b, e.X, 0)
			b.WriteByte(')')
			return
		}
		writeExpr(b, e.X, precUnary)
	case *BinaryExpr:
		p := binaryPrec(e.Op)
		writeExpr(b, e.L, p)
		b.WriteString(" " + e.Op + " ")
		writeExpr(b, e.R, p+1)
	case *IsNullExpr:
		writeExpr(b, e.X, precCompare)
		if e.Not {
			b.WriteString(" IS NOT NULL")
		} else {
			b.WriteString(" IS NULL")
		}
	case *InExpr:
		writeExpr(b, e.X, precCompare)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" IN (")
		writeExprList(b, e.List)
		b.WriteByte(')')
	case *BetweenExpr:
		writeExpr(b, e.X, precCompare)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" BETWEEN ")
		writeExpr(b, e.Lo, precCompare+1)
		b.WriteString(" AND ")
		writeExpr(b, e.Hi, precCompare+1)
	case *LikeExpr:
		writeExpr(b, e.X, precCompare)
		if e.Not {
			b.WriteString(" NOT")
		}
		b.WriteString(" LIKE ")
		writeExpr(b, e.Pattern, precCompare+1)
	case *CaseExpr:
		b.WriteString("CASE")
		if e.Operand != nil {
			b.WriteByte(' ')
			writeExpr(b, e.Operand, 0)
		}
		for _, w := range e.Whens {
			b.WriteString(" WHEN ")
			writeExpr(b, w.Cond, 0)
			b.WriteString(" THEN ")
			writeExpr(b, w.Result, 0)
		}
		if e.Else != nil {
			b.WriteString(" ELSE ")
			writeExpr(b, e.Else, 0)
		}
		b.WriteString(" END")
	case *CastExpr:
		b.WriteString("CAST(")
		writeExpr(b, e.X, 0)
		b.WriteString(" AS " + e.Type.String() + ")")
	case *FuncCall:
		b.WriteString(formatFuncName(e.Name))
		b.WriteByte('(')
		switch {
		case e.Star:
			b.WriteByte('*')
		default:
			if e.Distinct {
				b.WriteString("DISTINCT ")
			}
			writeExprList(b, e.Args)
		}
		b.WriteByte(')')
		if e.Over != nil {
			b.WriteString(" OVER ")
			if e.Over.Name != nil {
				writeIdent(b, *e.Over.Name)
			} else {
				writeWindowSpec(b, e.Over.Spec)
			}
		}
	}
}

// formatFuncName prints a function name; names that are not plain lower-case
// words (or collide with reserved keywords) are quoted.
func formatFuncName(name string) string {
	if needsQuote(name) {
		return quoteIdent(name)
	}
	return strings.ToUpper(name)
}

func writeExprList(b *strings.Builder, list []Expr) {
	for i, x := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		writeExpr(b, x, 0)
	}
}

// needsQuote reports whether an identifier must be printed in quotes to read
// back as the same name.
func needsQuote(name string) bool {
	if name == "" || reserved[strings.ToUpper(name)] {
		return true
	}
	for i, r := range name {
		if r == utf8.RuneError || unicode.ToLower(r) != r || (i == 0 && !isIdentStart(r)) || !isIdentPart(r) {
			return true
		}
	}
	return false
}

func writeIdent(b *strings.Builder, id Ident) {
	if needsQuote(id.Name) {
		b.WriteString(quoteIdent(id.Name))
		return
	}
	b.WriteString(id.Name)
}

// String prints the type name.
func (t TypeName) String() string {
	if len(t.Args) == 0 {
		return t.Name
	}
	parts := make([]string, len(t.Args))
	for i, a := range t.Args {
		parts[i] = strconv.FormatInt(a, 10)
	}
	return t.Name + "(" + strings.Join(parts, ", ") + ")"
}

func writeOrderItems(b *strings.Builder, items []OrderItem) {
	for i, o := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		writeExpr(b, o.Expr, 0)
		if o.Desc {
			b.WriteString(" DESC")
		}
		switch o.Nulls {
		case NullsFirst:
			b.WriteString(" NULLS FIRST")
		case NullsLast:
			b.WriteString(" NULLS LAST")
		}
	}
}

func writeBound(b *strings.Builder, fb FrameBound) {
	switch fb.Kind {
	case UnboundedPreceding:
		b.WriteString("UNBOUNDED PRECEDING")
	case Preceding:
		b.WriteString(strconv.FormatInt(fb.Offset, 10) + " PRECEDING")
	case CurrentRow:
		b.WriteString("CURRENT ROW")
	case Following:
		b.WriteString(strconv.FormatInt(fb.Offset, 10) + " FOLLOWING")
	case UnboundedFollowing:
		b.WriteString("UNBOUNDED FOLLOWING")
	}
}

func writeWindowSpec(b *strings.Builder, s *WindowSpec) {
	b.WriteByte('(')
	sep := ""
	if s.Frame != nil && s.Frame.Buffer > 0 {
		b.WriteString("ROWS WINDOW BUFFER " + strconv.FormatInt(s.Frame.Buffer, 10) + " ROWS")
		sep = " "
	}
	if len(s.PartitionBy) > 0 {
		b.WriteString(sep + "PARTITION BY ")
		writeExprList(b, s.PartitionBy)
		sep = " "
	}
	if len(s.OrderBy) > 0 {
		b.WriteString(sep + "ORDER BY ")
		writeOrderItems(b, s.OrderBy)
		sep = " "
	}
	if s.Frame != nil && s.Frame.Buffer == 0 {
		b.WriteString(sep + "ROWS ")
		if s.Frame.HasEnd {
			b.WriteString("BETWEEN ")
			writeBound(b, s.Frame.Start)
			b.WriteString(" AND ")
			writeBound(b, s.Frame.End)
		} else {
			writeBound(b, s.Frame.Start)
		}
	}
	b.WriteByte(')')
}

// String prints the statement as canonical SQL: upper-case keywords, one
// space between tokens, the minimum parentheses, clauses in the order of the
// grammar in doc.go. Parsing the result gives back an equal tree (positions
// aside).
func (s *SelectStmt) String() string {
	var b strings.Builder
	if s.Explain {
		b.WriteString("EXPLAIN ")
	}
	b.WriteString("SELECT ")
	if s.Distinct {
		b.WriteString("DISTINCT ")
	}
	for i, it := range s.Items {
		if i > 0 {
			b.WriteString(", ")
		}
		writeExpr(&b, it.Expr, 0)
		if it.Alias != nil {
			b.WriteString(" AS ")
			writeIdent(&b, *it.Alias)
		}
	}
	b.WriteString(" FROM ")
	writeIdent(&b, s.From.Name)
	if s.From.Alias != nil {
		b.WriteString(" AS ")
		writeIdent(&b, *s.From.Alias)
	}
	if s.Where != nil {
		b.WriteString(" WHERE ")
		writeExpr(&b, s.Where, 0)
	}
	if len(s.GroupBy) > 0 {
		b.WriteString(" GROUP BY ")
		writeExprList(&b, s.GroupBy)
	}
	if w := s.Window; w != nil {
		b.WriteString(" WINDOW " + w.Kind.String() + "(")
		args := w.Args
		if w.TimeCol != nil {
			args = append([]Expr{w.TimeCol}, args...)
		}
		writeExprList(&b, args)
		b.WriteByte(')')
	}
	if s.Having != nil {
		b.WriteString(" HAVING ")
		writeExpr(&b, s.Having, 0)
	}
	for i, nw := range s.NamedWindows {
		if i == 0 {
			b.WriteString(" WINDOW ")
		} else {
			b.WriteString(", ")
		}
		writeIdent(&b, nw.Name)
		b.WriteString(" AS ")
		writeWindowSpec(&b, nw.Spec)
	}
	if len(s.OrderBy) > 0 {
		b.WriteString(" ORDER BY ")
		writeOrderItems(&b, s.OrderBy)
	}
	if s.Limit != nil {
		b.WriteString(" LIMIT " + strconv.FormatInt(*s.Limit, 10))
	}
	if s.Offset != nil {
		b.WriteString(" OFFSET " + strconv.FormatInt(*s.Offset, 10))
	}
	if s.Emit != EmitDefault {
		b.WriteString(" " + s.Emit.String())
	}
	if len(s.With) > 0 {
		b.WriteString(" WITH (")
		for i, st := range s.With {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteString(st.Key) + " = " + quoteString(st.Value))
		}
		b.WriteByte(')')
	}
	return b.String()
}
