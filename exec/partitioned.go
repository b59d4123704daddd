package exec

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/agg"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/partition"
	"github.com/velo-engine/velo/sqlfront"
	"github.com/velo-engine/velo/window"
)

// PartitionPlan describes how CompilePartitioned runs a query.
type PartitionPlan struct {
	// Partitions is the partition count.
	Partitions int
	// Strategy is the routing strategy: chosen by the planner, or the
	// query's 'partitioning.strategy' setting.
	Strategy partition.Strategy
	// KeyColumns are the scanned columns Hash and Smart route by (the
	// GROUP BY keys).
	KeyColumns []string
	// TwoPhase is set when every partition computes a partial aggregate
	// that the final stage merges (global aggregates, GROUP BY keys that are
	// not plain input columns, round_robin/sticky under GROUP BY), or, for
	// a tumbling or sliding EMIT FINAL window (without keys, or under
	// round_robin/sticky), partial windows that a window.Merger completes.
	TwoPhase bool
	// Adaptive is set for a hash-routed GROUP BY, or keyed tumbling or
	// sliding EMIT FINAL window, that may run two-phase instead: a batch run
	// (Partitioned.Run) counts the groups of its first record (for a
	// window, its distinct (event time ÷ slide, keys)) and, when they are
	// few (at most one per adaptiveRowsPerGroup rows), deals batches to
	// partial aggregates merged at the end (for a window, partial windows
	// completed by a window.Merger) — routing and per-partition selections
	// would cost more than merging small tables. Continuous runs keep hash
	// routing.
	Adaptive bool
	// ByWindow is set for a tumbling window routed by its keys (EMIT FINAL
	// or CHANGES) or, without plain keys, fan_in (EMIT CHANGES, FIRST/LAST):
	// a batch run reads its first record and, when that lies
	// within a window or two and a window spans at most
	// maxRecordsPerWindow records, routes rows by event-time window
	// instead (partition.Window; each partition then owns whole windows,
	// does per row what one partition does, and merges nothing). It takes
	// precedence over Adaptive.
	ByWindow bool
	// Ordered is set for stateless partitioned stages: batches are dealt
	// to the partitions in rotation and the final stage restores the input
	// order, so results equal the single-partition run's.
	Ordered bool
}

// String renders the plan as "hash(symbol) × 4".
func (p PartitionPlan) String() string {
	s := p.Strategy.String()
	if len(p.KeyColumns) > 0 {
		s += "(" + strings.Join(p.KeyColumns, ", ") + ")"
	}
	if p.TwoPhase {
		s += " two-phase"
	}
	switch {
	case p.ByWindow && p.Adaptive:
		s += " (by window if windows span few records, else two-phase if few groups)"
	case p.ByWindow:
		s += " (by window if windows span few records)"
	case p.Adaptive:
		s += " (two-phase if few groups)"
	}
	return fmt.Sprintf("%s × %d", s, p.Partitions)
}

// Partitioned is a query compiled for partitioned execution: a partitioned
// stage (filter → project → aggregate) compiled once per partition and run
// by the partition package, and a final stage (HAVING, projection,
// DISTINCT, ORDER BY, LIMIT) that runs on the merged output. Like Pipeline
// it runs once.
type Partitioned struct {
	mem   memory.Allocator
	scan  *sqlfront.Scan
	plan  PartitionPlan
	cfg   partition.Config
	pipes []*partPipe
	final Operator // head of the final stage, ending in out
	out   *streamSink
	used  atomic.Bool
	// capacitySet: the query or the options chose the channel capacity,
	// which routeByWindow then keeps.
	capacitySet bool
}

