package exec

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/agg"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
	"github.com/velo-engine/velo/sqlfront"
	"github.com/velo-engine/velo/window"
)

// timeWindowOp runs an Aggregate with a time window (GROUP BY … WINDOW
// TUMBLING/SLIDING/SESSION, or TUMBLE/HOP/SESSION in GROUP BY) through
// window.TimeWindow. Keys, aggregate arguments and the time column are
// evaluated into the operator's input record first; when they are all plain
// column references the input's columns are handed over as they are, with
// the batch's selection.
//
// The watermark is generated where rows enter the query, as in Flink, and
// the operator only follows it (window.Spec.ExternalWatermark): after each
// input batch the watermark becomes max(event time of every row scanned
// so far, filtered out or not) − max out-of-orderness, or an explicit
// watermark when that is ahead. On one partition eventTimeOp, at the head
// of the pipeline, generates it; on several the partition router does
// (partition.Config.EventTimeColumn) and broadcasts it to every partition,
// so each partition's windows close at the same watermark as on one
// partition, whatever rows the partition receives. A batch's rows are
// assigned, and judged late, against the watermark before the batch; the
// windows the batch's watermark closes close right after it. Rows of one
// batch are therefore never late relative to each other, and a partition
// (which sees a subset of each batch, or several coalesced batches routed
// under one watermark) makes exactly the decisions of the one-partition
// run: the same rows and the same late counters (LateRows, LateDropped,
// LateProcessed) at every partition count. The late policy is the
// window's alone: the router processes every row.
//
// Over a bounded input Finish raises the watermark to +∞, closing every
// window. EMIT FINAL (the default) yields each window's rows once; EMIT
// CHANGES yields the changelog: after each input batch, the current row of
// every (window, group) the batch touched, so the result depends on how
// the input is cut into batches and the last change of each (window,
// group) equals its FINAL row.
//
// Without a time window it runs a GROUP BY … EMIT CHANGES as window.None:
// the touched groups' current rows after every batch (exec/doc.go).
type timeWindowOp struct {
	mem       memory.Allocator
	node      *sqlfront.Aggregate
	what      string // names the operator in errors
	inputs    []sqlfront.BoundExpr
	inSchema  *arrow.Schema
	plain     bool
	w         *window.TimeWindow
	batchSize int
	next      Operator
	keys      columnar.KeyHashes // the batch's key hashes renumbered for w (inputBatch)

	// stats is w's counters after the last call, for WindowStats (read
	// from other goroutines while a partition runs).
	mu    sync.Mutex
	stats window.Stats
}

var timeWindowKinds = map[sqlfront.TimeWindowKind]window.Kind{
	sqlfront.Tumbling: window.Tumbling, sqlfront.Sliding: window.Sliding, sqlfront.Session: window.Session,
}

