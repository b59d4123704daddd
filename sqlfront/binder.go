package sqlfront

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
)

// Plan parses sql and binds it against cat: the front end's entry point.
// Every error is an *Error with the line:column of the offending text.
func Plan(sql string, cat Catalog) (*Query, error) {
	stmt, err := Parse(sql)
	if err != nil {
		return nil, err
	}
	return Bind(stmt, cat)
}

// Bind resolves names and types of a parsed statement and builds its
// logical plan:
//
//	Limit ← [Project (drop ORDER BY helpers)] ← Sort ← Distinct ← Project
//	  ← Window ← Filter (HAVING) ← Aggregate ← Filter (WHERE) ← Scan
//
// (each optional node present only when the query needs it).
func Bind(stmt *SelectStmt, cat Catalog) (*Query, error) {
	b := &binder{stmt: stmt}
	q, err := b.bindQuery(cat)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return nil, err
		}
		return nil, wrapAt(stmt.P, err, "%v", err)
	}
	return q, nil
}

type scopeCol struct {
	name     string
	typ      arrow.DataType
	nullable bool
	table    int // index in the table schema
}

type binder struct {
	stmt      *SelectStmt
	table     *arrow.Schema
	tableName string
	qualifier string
	base      []scopeCol

	// aggregation state
	agg        bool
	groups     []BoundExpr
	groupKeys  []string
	groupNames []string
	groupSizes map[int]bool // node counts of the GROUP BY expressions (a cheap pre-filter for matching)
	window     *TimeWindowSpec
	windowFunc string // flink family name (tumble/hop/session) or "" for Velostream
	aggs       []AggCall
	aggNames   []string
	aggIndex   map[string]int

	aliasBusy map[string]bool // select aliases being expanded (cycle guard)

	// analytic windows
	wins     []WindowCall
	winNames []string
	winIndex map[string]int
	winRefs  []*ColRef // placeholders patched once the Window input width is known
}

// ctx says where an expression stands and what it may contain.
type ctx struct {
	clause string // for messages: "WHERE", "GROUP BY", "SELECT", ...
	post   bool   // resolve against the Aggregate output
	aggOK  bool
	winOK  bool
	inAgg  bool
	inWin  bool
}

func (b *binder) bindQuery(cat Catalog) (*Query, error) {
	s := b.stmt
	if err := b.bindTable(cat); err != nil {
		return nil, err
	}
	settings, err := bindSettings(s.With)
	if err != nil {
		return nil, err
	}
	scan := b.buildScan()
	var node Node = scan

	if s.Where != nil {
		cond, err := b.bind(ctx{clause: "WHERE"}, s.Where)
		if err != nil {
			return nil, err
		}
		if cond, err = b.boolean(cond, s.Where, "WHERE"); err != nil {
			return nil, err
		}
		node = &Filter{Input: node, Cond: cond}
	}

	b.agg = len(s.GroupBy) > 0 || s.Window != nil || s.Having != nil
	for _, it := range s.Items {
		b.agg = b.agg || containsAgg(it.Expr)
	}
	for _, o := range s.OrderBy {
		b.agg = b.agg || containsAgg(o.Expr)
	}
	if b.agg {
		if err := b.bindGroupBy(); err != nil {
			return nil, err
		}
	}
	sel := ctx{clause: "SELECT", post: b.agg, aggOK: b.agg, winOK: true}

	// Select list.
	var exprs []BoundExpr
	var fields []arrow.Field
	for _, it := range s.Items {
		if star, ok := it.Expr.(*StarExpr); ok {
			if star.Table != nil && !strings.EqualFold(star.Table.Name, b.qualifier) {
				return nil, errAt(star.P, "unknown table or alias %q in %s.*%s", star.Table.Name, star.Table.Name, suggest(star.Table.Name, []string{b.qualifier}))
			}
			for i, c := range b.base {
				// Stars expand by position, so duplicate names stay usable.
				var e BoundExpr = &ColRef{Typed: Typed{Type: c.typ, Null: c.nullable}, Index: i, Name: c.name}
				if b.agg {
					g := slicesIndex(b.groupKeys, e.String())
					if g < 0 {
						return nil, errAt(star.P, "column %s (from *) must appear in the GROUP BY clause or be used in an aggregate function", c.name)
					}
					e = &ColRef{Typed: Typed{Type: c.typ, Null: b.groups[g].Nullable()}, Index: g, Name: b.groupNames[g]}
				}
				exprs = append(exprs, e)
				fields = append(fields, arrow.Field{Name: c.name, Type: e.DataType(), Nullable: e.Nullable()})
			}
			continue
		}
		e, err := b.bind(sel, it.Expr)
		if err != nil {
			return nil, err
		}
		fields = append(fields, arrow.Field{Name: itemName(it), Type: e.DataType(), Nullable: e.Nullable()})
		exprs = append(exprs, e)
	}
	nVisible := len(exprs)

	var having BoundExpr
	if s.Having != nil {
		h, err := b.bind(ctx{clause: "HAVING", post: true, aggOK: true}, s.Having)
		if err != nil {
			return nil, err
		}
		if having, err = b.boolean(h, s.Having, "HAVING"); err != nil {
			return nil, err
		}
	}

	// ORDER BY: ordinals and aliases name select columns; other expressions
	// are matched against the select list or computed as hidden columns.
	var keys []SortKey
	for _, o := range s.OrderBy {
		idx, err := b.orderTarget(o.Expr, fields[:nVisible])
		if err != nil {
			return nil, err
		}
		if idx < 0 {
			e, err := b.bind(sel, o.Expr)
			if err != nil {
				return nil, err
			}
			for i := 0; i < nVisible; i++ {
				if exprs[i].String() == e.String() {
					idx = i
					break
				}
			}
			if idx < 0 {
				if s.Distinct {
					return nil, errAt(o.Expr.Pos(), "for SELECT DISTINCT, ORDER BY expression %s must appear in the select list", FormatExpr(o.Expr))
				}
				idx = len(exprs)
				exprs = append(exprs, e)
				fields = append(fields, arrow.Field{Name: FormatExpr(o.Expr), Type: e.DataType(), Nullable: e.Nullable()})
			}
		}
		if !isComparable(fields[idx].Type) {
			return nil, errAt(o.Expr.Pos(), "cannot order by %s of type %s", FormatExpr(o.Expr), typeString(fields[idx].Type))
		}
		key := SortKey{Expr: &ColRef{Typed: Typed{Type: fields[idx].Type, Null: fields[idx].Nullable}, Index: idx, Name: fields[idx].Name}, Desc: o.Desc}
		key.NullsFirst = o.Nulls == NullsFirst
		keys = append(keys, key)
	}

	// Assemble the plan.
	emit := s.Emit
	if emit == EmitDefault {
		emit = EmitFinal
	}
	if b.agg {
		out := make([]arrow.Field, 0, len(b.groups)+2+len(b.aggs))
		for i, g := range b.groups {
			out = append(out, arrow.Field{Name: b.groupNames[i], Type: g.DataType(), Nullable: g.Nullable()})
		}
		if b.window != nil {
			out = append(out, arrow.Field{Name: "window_start", Type: b.window.TimeType},
				arrow.Field{Name: "window_end", Type: b.window.TimeType})
		}
		for i, a := range b.aggs {
			out = append(out, arrow.Field{Name: b.aggNames[i], Type: a.Type, Nullable: a.Null})
		}
		node = &Aggregate{Input: node, GroupBy: b.groups, Aggs: b.aggs, Window: b.window, Emit: emit, Out: arrow.NewSchema(out, nil)}
		if having != nil {
			node = &Filter{Input: node, Cond: having}
		}
	}
	if len(b.wins) > 0 {
		width := node.Schema().NumFields()
		for _, r := range b.winRefs {
			r.Index = width + (-r.Index - 1)
		}
		out := append([]arrow.Field(nil), node.Schema().Fields()...)
		for i, w := range b.wins {
			out = append(out, arrow.Field{Name: b.winNames[i], Type: w.Type, Nullable: w.Null})
		}
		node = &Window{Input: node, Funcs: b.wins, Out: arrow.NewSchema(out, nil)}
	}
	node = &Project{Input: node, Exprs: exprs, Out: arrow.NewSchema(fields, nil)}
	if s.Distinct {
		node = &Distinct{Input: node}
	}
	if len(keys) > 0 {
		node = &Sort{Input: node, Keys: keys}
	}
	if len(exprs) > nVisible {
		drop := make([]BoundExpr, nVisible)
		for i := range drop {
			f := fields[i]
			drop[i] = &ColRef{Typed: Typed{Type: f.Type, Null: f.Nullable}, Index: i, Name: f.Name}
		}
		node = &Project{Input: node, Exprs: drop, Out: arrow.NewSchema(fields[:nVisible], nil)}
	}
	if s.Limit != nil || s.Offset != nil {
		l := &Limit{Input: node, Count: -1}
		if s.Limit != nil {
			l.Count = *s.Limit
		}
		if s.Offset != nil {
			l.Offset = *s.Offset
		}
		node = l
	}
	q := &Query{Root: node, ExplainOnly: s.Explain, Emit: emit, Settings: settings, Stmt: s}
	if err := b.checkStrategy(q); err != nil {
		return nil, err
	}
	return q, nil
}