// CompilePartitioned compiles q for partitioned execution on
// opts.Partitions partitions (the query's 'partitions' setting overrides
// it). The planner picks the strategy — GROUP BY on plain input columns:
// hash on those columns (a batch Run switches to two-phase when its first
// record has few groups, PartitionPlan.Adaptive); global aggregates and expression keys: two-phase
// (round_robin, merged partials), or fan_in when an aggregate depends on
// arrival order (FIRST, LAST) or emits changes (EMIT CHANGES); stateless: round_robin with the input order
// restored — unless the query sets 'partitioning.strategy', which is
// honoured when valid and an error that says why otherwise. A time window
// runs hash on its plain GROUP BY keys (without keys: two-phase for a
// tumbling or sliding EMIT FINAL window, else fan_in; in both hash and
// fan_in, a batch Run of a tumbling window routes by event-time window
// instead when its first record shows windows spanning few records,
// PartitionPlan.ByWindow): the router
// generates the event-time watermark from every routed row and broadcasts
// it, so every partition closes windows and judges late rows exactly as
// the one-partition run does (see timeWindowOp). Plans Compile cannot run
// are errors here too.
func CompilePartitioned(mem memory.Allocator, q *sqlfront.Query, opts Options) (*Partitioned, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	opts.settings = q.Settings
	st, err := planStages(q, opts)
	if err != nil {
		return nil, err
	}
	n, nodes, split, scan, aggNode, plan := st.plan.Partitions, st.nodes, st.split, st.scan, st.agg, st.plan
	stateful := aggNode != nil || st.over != nil
	capacity := opts.ChannelCapacity
	if q.Settings.ChannelCapacity > 0 {
		capacity = q.Settings.ChannelCapacity
	}
	p := &Partitioned{mem: mem, scan: scan, plan: plan, capacitySet: capacity > 0}
	p.cfg = partition.Config{
		Partitions:      n,
		Strategy:        plan.Strategy,
		KeyColumns:      plan.KeyColumns,
		Stateful:        stateful,
		TwoPhase:        plan.TwoPhase,
		ChannelCapacity: capacity,
		IdleTimeout:     -1,
		Allocator:       mem,
	}
	windowedStage := aggNode != nil && aggNode.Window != nil
	switch {
	case plan.TwoPhase && windowedStage:
		// Two-phase windows: the query's one source deals whole records
		// in rotation, so the watermark it generates from every record is
		// the one every partition follows (see Partial below).
		p.cfg.Strategy = partition.RoundRobin
	case plan.Ordered || plan.TwoPhase:
		// The engine deals batches itself, one source per partition.
		p.cfg.Strategy = partition.Sticky
	}
	// A time window's watermark is generated by the router from every
	// routed row and broadcast to every partition (see timeWindowOp); the
	// window applies the late policy, so the router lets every row through.
	et, err := queryEventTime(q, scan)
	if err != nil {
		return nil, err
	}
	if et != nil {
		p.cfg.EventTimeColumn = et.name
		p.cfg.MaxOutOfOrderness = et.dur
		p.cfg.LatePolicy = partition.LateProcess
	}
	if err := partition.ValidateStrategy(p.cfg.Strategy, p.cfg.Stateful, p.cfg.TwoPhase); err != nil {
		return nil, err
	}
	p.out = &streamSink{schema: q.Root.Schema(), ch: make(chan arrow.Record, resultQueue)}
	p.final, err = chain(mem, q.Root, nodes[split], opts, p.out)
	if err != nil {
		return nil, err
	}
	stageOut := nodes[split].Schema()
	for i := range n {
		// Under fan_in only partition 0 receives rows; the others must not
		// emit (a global aggregate would emit its empty group).
		idle := plan.Strategy == partition.FanIn && i > 0
		pp := &partPipe{twoPhase: plan.TwoPhase && !windowedStage, idle: idle, col: &collector{mem: mem, schema: stageOut, ordered: plan.Ordered}}
		top := nodes[split]
		var next Operator = pp.col
		if aggNode != nil && aggNode.Window == nil && aggNode.Emit != sqlfront.EmitChanges {
			op, err := newAggregateOp(mem, aggNode, opts.BatchSize, next)
			if err != nil {
				p.closePipes()
				return nil, err
			}
			pp.agg, next, top = op, op, aggNode.Input
		}
		head, err := chain(mem, top, scan, opts, next)
		if err != nil {
			p.closePipes()
			return nil, err
		}
		pp.head = head
		pp.win = findTimeWindow(head)
		p.pipes = append(p.pipes, pp)
	}
	if plan.TwoPhase && windowedStage {
		if err := p.partialWindows(); err != nil {
			p.closePipes()
			return nil, err
		}
	}
	return p, nil
}

// partialWindows puts every partition's window in partial mode: each hands
// the windows it closes to one merger, and the partition that completes a
// window emits it merged.
func (p *Partitioned) partialWindows() error {
	m := window.NewMerger(len(p.pipes))
	for i, pp := range p.pipes {
		if err := pp.win.w.Partial(m, i); err != nil {
			return fmt.Errorf("exec: %s: %w", pp.win.what, err)
		}
	}
	return nil
}

// stages is a plan split into the partitioned and the final stage.
type stages struct {
	nodes []sqlfront.Node // nodes[0] is the root, the last the scan
	scan  *sqlfront.Scan
	split int                 // nodes[split] is the partitioned stage's top
	agg   *sqlfront.Aggregate // the partitioned stage's aggregate, or nil
	over  *sqlfront.Window    // the partitioned stage's OVER window, or nil
	plan  PartitionPlan
}

// PlanPartitions returns how CompilePartitioned would run q, without
// compiling it: an invalid 'partitioning.strategy' is the same error.
func PlanPartitions(q *sqlfront.Query, opts Options) (PartitionPlan, error) {
	st, err := planStages(q, opts)
	if err != nil {
		return PartitionPlan{}, err
	}
	return st.plan, nil
}

