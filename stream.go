package velo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/velo-engine/velo/exec"
	"github.com/velo-engine/velo/sqlfront"
)

// ErrQueryClosed is returned (wrapped) by Push and Watermark after Close.
var ErrQueryClosed = errors.New("velo: query is closed")

// StartOption configures a continuous query (Engine.Start).
type StartOption func(*startConfig)

type startConfig struct {
	input *arrow.Schema
	name  string
}

// WithQueryName names the query: the name label of its metrics
// (Engine.Gatherer) and Query.Name. Without it the query's 'name' setting
// names it, if the SQL front end accepts one.
func WithQueryName(name string) StartOption {
	return func(c *startConfig) { c.name = name }
}

// WithInputSchema gives the schema of the records the query will be pushed,
// for a stream that is not a registered table: the query's FROM name then
// resolves to this schema (it takes precedence over a registered table of
// that name). Without it the FROM name must be a registered table, whose
// schema the pushed records must have; the table's data is not read.
func WithInputSchema(schema *arrow.Schema) StartOption {
	return func(c *startConfig) { c.input = schema }
}

// streamCatalog resolves every table name to the pushed input's schema.
type streamCatalog struct {
	catalog
	schema *arrow.Schema
}

func (c streamCatalog) Table(string) (*arrow.Schema, error) { return c.schema, nil }

// Query is a continuous query started by Engine.Start: the caller pushes
// input records and watermarks, and the query hands its result records to
// the sink as they are produced. Its methods are safe for concurrent use
// (they serialise). The sink is never called concurrently: on one
// partition it runs on the goroutine of the Push, Watermark or Close that
// produced the records, on several on the query's drain goroutine. The
// sink must not call the query's methods.
type Query struct {
	e      *Engine
	id     uint64
	name   string
	c      *queryCounters
	ctx    context.Context
	sink   func(arrow.Record) error
	input  *arrow.Schema
	schema *arrow.Schema

	mu     sync.Mutex
	s      *exec.Stream            // one partition
	ps     *exec.PartitionedStream // more than one
	err    error
	closed bool
}

