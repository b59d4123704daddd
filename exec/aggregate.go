package exec

import (
	"context"
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/agg"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/sqlfront"
)

var aggFuncs = map[sqlfront.AggFunc]agg.Func{
	sqlfront.AggCountStar: agg.CountStar, sqlfront.AggCount: agg.Count, sqlfront.AggSum: agg.Sum,
	sqlfront.AggAvg: agg.Avg, sqlfront.AggMin: agg.Min, sqlfront.AggMax: agg.Max,
	sqlfront.AggStddevPop: agg.StddevPop, sqlfront.AggStddevSamp: agg.StddevSamp,
	sqlfront.AggVarPop: agg.VarPop, sqlfront.AggVarSamp: agg.VarSamp,
	sqlfront.AggFirst: agg.First, sqlfront.AggLast: agg.Last,
	sqlfront.AggApproxCountDistinct: agg.ApproxCountDistinct,
}

// aggregateOp is a hash aggregation through agg.Aggregator. Group keys and
// aggregate arguments are evaluated to columns first; when they are all
// plain column references the input record's columns are handed over as
// they are, with the batch's selection (no gather, no copy).
type aggregateOp struct {
	mem       memory.Allocator
	node      *sqlfront.Aggregate
	inputs    []sqlfront.BoundExpr // the aggregator's input columns
	inSchema  *arrow.Schema
	plain     bool // every input is a ColRef
	a         *agg.Aggregator
	batchSize int
	next      Operator
	keys      columnar.KeyHashes // the batch's key hashes renumbered for a (inputBatch)
}

func newAggregateOp(mem memory.Allocator, n *sqlfront.Aggregate, batchSize int, next Operator) (*aggregateOp, error) {
	if n.Window != nil {
		// The planner routes windowed aggregates to the window operator.
		return nil, fmt.Errorf("exec: internal error: windowed aggregate (%s) reached the hash aggregate", n.Window)
	}
	if len(n.GroupBy) > agg.MaxKeyColumns {
		return nil, fmt.Errorf("exec: GROUP BY with %d keys is not supported yet (at most %d)", len(n.GroupBy), agg.MaxKeyColumns)
	}
	op := &aggregateOp{mem: mem, node: n, plain: true, batchSize: batchSize, next: next}
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
	var keys []agg.KeySpec
	for i, g := range n.GroupBy {
		keys = append(keys, agg.KeySpec{Column: add(g), Name: n.Out.Field(i).Name})
	}
	var specs []agg.AggSpec
	for i, c := range n.Aggs {
		f, ok := aggFuncs[c.Func]
		if !ok {
			return nil, fmt.Errorf("exec: aggregate %s is not supported", c.Func)
		}
		s := agg.AggSpec{Func: f, Distinct: c.Distinct, Name: n.Out.Field(len(n.GroupBy) + i).Name}
		if c.Arg != nil {
			s.Column = add(c.Arg)
		}
		specs = append(specs, s)
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
	a, err := agg.New(mem, op.inSchema, keys, specs)
	if err != nil {
		return nil, fmt.Errorf("exec: aggregate: %w", err)
	}
	for i, f := range a.Schema().Fields() {
		if want := n.Out.Field(i).Type; !arrow.TypeEqual(f.Type, want) {
			return nil, fmt.Errorf("exec: aggregate column %q: aggregator produces %s, plan expects %s", n.Out.Field(i).Name, f.Type, want)
		}
	}
	op.a = a
	return op, nil
}

func (o *aggregateOp) Push(_ context.Context, b columnar.Batch) error {
	in, err := inputBatch(b, o.inputs, o.plain, o.inSchema, &o.keys)
	if err != nil {
		return err
	}
	defer in.Rec.Release()
	if err := o.a.Update(in); err != nil {
		return fmt.Errorf("exec: aggregate: %w", err)
	}
	return nil
}

func (o *aggregateOp) Finish(ctx context.Context) error {
	res, err := o.a.Emit()
	if err != nil {
		return fmt.Errorf("exec: aggregate: %w", err)
	}
	cols := res.Columns()
	out := columnar.MakeRecord(o.node.Out, cols, res.NumRows())
	res.Release()
	defer out.Release()
	for lo := int64(0); lo < out.NumRows(); lo += int64(o.batchSize) {
		hi := min(lo+int64(o.batchSize), out.NumRows())
		s := out.NewSlice(lo, hi)
		err := o.next.Push(ctx, columnar.Batch{Rec: s})
		s.Release()
		if err != nil {
			return err
		}
	}
	return o.next.Finish(ctx)
}

func (o *aggregateOp) Close() { o.next.Close() }