// planStages splits q's plan and chooses the strategy.
func planStages(q *sqlfront.Query, opts Options) (*stages, error) {
	n := max(opts.Partitions, 1)
	if q.Settings.Partitions > 0 {
		n = q.Settings.Partitions
	}
	// nodes[0] is the root, nodes[len-1] the scan.
	var nodes []sqlfront.Node
	for node := q.Root; ; {
		nodes = append(nodes, node)
		if _, ok := node.(*sqlfront.Scan); ok {
			break
		}
		in := node.Inputs()
		if len(in) != 1 {
			return nil, fmt.Errorf("exec: plan node %T has %d inputs", node, len(in))
		}
		node = in[0]
	}
	scan := nodes[len(nodes)-1].(*sqlfront.Scan)
	// The partitioned stage: filters and projections above the scan, up to
	// and including the first aggregate.
	split := len(nodes) - 1
	var aggNode *sqlfront.Aggregate
	var overNode *sqlfront.Window
	var overKeys []string
stage:
	for i := len(nodes) - 2; i >= 0; i-- {
		switch n := nodes[i].(type) {
		case *sqlfront.Filter, *sqlfront.Project:
			split = i
		case *sqlfront.Aggregate:
			split, aggNode = i, n
			break stage
		case *sqlfront.Window:
			// OVER with one PARTITION BY of plain columns runs per
			// partition, hash-routed on those columns (partitions of the
			// window are independent); otherwise in the final stage, on
			// the merged input in its original order.
			switch q.Settings.PartitioningStrategy {
			case "", "hash", "smart":
				if keys, err := overHashKeys(scan, n); err == nil {
					split, overNode, overKeys = i, n, keys
				}
			}
			break stage
		default:
			break stage
		}
	}
	var plan PartitionPlan
	if overNode != nil {
		plan = PartitionPlan{Partitions: n, Strategy: partition.Hash, KeyColumns: overKeys}
		if q.Settings.PartitioningStrategy == "smart" {
			plan.Strategy = partition.Smart
		}
	} else {
		var err error
		plan, err = choosePlan(q, scan, aggNode, n)
		if err != nil {
			return nil, err
		}
	}
	return &stages{nodes: nodes, scan: scan, split: split, agg: aggNode, over: overNode, plan: plan}, nil
}

// choosePlan picks the routing strategy (see CompilePartitioned).
func choosePlan(q *sqlfront.Query, scan *sqlfront.Scan, aggNode *sqlfront.Aggregate, n int) (PartitionPlan, error) {
	plan := PartitionPlan{Partitions: n}
	var keys []string
	keyErr := errors.New("the query has no GROUP BY")
	orderDependent := false
	if aggNode != nil {
		if len(aggNode.GroupBy) > 0 {
			keys, keyErr = hashKeys(scan, aggNode)
		}
		for _, c := range aggNode.Aggs {
			orderDependent = orderDependent || c.Func == sqlfront.AggFirst || c.Func == sqlfront.AggLast
		}
	}
	// Time windows of one group key are independent of other keys' (hash
	// on the keys; tumbling and sliding EMIT FINAL windows adaptively
	// two-phase, see PartitionPlan.Adaptive). Without plain keys, a
	// tumbling or sliding window with EMIT FINAL runs two-phase
	// (window.TimeWindow.Partial: whole batches dealt by the router, under
	// its one watermark, each window's partials merged as every partition
	// reaches its close); sessions,
	// EMIT CHANGES and FIRST/LAST have no partial form and run on one
	// partition. EMIT CHANGES without a window likewise: a partial's change
	// is not its group's current value, so without plain keys it runs
	// fan_in.
	windowed := aggNode != nil && aggNode.Window != nil
	changes := aggNode != nil && aggNode.Window == nil && aggNode.Emit == sqlfront.EmitChanges
	partialWindows := windowed && !orderDependent && aggNode.Emit != sqlfront.EmitChanges &&
		(aggNode.Window.Kind == sqlfront.Tumbling || aggNode.Window.Kind == sqlfront.Sliding)
	adaptive := !orderDependent && !windowed && !changes
	// Any tumbling window may run routed by event-time window (see
	// PartitionPlan.ByWindow), unless a setting chose the strategy.
	byWindow := windowed && aggNode.Window.Kind == sqlfront.Tumbling && n > 1
	orderDependent = orderDependent || windowed || changes
	name := q.Settings.PartitioningStrategy
	if name == "" {
		switch {
		case aggNode == nil:
			plan.Strategy, plan.Ordered = partition.RoundRobin, true
		case keyErr == nil:
			plan.Strategy, plan.KeyColumns = partition.Hash, keys
			plan.Adaptive = (adaptive || partialWindows) && n > 1
			plan.ByWindow = byWindow
		case partialWindows:
			plan.Strategy, plan.TwoPhase = partition.RoundRobin, true
		case orderDependent:
			// Without plain keys, EMIT CHANGES or FIRST/LAST: routed by
			// window each window is still whole in one partition, in
			// arrival order.
			plan.Strategy, plan.ByWindow = partition.FanIn, byWindow
		default:
			plan.Strategy, plan.TwoPhase = partition.RoundRobin, true
		}
		return plan, nil
	}
	st, err := partition.ParseStrategy(name)
	if err != nil {
		return plan, fmt.Errorf("exec: %w", err)
	}
	plan.Strategy = st
	switch st {
	case partition.Hash, partition.Smart:
		if keyErr != nil {
			return plan, fmt.Errorf("exec: partitioning.strategy '%s' routes by the GROUP BY keys, but %v; omit the setting (the planner then runs the aggregation two-phase) or use 'fan_in'", st, keyErr)
		}
		plan.KeyColumns = keys
	case partition.Sticky, partition.RoundRobin:
		switch {
		case aggNode == nil:
			plan.Ordered = true
		case partialWindows:
			plan.TwoPhase = true
		case windowed:
			return plan, fmt.Errorf("exec: partitioning.strategy '%s' needs the aggregation to run two-phase (partial per partition, then merged), which only tumbling and sliding windows with EMIT FINAL and without FIRST/LAST support; use 'hash' on a GROUP BY column or 'fan_in'", st)
		case changes:
			return plan, fmt.Errorf("exec: partitioning.strategy '%s' needs the aggregation to run two-phase (partial per partition, then merged), which EMIT CHANGES does not support (a partial's change is not its group's current row); use 'hash' on a GROUP BY column or 'fan_in'", st)
		case orderDependent:
			return plan, fmt.Errorf("exec: partitioning.strategy '%s' needs the aggregation to run two-phase (partial per partition, then merged), but FIRST/LAST depend on arrival order across partitions; use 'hash' on a GROUP BY column or 'fan_in'", st)
		default:
			plan.TwoPhase = true
		}
	case partition.FanIn:
	}
	return plan, nil
}

