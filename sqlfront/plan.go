package sqlfront

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
)

// Node is a logical plan node. Expressions held by a node reference the
// columns of its input (Input().Schema()) by index.
type Node interface {
	// Schema is the node's output schema (field nullability is exact).
	Schema() *arrow.Schema
	// Inputs returns the node's children (none for Scan).
	Inputs() []Node
	// explainLine prints the node's own line of EXPLAIN output.
	explainLine() string
}

// Scan reads Columns (indices into TableSchema, ascending) of Table. Its
// output has one field per entry of Columns, in that order; Columns may be
// empty (SELECT COUNT(*) FROM t), the scan then still yields row counts.
type Scan struct {
	Table       string
	TableSchema *arrow.Schema
	Columns     []int
	// EventTime is the output index of the table's event-time column, -1 if
	// it is not read or not declared.
	EventTime int
	Out       *arrow.Schema
}

// Filter keeps the rows where Cond (bool) is TRUE.
type Filter struct {
	Input Node
	Cond  BoundExpr
}

// Project computes one output column per expression; Out names them.
type Project struct {
	Input Node
	Exprs []BoundExpr
	Out   *arrow.Schema
}

// AggFunc names an aggregate function.
type AggFunc string

// Aggregate functions. Result types: COUNT* → int64; SUM → int64 for integer
// input (overflow is an error), float64 for float; AVG, STDDEV_*, VAR_* →
// float64; MIN, MAX, FIRST, LAST → the input type; APPROX_COUNT_DISTINCT →
// int64 (HyperLogLog). Arguments of SUM/AVG are int64 or float64, those of
// STDDEV/VAR float64 (the binder casts).
const (
	AggCountStar           AggFunc = "count_star"
	AggCount               AggFunc = "count"
	AggSum                 AggFunc = "sum"
	AggAvg                 AggFunc = "avg"
	AggMin                 AggFunc = "min"
	AggMax                 AggFunc = "max"
	AggStddevPop           AggFunc = "stddev_pop"
	AggStddevSamp          AggFunc = "stddev_samp"
	AggVarPop              AggFunc = "var_pop"
	AggVarSamp             AggFunc = "var_samp"
	AggFirst               AggFunc = "first"
	AggLast                AggFunc = "last"
	AggApproxCountDistinct AggFunc = "approx_count_distinct"
)

// AggCall is one aggregate of an Aggregate node. Arg is nil for COUNT(*).
type AggCall struct {
	Typed
	Func     AggFunc
	Arg      BoundExpr
	Distinct bool
}

// String prints the call for EXPLAIN.
func (a AggCall) String() string {
	if a.Arg == nil {
		return "count(*)"
	}
	d := ""
	if a.Distinct {
		d = "DISTINCT "
	}
	return string(a.Func) + "(" + d + a.Arg.String() + ")"
}

// TimeWindowSpec is a resolved event-time window. Tumbling windows have
// SlideMs == SizeMs; session windows have GapMs and no size. TimeCol indexes
// the Aggregate's input; its type (TimeType) is int64 milliseconds or a
// timestamp. A row at time t belongs to the tumbling window
// [k·size, (k+1)·size) with k = floor(t/size).
type TimeWindowSpec struct {
	Kind     TimeWindowKind
	TimeCol  int
	TimeName string
	TimeType arrow.DataType
	SizeMs   int64
	SlideMs  int64
	GapMs    int64
}

// String prints the window for EXPLAIN.
func (w *TimeWindowSpec) String() string {
	col := w.TimeName + "#" + strconv.Itoa(w.TimeCol)
	switch w.Kind {
	case Sliding:
		return fmt.Sprintf("SLIDING(%s, size=%dms, slide=%dms)", col, w.SizeMs, w.SlideMs)
	case Session:
		return fmt.Sprintf("SESSION(%s, gap=%dms)", col, w.GapMs)
	}
	return fmt.Sprintf("TUMBLING(%s, size=%dms)", col, w.SizeMs)
}

// Aggregate groups its input by GroupBy and computes Aggs per group (and per
// time window when Window is set). Its output columns are the group keys,
// then window_start and window_end (type of the time column) when Window is
// set, then one column per AggCall.
type Aggregate struct {
	Input   Node
	GroupBy []BoundExpr
	Aggs    []AggCall
	Window  *TimeWindowSpec
	Emit    EmitMode
	Out     *arrow.Schema
}

// WindowFunc names an analytic (OVER) function: the aggregates COUNT(*),
// COUNT, SUM, AVG, MIN, MAX as moving aggregates, or a ranking/offset
// function.
type WindowFunc string

