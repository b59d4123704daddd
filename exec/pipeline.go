package exec

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/sqlfront"
)

// DefaultBatchSize is the number of rows per output batch of the operators
// that materialise (aggregate, sort) when Options leave it unset.
const DefaultBatchSize = 8192

// Options configure a compiled pipeline.
type Options struct {
	// BatchSize bounds the rows of the batches that aggregate and sort emit.
	BatchSize int
	// Partitions is the partition count CompilePartitioned runs on when
	// the query has no 'partitions' setting (0: one). Compile ignores it.
	Partitions int
	// ChannelCapacity is each partition's input channel capacity in
	// batches when the query has no 'channel.capacity' setting (0: the
	// partition package's default). Compile ignores it.
	ChannelCapacity int

	// settings are the query's WITH settings (set by Compile and
	// CompilePartitioned), read by the time-window operator.
	settings sqlfront.Settings
}

// Pipeline is a compiled query: the chain of operators from the scan of
// one table to the sink. It runs on one goroutine.
type Pipeline struct {
	mem  memory.Allocator
	scan *sqlfront.Scan
	head Operator
	sink *Sink
}

// Compile builds the physical pipeline of a bound query. Plans it cannot
// run (see exec/window.go for what OVER and time windows support) are
// errors, never panics.
func Compile(mem memory.Allocator, q *sqlfront.Query, opts Options) (*Pipeline, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	opts.settings = q.Settings
	sink := &Sink{mem: mem, schema: q.Root.Schema()}
	p := &Pipeline{mem: mem, sink: sink}
	scan, err := scanOf(q.Root)
	if err != nil {
		return nil, err
	}
	p.scan = scan
	p.head, err = chainWithEventTime(mem, q, scan, opts, sink)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// scanOf returns the Scan at the bottom of a plan.
func scanOf(node sqlfront.Node) (*sqlfront.Scan, error) {
	for {
		if s, ok := node.(*sqlfront.Scan); ok {
			return s, nil
		}
		in := node.Inputs()
		if len(in) != 1 {
			return nil, fmt.Errorf("exec: plan node %T has %d inputs", node, len(in))
		}
		node = in[0]
	}
}

// chain builds the operators of the plan nodes from top down to stop
// (excluded; a node below top) in front of next, and returns the first.
// Plans it cannot run are errors.
func chain(mem memory.Allocator, top, stop sqlfront.Node, opts Options, next Operator) (Operator, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	node := top
	// topN is the row count a LIMIT above needs from a sort below it
	// (through projections only); -1 when unbounded.
	topN := int64(-1)
	for node != stop {
		if _, ok := node.(*sqlfront.Project); !ok {
			if _, ok := node.(*sqlfront.Limit); !ok {
				if _, ok := node.(*sqlfront.Sort); !ok {
					topN = -1
				}
			}
		}
		switch n := node.(type) {
		case *sqlfront.Filter:
			next = &filterOp{mem: mem, cond: n.Cond, next: next}
		case *sqlfront.Project:
			next = &projectOp{mem: mem, exprs: n.Exprs, out: n.Out, next: next}
		case *sqlfront.Aggregate:
			// A GROUP BY … EMIT CHANGES without a time window is the time
			// window operator's Kind None: it emits the touched groups'
			// current rows after every batch.
			if n.Window != nil || n.Emit == sqlfront.EmitChanges {
				op, err := newTimeWindowOp(mem, n, opts.settings, opts.BatchSize, next)
				if err != nil {
					return nil, err
				}
				next = op
				break
			}
			op, err := newAggregateOp(mem, n, opts.BatchSize, next)
			if err != nil {
				return nil, err
			}
			next = op
		case *sqlfront.Window:
			op, err := newRowsOp(mem, n, opts.BatchSize, next)
			if err != nil {
				return nil, err
			}
			next = op
		case *sqlfront.Distinct:
			next = &distinctOp{mem: mem, schema: n.Schema(), next: next}
		case *sqlfront.Sort:
			next = &sortOp{mem: mem, keys: n.Keys, schema: n.Schema(), batchSize: opts.BatchSize, next: next, limit: topN}
		case *sqlfront.Limit:
			next = &limitOp{mem: mem, count: n.Count, offset: n.Offset, next: next}
			if n.Count >= 0 && n.Count <= math.MaxInt64/2-n.Offset {
				topN = n.Count + n.Offset
			}
		default:
			return nil, fmt.Errorf("exec: plan node %T is not supported", node)
		}
		in := node.Inputs()
		if len(in) != 1 {
			return nil, fmt.Errorf("exec: plan node %T has %d inputs", node, len(in))
		}
		node = in[0]
	}
	return next, nil
}

// Table returns the name of the table the pipeline scans.
func (p *Pipeline) Table() string { return p.scan.Table }

// Schema returns the result schema.
func (p *Pipeline) Schema() *arrow.Schema { return p.sink.schema }

// Run executes the pipeline over src lazily: each Next of the returned
// reader pulls input batches until output is ready. It checks ctx between
// batches (the reader's Err then reports ctx.Err()) and stops reading src
// as soon as a LIMIT is satisfied. The reader takes over src (releasing it
// at the end) and must be released by the caller.
func (p *Pipeline) Run(ctx context.Context, src array.RecordReader) array.RecordReader {
	return &resultReader{ctx: ctx, p: p, src: src, refs: 1}
}

// resultReader drives a pipeline from its source.
type resultReader struct {
	ctx  context.Context
	p    *Pipeline
	src  array.RecordReader
	cur  arrow.Record
	err  error
	eof  bool
	refs int64
	cols []arrow.Array
}

func (r *resultReader) Schema() *arrow.Schema { return r.p.sink.schema }
func (r *resultReader) Record() arrow.Record  { return r.cur }
func (r *resultReader) Err() error            { return r.err }
func (r *resultReader) Retain()               { atomic.AddInt64(&r.refs, 1) }

func (r *resultReader) Release() {
	if atomic.AddInt64(&r.refs, -1) != 0 {
		return
	}
	r.close()
}

func (r *resultReader) close() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	r.p.head.Close()
	r.p.sink.Close()
	if r.src != nil {
		r.src.Release()
		r.src = nil
	}
}