// Start compiles sql as a continuous query over pushed input and returns
// it running. The query's FROM name is the input stream: a registered
// table gives its schema, or WithInputSchema does (see there).
//
// The sink receives every result record as soon as it is produced and
// takes ownership of it (it must Release it, also when it returns an
// error):
//   - stateless queries (filter/project): the selected rows of each pushed
//     record, during that Push;
//   - time windows with EMIT FINAL: each window when the watermark closes
//     it — the watermark is the maximum event time pushed minus the max
//     out-of-orderness (setting 'max_out_of_orderness', default 5 s), or an
//     explicit Query.Watermark when that is ahead — and the rest at Close;
//   - EMIT CHANGES (with or without a time window): the current row of
//     every (window, group) a pushed record changed, after that Push;
//   - a plain GROUP BY with EMIT FINAL (or no EMIT), DISTINCT or ORDER BY
//     above an aggregate, and OVER: at Close.
//
// The batch path (Execute) runs the same operators over a table to its
// end; a Start fed the table's records then closed gives the same rows.
// A LIMIT that is satisfied ends the query: later pushes are ignored.
//
// A failing sink or operator stops the query: the call that hit the error
// returns it and so do every later call, Close and Err.
//
// On one partition (the default) the query runs synchronously on the
// callers' goroutines and starts none: the results of a Push or Watermark
// reach the sink before it returns, and when ctx is cancelled the next
// call stops the query with ctx.Err(). With more than one (WithPartitions,
// or the query's 'partitions' setting) Start compiles the query as Execute
// does (exec.CompilePartitioned: same strategies, same results) and runs it
// through partition.Start: Push routes the record to the partition
// goroutines (blocking while they are busy, so memory stays bounded) and
// returns; results reach the sink later, from one drain goroutine, in the
// order the partitioned executor produces them (stateless queries keep the
// input order). Watermark goes to every partition. An error surfaces at a
// later Push, Watermark or Close. Cancelling ctx stops every goroutine of
// the query at once. In both modes Close must still be called: it releases
// the query and reports the first error.
//
// The query is one of the engine's live queries (Engine.Gatherer exports
// its metrics, Query.Metrics snapshots them) from Start until Close or the
// error that stops it.
func (e *Engine) Start(ctx context.Context, sql string, sink func(arrow.Record) error, opts ...StartOption) (*Query, error) {
	if sink == nil {
		return nil, errors.New("velo: Start: nil sink")
	}
	var cfg startConfig
	for _, o := range opts {
		o(&cfg)
	}
	var cat sqlfront.Catalog = catalog{e}
	if cfg.input != nil {
		cat = streamCatalog{catalog: catalog{e}, schema: cfg.input}
	}
	q, err := sqlfront.Plan(sql, cat)
	if err != nil {
		return nil, err
	}
	if q.ExplainOnly {
		return nil, errors.New("velo: Start: EXPLAIN is not a continuous query (use Explain or Execute)")
	}
	eopts := exec.Options{BatchSize: e.batchSize, Partitions: e.partitions}
	n := e.partitions
	if q.Settings.Partitions > 0 {
		n = q.Settings.Partitions
	}
	name := cfg.name
	if name == "" {
		name = settingName(q)
	}
	if n > 1 {
		p, err := exec.CompilePartitioned(e.mem, q, eopts)
		if err != nil {
			return nil, err
		}
		query := &Query{e: e, name: name, c: newQueryCounters(), ctx: ctx, sink: sink}
		ps, err := p.Stream(ctx, query.callSink)
		if err != nil {
			return nil, err
		}
		query.ps, query.input, query.schema = ps, ps.InputSchema(), ps.Schema()
		query.register()
		return query, nil
	}
	if q.Settings.PartitioningStrategy != "" {
		if _, err := exec.PlanPartitions(q, eopts); err != nil {
			return nil, err
		}
	}
	s, err := exec.CompileStream(e.mem, q, eopts)
	if err != nil {
		return nil, err
	}
	query := &Query{e: e, name: name, c: newQueryCounters(), ctx: ctx, sink: sink, input: s.InputSchema(), schema: s.Schema(), s: s}
	query.register()
	return query, nil
}

// register adds the query to the engine's live queries (Engine.Gatherer).
func (q *Query) register() {
	q.id = q.e.queries.add(&runningQuery{name: q.name, continuous: true, c: q.c, metrics: q.Metrics, window: q.windowSource()})
}

// Schema returns the schema of the result records.
func (q *Query) Schema() *arrow.Schema { return q.schema }

// InputSchema returns the schema pushed records must have.
func (q *Query) InputSchema() *arrow.Schema { return q.input }

// Table returns the name of the stream the query reads: its FROM name as
// the SQL wrote it.
func (q *Query) Table() string { return q.table() }

// Push runs rec through the query; the caller keeps its reference (the
// query retains or copies what it keeps). rec must have the input schema:
// the same column names and types in the same order (nullability and
// metadata are not compared); a mismatch is an error naming the column
// that does not stop the query. On one partition the results produced by
// this record reach the sink before Push returns (see Start for several);
// a sink or operator error stops the query and is returned.
func (q *Query) Push(rec arrow.Record) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.check(); err != nil {
		return err
	}
	if err := checkInput(q.table(), q.input, rec); err != nil {
		return err
	}
	if rec.NumRows() > 0 {
		q.c.countIn(rec.NumRows())
	}
	if q.ps != nil {
		return q.fail(q.ps.Push(rec))
	}
	return q.run(func() error { return q.s.Push(q.ctx, rec) })
}

