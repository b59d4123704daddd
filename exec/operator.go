package exec

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
	"github.com/velo-engine/velo/sqlfront"
)

// Operator is a push-based physical operator. The producer calls Push for
// each input batch and Finish once at the end of input; the operator pushes
// its output to the next operator.
//
// Ownership: a pushed batch (record and selection) is borrowed for the
// duration of the call. An operator that keeps data beyond Push copies or
// retains it; the selection vector must not be kept (producers reuse it).
// Close releases whatever the operator still holds; it is safe after an
// error and more than once.
type Operator interface {
	Push(ctx context.Context, b columnar.Batch) error
	Finish(ctx context.Context) error
	Close()
}

// ErrStop is returned by Push when an operator needs no more input (LIMIT
// reached). Producers stop reading and treat it as a clean end.
var ErrStop = errors.New("exec: no more input needed")

// filterOp keeps the rows where its condition is TRUE by narrowing the
// selection vector. It never copies the record.
type filterOp struct {
	mem  memory.Allocator
	cond sqlfront.BoundExpr
	next Operator

	bitmap []byte
	sel    []int32
	tmp    []int32
}

func (f *filterOp) Push(ctx context.Context, b columnar.Batch) error {
	sel, err := f.apply(f.cond, b.Rec, b.Sel)
	if err != nil {
		return err
	}
	if len(sel) == 0 {
		return nil
	}
	return f.next.Push(ctx, columnar.Batch{Rec: b.Rec, Sel: sel, Keys: b.Keys, Times: b.Times})
}

// apply returns the selection of rows of sel (nil: all) where cond is TRUE.
// The result may alias the operator's buffers.
func (f *filterOp) apply(cond sqlfront.BoundExpr, rec arrow.Record, sel []int32) ([]int32, error) {
	if bin, ok := cond.(*sqlfront.Binary); ok && bin.Op == sqlfront.OpAnd {
		left, err := f.apply(bin.L, rec, sel)
		if err != nil {
			return nil, err
		}
		if len(left) == 0 {
			return left, nil
		}
		// The right side reads the narrowed selection; copy it so the
		// buffers can be reused for the result.
		f.tmp = append(f.tmp[:0], left...)
		return f.apply(bin.R, rec, f.tmp)
	}
	if out, ok := f.fastCompare(cond, rec, sel); ok {
		return out, nil
	}
	v, err := evalExpr(cond, selRows(rec, sel))
	if err != nil {
		return nil, err
	}
	out := f.sel[:0]
	for i := 0; i < v.n; i++ {
		if !v.isNull(i) && v.b[i] {
			out = append(out, int32(rowOf(sel, i)))
		}
	}
	f.sel = out
	return out, nil
}

var kernelOps = map[sqlfront.BinaryOp]kernels.Op{sqlfront.OpEq: kernels.Eq, sqlfront.OpNe: kernels.Ne,
	sqlfront.OpLt: kernels.Lt, sqlfront.OpLe: kernels.Le, sqlfront.OpGt: kernels.Gt, sqlfront.OpGe: kernels.Ge}

