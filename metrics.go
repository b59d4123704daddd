package velo

import (
	"math"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/velo-engine/velo/partition"
	"github.com/velo-engine/velo/window"
)

// partitionMetricser is what the reader of a partitioned Execute implements
// to expose its partition.Query's per-partition metrics.
type partitionMetricser interface {
	Metrics() partition.Metrics
}

// queryCounters are what the engine itself counts of a query, for every
// execution mode: rows and batches in (pushed to a continuous query, read
// from the table by a batch query) and out (handed to the sink, returned by
// the reader). Updated with atomics: the sink of a partitioned Start runs
// on the query's drain goroutine, a partitioned Execute reads its table on
// its run goroutine.
type queryCounters struct {
	recordsIn, batchesIn   atomic.Int64
	recordsOut, batchesOut atomic.Int64
	watermark              atomic.Int64 // the highest explicit watermark (one-partition Start)
}

// newQueryCounters returns counters with no watermark seen yet.
func newQueryCounters() *queryCounters {
	c := &queryCounters{}
	c.watermark.Store(math.MinInt64)
	return c
}

func (c *queryCounters) countIn(rows int64) {
	c.recordsIn.Add(rows)
	c.batchesIn.Add(1)
}

func (c *queryCounters) countOut(rows int64) {
	c.recordsOut.Add(rows)
	c.batchesOut.Add(1)
}

// runningQuery is one entry of the engine's registry of live queries.
type runningQuery struct {
	id         uint64
	name       string
	continuous bool
	c          *queryCounters
	metrics    func() partition.Metrics // per-partition snapshot; nil when the executor exposes none
	window     windowStatser            // the time window's counters; nil for a query without one
}

// windowStatser is what exec's executors implement to report the
// counters of a query's time window (safe while the query runs).
type windowStatser interface {
	WindowStats() (window.Stats, bool)
}

// windowStats returns w's counters, false without a time window.
func windowStats(w windowStatser) (window.Stats, bool) {
	if w == nil {
		return window.Stats{}, false
	}
	return w.WindowStats()
}

// registry holds the engine's live queries, keyed by id.
type registry struct {
	next    atomic.Uint64
	mu      sync.Mutex
	running map[uint64]*runningQuery
}

// add registers a live query under a new id and returns it.
func (r *registry) add(q *runningQuery) uint64 {
	q.id = r.next.Add(1)
	r.mu.Lock()
	if r.running == nil {
		r.running = map[uint64]*runningQuery{}
	}
	r.running[q.id] = q
	r.mu.Unlock()
	return q.id
}

// remove forgets a finished query (a no-op when it is gone already).
func (r *registry) remove(id uint64) {
	r.mu.Lock()
	delete(r.running, id)
	r.mu.Unlock()
}

// snapshot returns the live queries ordered by id.
func (r *registry) snapshot() []*runningQuery {
	r.mu.Lock()
	qs := make([]*runningQuery, 0, len(r.running))
	for _, q := range r.running {
		qs = append(qs, q)
	}
	r.mu.Unlock()
	sort.Slice(qs, func(i, j int) bool { return qs[i].id < qs[j].id })
	return qs
}

// RunningQueries returns the number of live queries: continuous queries
// started and not yet closed, batch queries whose reader is neither
// exhausted nor released.
func (e *Engine) RunningQueries() int {
	e.queries.mu.Lock()
	defer e.queries.mu.Unlock()
	return len(e.queries.running)
}

// Gatherer returns a Prometheus gatherer (prometheus.Gatherer: serve it
// with promhttp.HandlerFor, merge it with a registry through
// prometheus.Gatherers) that exports every live query of the engine — each
// continuous query from Start until Close, each batch query from Execute
// until its reader is exhausted or released; finished queries disappear.
// Every metric carries query="<id>" (the query's id, unique per engine;
// Query.ID) and, when the query has a name (WithQueryName), name="<name>".
//
// Per query, what the engine counts itself in every execution mode:
//
//	velo_query_records_in_total   counter  rows pushed (Start) or read from the table (Execute)
//	velo_query_records_out_total  counter  result rows handed to the sink or returned by the reader
//	velo_query_batches_total      counter  records in and out, label direction="in"|"out"
//
// with label kind="continuous" or "batch"; for a query with a time window
// also velo_query_late_records_total, velo_query_dropped_records_total
// (late rows that went into no window) and velo_query_windows_open, summed
// over its partitions; plus velo_queries_running, the
// number of live queries (no query label). Per partition (label
// partition="<id>"), the families partition.Gatherer documents
// (velo_partition_records_in_total, velo_partition_queue_depth,
// velo_partition_batch_latency_seconds, …) from the query's Metrics
// snapshot — for a one-partition Start the snapshot Query.Metrics
// describes, for a partitioned one the partition.Query's (whose
// velo_late_records_total counts rows below the router's watermark; the
// time window's own late rows are velo_query_late_records_total). Each
// Gather reads one snapshot per query.
func (e *Engine) Gatherer() prometheus.Gatherer { return engineGatherer{e} }

