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
// run yet (OVER windows, time windows) are errors, never panics.
func Compile(mem memory.Allocator, q *sqlfront.Query, opts Options) (*Pipeline, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	sink := &Sink{mem: mem, schema: q.Root.Schema()}
	p := &Pipeline{mem: mem, sink: sink}
	var next Operator = sink
	node := q.Root
	// topN is the row count a LIMIT above needs from a sort below it
	// (through projections only); -1 when unbounded.
	topN := int64(-1)
	for {
		if _, ok := node.(*sqlfront.Project); !ok {
			if _, ok := node.(*sqlfront.Limit); !ok {
				if _, ok := node.(*sqlfront.Sort); !ok {
					topN = -1
				}
			}
		}
		switch n := node.(type) {
		case *sqlfront.Scan:
			p.scan = n
			p.head = next
			return p, nil
		case *sqlfront.Filter:
			next = &filterOp{mem: mem, cond: n.Cond, next: next}
		case *sqlfront.Project:
			next = &projectOp{mem: mem, exprs: n.Exprs, out: n.Out, next: next}
		case *sqlfront.Aggregate:
			op, err := newAggregateOp(mem, n, opts.BatchSize, next)
			if err != nil {
				return nil, err
			}
			next = op
		case *sqlfront.Window:
			return nil, errors.New("exec: OVER (analytic window) functions are not supported yet: they arrive with the window operator (issue 6)")
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
	s := r.p.scan
	if in.NumRows() == 0 {
		return nil
	}
	if int(in.NumCols()) != s.TableSchema.NumFields() {
		return fmt.Errorf("exec: table %q: batch has %d columns, schema has %d", s.Table, in.NumCols(), s.TableSchema.NumFields())
	}
	r.cols = r.cols[:0]
	for i, c := range s.Columns {
		a := in.Column(c)
		if want := s.Out.Field(i).Type; !arrow.TypeEqual(a.DataType(), want) {
			return fmt.Errorf("exec: table %q column %q: batch has type %s, schema has %s", s.Table, s.Out.Field(i).Name, a.DataType(), want)
		}
		r.cols = append(r.cols, a)
	}
	rec := array.NewRecord(s.Out, r.cols, in.NumRows())
	defer rec.Release()
	return r.p.head.Push(r.ctx, columnar.Batch{Rec: rec})
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
