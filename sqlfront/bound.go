package sqlfront

import (
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
)

// BoundExpr is a bound, typed expression of the logical plan. Column
// references index the columns of the input of the plan node that holds the
// expression. Operands of a node always share one type: the binder inserts
// explicit Cast nodes (folded for constants) wherever SQL converts
// implicitly.
type BoundExpr interface {
	// DataType is the Arrow type of the expression's result.
	DataType() arrow.DataType
	// Nullable reports whether the result may be NULL.
	Nullable() bool
	// String prints the expression for EXPLAIN: columns as name#index.
	String() string
}

// Typed carries the result type and nullability of a bound expression.
type Typed struct {
	Type arrow.DataType
	Null bool
}

// DataType implements BoundExpr.
func (t Typed) DataType() arrow.DataType { return t.Type }

// Nullable implements BoundExpr.
func (t Typed) Nullable() bool { return t.Null }

// ColRef reads column Index of the node's input.
type ColRef struct {
	Typed
	Index int
	Name  string
}

// Const is a constant. Value holds, by type: int64 (int64; timestamp in its
// unit; duration in ms), int32 (int32; date32 days), float64, float32, bool,
// string, or nil for NULL.
type Const struct {
	Typed
	Value any
}

// UnaryOp is a unary operator.
type UnaryOp int

// Unary operators.
const (
	OpNeg UnaryOp = iota + 1 // arithmetic negation (integer overflow is an error)
	OpNot                    // three-valued logical NOT
)

// Unary is -X or NOT X.
type Unary struct {
	Typed
	Op UnaryOp
	X  BoundExpr
}

// BinaryOp is a binary operator.
type BinaryOp int

// Binary operators. Arithmetic operands share the result type (int64 or
// float64), except timestamp ± duration. OpDiv is always float64 (integer
// operands are cast) and follows IEEE 754 for a zero divisor (±inf, NaN);
// OpMod on int64 yields NULL for a zero divisor, on float64 NaN — both as
// DuckDB 1.1+ with its default ieee_floating_point_ops. Integer overflow in
// OpAdd/OpSub/OpMul/OpNeg is a run-time error. Comparison operands share one
// type and yield bool; OpAnd/OpOr are three-valued.
const (
	OpAdd BinaryOp = iota + 1
	OpSub
	OpMul
	OpDiv
	OpMod
	OpEq
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpAnd
	OpOr
	OpConcat
	// OpIntDiv is DuckDB's integer division //: int64 operands, truncated
	// toward zero, NULL for a zero divisor.
	OpIntDiv
)

var binaryOpText = map[BinaryOp]string{OpAdd: "+", OpSub: "-", OpMul: "*", OpDiv: "/", OpMod: "%",
	OpEq: "=", OpNe: "<>", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">=", OpAnd: "AND", OpOr: "OR", OpConcat: "||", OpIntDiv: "//"}

var binaryOpByText = map[string]BinaryOp{"+": OpAdd, "-": OpSub, "*": OpMul, "/": OpDiv, "%": OpMod,
	"=": OpEq, "<>": OpNe, "<": OpLt, "<=": OpLe, ">": OpGt, ">=": OpGe, "AND": OpAnd, "OR": OpOr, "||": OpConcat, "//": OpIntDiv}

// String returns the operator's SQL text.
func (op BinaryOp) String() string { return binaryOpText[op] }

// IsComparison reports whether op is = <> < <= > >=.
func (op BinaryOp) IsComparison() bool { return op >= OpEq && op <= OpGe }

// Binary is L op R.
type Binary struct {
	Typed
	Op   BinaryOp
	L, R BoundExpr
}

// IsNull is X IS [NOT] NULL (never NULL itself).
type IsNull struct {
	Typed
	X   BoundExpr
	Not bool
}

// In is X [NOT] IN (List); X and the list share one type.
type In struct {
	Typed
	X    BoundExpr
	List []BoundExpr
	Not  bool
}

// Between is X [NOT] BETWEEN Lo AND Hi (inclusive); all three share a type.
type Between struct {
	Typed
	X, Lo, Hi BoundExpr
	Not       bool
}

// Like is X [NOT] LIKE Pattern on utf8 (% any run, _ one character).
type Like struct {
	Typed
	X, Pattern BoundExpr
	Not        bool
}

// CaseArm is one WHEN Cond THEN Result of a Case.
type CaseArm struct {
	Cond, Result BoundExpr
}

// Case is a searched CASE (the simple form CASE x WHEN v is bound to
// conditions x = v). Else is nil when absent (NULL). Results share Type.
type Case struct {
	Typed
	Whens []CaseArm
	Else  BoundExpr
}

// Cast converts X to Type (errors at run time for unparsable strings and
// out-of-range numbers, as DuckDB).
type Cast struct {
	Typed
	X BoundExpr
}

// Call is a scalar function. Func is one of: coalesce, nullif, abs, round
// (Args[1], if present, an int64 constant), floor, ceil, lower, upper, length,
// substr (1-based start, optional length, int64), concat (NULL arguments
// count as empty strings), time_bucket (Args[0] the int64-ms or timestamp
// time, Args[1] an int64 constant width in milliseconds; DATE_TRUNC binds to
// it too).
type Call struct {
	Typed
	Func string
	Args []BoundExpr
}