func newTimeWindowOp(mem memory.Allocator, n *sqlfront.Aggregate, settings sqlfront.Settings, batchSize int, next Operator) (*timeWindowOp, error) {
	if len(n.GroupBy) > agg.MaxKeyColumns {
		return nil, fmt.Errorf("exec: GROUP BY with %d keys is not supported yet (at most %d)", len(n.GroupBy), agg.MaxKeyColumns)
	}
	kind, what := window.None, "GROUP BY … EMIT CHANGES"
	if n.Window != nil {
		k, ok := timeWindowKinds[n.Window.Kind]
		if !ok {
			return nil, fmt.Errorf("exec: time window kind %s is not supported", n.Window.Kind)
		}
		kind, what = k, "time window "+n.Window.String()
	} else if n.Emit != sqlfront.EmitChanges {
		return nil, fmt.Errorf("exec: GROUP BY without a time window runs as a time-window operator only with EMIT CHANGES")
	}
	op := &timeWindowOp{mem: mem, node: n, what: what, plain: true, batchSize: batchSize, next: next}
	index := map[string]int{}
	add := func(e sqlfront.BoundExpr) int {
		key := e.String() + "|" + e.DataType().String()
		if i, ok := index[key]; ok {
			return i
		}
		if _, ok := e.(*sqlfront.ColRef); !ok {
			op.plain = false
		}
		index[key] = len(op.inputs)
		op.inputs = append(op.inputs, e)
		return len(op.inputs) - 1
	}
	nk := len(n.GroupBy)
	// aggOff is the output position of the first aggregate: after the keys
	// and, with a time window, window_start and window_end.
	aggOff := nk
	spec := window.Spec{Kind: kind}
	if n.Window != nil {
		spec.SizeMs, spec.SlideMs, spec.GapMs = n.Window.SizeMs, n.Window.SlideMs, n.Window.GapMs
		spec.StartName, spec.EndName = n.Out.Field(nk).Name, n.Out.Field(nk+1).Name
		aggOff = nk + 2
	}
	if n.Emit == sqlfront.EmitChanges {
		spec.Emit = window.EmitChanges
	}
	if settings.HasMaxOutOfOrderness {
		spec.MaxOutOfOrdernessMs = settings.MaxOutOfOrdernessMs
		if spec.MaxOutOfOrdernessMs == 0 {
			spec.MaxOutOfOrdernessMs = window.NoOutOfOrderness
		}
	}
	// The watermark comes from the source (eventTimeOp or the partition
	// router), not from the rows this operator receives.
	spec.ExternalWatermark = kind != window.None
	if settings.HasAllowedLateness {
		spec.AllowedLatenessMs = settings.AllowedLatenessMs
	}
	if settings.LateDataStrategy != "" {
		p, err := window.ParseLatePolicy(settings.LateDataStrategy)
		if err != nil {
			return nil, fmt.Errorf("exec: %w", err)
		}
		spec.Late = p
	}
	for i, g := range n.GroupBy {
		spec.Keys = append(spec.Keys, agg.KeySpec{Column: add(g), Name: n.Out.Field(i).Name})
	}
	if n.Window != nil {
		spec.TimeCol = add(&sqlfront.ColRef{Typed: sqlfront.Typed{Type: n.Window.TimeType, Null: true}, Index: n.Window.TimeCol, Name: n.Window.TimeName})
	}
	for i, c := range n.Aggs {
		f, ok := aggFuncs[c.Func]
		if !ok {
			return nil, fmt.Errorf("exec: aggregate %s is not supported", c.Func)
		}
		s := agg.AggSpec{Func: f, Distinct: c.Distinct, Name: n.Out.Field(aggOff + i).Name}
		if c.Arg != nil {
			s.Column = add(c.Arg)
		}
		spec.Aggs = append(spec.Aggs, s)
	}
	fields := make([]arrow.Field, len(op.inputs))
	for i, e := range op.inputs {
		name := e.String()
		if c, ok := e.(*sqlfront.ColRef); ok {
			name = c.Name
		}
		fields[i] = arrow.Field{Name: name, Type: e.DataType(), Nullable: true}
	}
	op.inSchema = arrow.NewSchema(fields, nil)
	w, err := window.NewTimeWindow(mem, op.inSchema, spec)
	if err != nil {
		return nil, fmt.Errorf("exec: %s: %w", what, err)
	}
	if err := checkOutTypes(w.Schema(), n.Out, what); err != nil {
		w.Release()
		return nil, err
	}
	op.w = w
	op.stats = w.Stats()
	return op, nil
}

// publish records the window's counters for WindowStats.
func (o *timeWindowOp) publish() {
	if o.w == nil {
		return
	}
	st := o.w.Stats()
	o.mu.Lock()
	o.stats = st
	o.mu.Unlock()
}

// windowStats returns the counters after the last call.
func (o *timeWindowOp) windowStats() window.Stats {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.stats
}

// checkOutTypes checks that an operator's output types are the plan's.
func checkOutTypes(got, want *arrow.Schema, what string) error {
	if got.NumFields() != want.NumFields() {
		return fmt.Errorf("exec: %s produces %d columns, plan expects %d", what, got.NumFields(), want.NumFields())
	}
	for i, f := range got.Fields() {
		if w := want.Field(i).Type; !arrow.TypeEqual(f.Type, w) {
			return fmt.Errorf("exec: %s column %q: operator produces %s, plan expects %s", what, want.Field(i).Name, f.Type, w)
		}
	}
	return nil
}

