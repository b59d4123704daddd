package window_test

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/agg"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/window"
)

// One-minute bars per symbol (tumbling window, EMIT FINAL), fed batch by
// batch; Finish closes the last window.
func ExampleTimeWindow() {
	mem := memory.NewGoAllocator()
	schema := columnar.NewSchema([]string{"trade_time", "symbol", "price"},
		[]arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64})
	w, err := window.NewTimeWindow(mem, schema, window.Spec{
		Kind: window.Tumbling, TimeCol: 0, SizeMs: 60_000, MaxOutOfOrdernessMs: 1_000,
		Keys: []agg.KeySpec{{Column: 1}},
		Aggs: []agg.AggSpec{{Func: agg.CountStar, Name: "trades"}, {Func: agg.Max, Column: 2, Name: "high"}},
	})
	if err != nil {
		panic(err)
	}
	defer w.Release()
	print := func(recs []arrow.Record) {
		for _, r := range recs {
			for i := 0; i < int(r.NumRows()); i++ {
				fmt.Println(r.Column(0).ValueStr(i), r.Column(1).ValueStr(i), r.Column(2).ValueStr(i), r.Column(3).ValueStr(i), r.Column(4).ValueStr(i))
			}
			r.Release()
		}
	}
	for _, batch := range [][]int64{{1_000, 30_000, 59_999}, {60_000, 62_000}} {
		n := len(batch)
		rec := columnar.NewRecord(schema, []arrow.Array{
			columnar.BuildInt64(mem, batch, nil),
			columnar.BuildString(mem, []string{"AAPL", "MSFT", "AAPL"}[:n], nil),
			columnar.BuildFloat64(mem, []float64{190, 410, 191}[:n], nil),
		})
		out, err := w.Push(columnar.Batch{Rec: rec})
		rec.Release()
		if err != nil {
			panic(err)
		}
		print(out) // the second batch moves the watermark to 61 s: [0, 60 s) closes
	}
	out, err := w.Finish()
	if err != nil {
		panic(err)
	}
	print(out)
	// Output:
	// AAPL 0 60000 2 191
	// MSFT 0 60000 1 410
	// AAPL 60000 120000 1 190
	// MSFT 60000 120000 1 410
}

// A moving average over the last 3 rows per symbol (bounded input).
func ExampleRows() {
	mem := memory.NewGoAllocator()
	schema := columnar.NewSchema([]string{"trade_time", "symbol", "price"},
		[]arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64})
	op, err := window.NewRows(mem, schema, window.RowsSpec{PartitionBy: []int{1}, OrderBy: 0, Calls: []window.Call{
		{Func: window.Avg, Arg: 2, Preceding: 2, Name: "ma3"},
		{Func: window.Lag, Arg: 2, Name: "prev"},
	}})
	if err != nil {
		panic(err)
	}
	defer op.Release()
	rec := columnar.NewRecord(schema, []arrow.Array{
		columnar.BuildInt64(mem, []int64{1, 2, 3, 4, 5}, nil),
		columnar.BuildString(mem, []string{"A", "A", "B", "A", "A"}, nil),
		columnar.BuildFloat64(mem, []float64{10, 20, 99, 30, 40}, nil),
	})
	defer rec.Release()
	if _, err := op.Push(columnar.Batch{Rec: rec}); err != nil {
		panic(err)
	}
	out, err := op.Finish()
	if err != nil {
		panic(err)
	}
	for _, r := range out {
		for i := 0; i < int(r.NumRows()); i++ {
			fmt.Println(r.Column(1).ValueStr(i), r.Column(2).ValueStr(i), r.Column(3).ValueStr(i), r.Column(4).ValueStr(i))
		}
		r.Release()
	}
	// Output:
	// A 10 10 (null)
	// A 20 15 10
	// B 99 99 (null)
	// A 30 20 20
	// A 40 30 30
}