// Watermark tells the query that no row with an event time below ts is
// expected any more (in the time column's units: milliseconds for an
// int64 time column such as market_data's trade_time). Time windows that
// ts passes (window end + allowed lateness ≤ ts) close and, with EMIT
// FINAL, reach the sink (on one partition before Watermark returns). A watermark not ahead of
// the current one changes nothing; queries without a time window ignore
// it.
func (q *Query) Watermark(ts int64) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := q.check(); err != nil {
		return err
	}
	if q.ps != nil {
		return q.fail(q.ps.Watermark(ts))
	}
	q.c.noteWatermark(ts)
	return q.run(func() error { return q.s.Watermark(q.ctx, ts) })
}

// Close ends the input (watermark +∞): every open window closes, the
// blocking operators emit, the sink receives the rest, and the query's
// resources are released. It returns the query's first error (nil when it
// ran cleanly). Calling it again returns the same.
func (q *Query) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return q.err
	}
	defer q.e.queries.remove(q.id)
	if q.ps != nil {
		q.closed = true
		if err := q.ps.Close(); q.err == nil {
			q.err = err
		}
		return q.err
	}
	if q.err == nil {
		if err := q.ctx.Err(); err != nil {
			q.err = err
		} else {
			_ = q.run(func() error { return q.s.Finish(q.ctx) })
		}
	}
	q.closed = true
	q.c.watermark.Store(math.MaxInt64)
	q.s.Close()
	return q.err
}

// Err returns the error that stopped the query, or nil. On several
// partitions an error of the partition goroutines or the sink shows here
// once a Push, Watermark or Close has run into it.
func (q *Query) Err() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

// check returns why the query cannot take input: closed, failed, or the
// context is done (which stops it).
func (q *Query) check() error {
	if q.closed {
		if q.err != nil {
			return q.err
		}
		return ErrQueryClosed
	}
	if q.err != nil {
		return q.err
	}
	if err := q.ctx.Err(); err != nil {
		q.err = err
		q.release()
		return err
	}
	return nil
}

// table returns the input stream's name.
func (q *Query) table() string {
	if q.ps != nil {
		return q.ps.Table()
	}
	return q.s.Table()
}

// release stops the pipeline after an error (Close still reports it).
func (q *Query) release() {
	q.e.queries.remove(q.id)
	if q.ps != nil {
		_ = q.ps.Close()
		return
	}
	q.s.Close()
}

// fail records err (nil: nothing) as the query's error and stops it.
func (q *Query) fail(err error) error {
	if err != nil {
		q.err = err
		q.release()
	}
	return err
}

// run runs one step of the pipeline and hands its output to the sink; an
// error stops the query.
func (q *Query) run(step func() error) error {
	err := step()
	if err == nil {
		err = q.drain()
	}
	return q.fail(err)
}

// drain passes the produced records to the sink.
func (q *Query) drain() error {
	for rec := q.s.Next(); rec != nil; rec = q.s.Next() {
		if err := q.callSink(rec); err != nil {
			return err
		}
	}
	return nil
}

func (q *Query) callSink(rec arrow.Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("velo: sink panicked: %v", p)
		}
	}()
	q.c.countOut(rec.NumRows())
	if err := q.sink(rec); err != nil {
		return fmt.Errorf("velo: sink: %w", err)
	}
	return nil
}

// checkInput checks a pushed record against the input schema.
func checkInput(table string, want *arrow.Schema, rec arrow.Record) error {
	got := rec.Schema()
	if got.NumFields() != want.NumFields() {
		return fmt.Errorf("velo: push to %q: record has %d columns, input schema has %d", table, got.NumFields(), want.NumFields())
	}
	for i, f := range want.Fields() {
		g := got.Field(i)
		if g.Name != f.Name {
			return fmt.Errorf("velo: push to %q: column %d is %q, input schema has %q", table, i, g.Name, f.Name)
		}
		if !arrow.TypeEqual(g.Type, f.Type) {
			return fmt.Errorf("velo: push to %q: column %q has type %s, input schema has %s", table, f.Name, g.Type, f.Type)
		}
	}
	return nil
}