// Analytic functions (in addition to WindowFunc(AggSum) etc.).
const (
	WinRowNumber  WindowFunc = "row_number"
	WinRank       WindowFunc = "rank"
	WinDenseRank  WindowFunc = "dense_rank"
	WinLag        WindowFunc = "lag"
	WinLead       WindowFunc = "lead"
	WinFirstValue WindowFunc = "first_value"
	WinLastValue  WindowFunc = "last_value"
)

// SortKey is one ordering key.
type SortKey struct {
	Expr       BoundExpr
	Desc       bool
	NullsFirst bool
}

// String prints the key for EXPLAIN.
func (k SortKey) String() string {
	s := k.Expr.String()
	if k.Desc {
		s += " DESC"
	} else {
		s += " ASC"
	}
	if k.NullsFirst {
		return s + " NULLS FIRST"
	}
	return s + " NULLS LAST"
}

// FrameSpec is a resolved ROWS frame (Start, End relative to the current
// row). Ranking and LAG/LEAD ignore it.
type FrameSpec struct {
	Start, End FrameBound
}

// String prints the frame as SQL.
func (f FrameSpec) String() string {
	var b strings.Builder
	b.WriteString("ROWS BETWEEN ")
	writeBound(&b, f.Start)
	b.WriteString(" AND ")
	writeBound(&b, f.End)
	return b.String()
}

// WindowCall is one analytic function of a Window node. Args holds the
// argument for the aggregates, FIRST_VALUE, LAST_VALUE, LAG and LEAD (none
// for COUNT(*) and the ranking functions). LAG/LEAD also have Offset (default
// 1) and Default (nil: NULL; else of the argument's type).
type WindowCall struct {
	Typed
	Func        WindowFunc
	Args        []BoundExpr
	Offset      int64
	Default     BoundExpr
	PartitionBy []BoundExpr
	OrderBy     []SortKey
	Frame       FrameSpec
}

// String prints the call for EXPLAIN.
func (w WindowCall) String() string {
	var b strings.Builder
	if w.Func == WindowFunc(AggCountStar) {
		b.WriteString("count(*")
	} else {
		b.WriteString(string(w.Func) + "(")
	}
	b.WriteString(joinBound(w.Args))
	if w.Func == WinLag || w.Func == WinLead {
		b.WriteString(", " + strconv.FormatInt(w.Offset, 10))
		if w.Default != nil {
			b.WriteString(", " + w.Default.String())
		}
	}
	b.WriteString(") OVER (")
	if len(w.PartitionBy) > 0 {
		b.WriteString("PARTITION BY " + joinBound(w.PartitionBy) + " ")
	}
	if len(w.OrderBy) > 0 {
		keys := make([]string, len(w.OrderBy))
		for i, k := range w.OrderBy {
			keys[i] = k.String()
		}
		b.WriteString("ORDER BY " + strings.Join(keys, ", ") + " ")
	}
	b.WriteString(w.Frame.String() + ")")
	return b.String()
}

// Window evaluates analytic functions: its output is every input column
// followed by one column per WindowCall.
type Window struct {
	Input Node
	Funcs []WindowCall
	Out   *arrow.Schema
}

// Distinct removes duplicate rows (NULLs equal each other).
type Distinct struct {
	Input Node
}

// Sort orders rows by Keys. Without NULLS FIRST/LAST, NULLs sort last in both
// directions, as DuckDB's default.
type Sort struct {
	Input Node
	Keys  []SortKey
}

// Limit skips Offset rows then passes at most Count rows (Count < 0: no
// limit).
type Limit struct {
	Input  Node
	Count  int64
	Offset int64
}

// Schema implements Node.
func (n *Scan) Schema() *arrow.Schema { return n.Out }

// Schema implements Node.
func (n *Filter) Schema() *arrow.Schema { return n.Input.Schema() }

// Schema implements Node.
func (n *Project) Schema() *arrow.Schema { return n.Out }

// Schema implements Node.
func (n *Aggregate) Schema() *arrow.Schema { return n.Out }

// Schema implements Node.
func (n *Window) Schema() *arrow.Schema { return n.Out }

// Schema implements Node.
func (n *Distinct) Schema() *arrow.Schema { return n.Input.Schema() }

// Schema implements Node.
func (n *Sort) Schema() *arrow.Schema { return n.Input.Schema() }

// Schema implements Node.
func (n *Limit) Schema() *arrow.Schema { return n.Input.Schema() }