func (o *timeWindowOp) Push(ctx context.Context, b columnar.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	in, err := inputBatch(b, o.inputs, o.plain, o.inSchema, &o.keys)
	if err != nil {
		return err
	}
	defer in.Rec.Release()
	out, err := o.w.Push(in)
	o.publish()
	if err != nil {
		return fmt.Errorf("exec: %s: %w", o.what, err)
	}
	return pushRecords(ctx, out, o.node.Out, o.batchSize, o.next)
}

func (o *timeWindowOp) Finish(ctx context.Context) error {
	out, err := o.w.Finish()
	o.publish()
	if err != nil {
		return fmt.Errorf("exec: %s: %w", o.what, err)
	}
	if err := pushRecords(ctx, out, o.node.Out, o.batchSize, o.next); err != nil {
		return err
	}
	return o.next.Finish(ctx)
}

func (o *timeWindowOp) Close() {
	if o.w != nil {
		o.w.Release()
		o.w = nil
	}
	o.next.Close()
}

// pushRecords pushes recs (owned, released here) to next under schema, in
// slices of at most batchSize rows.
func pushRecords(ctx context.Context, recs []arrow.Record, schema *arrow.Schema, batchSize int, next Operator) error {
	defer func() {
		for _, r := range recs {
			if r != nil {
				r.Release()
			}
		}
	}()
	if batchSize <= 0 {
		batchSize = DefaultBatchSize
	}
	for i, r := range recs {
		out := columnar.MakeRecord(schema, r.Columns(), r.NumRows())
		r.Release()
		recs[i] = nil
		for lo := int64(0); lo < out.NumRows(); lo += int64(batchSize) {
			hi := min(lo+int64(batchSize), out.NumRows())
			s := out
			if lo > 0 || hi < out.NumRows() {
				s = out.NewSlice(lo, hi)
			} else {
				s.Retain()
			}
			err := next.Push(ctx, columnar.Batch{Rec: s})
			s.Release()
			if err != nil {
				out.Release()
				return err
			}
		}
		out.Release()
	}
	return nil
}

// rowsOp runs a Window node (analytic functions OVER (PARTITION BY …
// ORDER BY … ROWS …)) through window.Rows, bounded mode: batches are
// buffered, and at Finish every partition is processed in ORDER BY order
// and the batches are emitted in input order with the function columns
// attached. Consecutive calls with the same PARTITION BY and ORDER BY share
// one window.Rows; a call with another window starts the next stage, whose
// input is the previous stage's output.
type rowsOp struct {
	stages []*window.Rows
	pushed int // rows pushed
	// pre computes the input columns plus the extra columns of expression
	// keys and arguments (nil when there are none); the output drops the
	// extra columns, which follow the ncols input columns.
	pre       []sqlfront.BoundExpr
	preSchema *arrow.Schema
	ncols     int
	extra     int
	out       *arrow.Schema
	batchSize int
	next      Operator
}

var rowsFuncs = map[sqlfront.WindowFunc]window.Func{
	sqlfront.WindowFunc(sqlfront.AggSum): window.Sum, sqlfront.WindowFunc(sqlfront.AggAvg): window.Avg,
	sqlfront.WindowFunc(sqlfront.AggCount): window.Count, sqlfront.WindowFunc(sqlfront.AggCountStar): window.CountStar,
	sqlfront.WindowFunc(sqlfront.AggMin): window.Min, sqlfront.WindowFunc(sqlfront.AggMax): window.Max,
	sqlfront.WinLag: window.Lag, sqlfront.WinLead: window.Lead, sqlfront.WinRowNumber: window.RowNumber,
	sqlfront.WinRank: window.Rank, sqlfront.WinDenseRank: window.DenseRank,
	sqlfront.WinFirstValue: window.FirstValue, sqlfront.WinLastValue: window.LastValue,
}

