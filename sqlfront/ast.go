package sqlfront

// This file holds the abstract syntax tree the parser produces. Every node
// records the position of its first token in a field named P; positions are
// the only part of a tree that printing and re-parsing does not preserve.

// Ident is an identifier. Unquoted identifiers are folded to lower case;
// "quoted" ones keep their case. Name resolution is case-insensitive either
// way (as in DuckDB); the case kept matters for output column names. The
// printer quotes a name exactly when it would not read back unchanged
// unquoted.
type Ident struct {
	Name string
	P    Pos
}

// Expr is an expression node of the syntax tree.
type Expr interface {
	// Pos returns the position of the expression's first token.
	Pos() Pos
	exprNode()
}

// NumberLit is a numeric literal kept as written (unsigned: a leading minus is
// a UnaryExpr). IsFloat is set for decimal and exponent forms.
type NumberLit struct {
	Text    string
	IsFloat bool
	P       Pos
}

// StringLit is a 'string' literal (Value unescaped).
type StringLit struct {
	Value string
	P     Pos
}

// BoolLit is TRUE or FALSE.
type BoolLit struct {
	Value bool
	P     Pos
}

// NullLit is NULL.
type NullLit struct{ P Pos }

// TypedLit is a typed string literal: TIMESTAMP '2024-01-02 03:04:05' or
// DATE '2024-01-02'. Type is upper case.
type TypedLit struct {
	Type  string
	Value string
	P     Pos
}

// IntervalLit is INTERVAL '1' MINUTE (Value "1", Unit "MINUTE") or
// INTERVAL '1 minute' (Unit empty, the unit inside Value).
type IntervalLit struct {
	Value string
	Unit  string
	P     Pos
}

// DurationLit is a Velostream duration such as 500ms, 30s, 1m, 2h or 1d;
// Millis is its length in milliseconds.
type DurationLit struct {
	Text   string
	Millis int64
	P      Pos
}

// ColumnRef names a column, optionally qualified by a table name or alias.
type ColumnRef struct {
	Table *Ident // nil when unqualified
	Name  Ident
	P     Pos
}

// StarExpr is * or t.* in a select list.
type StarExpr struct {
	Table *Ident
	P     Pos
}

// UnaryExpr is -x, +x or NOT x. Op is "-", "+" or "NOT".
type UnaryExpr struct {
	Op string
	X  Expr
	P  Pos
}

// BinaryExpr is a binary operator: OR AND = <> < <= > >= || + - * / %.
// != is normalised to <>.
type BinaryExpr struct {
	Op   string
	L, R Expr
	P    Pos
}

// IsNullExpr is x IS [NOT] NULL.
type IsNullExpr struct {
	X   Expr
	Not bool
	P   Pos
}

// InExpr is x [NOT] IN (list).
type InExpr struct {
	X    Expr
	List []Expr
	Not  bool
	P    Pos
}

// BetweenExpr is x [NOT] BETWEEN lo AND hi.
type BetweenExpr struct {
	X, Lo, Hi Expr
	Not       bool
	P         Pos
}

// LikeExpr is x [NOT] LIKE pattern.
type LikeExpr struct {
	X, Pattern Expr
	Not        bool
	P          Pos
}

// When is one WHEN cond THEN result arm of a CASE.
type When struct {
	Cond, Result Expr
}

// CaseExpr is CASE [Operand] WHEN ... THEN ... [ELSE ...] END.
type CaseExpr struct {
	Operand Expr // nil for a searched CASE
	Whens   []When
	Else    Expr // nil when absent
	P       Pos
}

// TypeName is a SQL type as written, upper case, e.g. BIGINT, VARCHAR(10),
// DOUBLE PRECISION, TIMESTAMP_MS.
type TypeName struct {
	Name string
	Args []int64
}

// CastExpr is CAST(x AS type) or x::type.
type CastExpr struct {
	X    Expr
	Type TypeName
	P    Pos
}

// FuncCall is a function call: name(args), COUNT(*), COUNT(DISTINCT x), and
// window functions with an OVER clause. Name is lower case.
type FuncCall struct {
	Name     string
	Args     []Expr
	Star     bool
	Distinct bool
	Over     *Over // nil unless an analytic call
	P        Pos
}

// Over is the OVER clause of an analytic call: either a reference to a named
// window (OVER w) or an inline specification.
type Over struct {
	Name *Ident
	Spec *WindowSpec
}

// WindowSpec is the body of OVER (...) or WINDOW w AS (...).
type WindowSpec struct {
	PartitionBy []Expr
	OrderBy     []OrderItem
	Frame       *Frame // nil when absent
	P           Pos
}

// FrameBoundKind is one end of a ROWS frame.
type FrameBoundKind int

// Frame bound kinds.
const (
	UnboundedPreceding FrameBoundKind = iota
	Preceding
	CurrentRow
	Following
	UnboundedFollowing
)