// hashKeys resolves the GROUP BY keys of a to scanned columns the router
// can hash: plain column references (through filters and projections of
// plain columns) of a hashable type with a unique name. The error says why
// a key does not qualify.
func hashKeys(scan *sqlfront.Scan, a *sqlfront.Aggregate) ([]string, error) {
	return scanKeys(scan, a.Input, a.GroupBy, "GROUP BY key")
}

// overHashKeys resolves the PARTITION BY keys of an OVER window to scanned
// columns as hashKeys does; every call must share one non-empty PARTITION
// BY.
func overHashKeys(scan *sqlfront.Scan, w *sqlfront.Window) ([]string, error) {
	if len(w.Funcs) == 0 || len(w.Funcs[0].PartitionBy) == 0 {
		return nil, errors.New("OVER without PARTITION BY")
	}
	first := partitionText(w.Funcs[0])
	for _, c := range w.Funcs[1:] {
		if partitionText(c) != first {
			return nil, errors.New("OVER windows with different PARTITION BY")
		}
	}
	return scanKeys(scan, w.Input, w.Funcs[0].PartitionBy, "PARTITION BY key")
}

// partitionText identifies a call's PARTITION BY.
func partitionText(c sqlfront.WindowCall) string {
	s := ""
	for _, p := range c.PartitionBy {
		s += p.String() + ","
	}
	return s
}

// scanKeys resolves key expressions over input (a chain of filters and
// projections above scan) to scanned column names the router can hash.
func scanKeys(scan *sqlfront.Scan, input sqlfront.Node, exprs []sqlfront.BoundExpr, what string) ([]string, error) {
	keys := make([]string, len(exprs))
	for i, g := range exprs {
		c, ok := g.(*sqlfront.ColRef)
		if !ok {
			return nil, fmt.Errorf("%s %s is an expression, not an input column", what, g.String())
		}
		idx := c.Index
		for node := input; node != sqlfront.Node(scan); node = node.Inputs()[0] {
			if pr, ok := node.(*sqlfront.Project); ok {
				inner, ok := pr.Exprs[idx].(*sqlfront.ColRef)
				if !ok {
					return nil, fmt.Errorf("%s %s is the expression %s, not an input column", what, g.String(), pr.Exprs[idx].String())
				}
				idx = inner.Index
			}
		}
		f := scan.Out.Field(idx)
		if len(scan.Out.FieldIndices(f.Name)) != 1 {
			return nil, fmt.Errorf("%s %q names several scanned columns", what, f.Name)
		}
		switch f.Type.ID() {
		case arrow.INT64, arrow.INT32, arrow.FLOAT64, arrow.TIMESTAMP, arrow.DATE64, arrow.DURATION, arrow.BOOL, arrow.STRING:
		default:
			return nil, fmt.Errorf("%s %q has type %s, which the router cannot hash", what, f.Name, f.Type)
		}
		keys[i] = f.Name
	}
	return keys, nil
}

// WindowStats returns the counters of the query's time window summed over
// the partitions (see sumStats for which equal the one-partition run's),
// false when the query has none. It is safe while the query runs (each
// partition's counters as of its last call) and after it.
func (p *Partitioned) WindowStats() (window.Stats, bool) {
	var st window.Stats
	found := false
	for _, pp := range p.pipes {
		if pp.win != nil {
			sumStats(&st, pp.win.windowStats(), !found)
			found = true
		}
	}
	return st, found
}

// WindowStats returns the counters of the query's time window summed over
// the partitions, as Partitioned.WindowStats.
func (s *PartitionedStream) WindowStats() (window.Stats, bool) { return s.p.WindowStats() }