// overKey identifies the window (PARTITION BY, ORDER BY) of a call.
func overKey(c sqlfront.WindowCall) string {
	s := ""
	for _, p := range c.PartitionBy {
		s += p.String() + ","
	}
	s += "|"
	for _, k := range c.OrderBy {
		s += k.String() + ","
	}
	return s
}

// overCols maps the PARTITION BY, ORDER BY and argument expressions of a
// Window to columns of the window stages' input: plain column references
// to the input's columns, other expressions to extra columns appended to
// the input (computed per batch, dropped from the output).
type overCols struct {
	ncols int
	extra []sqlfront.BoundExpr
	index map[string]int
}

func (m *overCols) col(e sqlfront.BoundExpr) int {
	if c, ok := e.(*sqlfront.ColRef); ok {
		return c.Index
	}
	key := e.String() + "|" + e.DataType().String()
	if i, ok := m.index[key]; ok {
		return i
	}
	m.index[key] = m.ncols + len(m.extra)
	m.extra = append(m.extra, e)
	return m.ncols + len(m.extra) - 1
}

func newRowsOp(mem memory.Allocator, n *sqlfront.Window, batchSize int, next Operator) (*rowsOp, error) {
	op := &rowsOp{out: n.Out, batchSize: batchSize, next: next}
	in := n.Input.Schema()
	ncols := in.NumFields()
	m := &overCols{ncols: ncols, index: map[string]int{}}
	for _, c := range n.Funcs {
		for _, p := range c.PartitionBy {
			m.col(p)
		}
		for _, k := range c.OrderBy {
			m.col(k.Expr)
		}
		if len(c.Args) > 0 {
			m.col(c.Args[0])
		}
	}
	if len(m.extra) > 0 {
		fields := append([]arrow.Field(nil), in.Fields()...)
		for i := range ncols {
			op.pre = append(op.pre, &sqlfront.ColRef{Typed: sqlfront.Typed{Type: fields[i].Type, Null: fields[i].Nullable}, Index: i, Name: fields[i].Name})
		}
		for i, e := range m.extra {
			fields = append(fields, arrow.Field{Name: fmt.Sprintf("$over%d", i), Type: e.DataType(), Nullable: true})
			op.pre = append(op.pre, e)
		}
		in = arrow.NewSchema(fields, nil)
		op.preSchema = in
		op.extra = len(m.extra)
	}
	for lo := 0; lo < len(n.Funcs); {
		hi := lo + 1
		for hi < len(n.Funcs) && overKey(n.Funcs[hi]) == overKey(n.Funcs[lo]) {
			hi++
		}
		first := n.Funcs[lo]
		spec := window.RowsSpec{OrderBy: -1}
		for _, p := range first.PartitionBy {
			spec.PartitionBy = append(spec.PartitionBy, m.col(p))
		}
		switch len(first.OrderBy) {
		case 0:
		case 1:
			k := first.OrderBy[0]
			i := m.col(k.Expr)
			if id := k.Expr.DataType().ID(); id != arrow.INT64 && id != arrow.TIMESTAMP {
				op.Close()
				return nil, fmt.Errorf("exec: OVER: ORDER BY %s has type %s; only int64 and timestamp order keys are supported yet", k.Expr.String(), k.Expr.DataType())
			}
			// window.Rows sorts NULL keys below every value: first
			// ascending, last descending.
			if k.Expr.Nullable() && k.NullsFirst == k.Desc {
				op.release()
				return nil, fmt.Errorf("exec: OVER: ORDER BY %s over a nullable column is not supported yet (NULLs sort first ascending and last descending: write NULLS FIRST with ASC, NULLS LAST with DESC)", k)
			}
			spec.OrderBy, spec.OrderDesc = i, k.Desc
		default:
			op.release()
			return nil, fmt.Errorf("exec: OVER: ORDER BY with %d keys is not supported yet (one int64 or timestamp column)", len(first.OrderBy))
		}
		for j := lo; j < hi; j++ {
			c := n.Funcs[j]
			call, err := rowsCall(c, n.Out.Field(ncols+j).Name, m)
			if err != nil {
				op.release()
				return nil, err
			}
			spec.Calls = append(spec.Calls, call)
		}
		r, err := window.NewRows(mem, in, spec)
		if err != nil {
			op.release()
			return nil, fmt.Errorf("exec: OVER: %w", err)
		}
		op.stages = append(op.stages, r)
		in = r.Schema()
		lo = hi
	}
	if op.extra > 0 {
		// The output drops the extra columns.
		fields := append([]arrow.Field(nil), in.Fields()[:ncols]...)
		in = arrow.NewSchema(append(fields, in.Fields()[ncols+op.extra:]...), nil)
		op.ncols = ncols
	}
	if err := checkOutTypes(in, n.Out, "OVER"); err != nil {
		op.release()
		return nil, err
	}
	return op, nil
}