// FrameBound is UNBOUNDED PRECEDING, n PRECEDING, CURRENT ROW, n FOLLOWING or
// UNBOUNDED FOLLOWING.
type FrameBound struct {
	Kind   FrameBoundKind
	Offset int64 // n for Preceding/Following
}

// Frame is a ROWS frame: ROWS BETWEEN Start AND End, ROWS Start (End is then
// CURRENT ROW, HasEnd false), or Velostream's ROWS WINDOW BUFFER n ROWS
// (Buffer > 0, meaning the last n rows including the current one).
type Frame struct {
	Start, End FrameBound
	HasEnd     bool
	Buffer     int64
	P          Pos
}

// OrderItem is one ORDER BY key.
type OrderItem struct {
	Expr  Expr
	Desc  bool
	Nulls NullsOrder
}

// NullsOrder is the NULLS FIRST / NULLS LAST option of an ORDER BY key.
type NullsOrder int

// NULLS ordering options.
const (
	NullsDefault NullsOrder = iota
	NullsFirst
	NullsLast
)

// SelectItem is one entry of the select list: an expression with an optional
// alias, or a star (Expr is then a *StarExpr).
type SelectItem struct {
	Expr  Expr
	Alias *Ident
}

// TableRef is the FROM clause: one table with an optional alias.
type TableRef struct {
	Name  Ident
	Alias *Ident
}

// TimeWindowKind is the kind of an event-time window.
type TimeWindowKind int

// Time window kinds.
const (
	Tumbling TimeWindowKind = iota + 1
	Sliding
	Session
)

// String returns TUMBLING, SLIDING or SESSION.
func (k TimeWindowKind) String() string {
	switch k {
	case Tumbling:
		return "TUMBLING"
	case Sliding:
		return "SLIDING"
	case Session:
		return "SESSION"
	}
	return "NONE"
}

// TimeWindow is Velostream's WINDOW TUMBLING(...) / SLIDING(...) /
// SESSION(...) clause. TimeCol is nil when the table's event-time column is
// meant. Args are the durations: [size] for TUMBLING, [size, slide] for
// SLIDING, [gap] for SESSION.
type TimeWindow struct {
	Kind    TimeWindowKind
	TimeCol Expr
	Args    []Expr
	P       Pos
}

// NamedWindow is one WINDOW name AS (spec) definition.
type NamedWindow struct {
	Name Ident
	Spec *WindowSpec
}

// EmitMode is the EMIT clause.
type EmitMode int

// Emit modes.
const (
	// EmitDefault means no EMIT clause: results when windows close (or at the
	// end of a bounded input), like EmitFinal.
	EmitDefault EmitMode = iota
	// EmitChanges emits the current row of every group an input batch touched.
	EmitChanges
	// EmitFinal emits each window's rows once, when it closes.
	EmitFinal
)

// String returns the clause text.
func (m EmitMode) String() string {
	switch m {
	case EmitChanges:
		return "EMIT CHANGES"
	case EmitFinal:
		return "EMIT FINAL"
	}
	return "EMIT DEFAULT"
}

// Setting is one 'key' = 'value' pair of the WITH clause.
type Setting struct {
	Key, Value string
	P          Pos
}

// SelectStmt is a whole query.
type SelectStmt struct {
	Explain      bool
	Distinct     bool
	Items        []SelectItem
	From         TableRef
	Where        Expr
	GroupBy      []Expr
	Window       *TimeWindow
	Having       Expr
	NamedWindows []NamedWindow
	OrderBy      []OrderItem
	Limit        *int64
	Offset       *int64
	Emit         EmitMode
	With         []Setting
	P            Pos
}

func (e *NumberLit) exprNode()   {}
func (e *StringLit) exprNode()   {}
func (e *BoolLit) exprNode()     {}
func (e *NullLit) exprNode()     {}
func (e *TypedLit) exprNode()    {}
func (e *IntervalLit) exprNode() {}
func (e *DurationLit) exprNode() {}
func (e *ColumnRef) exprNode()   {}
func (e *StarExpr) exprNode()    {}
func (e *UnaryExpr) exprNode()   {}
func (e *BinaryExpr) exprNode()  {}
func (e *IsNullExpr) exprNode()  {}
func (e *InExpr) exprNode()      {}
func (e *BetweenExpr) exprNode() {}
func (e *LikeExpr) exprNode()    {}
func (e *CaseExpr) exprNode()    {}
func (e *CastExpr) exprNode()    {}
func (e *FuncCall) exprNode()    {}

// Pos implements Expr.
func (e *NumberLit) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *StringLit) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *BoolLit) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *NullLit) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *TypedLit) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *IntervalLit) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *DurationLit) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *ColumnRef) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *StarExpr) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *UnaryExpr) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *BinaryExpr) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *IsNullExpr) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *InExpr) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *BetweenExpr) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *LikeExpr) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *CaseExpr) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *CastExpr) Pos() Pos { return e.P }

// Pos implements Expr.
func (e *FuncCall) Pos() Pos { return e.P }