// itemName is the output name of a select item: its alias, its column name,
// or its SQL text.
func itemName(it SelectItem) string {
	if it.Alias != nil {
		return it.Alias.Name
	}
	if c, ok := it.Expr.(*ColumnRef); ok {
		return c.Name.Name
	}
	return FormatExpr(it.Expr)
}

// checkStrategy rejects a partitioning.strategy that cannot run the query.
func (b *binder) checkStrategy(q *Query) error {
	st := q.Settings.PartitioningStrategy
	if st == "" {
		return nil
	}
	pos := b.stmt.P
	for _, s := range b.stmt.With {
		if strings.EqualFold(s.Key, SettingPartitioningStrategy) {
			pos = s.P
		}
	}
	hasKey := len(b.groups) > 0
	for _, w := range b.wins {
		hasKey = hasKey || len(w.PartitionBy) > 0
	}
	stateful := b.agg || len(b.wins) > 0
	switch st {
	case "hash":
		if !hasKey {
			return errAt(pos, "partitioning.strategy 'hash' needs a key to hash, but the query has no GROUP BY key or PARTITION BY; use 'fan_in' for global results or 'sticky'/'round_robin' for stateless queries")
		}
	case "sticky":
		if stateful {
			return errAt(pos, "partitioning.strategy 'sticky' keeps rows in their source partition, so one group's rows would be split across partitions; it only suits stateless queries (use 'hash')")
		}
	case "round_robin":
		if len(b.wins) > 0 {
			return errAt(pos, "partitioning.strategy 'round_robin' spreads a PARTITION BY key's rows over partitions, but OVER windows need them in one partition in order (use 'hash')")
		}
	}
	return nil
}

func (b *binder) bindTable(cat Catalog) error {
	from := b.stmt.From
	schema, err := cat.Table(from.Name.Name)
	if err != nil || schema == nil {
		hint := ""
		if l, ok := cat.(TableLister); ok {
			hint = suggest(from.Name.Name, l.TableNames())
		}
		if err == nil {
			err = ErrUnknownTable
		}
		return wrapAt(from.Name.P, err, "table %q not found%s", from.Name.Name, hint)
	}
	b.table = schema
	b.tableName = from.Name.Name
	b.qualifier = from.Name.Name
	if from.Alias != nil {
		b.qualifier = from.Alias.Name
	}
	return nil
}

// buildScan reads every table column the statement mentions (a superset of
// those it uses) and makes them the base scope.
func (b *binder) buildScan() *Scan {
	used := make([]bool, b.table.NumFields())
	mark := func(name string) {
		for i, f := range b.table.Fields() {
			if strings.EqualFold(f.Name, name) {
				used[i] = true
			}
		}
	}
	visit := func(e Expr) {
		walkExpr(e, func(x Expr) {
			switch x := x.(type) {
			case *ColumnRef:
				mark(x.Name.Name)
			case *StarExpr:
				for i := range used {
					used[i] = true
				}
			}
		})
	}
	s := b.stmt
	for _, it := range s.Items {
		visit(it.Expr)
	}
	for _, e := range []Expr{s.Where, s.Having} {
		if e != nil {
			visit(e)
		}
	}
	for _, e := range s.GroupBy {
		visit(e)
	}
	for _, o := range s.OrderBy {
		visit(o.Expr)
	}
	for _, nw := range s.NamedWindows {
		visitSpec(nw.Spec, visit)
	}
	if s.Window != nil {
		if s.Window.TimeCol != nil {
			visit(s.Window.TimeCol)
		} else if et, err := eventTimeIndex(b.table); err == nil && et >= 0 {
			used[et] = true
		}
	}
	scan := &Scan{Table: b.tableName, TableSchema: b.table, EventTime: -1}
	et, _ := eventTimeIndex(b.table)
	var fields []arrow.Field
	for i, u := range used {
		if !u {
			continue
		}
		f := b.table.Field(i)
		if i == et {
			scan.EventTime = len(scan.Columns)
		}
		scan.Columns = append(scan.Columns, i)
		fields = append(fields, f)
		b.base = append(b.base, scopeCol{name: f.Name, typ: f.Type, nullable: f.Nullable, table: i})
	}
	scan.Out = arrow.NewSchema(fields, nil)
	return scan
}

func visitSpec(spec *WindowSpec, visit func(Expr)) {
	for _, e := range spec.PartitionBy {
		visit(e)
	}
	for _, o := range spec.OrderBy {
		visit(o.Expr)
	}
}

// walkExpr calls fn on e and every expression below it, including OVER
// clauses.
func walkExpr(e Expr, fn func(Expr)) {
	if e == nil {
		return
	}
	fn(e)
	switch e := e.(type) {
	case *UnaryExpr:
		walkExpr(e.X, fn)
	case *BinaryExpr:
		walkExpr(e.L, fn)
		walkExpr(e.R, fn)
	case *IsNullExpr:
		walkExpr(e.X, fn)
	case *InExpr:
		walkExpr(e.X, fn)
		for _, x := range e.List {
			walkExpr(x, fn)
		}
	case *BetweenExpr:
		walkExpr(e.X, fn)
		walkExpr(e.Lo, fn)
		walkExpr(e.Hi, fn)
	case *LikeExpr:
		walkExpr(e.X, fn)
		walkExpr(e.Pattern, fn)
	case *CaseExpr:
		walkExpr(e.Operand, fn)
		for _, w := range e.Whens {
			walkExpr(w.Cond, fn)
			walkExpr(w.Result, fn)
		}
		walkExpr(e.Else, fn)
	case *CastExpr:
		walkExpr(e.X, fn)
	case *FuncCall:
		for _, a := range e.Args {
			walkExpr(a, fn)
		}
		if e.Over != nil && e.Over.Spec != nil {
			visitSpec(e.Over.Spec, func(x Expr) { walkExpr(x, fn) })
		}
	}
}

