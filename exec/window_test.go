package exec_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
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
	"github.com/velo-engine/velo/exec"
	"github.com/velo-engine/velo/sqlfront"
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

// lateTable is one row per record, in arrival order: t = 1 s, 70 s (the
// default 5 s out-of-orderness puts the watermark at 65 s, closing
// [0, 60 s)), then 2 s, late for [0, 60 s).
func lateTable(mem memory.Allocator) map[string][]arrow.Record {
	schema := columnar.NewSchema([]string{"ts", "k", "v"}, []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64})
	var recs []arrow.Record
	for i, ts := range []int64{1_000, 70_000, 2_000} {
		recs = append(recs, columnar.NewRecord(schema, []arrow.Array{
			columnar.BuildInt64(mem, []int64{ts}, nil),
			columnar.BuildString(mem, []string{"a"}, nil),
			columnar.BuildInt64(mem, []int64{int64(10 * (i + 1))}, nil),
		}))
	}
	return map[string][]arrow.Record{"ev": recs}
}

// TestTimeWindowSettings: the WITH settings reach the window operator
// (expected rows hand-computed from the watermark rules in window/doc.go).
func TestTimeWindowSettings(t *testing.T) {
	const q = "SELECT window_start, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k WINDOW TUMBLING(ts, INTERVAL '1' MINUTE)"
	for _, c := range []struct{ with, want string }{
		{"", "0 | 1 | 10\n60000 | 1 | 20\n"},
		{" WITH ('late.data.strategy' = 'drop')", "0 | 1 | 10\n60000 | 1 | 20\n"},
		// process: a late firing of [0, 60 s) with only the late row.
		{" WITH ('late.data.strategy' = 'process')", "0 | 1 | 10\n0 | 1 | 30\n60000 | 1 | 20\n"},
		// 70 s of out-of-orderness: the watermark stays at 0, nothing is late.
		{" WITH ('watermark.max_out_of_orderness' = '70s')", "0 | 2 | 40\n60000 | 1 | 20\n"},
		// [0, 60 s) stays open until the watermark reaches 70 s.
		{" WITH ('allowed.lateness' = '10s')", "0 | 2 | 40\n60000 | 1 | 20\n"},
		// Out-of-orderness 0 (none): the watermark is 70 s; same as the default here.
		{" WITH ('watermark.max_out_of_orderness' = '0s')", "0 | 1 | 10\n60000 | 1 | 20\n"},
	} {
		t.Run(c.with, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			tables := lateTable(mem)
			defer releaseTables(tables)
			recs, schema, err := runSQL(context.Background(), mem, tables, q+c.with, 0)
			require.NoError(t, err)
			defer releaseRecs(recs)
			require.Equal(t, "window_start:int64 | n:int64 | s:int64\n"+c.want, formatResult(schema, recs))
		})
	}
}

// TestTimeWindowEmitChanges: over a bounded input EMIT CHANGES returns the
// changelog — after each input record, the current row of every (window,
// group) it touched — and the last change of each equals the FINAL row.
func TestTimeWindowEmitChanges(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tables := testTables(mem)
	defer releaseTables(tables)
	// trades arrive as records of rows 0-3 and 4-5 (exec/harness_test.go).
	recs, schema, err := runSQL(context.Background(), mem, tables,
		"SELECT symbol, window_start, COUNT(*) AS n, SUM(quantity) AS q FROM trades GROUP BY symbol WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE) EMIT CHANGES", 0)
	require.NoError(t, err)
	defer releaseRecs(recs)
	require.Equal(t, `symbol:utf8 | window_start:int64 | n:int64 | q:int64
AAA | 1699999980000 | 1 | 10
BBB | 1699999980000 | 1 | 5
AAA | 1700000040000 | 1 | 20
BBB | 1700000040000 | 1 | 7
AAA | 1700000040000 | 2 | 21
CCC | 1700000100000 | 1 | 1000
`, formatResult(schema, recs))
}

// TestWindowPartitionPlan: how windowed queries are partitioned.
func TestWindowPartitionPlan(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tables := testTables(mem)
	defer releaseTables(tables)
	for _, c := range []struct{ sql, want string }{
		{"SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE)", "hash(symbol) × 4"},
		{"SELECT COUNT(*) AS n FROM trades GROUP BY TUMBLE(trade_time, INTERVAL '1' MINUTE)", "fan_in × 4"},
		{"SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE) WITH ('partitioning.strategy' = 'round_robin')", "error: time windows do not support"},
		{"SELECT symbol, LAG(price) OVER (PARTITION BY symbol ORDER BY trade_time) AS p FROM trades WHERE quantity > 1", "hash(symbol) × 4"},
		// Without PARTITION BY the window runs once, in the final stage.
		{"SELECT symbol, ROW_NUMBER() OVER (ORDER BY trade_time) AS r FROM trades", "round_robin × 4"},
		{"SELECT symbol, LAG(price) OVER (PARTITION BY symbol ORDER BY trade_time) AS p FROM trades WITH ('partitioning.strategy' = 'fan_in')", "fan_in × 4"},
	} {
		t.Run(c.sql, func(t *testing.T) {
			q, err := sqlfront.Plan(c.sql, catalogOf(tables))
			require.NoError(t, err)
			plan, err := exec.PlanPartitions(q, exec.Options{Partitions: 4})
			if want, ok := strings.CutPrefix(c.want, "error: "); ok {
				require.ErrorContains(t, err, want)
				return
			}
			require.NoError(t, err)
			require.Equal(t, c.want, plan.String())
		})
	}
}