// Plan returns how the query runs on partitions.
func (p *Partitioned) Plan() PartitionPlan {
	plan := p.plan
	plan.KeyColumns = append([]string(nil), plan.KeyColumns...)
	return plan
}

// Table returns the name of the table the query scans.
func (p *Partitioned) Table() string { return p.scan.Table }

// Schema returns the result schema.
func (p *Partitioned) Schema() *arrow.Schema { return p.out.schema }

// closePipes closes every partition pipeline (when the partition package
// never took them over).
func (p *Partitioned) closePipes() {
	for _, pp := range p.pipes {
		pp.Close()
	}
}

// resultQueue is the capacity, in records, of the channel between the
// final stage and the reader.
const resultQueue = 4

// errReleased stops a run whose reader was released.
var errReleased = errors.New("exec: result reader released")

// Run executes the query over src and returns its result. The first Next
// starts the run on a goroutine that routes src's batches to the
// partitions (blocking while they are busy) and feeds their merged output
// through the final stage; the reader yields the final stage's records as
// they come, through a small queue, so a slow reader blocks the run and
// memory stays bounded. An error or panic in any partition, or the
// cancellation of ctx, stops every goroutine and becomes the reader's Err;
// releasing the reader early stops the run. The reader takes over src
// (releasing it) and must be released by the caller. A Partitioned runs
// once; a second Run returns a reader whose Err says so.
func (p *Partitioned) Run(ctx context.Context, src array.RecordReader) array.RecordReader {
	r := &partReader{ctx: ctx, p: p, src: src, refs: 1}
	if !p.used.CompareAndSwap(false, true) {
		src.Release()
		r.src, r.closed, r.noop = nil, true, true
		r.err = errors.New("exec: a partitioned query runs once; compile it again")
	}
	return r
}

// streamSink ends the final stage: it hands each result record to the
// reader through a small channel, blocking while the reader is behind.
type streamSink struct {
	schema *arrow.Schema
	ch     chan arrow.Record
}

func (s *streamSink) Push(ctx context.Context, b columnar.Batch) error {
	rec, err := materialize(b, s.schema)
	if err != nil || rec == nil {
		return err
	}
	select {
	case s.ch <- rec:
		return nil
	case <-ctx.Done():
		rec.Release()
		return context.Cause(ctx)
	}
}

func (s *streamSink) Finish(context.Context) error { return nil }
func (s *streamSink) Close()                       {}

// partPipe is one partition's compiled stage; it implements
// partition.Pipeline.
type partPipe struct {
	head     Operator
	agg      *aggregateOp  // the stage's aggregate, nil when stateless
	win      *timeWindowOp // the stage's time window (or EMIT CHANGES GROUP BY), or nil
	col      *collector
	twoPhase bool
	idle     bool // fan_in: a partition that never receives rows
}

func (pp *partPipe) Push(ctx context.Context, b columnar.Batch, out partition.Emitter) error {
	pp.col.out = out
	if err := pp.head.Push(ctx, b); err != nil {
		return err
	}
	if pp.col.ordered {
		return pp.col.flush()
	}
	return nil
}

// Watermark forwards a watermark to the stage's operators (time windows
// close); the partition package calls it when the partition's watermark
// advances: the router's, generated from the event-time column of every
// routed row, or an explicit one.
func (pp *partPipe) Watermark(ctx context.Context, wm int64, out partition.Emitter) error {
	pp.col.out = out
	err := forwardWatermark(ctx, pp.head, wm)
	if pp.win != nil {
		pp.win.publish()
	}
	return err
}

func (pp *partPipe) Finish(ctx context.Context, out partition.Emitter) error {
	if pp.twoPhase || pp.idle {
		// The partial aggregate stays in pp.agg; the final stage merges it.
		return nil
	}
	pp.col.out = out
	return pp.head.Finish(ctx)
}

func (pp *partPipe) Close() { pp.head.Close() }

// collector ends a partition's stage: it materialises the stage's output
// and emits it. In ordered mode it emits exactly one record (possibly
// empty) per pushed batch, so the final stage can restore the input order.
type collector struct {
	mem     memory.Allocator
	schema  *arrow.Schema
	ordered bool
	out     partition.Emitter
	pending []arrow.Record
}

func (c *collector) Push(_ context.Context, b columnar.Batch) error {
	rec, err := materialize(b, c.schema)
	if err != nil || rec == nil {
		return err
	}
	if !c.ordered {
		return c.out.Emit(rec)
	}
	c.pending = append(c.pending, rec)
	return nil
}

// flush emits the records collected during one Push as one record.
func (c *collector) flush() error {
	var rec arrow.Record
	switch len(c.pending) {
	case 0:
		b := array.NewRecordBuilder(c.mem, c.schema)
		rec = b.NewRecord()
		b.Release()
	case 1:
		rec = c.pending[0]
	default:
		cols := make([]arrow.Array, c.schema.NumFields())
		rows := int64(0)
		for _, r := range c.pending {
			rows += r.NumRows()
		}
		var err error
		for i := range cols {
			parts := make([]arrow.Array, len(c.pending))
			for j, r := range c.pending {
				parts[j] = r.Column(i)
			}
			if cols[i], err = array.Concatenate(parts, c.mem); err != nil {
				break
			}
		}
		if err == nil {
			rec = columnar.MakeRecord(c.schema, cols, rows)
		}
		for _, a := range cols {
			if a != nil {
				a.Release()
			}
		}
		c.releasePending()
		if err != nil {
			return fmt.Errorf("exec: concatenating partition output: %w", err)
		}
	}
	c.pending = c.pending[:0]
	return c.out.Emit(rec)
}