var aggFuncs = map[string]AggFunc{
	"count": AggCount, "sum": AggSum, "avg": AggAvg, "mean": AggAvg, "min": AggMin, "max": AggMax,
	"stddev_pop": AggStddevPop, "stddev_samp": AggStddevSamp, "stddev": AggStddevSamp,
	"var_pop": AggVarPop, "var_samp": AggVarSamp, "variance": AggVarSamp,
	"first": AggFirst, "last": AggLast, "approx_count_distinct": AggApproxCountDistinct,
}

var analyticFuncs = map[string]WindowFunc{
	"row_number": WinRowNumber, "rank": WinRank, "dense_rank": WinDenseRank, "lag": WinLag, "lead": WinLead,
	"first_value": WinFirstValue, "last_value": WinLastValue,
}

// groupWindowFuncs are Flink's GROUP BY window functions.
var groupWindowFuncs = map[string]TimeWindowKind{"tumble": Tumbling, "hop": Sliding, "session": Session}

// windowBoundFuncs are Flink's window property functions and the column they
// stand for.
var windowBoundFuncs = map[string]struct {
	kind TimeWindowKind
	col  string
}{
	"tumble_start": {Tumbling, "window_start"}, "tumble_end": {Tumbling, "window_end"},
	"hop_start": {Sliding, "window_start"}, "hop_end": {Sliding, "window_end"},
	"session_start": {Session, "window_start"}, "session_end": {Session, "window_end"},
}

// containsAgg reports whether e has an aggregate call outside OVER clauses
// (an aggregate inside a window function's arguments counts).
func containsAgg(e Expr) bool {
	found := false
	walkExpr(e, func(x Expr) {
		if f, ok := x.(*FuncCall); ok && f.Over == nil {
			if _, isAgg := aggFuncs[f.Name]; isAgg {
				found = true
			}
		}
	})
	return found
}

// containsAggOrWindow reports whether e holds anything only the aggregate
// stage or the Window node can compute.
func containsAggOrWindow(e Expr) bool {
	found := false
	walkExpr(e, func(x Expr) {
		if f, ok := x.(*FuncCall); ok {
			_, isAgg := aggFuncs[f.Name]
			_, isBound := windowBoundFuncs[f.Name]
			if isAgg || isBound || f.Over != nil {
				found = true
			}
		}
	})
	return found
}

// exprSize counts the nodes of a syntax tree.
func exprSize(e Expr) int {
	n := 0
	walkExpr(e, func(Expr) { n++ })
	return n
}

func isLiteral(e Expr) bool {
	switch e.(type) {
	case *NumberLit, *StringLit, *BoolLit, *NullLit, *TypedLit, *IntervalLit, *DurationLit:
		return true
	}
	return false
}

// bindGroupBy binds the GROUP BY keys (resolving ordinals and select
// aliases, as DuckDB) and the time window of either syntax.
func (b *binder) bindGroupBy() error {
	s := b.stmt
	if s.Window != nil {
		if err := b.bindVelostreamWindow(s.Window); err != nil {
			return err
		}
	}
	isWindowFunc := func(g Expr) (*FuncCall, TimeWindowKind, bool) {
		if f, ok := g.(*FuncCall); ok && f.Over == nil {
			if kind, isWin := groupWindowFuncs[f.Name]; isWin {
				return f, kind, true
			}
		}
		return nil, 0, false
	}
	for _, g := range s.GroupBy {
		if f, kind, ok := isWindowFunc(g); ok {
			if err := b.bindFlinkWindow(f, kind); err != nil {
				return err
			}
		}
	}
	gctx := ctx{clause: "GROUP BY"}
	for _, g := range s.GroupBy {
		if _, _, ok := isWindowFunc(g); ok {
			continue
		}
		// GROUP BY window_start, window_end restates the time window (Flink
		// habit): the window already groups by its bounds.
		if c, ok := g.(*ColumnRef); ok && b.window != nil && c.Table == nil && !b.hasBaseColumn(c.Name.Name) &&
			(strings.EqualFold(c.Name.Name, "window_start") || strings.EqualFold(c.Name.Name, "window_end")) {
			continue
		}
		expr, name := g, ""
		if n, ok := g.(*NumberLit); ok && !n.IsFloat {
			k, err := strconv.Atoi(n.Text)
			if err != nil || k < 1 || k > len(s.Items) {
				return errAt(n.P, "GROUP BY position %s is not in the select list (1..%d)", n.Text, len(s.Items))
			}
			it := s.Items[k-1]
			if _, star := it.Expr.(*StarExpr); star {
				return errAt(n.P, "GROUP BY position %d refers to *", k)
			}
			expr, name = it.Expr, itemName(it)
		} else if c, ok := g.(*ColumnRef); ok && c.Table == nil && !b.hasBaseColumn(c.Name.Name) {
			for _, it := range s.Items {
				if it.Alias != nil && strings.EqualFold(it.Alias.Name, c.Name.Name) {
					expr, name = it.Expr, it.Alias.Name
					break
				}
			}
		}
		if containsAgg(expr) {
			return errAt(g.Pos(), "aggregate functions are not allowed in GROUP BY: %s", FormatExpr(expr))
		}
		e, err := b.bind(gctx, expr)
		if err != nil {
			return err
		}
		if name == "" {
			name = FormatExpr(expr)
			if c, ok := expr.(*ColumnRef); ok {
				name = c.Name.Name
			}
		}
		b.groups = append(b.groups, e)
		b.groupKeys = append(b.groupKeys, e.String())
		if b.groupSizes == nil {
			b.groupSizes = map[int]bool{}
		}
		b.groupSizes[exprSize(expr)] = true
		b.groupNames = append(b.groupNames, name)
	}
	return nil
}

func (b *binder) hasBaseColumn(name string) bool {
	for _, c := range b.base {
		if strings.EqualFold(c.name, name) {
			return true
		}
	}
	return false
}

func (b *binder) bindVelostreamWindow(w *TimeWindow) error {
	spec := &TimeWindowSpec{Kind: w.Kind}
	if w.TimeCol != nil {
		if err := b.bindTimeCol(spec, w.TimeCol); err != nil {
			return err
		}
	} else {
		et, err := eventTimeIndex(b.table)
		if err != nil {
			return wrapAt(w.P, err, "table %q: %v", b.tableName, err)
		}
		if et < 0 {
			return errAt(w.P, "table %q declares no event-time column; name the time column: %s(column, ...)", b.tableName, w.Kind)
		}
		if err := b.bindTimeCol(spec, &ColumnRef{Name: Ident{Name: b.table.Field(et).Name}, P: w.P}); err != nil {
			return err
		}
	}
	ms := make([]int64, len(w.Args))
	for i, a := range w.Args {
		v, err := durationArg(a, w.Kind.String())
		if err != nil {
			return err
		}
		ms[i] = v
	}
	switch w.Kind {
	case Tumbling:
		spec.SizeMs, spec.SlideMs = ms[0], ms[0]
	case Sliding:
		spec.SizeMs, spec.SlideMs = ms[0], ms[1]
	case Session:
		spec.GapMs = ms[0]
	}
	b.window = spec
	return nil
}