// rowsCall converts one analytic call.
func rowsCall(c sqlfront.WindowCall, name string, m *overCols) (window.Call, error) {
	f, ok := rowsFuncs[c.Func]
	if !ok {
		return window.Call{}, fmt.Errorf("exec: OVER: function %s is not supported", c.Func)
	}
	call := window.Call{Func: f, Name: name, Offset: c.Offset}
	if len(c.Args) > 0 {
		call.Arg = m.col(c.Args[0])
	}
	if c.Default != nil {
		k, ok := c.Default.(*sqlfront.Const)
		if !ok {
			return call, fmt.Errorf("exec: OVER: %s: the default %s must be a constant", c.Func, c.Default.String())
		}
		call.Default = k.Value
	}
	switch f {
	case window.Lag, window.Lead, window.RowNumber, window.Rank, window.DenseRank:
		return call, nil // the frame does not apply
	}
	if c.Frame.End.Kind != sqlfront.CurrentRow {
		return call, fmt.Errorf("exec: OVER: %s: frame %s is not supported yet (frames end at CURRENT ROW; add ORDER BY for UNBOUNDED PRECEDING AND CURRENT ROW)", c.Func, c.Frame)
	}
	switch c.Frame.Start.Kind {
	case sqlfront.UnboundedPreceding:
		call.Preceding = window.UnboundedPreceding
	case sqlfront.Preceding:
		call.Preceding = c.Frame.Start.Offset
	case sqlfront.CurrentRow:
		call.Preceding = 0
	default:
		return call, fmt.Errorf("exec: OVER: %s: frame %s is not supported", c.Func, c.Frame)
	}
	return call, nil
}

func (o *rowsOp) Push(_ context.Context, b columnar.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	n := b.Len()
	if o.pre != nil {
		rec, err := project(b, o.pre, o.preSchema)
		if err != nil {
			return err
		}
		defer rec.Release()
		b = columnar.Batch{Rec: rec}
	}
	if _, err := o.stages[0].Push(b); err != nil {
		return fmt.Errorf("exec: OVER: %w", err)
	}
	o.pushed += n
	return nil
}

func (o *rowsOp) Finish(ctx context.Context) error {
	if o.pushed == 0 {
		// Nothing reached this partition: there is nothing to emit.
		return o.next.Finish(ctx)
	}
	var recs []arrow.Record
	for i, st := range o.stages {
		out, err := st.Finish()
		if err != nil {
			return fmt.Errorf("exec: OVER: %w", err)
		}
		recs = out
		if i+1 < len(o.stages) {
			for j, r := range recs {
				if err == nil {
					_, err = o.stages[i+1].Push(columnar.Batch{Rec: r})
				}
				r.Release()
				recs[j] = nil
			}
			if err != nil {
				return fmt.Errorf("exec: OVER: %w", err)
			}
		}
	}
	if o.extra > 0 {
		for j, r := range recs {
			cols := r.Columns()
			keep := append(append([]arrow.Array(nil), cols[:o.ncols]...), cols[o.ncols+o.extra:]...)
			recs[j] = columnar.MakeRecord(o.out, keep, r.NumRows())
			r.Release()
		}
	}
	if err := pushRecords(ctx, recs, o.out, o.batchSize, o.next); err != nil {
		return err
	}
	return o.next.Finish(ctx)
}