func (r *resultReader) fail(err error) bool {
	r.err = err
	r.eof = true
	r.p.head.Close()
	if r.src != nil {
		r.src.Release()
		r.src = nil
	}
	return false
}

func (r *resultReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	for {
		if rec := r.p.sink.pop(); rec != nil {
			r.cur = rec
			return true
		}
		if r.eof || r.err != nil {
			return false
		}
		if err := r.ctx.Err(); err != nil {
			return r.fail(err)
		}
		if !r.src.Next() {
			if err := r.src.Err(); err != nil {
				return r.fail(fmt.Errorf("exec: reading table %q: %w", r.p.scan.Table, err))
			}
			r.src.Release()
			r.src = nil
			r.eof = true
			if err := safely(func() error { return r.p.head.Finish(r.ctx) }); err != nil && !errors.Is(err, ErrStop) {
				return r.fail(err)
			}
			continue
		}
		if err := safely(func() error { return r.push(r.src.Record()) }); err != nil {
			if errors.Is(err, ErrStop) {
				r.eof = true
				r.src.Release()
				r.src = nil
				continue
			}
			return r.fail(err)
		}
	}
}

// push projects a source record to the scanned columns and pushes it.
func (r *resultReader) push(in arrow.Record) error {
	if in.NumRows() == 0 {
		return nil
	}
	rec, cols, err := scanRecord(r.p.scan, in, r.cols)
	r.cols = cols
	if err != nil {
		return err
	}
	defer rec.Release()
	return r.p.head.Push(r.ctx, columnar.Batch{Rec: rec})
}

// scanRecord returns the scanned columns of a source record as a record of
// s.Out (zero-copy), checking the batch against the table's schema. cols is
// scratch space, returned for reuse.
func scanRecord(s *sqlfront.Scan, in arrow.Record, cols []arrow.Array) (arrow.Record, []arrow.Array, error) {
	if int(in.NumCols()) != s.TableSchema.NumFields() {
		return nil, cols, fmt.Errorf("exec: table %q: batch has %d columns, schema has %d", s.Table, in.NumCols(), s.TableSchema.NumFields())
	}
	cols = cols[:0]
	for i, c := range s.Columns {
		a := in.Column(c)
		if want := s.Out.Field(i).Type; !arrow.TypeEqual(a.DataType(), want) {
			return nil, cols, fmt.Errorf("exec: table %q column %q: batch has type %s, schema has %s", s.Table, s.Out.Field(i).Name, a.DataType(), want)
		}
		cols = append(cols, a)
	}
	return columnar.MakeRecord(s.Out, cols, in.NumRows()), cols, nil
}

// safely runs fn, turning a panic (a bug: the operators report bad data as
// errors) into an error, so a query never takes its caller down.
func safely(fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("exec: internal error: %v", p)
		}
	}()
	return fn()
}