func (b *binder) bindFlinkWindow(f *FuncCall, kind TimeWindowKind) error {
	if b.window != nil {
		return errAt(f.P, "a query has one time window, but %s(...) comes on top of another", strings.ToUpper(f.Name))
	}
	want := map[TimeWindowKind]int{Tumbling: 2, Sliding: 3, Session: 2}[kind]
	if len(f.Args) != want || f.Star || f.Distinct {
		usage := map[TimeWindowKind]string{Tumbling: "TUMBLE(time_column, size)", Sliding: "HOP(time_column, slide, size)", Session: "SESSION(time_column, gap)"}[kind]
		return errAt(f.P, "%s takes %d arguments: %s", strings.ToUpper(f.Name), want, usage)
	}
	spec := &TimeWindowSpec{Kind: kind}
	if err := b.bindTimeCol(spec, f.Args[0]); err != nil {
		return err
	}
	ms := make([]int64, len(f.Args)-1)
	for i, a := range f.Args[1:] {
		v, err := durationArg(a, strings.ToUpper(f.Name))
		if err != nil {
			return err
		}
		ms[i] = v
	}
	switch kind {
	case Tumbling:
		spec.SizeMs, spec.SlideMs = ms[0], ms[0]
	case Sliding: // Flink: HOP(time, slide, size)
		spec.SlideMs, spec.SizeMs = ms[0], ms[1]
	case Session:
		spec.GapMs = ms[0]
	}
	b.window, b.windowFunc = spec, f.Name
	return nil
}

func (b *binder) bindTimeCol(spec *TimeWindowSpec, e Expr) error {
	ref, ok := e.(*ColumnRef)
	if !ok {
		return errAt(e.Pos(), "the window's time column must be a column, got %s", FormatExpr(e))
	}
	idx, err := b.resolveBase(ref)
	if err != nil {
		return err
	}
	c := b.base[idx]
	if c.typ.ID() != arrow.INT64 && !isTimestamp(c.typ) {
		return errAt(e.Pos(), "time column %q must be int64 (milliseconds) or timestamp, got %s", c.name, typeString(c.typ))
	}
	spec.TimeCol, spec.TimeName, spec.TimeType = idx, c.name, c.typ
	return nil
}

// durationArg evaluates a window duration argument to positive milliseconds.
func durationArg(e Expr, what string) (int64, error) {
	var ms int64
	switch d := e.(type) {
	case *DurationLit:
		ms = d.Millis
	case *IntervalLit:
		v, err := intervalMillis(d.Value, d.Unit)
		if err != nil {
			return 0, wrapAt(d.P, err, "%v", err)
		}
		ms = v
	default:
		return 0, errAt(e.Pos(), "%s expects a duration such as INTERVAL '1' MINUTE or 1m, got %s", what, FormatExpr(e))
	}
	if ms <= 0 {
		return 0, errAt(e.Pos(), "%s duration %s must be positive", what, FormatExpr(e))
	}
	return ms, nil
}

// orderTarget resolves an ORDER BY ordinal or select alias to a select
// column index; -1 means "an expression".
func (b *binder) orderTarget(e Expr, fields []arrow.Field) (int, error) {
	switch x := e.(type) {
	case *NumberLit:
		if x.IsFloat {
			return -1, nil
		}
		k, err := strconv.Atoi(x.Text)
		if err != nil || k < 1 || k > len(fields) {
			return -1, errAt(x.P, "ORDER BY position %s is not in the select list (1..%d)", x.Text, len(fields))
		}
		return k - 1, nil
	case *ColumnRef:
		if x.Table != nil {
			return -1, nil
		}
		for i, it := range b.stmt.Items {
			if it.Alias != nil && strings.EqualFold(it.Alias.Name, x.Name.Name) {
				return b.itemColumn(i), nil
			}
		}
	}
	return -1, nil
}

// itemColumn maps a select item index to its output column (stars expand).
func (b *binder) itemColumn(item int) int {
	col := 0
	for i := 0; i < item; i++ {
		if _, star := b.stmt.Items[i].Expr.(*StarExpr); star {
			col += len(b.base)
		} else {
			col++
		}
	}
	return col
}

// resolveBase finds a column of the base scope.
func (b *binder) resolveBase(ref *ColumnRef) (int, error) {
	if ref.Table != nil && !strings.EqualFold(ref.Table.Name, b.qualifier) {
		return -1, errAt(ref.P, "unknown table or alias %q in %s%s", ref.Table.Name, FormatExpr(ref), suggest(ref.Table.Name, []string{b.qualifier}))
	}
	name := ref.Name.Name
	var matches, exact []int
	for i, c := range b.base {
		if strings.EqualFold(c.name, name) {
			matches = append(matches, i)
			if c.name == name {
				exact = append(exact, i)
			}
		}
	}
	switch {
	case len(matches) == 1:
		return matches[0], nil
	case len(exact) == 1:
		return exact[0], nil
	case len(matches) > 1:
		names := make([]string, len(matches))
		for i, m := range matches {
			names[i] = strconv.Quote(b.base[m].name)
		}
		return -1, errAt(ref.P, "column %q is ambiguous: it matches %s in %s", name, strings.Join(names, " and "), b.tableName)
	}
	cands := make([]string, 0, b.table.NumFields()+2)
	for _, f := range b.table.Fields() {
		cands = append(cands, f.Name)
	}
	if b.window != nil {
		cands = append(cands, "window_start", "window_end")
	}
	return -1, errAt(ref.P, "column %q not found in %s%s", name, b.tableName, suggest(name, cands))
}

// boolean checks a condition is bool (a NULL literal becomes a bool NULL).
func (b *binder) boolean(e BoundExpr, src Expr, clause string) (BoundExpr, error) {
	if isNull(e.DataType()) {
		return castTo(e, typeBool), nil
	}
	if !isBool(e.DataType()) {
		return nil, errAt(src.Pos(), "%s must be boolean, but %s is %s", clause, FormatExpr(src), typeString(e.DataType()))
	}
	return e, nil
}

// castTo converts e to type t: unchanged if already t, folded for
// constants, else a Cast node.
func castTo(e BoundExpr, t arrow.DataType) BoundExpr {
	if arrow.TypeEqual(e.DataType(), t) {
		return e
	}
	if c, ok := e.(*Const); ok {
		if f, ok, err := foldCast(c, t); ok && err == nil {
			return f
		}
	}
	return &Cast{Typed: Typed{Type: t, Null: e.Nullable()}, X: e}
}

// unify brings operands to their common type. Constants adapt to the
// other operands when they convert exactly (1 next to an int32 column stays
// int32, a string literal next to a timestamp becomes a timestamp, DATE
// '2024-01-01' next to timestamp[ms] becomes timestamp[ms]), so columns are
// cast only when they must be.
func unify(list []BoundExpr, src Expr, what string) ([]BoundExpr, arrow.DataType, error) {
	var t arrow.DataType = typeNull
	for _, e := range list {
		if !isConstExpr(e) {
			ct, ok := commonType(t, e.DataType())
			if !ok {
				return nil, nil, typeMismatch(list, src, what)
			}
			t = ct
		}
	}
	for _, e := range list {
		c, ok := e.(*Const)
		if !ok {
			continue
		}
		if isString(c.Type) && isTemporal(t) {
			continue
		}
		if !isNull(t) && !isString(c.Type) {
			if _, exact, _ := foldCast(c, t); exact {
				continue
			}
		}
		ct, ok := commonType(t, c.Type)
		if !ok {
			return nil, nil, typeMismatch(list, src, what)
		}
		t = ct
	}
	out := make([]BoundExpr, len(list))
	for i, e := range list {
		if c, ok := e.(*Const); ok && isString(c.Type) && isTemporal(t) {
			f, _, err := foldCast(c, t)
			if err != nil {
				return nil, nil, wrapAt(src.Pos(), err, "%v in %s", err, FormatExpr(src))
			}
			out[i] = f
			continue
		}
		out[i] = castTo(e, t)
	}
	return out, t, nil
}

