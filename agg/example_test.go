package agg_test

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/agg"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

// Filter an Arrow record with the SIMD kernels (price > 100 → selection
// vector, no copy), then GROUP BY symbol over the selected rows.
func Example() {
	mem := memory.NewGoAllocator()
	schema := columnar.NewSchema(
		[]string{"symbol", "price", "quantity"},
		[]arrow.DataType{arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int64})
	rec := columnar.NewRecord(schema, []arrow.Array{
		columnar.BuildString(mem, []string{"AAPL", "MSFT", "AAPL", "MSFT", "AAPL"}, nil),
		columnar.BuildFloat64(mem, []float64{190.5, 99.0, 191.0, 410.25, 50.0}, nil),
		columnar.BuildInt64(mem, []int64{10, 5, 20, 7, 1}, nil),
	})
	defer rec.Release()

	// WHERE price > 100.0: compare into a bitmap, compress to a selection.
	prices := rec.Column(1).(*array.Float64).Float64Values()
	bits := make([]byte, kernels.BitmapBytes(len(prices)))
	kernels.CompareFloat64Scalar(bits, prices, kernels.Gt, 100.0)
	sel := make([]int32, len(prices))
	sel = sel[:kernels.Compress(sel, bits, len(prices))]

	// SELECT symbol, COUNT(*), AVG(price), SUM(quantity) ... GROUP BY symbol
	a, err := agg.New(mem, schema, []agg.KeySpec{{Column: 0}}, []agg.AggSpec{
		{Func: agg.CountStar, Name: "trades"},
		{Func: agg.Avg, Column: 1, Name: "avg_price"},
		{Func: agg.Sum, Column: 2, Name: "total_qty"},
	})
	if err != nil {
		panic(err)
	}
	if err := a.Update(columnar.Batch{Rec: rec, Sel: sel}); err != nil {
		panic(err)
	}
	out, err := a.Emit()
	if err != nil {
		panic(err)
	}
	defer out.Release()
	for r := 0; r < int(out.NumRows()); r++ {
		fmt.Println(out.Column(0).ValueStr(r), out.Column(1).ValueStr(r), out.Column(2).ValueStr(r), out.Column(3).ValueStr(r))
	}
	// Output:
	// AAPL 2 190.75 30
	// MSFT 1 410.25 7
}