// release frees the window stages (not the next operator).
func (o *rowsOp) release() {
	for _, st := range o.stages {
		st.Release()
	}
	o.stages = nil
}

func (o *rowsOp) Close() {
	o.release()
	o.next.Close()
}

// eventTime is where a query's time window takes its watermark from: a
// column of the scanned record and the max out-of-orderness.
type eventTime struct {
	col  int    // index of the time column in the scanned record (Scan.Out)
	name string // its name
	// ooo is the max out-of-orderness in the column's units (0: none);
	// dur is the same as partition.Config.MaxOutOfOrderness takes it
	// (negative: none).
	ooo int64
	dur time.Duration
}

// queryEventTime resolves the event-time column of q's time window (nil
// when q has none) to a scanned column. The time-window aggregate sits on
// filters and projections over the scan (a plan has one aggregate, and
// OVER windows come above it).
func queryEventTime(q *sqlfront.Query, scan *sqlfront.Scan) (*eventTime, error) {
	var a *sqlfront.Aggregate
	for node := q.Root; node != sqlfront.Node(scan); {
		if n, ok := node.(*sqlfront.Aggregate); ok && n.Window != nil {
			a = n
			break
		}
		in := node.Inputs()
		if len(in) != 1 {
			return nil, fmt.Errorf("exec: plan node %T has %d inputs", node, len(in))
		}
		node = in[0]
	}
	if a == nil {
		return nil, nil
	}
	for node := a.Input; node != sqlfront.Node(scan); node = node.Inputs()[0] {
		switch node.(type) {
		case *sqlfront.Filter, *sqlfront.Project:
		default:
			return nil, fmt.Errorf("exec: time window %s: its input has a %T between it and the scan; only filters and projections are supported", a.Window, node)
		}
	}
	ref := &sqlfront.ColRef{Typed: sqlfront.Typed{Type: a.Window.TimeType, Null: true}, Index: a.Window.TimeCol, Name: a.Window.TimeName}
	names, err := scanKeys(scan, a.Input, []sqlfront.BoundExpr{ref}, "time column")
	if err != nil {
		return nil, fmt.Errorf("exec: time window %s: %w", a.Window, err)
	}
	et := &eventTime{col: scan.Out.FieldIndices(names[0])[0], name: names[0]}
	ms := int64(window.DefaultMaxOutOfOrdernessMs)
	if q.Settings.HasMaxOutOfOrderness {
		ms = q.Settings.MaxOutOfOrdernessMs
	}
	if ms <= 0 {
		et.dur = -1
		return et, nil
	}
	et.dur = time.Duration(ms) * time.Millisecond
	et.ooo = ms
	if ts, ok := scan.Out.Field(et.col).Type.(*arrow.TimestampType); ok {
		switch ts.Unit {
		case arrow.Second:
			et.ooo = ms / 1000
		case arrow.Microsecond:
			et.ooo = et.dur.Microseconds()
		case arrow.Nanosecond:
			et.ooo = et.dur.Nanoseconds()
		}
	}
	return et, nil
}

// chainWithEventTime is chain from q's root down to scan for a
// one-partition pipeline: with a time window, eventTimeOp heads it and
// generates the watermark from the scanned rows.
func chainWithEventTime(mem memory.Allocator, q *sqlfront.Query, scan *sqlfront.Scan, opts Options, next Operator) (Operator, error) {
	et, err := queryEventTime(q, scan)
	if err != nil {
		return nil, err
	}
	head, err := chain(mem, q.Root, scan, opts, next)
	if err != nil || et == nil {
		return head, err
	}
	return &eventTimeOp{col: et.col, name: et.name, ooo: et.ooo, maxEvent: math.MinInt64, wm: math.MinInt64,
		win: findTimeWindow(head), next: head}, nil
}