func (c *collector) releasePending() {
	for i, r := range c.pending {
		r.Release()
		c.pending[i] = nil
	}
	c.pending = c.pending[:0]
}

func (c *collector) Finish(context.Context) error { return nil }
func (c *collector) Close()                       { c.releasePending() }

// partReader runs a Partitioned query on a goroutine and yields its
// result.
type partReader struct {
	ctx    context.Context
	p      *Partitioned
	src    array.RecordReader
	cols   []arrow.Array
	cur    arrow.Record
	err    error
	refs   int64
	noop   bool // a second Run: nothing to run or release
	closed bool // the partition pipelines are closed (or owned by a query)

	started  bool
	finished bool
	cancel   context.CancelCauseFunc         // stops the run
	runCtx   context.Context                 // the run's context (cancelled by cancel)
	qctx     context.Context                 // the partitioned query's context
	runErr   error                           // set by the run goroutine before it closes p.out.ch
	q        atomic.Pointer[partition.Query] // the running query, for Metrics

	// Ordered mode: per-partition output queues and the next batch index.
	queues [][]arrow.Record
	next   int
}

func (r *partReader) Schema() *arrow.Schema { return r.p.out.schema }
func (r *partReader) Record() arrow.Record  { return r.cur }
func (r *partReader) Err() error            { return r.err }

// Metrics returns a snapshot of the partitions' metrics; the zero Metrics
// before the partitions started.
func (r *partReader) Metrics() partition.Metrics {
	if q := r.q.Load(); q != nil {
		return q.Metrics()
	}
	return partition.Metrics{}
}
func (r *partReader) Retain() { atomic.AddInt64(&r.refs, 1) }

func (r *partReader) Release() {
	if atomic.AddInt64(&r.refs, -1) != 0 {
		return
	}
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.noop {
		return
	}
	if r.started {
		// Stop the run and wait for its goroutine, releasing what it
		// still delivers.
		r.cancel(errReleased)
		for rec := range r.p.out.ch {
			rec.Release()
		}
	} else {
		r.cleanup()
	}
	r.p.final.Close()
}

// cleanup releases the input and whatever the run left behind.
func (r *partReader) cleanup() {
	if r.src != nil {
		r.src.Release()
		r.src = nil
	}
	if !r.closed {
		r.closed = true
		r.p.closePipes()
	}
	for i, q := range r.queues {
		for _, rec := range q {
			rec.Release()
		}
		r.queues[i] = nil
	}
}

func (r *partReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.err != nil || r.finished {
		return false
	}
	if !r.started {
		r.started = true
		r.runCtx, r.cancel = context.WithCancelCause(r.ctx)
		go r.runAsync()
	}
	rec, ok := <-r.p.out.ch
	if ok {
		r.cur = rec
		return true
	}
	r.finished = true
	r.err = r.runErr
	return false
}

// runAsync is the run goroutine: it runs the query, releases what the run
// left behind and closes the result channel.
func (r *partReader) runAsync() {
	defer close(r.p.out.ch)
	defer r.cancel(nil)
	r.runErr = safely(r.run)
	r.cleanup()
}