func slicesIndex(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

func isConstExpr(e BoundExpr) bool { _, ok := e.(*Const); return ok }

func typeMismatch(list []BoundExpr, src Expr, what string) error {
	names := make([]string, len(list))
	for i, e := range list {
		names[i] = typeString(e.DataType())
	}
	return errAt(src.Pos(), "cannot %s %s in %s", what, strings.Join(names, " with "), FormatExpr(src))
}

func anyNullable(list ...BoundExpr) bool {
	for _, e := range list {
		if e != nil && e.Nullable() {
			return true
		}
	}
	return false
}

// bind binds an expression in context c.
func (b *binder) bind(c ctx, e Expr) (BoundExpr, error) {
	if c.post && len(b.groupKeys) > 0 && b.groupSizes[exprSize(e)] && !isLiteral(e) && !containsAggOrWindow(e) {
		if be, err := b.bind(ctx{clause: c.clause}, e); err == nil {
			key := be.String()
			for i, k := range b.groupKeys {
				if k == key {
					g := b.groups[i]
					return &ColRef{Typed: Typed{Type: g.DataType(), Null: g.Nullable()}, Index: i, Name: b.groupNames[i]}, nil
				}
			}
		}
	}
	switch e := e.(type) {
	case *NumberLit:
		return bindNumber(e, false)
	case *StringLit:
		return &Const{Typed: Typed{Type: typeUtf8}, Value: e.Value}, nil
	case *BoolLit:
		return &Const{Typed: Typed{Type: typeBool}, Value: e.Value}, nil
	case *NullLit:
		return &Const{Typed: Typed{Type: typeNull, Null: true}}, nil
	case *TypedLit:
		if e.Type == "DATE" {
			d, err := parseDate(e.Value)
			if err != nil {
				return nil, wrapAt(e.P, err, "%v", err)
			}
			return &Const{Typed: Typed{Type: typeDate32}, Value: d}, nil
		}
		ts, err := parseTimestamp(e.Value, arrow.Microsecond)
		if err != nil {
			return nil, wrapAt(e.P, err, "%v", err)
		}
		return &Const{Typed: Typed{Type: timestampType(arrow.Microsecond)}, Value: ts}, nil
	case *IntervalLit:
		ms, err := intervalMillis(e.Value, e.Unit)
		if err != nil {
			return nil, wrapAt(e.P, err, "%v", err)
		}
		return &Const{Typed: Typed{Type: typeDuration}, Value: ms}, nil
	case *DurationLit:
		return &Const{Typed: Typed{Type: typeDuration}, Value: e.Millis}, nil
	case *ColumnRef:
		return b.bindColumn(c, e)
	case *StarExpr:
		return nil, errAt(e.P, "* is only allowed in the select list and COUNT(*)")
	case *UnaryExpr:
		return b.bindUnary(c, e)
	case *BinaryExpr:
		return b.bindBinary(c, e)
	case *IsNullExpr:
		x, err := b.bind(c, e.X)
		if err != nil {
			return nil, err
		}
		return &IsNull{Typed: Typed{Type: typeBool}, X: x, Not: e.Not}, nil
	case *InExpr:
		list := make([]BoundExpr, 0, len(e.List)+1)
		for _, a := range append([]Expr{e.X}, e.List...) {
			x, err := b.bind(c, a)
			if err != nil {
				return nil, err
			}
			list = append(list, x)
		}
		list, _, err := unify(list, e, "compare")
		if err != nil {
			return nil, err
		}
		return &In{Typed: Typed{Type: typeBool, Null: anyNullable(list...)}, X: list[0], List: list[1:], Not: e.Not}, nil
	case *BetweenExpr:
		list := make([]BoundExpr, 3)
		for i, a := range []Expr{e.X, e.Lo, e.Hi} {
			x, err := b.bind(c, a)
			if err != nil {
				return nil, err
			}
			list[i] = x
		}
		list, t, err := unify(list, e, "compare")
		if err != nil {
			return nil, err
		}
		if !isComparable(t) {
			return nil, errAt(e.P, "cannot order values of type %s in %s", typeString(t), FormatExpr(e))
		}
		return &Between{Typed: Typed{Type: typeBool, Null: anyNullable(list...)}, X: list[0], Lo: list[1], Hi: list[2], Not: e.Not}, nil
	case *LikeExpr:
		x, err := b.bind(c, e.X)
		if err != nil {
			return nil, err
		}
		p, err := b.bind(c, e.Pattern)
		if err != nil {
			return nil, err
		}
		for _, o := range []BoundExpr{x, p} {
			if !isString(o.DataType()) && !isNull(o.DataType()) {
				return nil, errAt(e.P, "LIKE needs strings, got %s and %s in %s", typeString(x.DataType()), typeString(p.DataType()), FormatExpr(e))
			}
		}
		return &Like{Typed: Typed{Type: typeBool, Null: anyNullable(x, p)}, X: castTo(x, typeUtf8), Pattern: castTo(p, typeUtf8), Not: e.Not}, nil
	case *CaseExpr:
		return b.bindCase(c, e)
	case *CastExpr:
		x, err := b.bind(c, e.X)
		if err != nil {
			return nil, err
		}
		t, err := typeFromName(e.Type)
		if err != nil {
			return nil, wrapAt(e.P, err, "%v", err)
		}
		if !canCast(x.DataType(), t) {
			return nil, errAt(e.P, "cannot cast %s to %s in %s", typeString(x.DataType()), typeString(t), FormatExpr(e))
		}
		return castTo(x, t), nil
	case *FuncCall:
		return b.bindCall(c, e)
	}
	return nil, errAt(e.Pos(), "unsupported expression %s", FormatExpr(e))
}

func bindNumber(e *NumberLit, negate bool) (BoundExpr, error) {
	text := e.Text
	if negate {
		text = "-" + text
	}
	if !e.IsFloat {
		v, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, errAt(e.P, "integer literal %s out of range for int64", text)
		}
		return &Const{Typed: Typed{Type: typeInt64}, Value: v}, nil
	}
	v, err := strconv.ParseFloat(text, 64)
	if err != nil || math.IsInf(v, 0) {
		return nil, errAt(e.P, "number %s out of range for float64", text)
	}
	return &Const{Typed: Typed{Type: typeFloat64}, Value: v}, nil
}

func (b *binder) bindColumn(c ctx, e *ColumnRef) (BoundExpr, error) {
	if c.post {
		if b.window != nil && e.Table == nil {
			for k, name := range []string{"window_start", "window_end"} {
				if strings.EqualFold(e.Name.Name, name) {
					return &ColRef{Typed: Typed{Type: b.window.TimeType}, Index: len(b.groups) + k, Name: name}, nil
				}
			}
		}
		if _, err := b.resolveBase(e); err != nil {
			if x, ok, aerr := b.bindAlias(c, e); ok {
				return x, aerr
			}
			return nil, err
		}
		return nil, errAt(e.P, "column %s must appear in the GROUP BY clause or be used in an aggregate function", FormatExpr(e))
	}
	idx, err := b.resolveBase(e)
	if err != nil {
		if x, ok, aerr := b.bindAlias(c, e); ok {
			return x, aerr
		}
		if b.window == nil && e.Table == nil && (strings.EqualFold(e.Name.Name, "window_start") || strings.EqualFold(e.Name.Name, "window_end")) {
			return nil, errAt(e.P, "column %q exists only in queries with a time window (WINDOW TUMBLING(...) or GROUP BY TUMBLE(...))", e.Name.Name)
		}
		return nil, err
	}
	col := b.base[idx]
	return &ColRef{Typed: Typed{Type: col.typ, Null: col.nullable}, Index: idx, Name: col.name}, nil
}