// fastCompare runs column-op-constant and column-op-column comparisons of
// int64, timestamp, int32, float64 and float32 columns through the compare
// kernels: bitmap, AND validity, compress to the new selection.
func (f *filterOp) fastCompare(cond sqlfront.BoundExpr, rec arrow.Record, sel []int32) ([]int32, bool) {
	bin, ok := cond.(*sqlfront.Binary)
	if !ok || !bin.Op.IsComparison() {
		return nil, false
	}
	op := kernelOps[bin.Op]
	l, lok := bin.L.(*sqlfront.ColRef)
	r, rok := bin.R.(*sqlfront.ColRef)
	c, cok := bin.R.(*sqlfront.Const)
	if !lok {
		if cl, ok := bin.L.(*sqlfront.Const); ok && rok {
			l, c, cok, op = r, cl, true, op.Swap()
			rok = false
		} else {
			return nil, false
		}
	}
	if !(rok || (cok && c.Value != nil)) {
		return nil, false
	}
	la := rec.Column(l.Index)
	n := la.Len()
	if cap(f.bitmap) < kernels.BitmapBytes(n) {
		f.bitmap = make([]byte, kernels.BitmapBytes(n))
	}
	bm := f.bitmap[:kernels.BitmapBytes(n)]
	var ra arrow.Array
	if rok {
		ra = rec.Column(r.Index)
		if !arrow.TypeEqual(la.DataType(), ra.DataType()) {
			return nil, false
		}
	}
	switch la.DataType().ID() {
	case arrow.INT64, arrow.TIMESTAMP:
		a := int64View(la)
		switch {
		case rok && sel == nil:
			kernels.CompareInt64(bm, a, int64View(ra), op)
		case rok:
			kernels.CompareInt64Sel(bm, a, int64View(ra), op, sel)
		case sel == nil:
			s, ok := c.Value.(int64)
			if !ok {
				return nil, false
			}
			kernels.CompareInt64Scalar(bm, a, op, s)
		default:
			s, ok := c.Value.(int64)
			if !ok {
				return nil, false
			}
			kernels.CompareInt64ScalarSel(bm, a, op, s, sel)
		}
	case arrow.INT32:
		a := int32View(la)
		switch {
		case rok && sel == nil:
			kernels.CompareInt32(bm, a, int32View(ra), op)
		case rok:
			kernels.CompareInt32Sel(bm, a, int32View(ra), op, sel)
		default:
			s, ok := c.Value.(int32)
			if !ok {
				return nil, false
			}
			if sel == nil {
				kernels.CompareInt32Scalar(bm, a, op, s)
			} else {
				kernels.CompareInt32ScalarSel(bm, a, op, s, sel)
			}
		}
	case arrow.FLOAT64:
		a := la.(*array.Float64).Float64Values()
		switch {
		case rok && sel == nil:
			kernels.CompareFloat64(bm, a, ra.(*array.Float64).Float64Values(), op)
		case rok:
			kernels.CompareFloat64Sel(bm, a, ra.(*array.Float64).Float64Values(), op, sel)
		default:
			s, ok := c.Value.(float64)
			if !ok {
				return nil, false
			}
			if sel == nil {
				kernels.CompareFloat64Scalar(bm, a, op, s)
			} else {
				kernels.CompareFloat64ScalarSel(bm, a, op, s, sel)
			}
		}
	case arrow.FLOAT32:
		a := la.(*array.Float32).Float32Values()
		switch {
		case rok && sel == nil:
			kernels.CompareFloat32(bm, a, ra.(*array.Float32).Float32Values(), op)
		case rok:
			kernels.CompareFloat32Sel(bm, a, ra.(*array.Float32).Float32Values(), op, sel)
		default:
			s, ok := c.Value.(float32)
			if !ok {
				return nil, false
			}
			if sel == nil {
				kernels.CompareFloat32Scalar(bm, a, op, s)
			} else {
				kernels.CompareFloat32ScalarSel(bm, a, op, s, sel)
			}
		}
	default:
		return nil, false
	}
	f.andValidity(bm, la, n)
	if ra != nil {
		f.andValidity(bm, ra, n)
	}
	if cap(f.sel) < n {
		f.sel = make([]int32, n)
	}
	out := f.sel[:n]
	k := kernels.Compress(out, bm, n)
	return out[:k], true
}

func (f *filterOp) andValidity(bm []byte, a arrow.Array, n int) {
	bits, off := columnar.Validity(a)
	if bits == nil {
		return
	}
	v := make([]byte, kernels.BitmapBytes(n))
	kernels.CopyBitmap(v, bits, off, n)
	kernels.And(bm, bm, v, n)
}

func (f *filterOp) Finish(ctx context.Context) error { return f.next.Finish(ctx) }
func (f *filterOp) Close()                           { f.next.Close() }

// projectOp computes one output column per expression. Plain column
// references of a batch without selection pass the input array through
// (zero-copy); with a selection they are gathered once here.
type projectOp struct {
	mem   memory.Allocator
	exprs []sqlfront.BoundExpr
	out   *arrow.Schema
	next  Operator
}

func (p *projectOp) Push(ctx context.Context, b columnar.Batch) error {
	rec, err := project(b, p.exprs, p.out)
	if err != nil {
		return err
	}
	defer rec.Release()
	return p.next.Push(ctx, columnar.Batch{Rec: rec})
}