// Inputs implements Node.
func (n *Scan) Inputs() []Node { return nil }

// Inputs implements Node.
func (n *Filter) Inputs() []Node { return []Node{n.Input} }

// Inputs implements Node.
func (n *Project) Inputs() []Node { return []Node{n.Input} }

// Inputs implements Node.
func (n *Aggregate) Inputs() []Node { return []Node{n.Input} }

// Inputs implements Node.
func (n *Window) Inputs() []Node { return []Node{n.Input} }

// Inputs implements Node.
func (n *Distinct) Inputs() []Node { return []Node{n.Input} }

// Inputs implements Node.
func (n *Sort) Inputs() []Node { return []Node{n.Input} }

// Inputs implements Node.
func (n *Limit) Inputs() []Node { return []Node{n.Input} }

func fieldText(f arrow.Field) string {
	s := f.Name + ":" + typeString(f.Type)
	if !f.Nullable {
		s += "!"
	}
	return s
}

func schemaText(s *arrow.Schema) string {
	parts := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		parts[i] = fieldText(f)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func (n *Scan) explainLine() string {
	s := "Scan " + n.Table + " " + schemaText(n.Out)
	if n.EventTime >= 0 {
		s += " event_time=" + n.Out.Field(n.EventTime).Name
	}
	return s
}

func (n *Filter) explainLine() string { return "Filter " + n.Cond.String() }

func (n *Project) explainLine() string {
	parts := make([]string, len(n.Exprs))
	for i, e := range n.Exprs {
		parts[i] = fieldText(n.Out.Field(i)) + " := " + e.String()
	}
	return "Project " + strings.Join(parts, ", ")
}

func (n *Aggregate) explainLine() string {
	var b strings.Builder
	b.WriteString("Aggregate")
	if len(n.GroupBy) > 0 {
		b.WriteString(" keys=[" + joinBound(n.GroupBy) + "]")
	}
	if n.Window != nil {
		b.WriteString(" window=" + n.Window.String())
	}
	aggs := make([]string, len(n.Aggs))
	for i, a := range n.Aggs {
		aggs[i] = a.String()
	}
	b.WriteString(" aggs=[" + strings.Join(aggs, ", ") + "] " + strings.ToLower(n.Emit.String()) + " -> " + schemaText(n.Out))
	return b.String()
}

func (n *Window) explainLine() string {
	funcs := make([]string, len(n.Funcs))
	for i, w := range n.Funcs {
		funcs[i] = w.String()
	}
	return "Window [" + strings.Join(funcs, ", ") + "] -> " + schemaText(n.Out)
}

func (n *Distinct) explainLine() string { return "Distinct" }

func (n *Sort) explainLine() string {
	keys := make([]string, len(n.Keys))
	for i, k := range n.Keys {
		keys[i] = k.String()
	}
	return "Sort " + strings.Join(keys, ", ")
}

func (n *Limit) explainLine() string {
	if n.Count < 0 {
		return fmt.Sprintf("Limit offset=%d", n.Offset)
	}
	return fmt.Sprintf("Limit %d offset=%d", n.Count, n.Offset)
}

// Explain prints a plan as an indented tree, one node per line, root first.
// Column references print as name#index into the node's input; output
// columns as name:type, with "!" marking NOT NULL.
func Explain(n Node) string {
	var b strings.Builder
	var walk func(Node, int)
	walk = func(n Node, depth int) {
		b.WriteString(strings.Repeat("  ", depth) + n.explainLine() + "\n")
		for _, c := range n.Inputs() {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}

// Query is a bound query: the logical plan and its query-level options.
type Query struct {
	// Root is the plan; Root.Schema() is the result schema.
	Root Node
	// ExplainOnly is set for EXPLAIN queries: the caller shows the plan
	// (Explain()) instead of running it.
	ExplainOnly bool
	// Emit is the resolved emit mode: EmitChanges, or EmitFinal (the default).
	Emit EmitMode
	// Settings are the validated WITH settings.
	Settings Settings
	// Stmt is the parsed statement.
	Stmt *SelectStmt
}

// Explain prints the query's plan, preceded by a line with its emit mode and
// settings.
func (q *Query) Explain() string {
	var b strings.Builder
	b.WriteString("Query " + strings.ToLower(q.Emit.String()))
	if len(q.Settings.Values) > 0 {
		keys := make([]string, 0, len(q.Settings.Values))
		for k := range q.Settings.Values {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString(" " + k + "=" + q.Settings.Values[k])
		}
	}
	b.WriteString("\n" + Explain(q.Root))
	return b.String()
}