// bindAlias lets WHERE and HAVING name a select alias that is not a table
// column, as DuckDB does: the alias stands for its expression, bound in the
// clause's own context (so an aggregate behind an alias is still rejected
// in WHERE). ok is false when e names no alias.
func (b *binder) bindAlias(c ctx, e *ColumnRef) (BoundExpr, bool, error) {
	if e.Table != nil || (c.clause != "WHERE" && c.clause != "HAVING") {
		return nil, false, nil
	}
	for _, it := range b.stmt.Items {
		if it.Alias == nil || !strings.EqualFold(it.Alias.Name, e.Name.Name) {
			continue
		}
		key := strings.ToLower(it.Alias.Name)
		if b.aliasBusy[key] {
			return nil, true, errAt(e.P, "alias %q refers to itself", it.Alias.Name)
		}
		if b.aliasBusy == nil {
			b.aliasBusy = map[string]bool{}
		}
		b.aliasBusy[key] = true
		x, err := b.bind(c, it.Expr)
		delete(b.aliasBusy, key)
		return x, true, err
	}
	return nil, false, nil
}

func (b *binder) bindUnary(c ctx, e *UnaryExpr) (BoundExpr, error) {
	if e.Op == "-" {
		if n, ok := e.X.(*NumberLit); ok {
			return bindNumber(n, true)
		}
	}
	x, err := b.bind(c, e.X)
	if err != nil {
		return nil, err
	}
	t := x.DataType()
	if e.Op == "NOT" {
		x, err = b.boolean(x, e.X, "NOT operand")
		if err != nil {
			return nil, err
		}
		return &Unary{Typed: Typed{Type: typeBool, Null: x.Nullable()}, Op: OpNot, X: x}, nil
	}
	if !isNumeric(t) && !isNull(t) {
		return nil, errAt(e.P, "cannot apply unary %s to %s in %s", e.Op, typeString(t), FormatExpr(e))
	}
	rt := arithType(t, t)
	x = castTo(x, rt)
	if e.Op == "+" {
		return x, nil
	}
	if k, ok := x.(*Const); ok {
		switch v := k.Value.(type) {
		case int64:
			if v == math.MinInt64 {
				return nil, errAt(e.P, "integer overflow in %s", FormatExpr(e))
			}
			return &Const{Typed: k.Typed, Value: -v}, nil
		case float64:
			return &Const{Typed: k.Typed, Value: -v}, nil
		}
	}
	return &Unary{Typed: Typed{Type: rt, Null: x.Nullable()}, Op: OpNeg, X: x}, nil
}

func (b *binder) bindBinary(c ctx, e *BinaryExpr) (BoundExpr, error) {
	l, err := b.bind(c, e.L)
	if err != nil {
		return nil, err
	}
	r, err := b.bind(c, e.R)
	if err != nil {
		return nil, err
	}
	op := binaryOpByText[e.Op]
	lt, rt := l.DataType(), r.DataType()
	switch {
	case op == OpAnd || op == OpOr:
		if l, err = b.boolean(l, e.L, e.Op+" operand"); err != nil {
			return nil, err
		}
		if r, err = b.boolean(r, e.R, e.Op+" operand"); err != nil {
			return nil, err
		}
		return &Binary{Typed: Typed{Type: typeBool, Null: anyNullable(l, r)}, Op: op, L: l, R: r}, nil
	case op.IsComparison():
		list, t, err := unify([]BoundExpr{l, r}, e, "compare")
		if err != nil {
			return nil, err
		}
		if !isComparable(t) && op != OpEq && op != OpNe {
			return nil, errAt(e.P, "cannot order values of type %s in %s", typeString(t), FormatExpr(e))
		}
		return &Binary{Typed: Typed{Type: typeBool, Null: anyNullable(list...)}, Op: op, L: list[0], R: list[1]}, nil
	case op == OpConcat:
		return &Binary{Typed: Typed{Type: typeUtf8, Null: anyNullable(l, r)}, Op: op, L: castTo(l, typeUtf8), R: castTo(r, typeUtf8)}, nil
	}
	// Arithmetic.
	if (op == OpAdd || op == OpSub) && isTimestamp(lt) && rt.ID() == arrow.DURATION {
		return timeShift(op, l, r)
	}
	if op == OpAdd && lt.ID() == arrow.DURATION && isTimestamp(rt) {
		return timeShift(op, r, l)
	}
	if (!isNumeric(lt) && !isNull(lt)) || (!isNumeric(rt) && !isNull(rt)) {
		return nil, errAt(e.P, "cannot apply %s to %s and %s in %s", e.Op, typeString(lt), typeString(rt), FormatExpr(e))
	}
	t := arithType(lt, rt)
	if op == OpDiv {
		t = typeFloat64
	}
	if op == OpIntDiv {
		if t.ID() != arrow.INT64 {
			return nil, errAt(e.P, "// needs integer operands, got %s and %s in %s", typeString(lt), typeString(rt), FormatExpr(e))
		}
		return &Binary{Typed: Typed{Type: t, Null: true}, Op: op, L: castTo(l, t), R: castTo(r, t)}, nil
	}
	// DuckDB (1.1+, ieee_floating_point_ops): float division by zero is
	// IEEE (±inf, NaN); integer % 0 is NULL.
	nullable := anyNullable(l, r) || (op == OpMod && t.ID() == arrow.INT64)
	return &Binary{Typed: Typed{Type: t, Null: nullable}, Op: op, L: castTo(l, t), R: castTo(r, t)}, nil
}

// timeShift binds timestamp ± duration: the duration is expressed in the
// timestamp's unit (a duration constant, truncated toward zero for coarser
// units) and the result keeps the timestamp type. This is the one Binary
// whose operands differ in type.
func timeShift(op BinaryOp, ts, d BoundExpr) (BoundExpr, error) {
	unit := ts.DataType().(*arrow.TimestampType).Unit
	k, ok := d.(*Const)
	if !ok || k.Value == nil {
		return &Binary{Typed: Typed{Type: ts.DataType(), Null: true}, Op: op, L: ts, R: &Cast{Typed: Typed{Type: &arrow.DurationType{Unit: unit}, Null: d.Nullable()}, X: d}}, nil
	}
	v, ok := rescaleTime(k.Value.(int64), arrow.Millisecond, unit)
	if !ok {
		v = k.Value.(int64) / (1000 / unitsPerSecond(unit))
	}
	return &Binary{Typed: Typed{Type: ts.DataType(), Null: ts.Nullable()}, Op: op, L: ts, R: &Const{Typed: Typed{Type: &arrow.DurationType{Unit: unit}}, Value: v}}, nil
}