// run executes the partitioned stage and the final stage.
func (r *partReader) run() error {
	p := r.p
	n := p.plan.Partitions
	ctx, cancel := context.WithCancelCause(r.runCtx)
	defer cancel(nil)
	r.qctx = ctx
	if p.plan.Ordered {
		r.queues = make([][]arrow.Record, n)
	}
	// An adaptive plan reads the first non-empty record to choose between
	// hash routing and two-phase; it is pushed first below.
	var first arrow.Record
	if p.plan.Adaptive || p.plan.ByWindow {
		for first == nil && r.src.Next() {
			if in := r.src.Record(); in.NumRows() > 0 {
				var err error
				if first, r.cols, err = scanRecord(p.scan, in, r.cols); err != nil {
					return err
				}
			}
		}
		var slide int64
		if p.windowed() {
			slide = p.pipes[0].win.w.Slide()
		}
		switch {
		case first == nil:
		case p.plan.ByWindow && p.routeByWindow(first, slide):
		case p.plan.Adaptive && fewGroups(p.mem, first, p.cfg.KeyColumns, p.cfg.EventTimeColumn, slide):
			if err := p.twoPhase(); err != nil {
				first.Release()
				return err
			}
		}
	}
	defer func() {
		if first != nil {
			first.Release()
		}
	}()
	q, err := partition.Start(ctx, p.cfg, func(i int) (partition.Pipeline, error) { return p.pipes[i], nil }, r.sink)
	if err != nil {
		return fmt.Errorf("exec: start partitions: %w", err)
	}
	r.q.Store(q)
	r.closed = true // the query closes every pipeline
	var sources []*partition.Source
	if p.plan.Ordered || p.cfg.Strategy == partition.Sticky {
		for i := range n {
			s, err := q.NewSource(partition.SourceOptions{Partition: i, HasPartition: true})
			if err != nil {
				cancel(err)
				_ = q.Wait()
				return err
			}
			sources = append(sources, s)
		}
	}
	var perr error
	for k := 0; perr == nil; {
		rec := first
		first = nil
		if rec == nil {
			if !r.src.Next() {
				break
			}
			if err := ctx.Err(); err != nil {
				perr = context.Cause(ctx)
				break
			}
			in := r.src.Record()
			if in.NumRows() == 0 {
				continue
			}
			if rec, r.cols, perr = scanRecord(p.scan, in, r.cols); perr != nil {
				break
			}
		}
		if sources != nil {
			perr = sources[k%n].Push(rec)
		} else {
			perr = q.Push(rec)
		}
		rec.Release()
		k++
	}
	if perr == nil {
		if err := r.src.Err(); err != nil {
			perr = fmt.Errorf("exec: reading table %q: %w", p.scan.Table, err)
		}
	}
	r.src.Release()
	r.src = nil
	if perr != nil {
		cancel(perr)
		if werr := q.Wait(); werr != nil && !errors.Is(werr, context.Canceled) && !errors.Is(perr, werr) {
			perr = werr
		}
	} else {
		perr = q.Close()
	}
	if err := r.ctx.Err(); err != nil {
		return err
	}
	if errors.Is(perr, ErrStop) {
		return nil // a LIMIT in the final stage is satisfied
	}
	if perr != nil {
		return perr
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	if p.plan.TwoPhase && !p.windowed() {
		return r.mergePartials()
	}
	if err := p.final.Finish(ctx); err != nil && !errors.Is(err, ErrStop) {
		return err
	}
	return nil
}

// mergePartials merges every partition's partial aggregate into partition
// 0's and runs the final stage on the result.
func (r *partReader) mergePartials() error {
	base := r.p.pipes[0].agg
	parts := make([]*agg.Aggregator, 0, len(r.p.pipes)-1)
	for _, pp := range r.p.pipes[1:] {
		parts = append(parts, pp.agg.a)
	}
	for i, o := range parts {
		if err := base.a.Merge(o); err != nil {
			return fmt.Errorf("exec: aggregate: %w (merging the partial aggregate of partition %d)", err, i+1)
		}
	}
	base.next = r.p.final
	if err := base.Finish(r.qctx); err != nil && !errors.Is(err, ErrStop) {
		return err
	}
	return nil
}

// sink receives the partitions' merged output on the partition package's
// merge goroutine and feeds the final stage: in ordered mode in input
// order (batch k was processed by partition k mod N), else as it arrives.
func (r *partReader) sink(o partition.Output) error {
	if r.queues == nil {
		return r.feed(o.Rec)
	}
	r.queues[o.Partition] = append(r.queues[o.Partition], o.Rec)
	n := len(r.queues)
	for {
		q := r.queues[r.next%n]
		if len(q) == 0 {
			return nil
		}
		rec := q[0]
		q[0] = nil
		r.queues[r.next%n] = q[1:]
		r.next++
		if err := r.feed(rec); err != nil {
			return err
		}
	}
}

// feed pushes one partition output record into the final stage and
// releases it.
func (r *partReader) feed(rec arrow.Record) error {
	defer rec.Release()
	if rec.NumRows() == 0 {
		return nil
	}
	return safely(func() error { return r.p.final.Push(r.qctx, columnar.Batch{Rec: rec}) })
}

// adaptiveRowsPerGroup and adaptiveMinRows decide an adaptive plan (see
// PartitionPlan.Adaptive): two-phase when the first record has at least
// adaptiveMinRows rows and at most one group per adaptiveRowsPerGroup rows.
// market_data's first 8,192 rows hold well under 1,000 of its Zipf symbols
// (S2: two-phase) but about 7,900 distinct trader ids (S2h: hash, where
// each partition's half of the 100 k groups stays smaller in cache).
const (
	adaptiveRowsPerGroup = 8
	adaptiveMinRows      = 1024
)

// fewGroups reports whether rec's distinct values of the key columns are
// few enough for two-phase aggregation. With slide > 0 it counts a
// window's groups instead: distinct (event time ÷ slide, keys), timeCol
// naming the event-time column — a record spanning many windows has few
// rows per window and key, which two-phase would merge almost one by one.
func fewGroups(mem memory.Allocator, rec arrow.Record, keys []string, timeCol string, slide int64) bool {
	n := int(rec.NumRows())
	if n < adaptiveMinRows || len(keys) == 0 {
		return false
	}
	names := keys
	if slide > 0 {
		names = append([]string{timeCol}, keys...)
	}
	cols := make([]arrow.Array, len(names))
	types := make([]arrow.DataType, len(names))
	for i, k := range names {
		idx := rec.Schema().FieldIndices(k)
		if len(idx) != 1 {
			return false
		}
		cols[i] = rec.Column(idx[0])
		types[i] = cols[i].DataType()
	}
	if slide > 0 {
		buckets, err := slideBuckets(mem, cols[0], slide)
		if err != nil {
			return false
		}
		defer buckets.Release()
		cols[0], types[0] = buckets, buckets.DataType()
	}
	t, err := agg.NewKeyTable(types)
	if err != nil {
		return false
	}
	if _, err := t.Insert(cols, nil, make([]uint32, n)); err != nil {
		return false
	}
	return t.Len()*adaptiveRowsPerGroup <= n
}

// slideBuckets returns floor(t ÷ slide) for every event time t of col
// (NULL stays NULL).
func slideBuckets(mem memory.Allocator, col arrow.Array, slide int64) (arrow.Array, error) {
	ts, err := columnar.TimeValues(col)
	if err != nil {
		return nil, err
	}
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.Reserve(col.Len())
	for i, t := range ts[:col.Len()] {
		if col.IsNull(i) {
			b.AppendNull()
			continue
		}
		q := t / slide
		if t%slide != 0 && t < 0 {
			q--
		}
		b.UnsafeAppend(q)
	}
	return b.NewArray(), nil
}

// twoPhase switches an adaptive plan, before it runs, from hash routing to
// batches dealt to partial aggregates merged at the end: for a GROUP BY,
// in rotation by the engine and merged by the final stage; for a window,
// by the query's one source (round_robin, so the watermark it generates
// is the one every partition follows) to partial windows a
// window.Merger completes.
func (p *Partitioned) twoPhase() error {
	p.plan.Strategy, p.plan.TwoPhase, p.plan.Adaptive, p.plan.ByWindow, p.plan.KeyColumns = partition.RoundRobin, true, false, false, nil
	p.cfg.TwoPhase, p.cfg.KeyColumns = true, nil
	if p.windowed() {
		p.cfg.Strategy = partition.RoundRobin
		return p.partialWindows()
	}
	// The engine deals batches itself, one source per partition.
	p.cfg.Strategy = partition.Sticky
	for _, pp := range p.pipes {
		pp.twoPhase = true
	}
	return nil
}

// maxRecordsPerWindow bounds the records a window may span for routing by
// window (PartitionPlan.ByWindow): the router queues a window's records on
// its partition and moves on to the next window's partition, so the
// partitions work at once only while a window's records fit in a
// partition's input queue (whose capacity routeByWindow raises to that).
// market_data's 1-minute windows span about 7 records of 8,192 rows.
const maxRecordsPerWindow = 32

// routeByWindow switches a ByWindow plan to routing by event-time window
// when the first record rec, of a tumbling window of length size, lies
// within two windows and a window spans at most maxRecordsPerWindow
// records like it (size ÷ its time span), and reports whether it did.
func (p *Partitioned) routeByWindow(rec arrow.Record, size int64) bool {
	idx := rec.Schema().FieldIndices(p.cfg.EventTimeColumn)
	if size <= 0 || len(idx) != 1 || rec.NumRows() < adaptiveMinRows {
		return false
	}
	lo, hi, err := columnar.TimeBounds(rec.Column(idx[0]))
	if err != nil || lo > hi || columnar.FloorDiv(hi, size)-columnar.FloorDiv(lo, size) > 1 {
		return false // not a time column, no event times, or the record spans many windows
	}
	span := hi - lo + 1    // ≥ 1, at most two windows
	records := size / span // a window spans about this many records like rec
	if size%span != 0 {
		records++
	}
	if records > maxRecordsPerWindow {
		return false
	}
	p.plan.Strategy, p.plan.ByWindow, p.plan.Adaptive, p.plan.KeyColumns = partition.Window, false, false, nil
	p.cfg.Strategy, p.cfg.WindowSize, p.cfg.KeyColumns = partition.Window, size, nil
	for _, pp := range p.pipes {
		pp.idle = false // a fan_in plan's other partitions take windows now
	}
	if !p.capacitySet {
		// A partition's queue holds its own window's records and, for
		// every record routed anywhere, a watermark message: room for two
		// windows' worth keeps the router from waiting on one partition
		// while the other runs dry. The queued records are references to
		// the input's (up to 4 × maxRecordsPerWindow + 8 per partition,
		// against DefaultChannelCapacity under hash routing); the output
		// channel keeps the default.
		if p.cfg.OutputCapacity == 0 {
			p.cfg.OutputCapacity = partition.DefaultChannelCapacity
		}
		p.cfg.ChannelCapacity = max(4*int(records)+8, partition.DefaultChannelCapacity)
	}
	return true
}

// windowed reports whether the partitioned stage ends in a time window
// (rather than a GROUP BY aggregate).
func (p *Partitioned) windowed() bool {
	return len(p.pipes) > 0 && p.pipes[0].agg == nil && p.pipes[0].win != nil
}