type engineGatherer struct{ e *Engine }

// metricFamilies accumulates metric families by name.
type metricFamilies map[string]*dto.MetricFamily

func (fs metricFamilies) add(name, help string, typ dto.MetricType, m *dto.Metric) {
	f := fs[name]
	if f == nil {
		f = &dto.MetricFamily{Name: ptr(name), Help: ptr(help), Type: typ.Enum()}
		fs[name] = f
	}
	f.Metric = append(f.Metric, m)
}

func (fs metricFamilies) sorted() []*dto.MetricFamily {
	out := make([]*dto.MetricFamily, 0, len(fs))
	for _, f := range fs {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out
}

func ptr[T any](v T) *T { return &v }

// labelPairs returns base plus the name/value pairs in extra, sorted by
// name as the Prometheus data model wants.
func labelPairs(base []*dto.LabelPair, extra ...string) []*dto.LabelPair {
	ls := make([]*dto.LabelPair, 0, len(base)+len(extra)/2)
	ls = append(ls, base...)
	for i := 0; i+1 < len(extra); i += 2 {
		ls = append(ls, &dto.LabelPair{Name: ptr(extra[i]), Value: ptr(extra[i+1])})
	}
	sort.Slice(ls, func(i, j int) bool { return ls[i].GetName() < ls[j].GetName() })
	return ls
}

func counterMetric(labels []*dto.LabelPair, v int64) *dto.Metric {
	return &dto.Metric{Label: labels, Counter: &dto.Counter{Value: ptr(float64(v))}}
}

func gaugeMetric(labels []*dto.LabelPair, v float64) *dto.Metric {
	return &dto.Metric{Label: labels, Gauge: &dto.Gauge{Value: ptr(v)}}
}

// Gather implements prometheus.Gatherer.
func (g engineGatherer) Gather() ([]*dto.MetricFamily, error) {
	qs := g.e.queries.snapshot()
	fs := metricFamilies{}
	fs.add("velo_queries_running", "Live queries: continuous queries not closed, batch query readers not exhausted or released.",
		dto.MetricType_GAUGE, gaugeMetric(nil, float64(len(qs))))
	for _, q := range qs {
		base := labelPairs(nil, "query", strconv.FormatUint(q.id, 10))
		if q.name != "" {
			base = labelPairs(base, "name", q.name)
		}
		kind := "batch"
		if q.continuous {
			kind = "continuous"
		}
		withKind := labelPairs(base, "kind", kind)
		fs.add("velo_query_records_in_total", "Rows pushed to a continuous query or read from the table by a batch query.",
			dto.MetricType_COUNTER, counterMetric(withKind, q.c.recordsIn.Load()))
		fs.add("velo_query_records_out_total", "Result rows handed to the sink or returned by the reader.",
			dto.MetricType_COUNTER, counterMetric(withKind, q.c.recordsOut.Load()))
		const batchesHelp = "Records pushed or read (in) and result records produced (out)."
		fs.add("velo_query_batches_total", batchesHelp, dto.MetricType_COUNTER, counterMetric(labelPairs(withKind, "direction", "in"), q.c.batchesIn.Load()))
		fs.add("velo_query_batches_total", batchesHelp, dto.MetricType_COUNTER, counterMetric(labelPairs(withKind, "direction", "out"), q.c.batchesOut.Load()))
		if st, ok := windowStats(q.window); ok {
			fs.add("velo_query_late_records_total", "Rows that arrived after their time window closed.",
				dto.MetricType_COUNTER, counterMetric(withKind, st.LateRows))
			fs.add("velo_query_dropped_records_total", "Late rows that went into no window (dropped).",
				dto.MetricType_COUNTER, counterMetric(withKind, st.LateDropped))
			fs.add("velo_query_windows_open", "Time windows (sessions) currently holding state.",
				dto.MetricType_GAUGE, gaugeMetric(withKind, float64(st.Open)))
		}
		if q.metrics != nil {
			addPartitionFamilies(fs, q.metrics(), base)
		}
	}
	return fs.sorted(), nil
}

// addPartitionFamilies adds one metric per partition of m to the families
// partition.Gatherer exports, with the same names, types, help and labels
// (base plus partition="<id>").
func addPartitionFamilies(fs metricFamilies, m partition.Metrics, base []*dto.LabelPair) {
	for _, f := range m.Families(base) {
		for _, metric := range f.GetMetric() {
			fs.add(f.GetName(), f.GetHelp(), f.GetType(), metric)
		}
	}
}

// trackedReader is the reader Execute returns: it counts the result rows,
// exposes the executor's partition metrics, and removes the query from the
// engine's registry once it is exhausted or released.
type trackedReader struct {
	array.RecordReader
	e    *Engine
	q    *runningQuery
	refs atomic.Int64
	done atomic.Bool
}

// track registers a batch query whose input is src (already wrapped by
// countIn) and whose result reader is rdr.
func (e *Engine) track(rdr array.RecordReader, q *runningQuery) array.RecordReader {
	if pm, ok := rdr.(partitionMetricser); ok {
		q.metrics = pm.Metrics
	}
	e.queries.add(q)
	t := &trackedReader{RecordReader: rdr, e: e, q: q}
	t.refs.Store(1)
	return t
}

func (t *trackedReader) finish() {
	if t.done.CompareAndSwap(false, true) {
		t.e.queries.remove(t.q.id)
	}
}

// Next implements array.RecordReader.
func (t *trackedReader) Next() bool {
	if !t.RecordReader.Next() {
		t.finish()
		return false
	}
	t.q.c.countOut(t.RecordReader.Record().NumRows())
	return true
}

// Retain implements array.RecordReader.
func (t *trackedReader) Retain() {
	t.refs.Add(1)
	t.RecordReader.Retain()
}

// Release implements array.RecordReader.
func (t *trackedReader) Release() {
	if t.refs.Add(-1) == 0 {
		t.finish()
	}
	t.RecordReader.Release()
}

// Metrics returns the partition metrics of a partitioned Execute (see
// Query.Metrics), or the zero Metrics when its executor exposes none.
func (t *trackedReader) Metrics() partition.Metrics {
	if t.q.metrics != nil {
		return t.q.metrics()
	}
	return partition.Metrics{}
}

// countingReader counts the records a batch query reads from its table.
type countingReader struct {
	array.RecordReader
	c *queryCounters
}

// Next implements array.RecordReader.
func (r *countingReader) Next() bool {
	if !r.RecordReader.Next() {
		return false
	}
	r.c.countIn(r.RecordReader.Record().NumRows())
	return true
}

// Metrics returns a snapshot of the query's metrics as partition.Metrics.
//
// On several partitions it is the partition.Query's own snapshot (records
// in/out, batches, queue depth, utilisation, backpressure, batch latency,
// late and dropped rows, hot partitions, per partition).
//
// On one partition the query runs synchronously on the caller's
// goroutine, with no router and no channel; the snapshot has one
// partition (id 0) with what that mode counts truthfully: RecordsIn and
// BatchesIn (rows and non-empty records pushed, Invocations the same
// count), RecordsOut and BatchesOut (rows and records handed to the sink);
// with a time window LateRecords (rows that arrived after their window
// closed) and DroppedRecords (those of them that went into no window).
// Watermark is the time window's watermark or the highest explicit
// Watermark, whichever is ahead (math.MaxInt64 after Close, math.MinInt64
// before either). There is no queue (QueueDepth, QueueCapacity,
// Utilization zero, Backpressure Healthy) and no batch latency (Push
// returns once its results reached the sink).
func (q *Query) Metrics() partition.Metrics {
	if q.ps != nil {
		m := q.ps.Metrics()
		// A time window judges lateness in its operators, not in the
		// router: their counters (summed over the partitions) are the
		// query's late and dropped rows.
		if st, ok := q.ps.WindowStats(); ok {
			m.LateRecords, m.DroppedRecords = st.LateRows, st.LateDropped
		}
		return m
	}
	return onePartition(q.c, q.windowSource())
}

// onePartition returns the one-partition snapshot of what c counted and
// the time window w reports (see Query.Metrics).
func onePartition(c *queryCounters, w windowStatser) partition.Metrics {
	pm := partition.PartitionMetrics{
		RecordsIn:   c.recordsIn.Load(),
		BatchesIn:   c.batchesIn.Load(),
		RecordsOut:  c.recordsOut.Load(),
		BatchesOut:  c.batchesOut.Load(),
		Invocations: c.batchesIn.Load(),
		Watermark:   c.watermark.Load(),
	}
	if st, ok := windowStats(w); ok {
		pm.LateRecords, pm.DroppedRecords = st.LateRows, st.LateDropped
		pm.Watermark = max(pm.Watermark, st.Watermark)
	}
	return partition.Metrics{
		Partitions:     []partition.PartitionMetrics{pm},
		Watermark:      pm.Watermark,
		RecordsIn:      pm.RecordsIn,
		RecordsOut:     pm.RecordsOut,
		LateRecords:    pm.LateRecords,
		DroppedRecords: pm.DroppedRecords,
	}
}

// windowSource returns the executor, which reports its time window's
// counters.
func (q *Query) windowSource() windowStatser {
	if q.ps != nil {
		return q.ps
	}
	return q.s
}

// ID returns the query's id, unique among the engine's queries: the value
// of the query label on the engine's metrics (Engine.Gatherer).
func (q *Query) ID() uint64 { return q.id }

// Name returns the name given with WithQueryName ("" without one).
func (q *Query) Name() string { return q.name }

// noteWatermark records an explicit watermark (one partition).
func (c *queryCounters) noteWatermark(ts int64) {
	for {
		w := c.watermark.Load()
		if ts <= w || c.watermark.CompareAndSwap(w, ts) {
			return
		}
	}
}