func (b *binder) bindCase(c ctx, e *CaseExpr) (BoundExpr, error) {
	var operand BoundExpr
	if e.Operand != nil {
		x, err := b.bind(c, e.Operand)
		if err != nil {
			return nil, err
		}
		operand = x
	}
	out := &Case{}
	results := make([]BoundExpr, 0, len(e.Whens)+1)
	for _, w := range e.Whens {
		cond, err := b.bind(c, w.Cond)
		if err != nil {
			return nil, err
		}
		if operand != nil {
			list, _, err := unify([]BoundExpr{operand, cond}, e, "compare")
			if err != nil {
				return nil, err
			}
			cond = &Binary{Typed: Typed{Type: typeBool, Null: anyNullable(list...)}, Op: OpEq, L: list[0], R: list[1]}
		} else if cond, err = b.boolean(cond, w.Cond, "WHEN condition"); err != nil {
			return nil, err
		}
		res, err := b.bind(c, w.Result)
		if err != nil {
			return nil, err
		}
		out.Whens = append(out.Whens, CaseArm{Cond: cond})
		results = append(results, res)
	}
	if e.Else != nil {
		x, err := b.bind(c, e.Else)
		if err != nil {
			return nil, err
		}
		results = append(results, x)
	}
	results, t, err := unify(results, e, "combine CASE results of types")
	if err != nil {
		return nil, err
	}
	for i := range out.Whens {
		out.Whens[i].Result = results[i]
	}
	if e.Else != nil {
		out.Else = results[len(results)-1]
	}
	out.Type, out.Null = t, e.Else == nil || anyNullable(results...)
	return out, nil
}

// allFuncNames lists every function name for "did you mean" hints.
func allFuncNames() []string {
	var names []string
	for n := range aggFuncs {
		names = append(names, n)
	}
	for n := range analyticFuncs {
		names = append(names, n)
	}
	for n := range scalarFuncs {
		names = append(names, n)
	}
	for n := range groupWindowFuncs {
		names = append(names, n)
	}
	for n := range windowBoundFuncs {
		names = append(names, n)
	}
	sortStrings(names)
	return names
}

func (b *binder) bindCall(c ctx, e *FuncCall) (BoundExpr, error) {
	name := e.Name
	upper := strings.ToUpper(name)
	if e.Over != nil {
		if c.inWin {
			return nil, errAt(e.P, "window functions cannot be nested: %s", FormatExpr(e))
		}
		if !c.winOK {
			return nil, errAt(e.P, "window function %s is not allowed in %s", upper, c.clause)
		}
		return b.bindWindowCall(c, e)
	}
	if _, isAgg := aggFuncs[name]; isAgg {
		if c.inAgg {
			return nil, errAt(e.P, "aggregate function calls cannot be nested: %s", FormatExpr(e))
		}
		if !c.aggOK {
			return nil, errAt(e.P, "aggregate function %s is not allowed in %s", upper, c.clause)
		}
		return b.bindAggCall(c, e)
	}
	if _, ok := analyticFuncs[name]; ok {
		return nil, errAt(e.P, "%s requires an OVER clause", upper)
	}
	if _, ok := groupWindowFuncs[name]; ok {
		return nil, errAt(e.P, "%s(...) defines a time window and is only allowed in GROUP BY", upper)
	}
	if wb, ok := windowBoundFuncs[name]; ok {
		if !c.post || b.window == nil || b.windowFunc == "" {
			return nil, errAt(e.P, "%s needs a GROUP BY %s(...) window", upper, strings.ToUpper(strings.TrimSuffix(strings.TrimSuffix(name, "_start"), "_end")))
		}
		if b.window.Kind != wb.kind {
			return nil, errAt(e.P, "%s does not match the query's %s window", upper, strings.ToUpper(b.windowFunc))
		}
		k := 0
		if wb.col == "window_end" {
			k = 1
		}
		return &ColRef{Typed: Typed{Type: b.window.TimeType}, Index: len(b.groups) + k, Name: wb.col}, nil
	}
	if e.Star {
		return nil, errAt(e.P, "%s(*) is not allowed; only COUNT(*)", upper)
	}
	if e.Distinct {
		return nil, errAt(e.P, "DISTINCT is only allowed in aggregate functions, not in %s", upper)
	}
	args := make([]BoundExpr, len(e.Args))
	for i, a := range e.Args {
		x, err := b.bind(c, a)
		if err != nil {
			return nil, err
		}
		args[i] = x
	}
	return bindScalar(e, args)
}

func (b *binder) bindAggCall(c ctx, e *FuncCall) (BoundExpr, error) {
	fn := aggFuncs[e.Name]
	upper := strings.ToUpper(e.Name)
	var arg BoundExpr
	if e.Star {
		if fn != AggCount {
			return nil, errAt(e.P, "%s(*) is not allowed; only COUNT(*)", upper)
		}
		fn = AggCountStar
	} else {
		if len(e.Args) != 1 {
			return nil, errAt(e.P, "%s takes one argument, got %d", upper, len(e.Args))
		}
		x, err := b.bind(ctx{clause: "aggregate arguments", inAgg: true, inWin: c.inWin}, e.Args[0])
		if err != nil {
			return nil, err
		}
		arg = x
	}
	if e.Distinct && fn != AggCount {
		return nil, errAt(e.P, "DISTINCT is supported only in COUNT, not in %s", upper)
	}
	call := AggCall{Func: fn, Distinct: e.Distinct}
	// A global aggregate (no keys, no window) yields a row even for empty
	// input, so its aggregates may be NULL; a group or window exists only
	// with rows in it.
	global := len(b.groups) == 0 && b.window == nil
	var err error
	call.Typed, arg, err = aggType(fn, arg, e, global)
	if err != nil {
		return nil, err
	}
	call.Arg = arg
	key := call.String()
	if b.aggIndex == nil {
		b.aggIndex = map[string]int{}
	}
	k, seen := b.aggIndex[key]
	if !seen {
		k = len(b.aggs)
		b.aggIndex[key] = k
		b.aggs = append(b.aggs, call)
		b.aggNames = append(b.aggNames, FormatExpr(e))
	}
	off := len(b.groups)
	if b.window != nil {
		off += 2
	}
	return &ColRef{Typed: call.Typed, Index: off + k, Name: b.aggNames[k]}, nil
}

// aggType checks an aggregate's argument and returns the result type and the
// argument converted to what the aggregate consumes.
func aggType(fn AggFunc, arg BoundExpr, src *FuncCall, global bool) (Typed, BoundExpr, error) {
	upper := strings.ToUpper(src.Name)
	if arg == nil {
		return Typed{Type: typeInt64}, nil, nil
	}
	t := arg.DataType()
	numeric := func() error {
		if !isNumeric(t) && !isNull(t) {
			return errAt(src.P, "%s needs a numeric argument, got %s in %s", upper, typeString(t), FormatExpr(src))
		}
		return nil
	}
	nullable := arg.Nullable() || global
	switch fn {
	case AggCount, AggApproxCountDistinct:
		return Typed{Type: typeInt64}, arg, nil
	case AggSum:
		if err := numeric(); err != nil {
			return Typed{}, nil, err
		}
		rt := arithType(t, t)
		return Typed{Type: rt, Null: nullable}, castTo(arg, rt), nil
	case AggAvg:
		if err := numeric(); err != nil {
			return Typed{}, nil, err
		}
		return Typed{Type: typeFloat64, Null: nullable}, castTo(arg, arithType(t, t)), nil
	case AggStddevPop, AggVarPop:
		if err := numeric(); err != nil {
			return Typed{}, nil, err
		}
		return Typed{Type: typeFloat64, Null: nullable}, castTo(arg, typeFloat64), nil
	case AggStddevSamp, AggVarSamp:
		if err := numeric(); err != nil {
			return Typed{}, nil, err
		}
		return Typed{Type: typeFloat64, Null: true}, castTo(arg, typeFloat64), nil
	case AggMin, AggMax:
		if !isComparable(t) || isNull(t) {
			return Typed{}, nil, errAt(src.P, "%s needs a comparable argument (number, string, bool, timestamp, date), got %s in %s", upper, typeString(t), FormatExpr(src))
		}
		return Typed{Type: t, Null: nullable}, arg, nil
	}
	// FIRST, LAST.
	return Typed{Type: t, Null: nullable}, arg, nil
}