// String implements BoundExpr.
func (e *ColRef) String() string { return e.Name + "#" + strconv.Itoa(e.Index) }

// String implements BoundExpr.
func (e *Const) String() string { return formatConst(e) }

// String implements BoundExpr.
func (e *Unary) String() string { return boundString(e) }

// String implements BoundExpr.
func (e *Binary) String() string { return boundString(e) }

// String implements BoundExpr.
func (e *IsNull) String() string { return boundString(e) }

// String implements BoundExpr.
func (e *In) String() string { return boundString(e) }

// String implements BoundExpr.
func (e *Between) String() string { return boundString(e) }

// String implements BoundExpr.
func (e *Like) String() string { return boundString(e) }

// String implements BoundExpr.
func (e *Case) String() string { return boundString(e) }

// String implements BoundExpr.
func (e *Cast) String() string { return boundString(e) }

// String implements BoundExpr.
func (e *Call) String() string { return boundString(e) }

// boundString prints a bound expression in linear time (one builder for the
// whole tree): compound operands are parenthesised so EXPLAIN output is
// unambiguous.
func boundString(e BoundExpr) string {
	var b strings.Builder
	writeBoundExpr(&b, e)
	return b.String()
}

func writeBoundExpr(b *strings.Builder, e BoundExpr) {
	switch e := e.(type) {
	case *ColRef, *Const:
		b.WriteString(e.String())
	case *Unary:
		if e.Op == OpNot {
			b.WriteString("NOT ")
		} else {
			b.WriteString("-")
		}
		writeOperand(b, e.X)
	case *Binary:
		writeOperand(b, e.L)
		b.WriteString(" " + e.Op.String() + " ")
		writeOperand(b, e.R)
	case *IsNull:
		writeOperand(b, e.X)
		if e.Not {
			b.WriteString(" IS NOT NULL")
		} else {
			b.WriteString(" IS NULL")
		}
	case *In:
		writeOperand(b, e.X)
		b.WriteString(notText(e.Not) + " IN (")
		writeBoundList(b, e.List)
		b.WriteString(")")
	case *Between:
		writeOperand(b, e.X)
		b.WriteString(notText(e.Not) + " BETWEEN ")
		writeOperand(b, e.Lo)
		b.WriteString(" AND ")
		writeOperand(b, e.Hi)
	case *Like:
		writeOperand(b, e.X)
		b.WriteString(notText(e.Not) + " LIKE ")
		writeOperand(b, e.Pattern)
	case *Case:
		b.WriteString("CASE")
		for _, w := range e.Whens {
			b.WriteString(" WHEN ")
			writeBoundExpr(b, w.Cond)
			b.WriteString(" THEN ")
			writeBoundExpr(b, w.Result)
		}
		if e.Else != nil {
			b.WriteString(" ELSE ")
			writeBoundExpr(b, e.Else)
		}
		b.WriteString(" END")
	case *Cast:
		b.WriteString("CAST(")
		writeBoundExpr(b, e.X)
		b.WriteString(" AS " + typeString(e.Type) + ")")
	case *Call:
		b.WriteString(e.Func + "(")
		writeBoundList(b, e.Args)
		b.WriteString(")")
	default:
		b.WriteString(e.String())
	}
}

func notText(not bool) string {
	if not {
		return " NOT"
	}
	return ""
}

// writeOperand parenthesises compound operands.
func writeOperand(b *strings.Builder, e BoundExpr) {
	switch e.(type) {
	case *Binary, *Unary, *IsNull, *In, *Between, *Like:
		b.WriteByte('(')
		writeBoundExpr(b, e)
		b.WriteByte(')')
	default:
		writeBoundExpr(b, e)
	}
}

func writeBoundList(b *strings.Builder, list []BoundExpr) {
	for i, x := range list {
		if i > 0 {
			b.WriteString(", ")
		}
		writeBoundExpr(b, x)
	}
}

func joinBound(list []BoundExpr) string {
	parts := make([]string, len(list))
	for i, x := range list {
		parts[i] = x.String()
	}
	return strings.Join(parts, ", ")
}

// Children returns the direct operands of a bound expression, in order
// (CASE: each condition then its result, then ELSE).
func Children(e BoundExpr) []BoundExpr {
	switch e := e.(type) {
	case *Unary:
		return []BoundExpr{e.X}
	case *Binary:
		return []BoundExpr{e.L, e.R}
	case *IsNull:
		return []BoundExpr{e.X}
	case *In:
		return append([]BoundExpr{e.X}, e.List...)
	case *Between:
		return []BoundExpr{e.X, e.Lo, e.Hi}
	case *Like:
		return []BoundExpr{e.X, e.Pattern}
	case *Case:
		out := make([]BoundExpr, 0, 2*len(e.Whens)+1)
		for _, w := range e.Whens {
			out = append(out, w.Cond, w.Result)
		}
		if e.Else != nil {
			out = append(out, e.Else)
		}
		return out
	case *Cast:
		return []BoundExpr{e.X}
	case *Call:
		return e.Args
	}
	return nil
}

// WalkBound calls fn on e and, while fn returns true, on its operands
// depth-first: for example to collect the ColRefs an expression reads.
func WalkBound(e BoundExpr, fn func(BoundExpr) bool) {
	if e == nil || !fn(e) {
		return
	}
	for _, c := range Children(e) {
		WalkBound(c, fn)
	}
}