// eventTimeOp generates the watermark of a one-partition pipeline with a
// time window, exactly as partition.Source does for several partitions:
// after pushing each scanned record down the pipeline it raises the
// watermark to the largest event time seen (valid rows of every record,
// before any filter) minus the max out-of-orderness, when that is ahead
// of the current one, and forwards it (the window closes what it passed).
// Explicit watermarks pass through and count as the current one.
type eventTimeOp struct {
	col      int
	name     string
	ooo      int64
	maxEvent int64
	wm       int64
	win      *timeWindowOp // for its counters
	next     Operator
}

func (o *eventTimeOp) Push(ctx context.Context, b columnar.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	col := b.Rec.Column(o.col)
	ev, err := columnar.TimeValues(col)
	if err != nil {
		return fmt.Errorf("exec: event-time column %q: %w", o.name, err)
	}
	valid, off := columnar.Validity(col)
	recMax, _ := kernels.MaxInt64(ev[:b.Rec.NumRows()], valid, off, nil) // MinInt64 when none is valid
	newMax := max(o.maxEvent, recMax)
	if err := o.next.Push(ctx, b); err != nil {
		return err
	}
	if newMax <= o.maxEvent {
		return nil
	}
	o.maxEvent = newMax
	wm := newMax - o.ooo
	if newMax < math.MinInt64+o.ooo {
		wm = math.MinInt64
	}
	if wm <= o.wm {
		return nil
	}
	return o.Watermark(ctx, wm)
}

// Watermark implements Watermarker: an explicit watermark ahead of the
// generated one replaces it.
func (o *eventTimeOp) Watermark(ctx context.Context, wm int64) error {
	o.wm = max(o.wm, wm)
	err := forwardWatermark(ctx, o.next, wm)
	if o.win != nil {
		o.win.publish()
	}
	return err
}

func (o *eventTimeOp) Finish(ctx context.Context) error { return o.next.Finish(ctx) }
func (o *eventTimeOp) Close()                           { o.next.Close() }

// findTimeWindow returns the time-window operator a chain's head feeds
// through filters and projections, or nil.
func findTimeWindow(op Operator) *timeWindowOp {
	for {
		switch o := op.(type) {
		case *timeWindowOp:
			return o
		case *eventTimeOp:
			op = o.next
		case *filterOp:
			op = o.next
		case *projectOp:
			op = o.next
		default:
			return nil
		}
	}
}

// WindowStats returns the counters of the query's time window
// (window.Stats: rows, NULL event times, late rows by outcome, windows,
// output rows, current watermark), false when the query has none. It may
// be called after the run.
func (p *Pipeline) WindowStats() (window.Stats, bool) {
	if w := findTimeWindow(p.head); w != nil {
		return w.windowStats(), true
	}
	return window.Stats{}, false
}

// WindowStats returns the counters of the query's time window, as
// Pipeline.WindowStats.
func (s *Stream) WindowStats() (window.Stats, bool) { return s.p.WindowStats() }

// sumStats adds the counters of one partition's window to st: every count
// sums; the watermark is the lowest. Windows, Reopened and Open count
// each partition's windows, so under hash routing a window holding rows of
// several partitions counts once per partition (two-phase windows count
// each merged window once, in the partition that emits it, and windows
// routed by event-time window live in one partition, so these equal the
// one-partition run's too); the row counters (Rows, NullTime,
// LateRows, LateDropped, LateProcessed, OutputRows of EMIT FINAL) equal
// the one-partition run's.
func sumStats(st *window.Stats, o window.Stats, first bool) {
	st.Rows += o.Rows
	st.NullTime += o.NullTime
	st.LateRows += o.LateRows
	st.LateDropped += o.LateDropped
	st.LateProcessed += o.LateProcessed
	st.Windows += o.Windows
	st.Reopened += o.Reopened
	st.Merges += o.Merges
	st.OutputRows += o.OutputRows
	st.Open += o.Open
	if first || o.Watermark < st.Watermark {
		st.Watermark = o.Watermark
	}
}
