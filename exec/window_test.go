package exec_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo"
	"github.com/velo-engine/velo/agg"
	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/window"
)

// rowSums is an order-independent summary of a result: the row count and
// the wrapping sum of xxhash.Sum64 over each row's text (floats in Go's
// shortest round-trip form, so values must agree bit for bit).
type rowSums struct {
	rows int64
	sum  uint64
}

// add folds the columns cols (by name) of rec into s.
func (s *rowSums) add(t *testing.T, rec arrow.Record, cols []string) {
	idx := make([]int, len(cols))
	for i, c := range cols {
		f := rec.Schema().FieldIndices(c)
		require.Len(t, f, 1, "column %q", c)
		idx[i] = f[0]
	}
	buf := make([]byte, 0, 128)
	for r := 0; r < int(rec.NumRows()); r++ {
		buf = buf[:0]
		for _, c := range idx {
			a := rec.Column(c)
			switch {
			case a.IsNull(r):
				buf = append(buf, "NULL"...)
			default:
				switch a := a.(type) {
				case *array.Float64:
					buf = strconv.AppendFloat(buf, a.Value(r), 'g', -1, 64)
				case *array.Int64:
					buf = strconv.AppendInt(buf, a.Value(r), 10)
				case *array.String:
					buf = append(buf, a.Value(r)...)
				default:
					buf = append(buf, a.ValueStr(r)...)
				}
			}
			buf = append(buf, '|')
		}
		s.sum += xxhash.Sum64(buf)
		s.rows++
	}
}

// marketData generates n rows of BENCH.md's market_data (seed 42).
func marketData(t *testing.T, mem memory.Allocator, n int64) []arrow.Record {
	g := bench.NewMarketData(mem, bench.MarketDataConfig{Rows: n, Seed: 42, BatchSize: 8192})
	defer g.Release()
	var recs []arrow.Record
	for g.Next() {
		g.Record().Retain()
		recs = append(recs, g.Record())
	}
	require.NoError(t, g.Err())
	return recs
}

// engineSums runs sql through velo.Engine.Execute on n partitions over the
// records registered as market_data.
func engineSums(t *testing.T, mem memory.Allocator, recs []arrow.Record, sql string, n int, cols []string) rowSums {
	e := velo.New(velo.WithAllocator(mem), velo.WithPartitions(n))
	defer e.Close()
	require.NoError(t, e.RegisterTable("market_data", recs))
	rdr, err := e.Execute(context.Background(), sql)
	require.NoError(t, err)
	defer rdr.Release()
	var s rowSums
	for rdr.Next() {
		s.add(t, rdr.Record(), cols)
	}
	require.NoError(t, rdr.Err())
	return s
}

// TestWindowBenchQueries runs BENCH.md's S1, S3a and S3b through SQL at 1
// and 2 partitions and checks them against a direct run of the window
// library over the same records.
func TestWindowBenchQueries(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rows := int64(200_000)
	if testing.Short() {
		rows = 30_000
	}
	recs := marketData(t, mem, rows)
	defer releaseRecs(recs)
	schema := recs[0].Schema()
	col := func(name string) int { return schema.FieldIndices(name)[0] }
	tt, sym, px, qty := col("trade_time"), col("symbol"), col("price"), col("quantity")

	// S1: AVG/MIN/MAX over the last 100 rows per symbol.
	s1 := func() rowSums {
		op, err := window.NewRows(mem, schema, window.RowsSpec{PartitionBy: []int{sym}, OrderBy: tt, Calls: []window.Call{
			{Func: window.Avg, Arg: px, Preceding: 99, Name: "ma100"},
			{Func: window.Min, Arg: px, Preceding: 99, Name: "min100"},
			{Func: window.Max, Arg: px, Preceding: 99, Name: "max100"},
		}})
		require.NoError(t, err)
		defer op.Release()
		for _, r := range recs {
			_, err := op.Push(columnar.Batch{Rec: r})
			require.NoError(t, err)
		}
		out, err := op.Finish()
		require.NoError(t, err)
		defer releaseRecs(out)
		var s rowSums
		for _, r := range out {
			s.add(t, r, []string{"symbol", "trade_time", "price", "ma100", "min100", "max100"})
		}
		return s
	}()

	// S3a / S3b: 1-minute bars per symbol over trade_time, price, quantity
	// and price*quantity.
	barCols := []string{"symbol", "trade_count", "avg_price", "low", "high", "total_quantity", "total_value"}
	bars := func(emit window.EmitMode) rowSums {
		in := columnar.NewSchema([]string{"trade_time", "symbol", "price", "quantity", "value"}, []arrow.DataType{
			arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64})
		w, err := window.NewTimeWindow(mem, in, window.Spec{Kind: window.Tumbling, TimeCol: 0, SizeMs: 60_000, Emit: emit,
			Keys: []agg.KeySpec{{Column: 1, Name: "symbol"}},
			Aggs: []agg.AggSpec{{Func: agg.CountStar, Name: "trade_count"}, {Func: agg.Avg, Column: 2, Name: "avg_price"},
				{Func: agg.Min, Column: 2, Name: "low"}, {Func: agg.Max, Column: 2, Name: "high"},
				{Func: agg.Sum, Column: 3, Name: "total_quantity"}, {Func: agg.Sum, Column: 4, Name: "total_value"}},
		})
		require.NoError(t, err)
		defer w.Release()
		var s rowSums
		fold := func(out []arrow.Record, err error) {
			require.NoError(t, err)
			for _, r := range out {
				s.add(t, r, barCols)
			}
			releaseRecs(out)
		}
		for _, r := range recs {
			p, q := r.Column(px).(*array.Float64), r.Column(qty).(*array.Int64)
			v := make([]float64, r.NumRows())
			for i := range v {
				v[i] = p.Value(i) * float64(q.Value(i))
			}
			val := columnar.BuildFloat64(mem, v, nil)
			r.Column(tt).Retain()
			r.Column(sym).Retain()
			r.Column(px).Retain()
			r.Column(qty).Retain()
			b := columnar.NewRecord(in, []arrow.Array{r.Column(tt), r.Column(sym), r.Column(px), r.Column(qty), val})
			fold(w.Push(columnar.Batch{Rec: b}))
			b.Release()
		}
		fold(w.Finish())
		return s
	}
	s3a, s3b := bars(window.EmitFinal), bars(window.EmitChanges)
	require.Equal(t, rows, s1.rows)
	require.Positive(t, s3a.rows)
	require.Greater(t, s3b.rows, s3a.rows, "EMIT CHANGES has a row per (batch, window, group) touched")

	for _, n := range []int{1, 2} {
		for _, c := range []struct {
			name string
			sql  string
			cols []string
			want rowSums
		}{
			{"S1", bench.SQLS1, []string{"symbol", "trade_time", "price", "ma100", "min100", "max100"}, s1},
			{"S1 BUFFER", "SELECT symbol, trade_time, price, AVG(price) OVER w AS ma100, MIN(price) OVER w AS min100, MAX(price) OVER w AS max100 FROM market_data WINDOW w AS (ROWS WINDOW BUFFER 100 ROWS PARTITION BY symbol ORDER BY trade_time)", []string{"symbol", "trade_time", "price", "ma100", "min100", "max100"}, s1},
			{"S3a", bench.SQLS3a, barCols, s3a},
			{"S3b", bench.SQLS3b, barCols, s3b},
		} {
			t.Run(fmt.Sprintf("%s/%d", c.name, n), func(t *testing.T) {
				got := engineSums(t, mem, recs, c.sql, n, c.cols)
				require.Equal(t, c.want, got)
			})
		}
	}
}