// project evaluates exprs over the batch into a record with schema out.
func project(b columnar.Batch, exprs []sqlfront.BoundExpr, out *arrow.Schema) (arrow.Record, error) {
	cols := make([]arrow.Array, len(exprs))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	rs := selRows(b.Rec, b.Sel)
	rs.cols = make([]*vec, b.Rec.NumCols())
	for i, e := range exprs {
		if c, ok := e.(*sqlfront.ColRef); ok && b.Sel == nil && c.Index < int(b.Rec.NumCols()) {
			a := b.Rec.Column(c.Index)
			if arrow.TypeEqual(a.DataType(), out.Field(i).Type) {
				a.Retain()
				cols[i] = a
				continue
			}
		}
		v, err := evalExpr(e, rs)
		if err != nil {
			return nil, err
		}
		if v.n != rs.n {
			return nil, fmt.Errorf("exec: expression %s produced %d rows for %d", e.String(), v.n, rs.n)
		}
		if err := checkKind(v, out.Field(i).Type, e); err != nil {
			return nil, err
		}
		cols[i] = v.toArray(out.Field(i).Type)
	}
	return columnar.MakeRecord(out, cols, int64(rs.n)), nil
}

func (p *projectOp) Finish(ctx context.Context) error { return p.next.Finish(ctx) }
func (p *projectOp) Close()                           { p.next.Close() }

// limitOp skips offset rows and passes at most count (count < 0: all).
// Once count rows have passed it returns ErrStop so producers stop early.
type limitOp struct {
	mem    memory.Allocator
	count  int64
	offset int64
	next   Operator
}

func (l *limitOp) Push(ctx context.Context, b columnar.Batch) error {
	if l.count == 0 {
		return ErrStop
	}
	n := int64(b.Len())
	lo := int64(0)
	if l.offset > 0 {
		skip := min(l.offset, n)
		l.offset -= skip
		lo = skip
	}
	if lo == n {
		return nil
	}
	hi := n
	if l.count >= 0 && hi-lo > l.count {
		hi = lo + l.count
	}
	s := b.Slice(int(lo), int(hi))
	defer s.Release()
	if l.count >= 0 {
		l.count -= hi - lo
	}
	if err := l.next.Push(ctx, s); err != nil {
		return err
	}
	if l.count == 0 {
		return ErrStop
	}
	return nil
}

func (l *limitOp) Finish(ctx context.Context) error { return l.next.Finish(ctx) }
func (l *limitOp) Close()                           { l.next.Close() }

// Sink collects the pipeline's output records in order.
type Sink struct {
	mem    memory.Allocator
	schema *arrow.Schema
	queue  []arrow.Record
	done   bool
}

// Push implements Operator: the selected rows become an output record.
func (s *Sink) Push(_ context.Context, b columnar.Batch) error {
	rec, err := materialize(b, s.schema)
	if err != nil || rec == nil {
		return err
	}
	s.queue = append(s.queue, rec)
	return nil
}

// materialize returns the selected rows of b as a record of schema (b's
// record itself, retained, when it has no selection), or nil when no row
// is selected.
func materialize(b columnar.Batch, schema *arrow.Schema) (arrow.Record, error) {
	if b.Len() == 0 {
		return nil, nil
	}
	if b.Sel == nil {
		b.Rec.Retain()
		return b.Rec, nil
	}
	exprs := make([]sqlfront.BoundExpr, b.Rec.NumCols())
	for i := range exprs {
		exprs[i] = &sqlfront.ColRef{Index: i, Name: schema.Field(i).Name}
	}
	return project(b, exprs, schema)
}

// Finish implements Operator.
func (s *Sink) Finish(context.Context) error { s.done = true; return nil }

// Close releases queued records.
func (s *Sink) Close() {
	for _, r := range s.queue {
		r.Release()
	}
	s.queue = nil
}

// pop removes the oldest queued record.
func (s *Sink) pop() arrow.Record {
	if len(s.queue) == 0 {
		return nil
	}
	r := s.queue[0]
	s.queue[0] = nil
	s.queue = s.queue[1:]
	return r
}

// checkKind guards against a result whose storage does not match the type
// the plan declares (a binder/evaluator disagreement): an error, never a
// mislabelled array.
func checkKind(v *vec, t arrow.DataType, e sqlfront.BoundExpr) error {
	k, err := kindOf(t)
	if err != nil {
		return fmt.Errorf("exec: %s: %w", e.String(), err)
	}
	if v.k != k && v.k != kNull {
		return fmt.Errorf("exec: %s evaluated to %s, the plan expects %s", e.String(), v.t, t)
	}
	return nil
}