// movingAggs are the aggregates usable with OVER.
var movingAggs = map[AggFunc]bool{AggCount: true, AggSum: true, AggAvg: true, AggMin: true, AggMax: true}

func (b *binder) bindWindowCall(c ctx, e *FuncCall) (BoundExpr, error) {
	upper := strings.ToUpper(e.Name)
	spec := e.Over.Spec
	if e.Over.Name != nil {
		for _, nw := range b.stmt.NamedWindows {
			if strings.EqualFold(nw.Name.Name, e.Over.Name.Name) {
				spec = nw.Spec
				break
			}
		}
		if spec == nil {
			var names []string
			for _, nw := range b.stmt.NamedWindows {
				names = append(names, nw.Name.Name)
			}
			return nil, errAt(e.Over.Name.P, "window %q is not defined%s", e.Over.Name.Name, suggest(e.Over.Name.Name, names))
		}
	}
	wc := WindowCall{}
	inner := c
	inner.inWin, inner.winOK = true, false
	inner.clause = "window function arguments"
	var args []BoundExpr
	for _, a := range e.Args {
		x, err := b.bind(inner, a)
		if err != nil {
			return nil, err
		}
		args = append(args, x)
	}
	if e.Distinct {
		return nil, errAt(e.P, "DISTINCT is not supported in window function %s", upper)
	}
	nargs := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi || e.Star {
			if lo == hi {
				return errAt(e.P, "%s takes %d argument(s), got %d", upper, lo, len(args))
			}
			return errAt(e.P, "%s takes %d to %d arguments, got %d", upper, lo, hi, len(args))
		}
		return nil
	}
	frameMatters := true
	if fn, ok := aggFuncs[e.Name]; ok {
		if !movingAggs[fn] {
			return nil, errAt(e.P, "%s is not supported as a window function (supported: COUNT, SUM, AVG, MIN, MAX, ROW_NUMBER, RANK, DENSE_RANK, LAG, LEAD, FIRST_VALUE, LAST_VALUE)", upper)
		}
		var arg BoundExpr
		if e.Star {
			if fn != AggCount {
				return nil, errAt(e.P, "%s(*) is not allowed; only COUNT(*)", upper)
			}
			fn = AggCountStar
		} else {
			if len(args) != 1 {
				return nil, errAt(e.P, "%s takes one argument, got %d", upper, len(args))
			}
			arg = args[0]
		}
		typed, conv, err := aggType(fn, arg, e, false)
		if err != nil {
			return nil, err
		}
		wc.Func, wc.Typed = WindowFunc(fn), typed
		if conv != nil {
			wc.Args = []BoundExpr{conv}
		}
	} else if fn, ok := analyticFuncs[e.Name]; ok {
		wc.Func = fn
		switch fn {
		case WinRowNumber, WinRank, WinDenseRank:
			if err := nargs(0, 0); err != nil {
				return nil, err
			}
			wc.Typed = Typed{Type: typeInt64}
			frameMatters = false
		case WinLag, WinLead:
			if err := nargs(1, 3); err != nil {
				return nil, err
			}
			frameMatters = false
			wc.Offset = 1
			if len(args) >= 2 {
				k, ok := args[1].(*Const)
				v, isInt := int64(0), false
				if ok {
					v, isInt = k.Value.(int64)
				}
				if !isInt || v < 0 {
					return nil, errAt(e.Args[1].Pos(), "%s offset must be a non-negative integer constant, got %s", upper, FormatExpr(e.Args[1]))
				}
				wc.Offset = v
			}
			x := args[0]
			if len(args) == 3 {
				list, _, err := unify([]BoundExpr{x, args[2]}, e, "combine")
				if err != nil {
					return nil, err
				}
				x, wc.Default = list[0], list[1]
			}
			wc.Args = []BoundExpr{x}
			wc.Typed = Typed{Type: x.DataType(), Null: true}
		default: // FIRST_VALUE, LAST_VALUE
			if err := nargs(1, 1); err != nil {
				return nil, err
			}
			wc.Args = args
			wc.Typed = Typed{Type: args[0].DataType(), Null: args[0].Nullable()}
		}
	} else {
		return nil, errAt(e.P, "%s is not a window function%s", upper, suggest(e.Name, allFuncNames()))
	}
	for _, p := range spec.PartitionBy {
		x, err := b.bind(inner, p)
		if err != nil {
			return nil, err
		}
		wc.PartitionBy = append(wc.PartitionBy, x)
	}
	for _, o := range spec.OrderBy {
		x, err := b.bind(inner, o.Expr)
		if err != nil {
			return nil, err
		}
		if !isComparable(x.DataType()) {
			return nil, errAt(o.Expr.Pos(), "cannot order by %s of type %s", FormatExpr(o.Expr), typeString(x.DataType()))
		}
		wc.OrderBy = append(wc.OrderBy, SortKey{Expr: x, Desc: o.Desc, NullsFirst: o.Nulls == NullsFirst})
	}
	// Frame: BUFFER n ROWS is the last n rows; no frame means the whole
	// partition, or up to the current row when ordered (ROWS, not RANGE:
	// peers with equal ORDER BY keys are not grouped).
	switch f := spec.Frame; {
	case f != nil && f.Buffer > 0:
		wc.Frame = FrameSpec{Start: FrameBound{Kind: Preceding, Offset: f.Buffer - 1}, End: FrameBound{Kind: CurrentRow}}
	case f != nil:
		wc.Frame = FrameSpec{Start: f.Start, End: f.End}
	case len(spec.OrderBy) > 0:
		wc.Frame = FrameSpec{Start: FrameBound{Kind: UnboundedPreceding}, End: FrameBound{Kind: CurrentRow}}
	default:
		wc.Frame = FrameSpec{Start: FrameBound{Kind: UnboundedPreceding}, End: FrameBound{Kind: UnboundedFollowing}}
	}
	if frameMatters && wc.Func != WindowFunc(AggCount) && wc.Func != WindowFunc(AggCountStar) {
		mayBeEmpty := boundRank(wc.Frame.Start) > 0 || boundRank(wc.Frame.End) < 0
		wc.Null = wc.Null || mayBeEmpty
	}
	key := wc.String()
	if b.winIndex == nil {
		b.winIndex = map[string]int{}
	}
	k, seen := b.winIndex[key]
	if !seen {
		k = len(b.wins)
		b.winIndex[key] = k
		b.wins = append(b.wins, wc)
		plain := *e
		plain.Over = nil
		b.winNames = append(b.winNames, FormatExpr(&plain))
	}
	ref := &ColRef{Typed: wc.Typed, Index: -k - 1, Name: b.winNames[k]}
	b.winRefs = append(b.winRefs, ref)
	return ref, nil
}
