package exec_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/velo-engine/velo"
	"github.com/velo-engine/velo/agg"
	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/exec"
	"github.com/velo-engine/velo/partition"
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

// approxRows is a multiset of rows: by their exact columns, the values of
// their float columns, which may differ in the last bits.
type approxRows map[string][][]float64

// add puts the rows of rec into a.
func (a approxRows) add(t *testing.T, rec arrow.Record, exact, floats []string) {
	col := func(name string) arrow.Array {
		f := rec.Schema().FieldIndices(name)
		require.Len(t, f, 1, "column %q", name)
		return rec.Column(f[0])
	}
	for r := 0; r < int(rec.NumRows()); r++ {
		var key []string
		for _, c := range exact {
			key = append(key, col(c).ValueStr(r))
		}
		var vs []float64
		for _, c := range floats {
			vs = append(vs, col(c).(*array.Float64).Value(r))
		}
		k := strings.Join(key, "|")
		a[k] = append(a[k], vs)
	}
}

// requireApproxRows: got has want's rows, floats within relative error rel.
func requireApproxRows(t *testing.T, want, got approxRows, rel float64) {
	t.Helper()
	require.Equal(t, len(want), len(got), "distinct rows")
	for k, ws := range want {
		gs := got[k]
		require.Len(t, gs, len(ws), "row %s", k)
		less := func(a, b []float64) int { return slices.Compare(a, b) }
		slices.SortFunc(ws, less)
		slices.SortFunc(gs, less)
		for i := range ws {
			for j := range ws[i] {
				require.InEpsilon(t, ws[i][j], gs[i][j], rel, "row %s", k)
			}
		}
	}
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
	// With the rows of a window merged from partial aggregates (two-phase),
	// AVG and SUM of floats add in another order: their last bits differ.
	barExact, barFloats := []string{"symbol", "trade_count", "low", "high", "total_quantity"}, []string{"avg_price", "total_value"}
	s3aRows := approxRows{} // S3a's rows, for the two-phase comparison
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
				if emit == window.EmitFinal {
					s3aRows.add(t, r, barExact, barFloats)
				}
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
			{"S3a hash", bench.SQLS3a + " WITH ('partitioning.strategy' = 'hash')", barCols, s3a},
			{"S3b", bench.SQLS3b, barCols, s3b},
		} {
			t.Run(fmt.Sprintf("%s/%d", c.name, n), func(t *testing.T) {
				got := engineSums(t, mem, recs, c.sql, n, c.cols)
				require.Equal(t, c.want, got)
			})
		}
		// S3a as planned: at 2 partitions market_data's few symbols per
		// window run it two-phase.
		t.Run(fmt.Sprintf("S3a/%d", n), func(t *testing.T) {
			e := velo.New(velo.WithAllocator(mem), velo.WithPartitions(n))
			defer e.Close()
			require.NoError(t, e.RegisterTable("market_data", recs))
			rdr, err := e.Execute(context.Background(), bench.SQLS3a)
			require.NoError(t, err)
			defer rdr.Release()
			got := approxRows{}
			for rdr.Next() {
				got.add(t, rdr.Record(), barExact, barFloats)
			}
			require.NoError(t, rdr.Err())
			requireApproxRows(t, s3aRows, got, 1e-12)
		})
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
		// Keyed tumbling windows: hash, or in a batch run by window when the
		// first record shows windows spanning few records, else (EMIT
		// FINAL) two-phase when it has few groups per window; sliding EMIT
		// FINAL: hash or two-phase; sessions: hash
		// (TestPartitionedAdaptiveWindows).
		{"SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE)", "hash(symbol) (by window if windows span few records, else two-phase if few groups) × 4"},
		{"SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol WINDOW SLIDING(trade_time, INTERVAL '60' SECOND, INTERVAL '30' SECOND)", "hash(symbol) (two-phase if few groups) × 4"},
		{"SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol WINDOW SESSION(trade_time, INTERVAL '1' MINUTE)", "hash(symbol) × 4"},
		{"SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE) EMIT CHANGES", "hash(symbol) (by window if windows span few records) × 4"},
		// Without keys a tumbling or sliding EMIT FINAL window runs two-phase
		// (partial windows merged); sessions, EMIT CHANGES and FIRST/LAST have
		// no partial form and run on one partition — a tumbling one routed by
		// window when a batch run's windows span few records.
		{"SELECT COUNT(*) AS n FROM trades GROUP BY TUMBLE(trade_time, INTERVAL '1' MINUTE)", "round_robin two-phase × 4"},
		{"SELECT COUNT(*) AS n FROM trades GROUP BY TUMBLE(trade_time, INTERVAL '1' MINUTE) EMIT CHANGES", "fan_in (by window if windows span few records) × 4"},
		{"SELECT FIRST(price) AS p FROM trades GROUP BY TUMBLE(trade_time, INTERVAL '1' MINUTE)", "fan_in (by window if windows span few records) × 4"},
		{"SELECT COUNT(*) AS n FROM trades GROUP BY HOP(trade_time, INTERVAL '1' MINUTE, INTERVAL '30' SECOND) EMIT CHANGES", "fan_in × 4"},
		{"SELECT COUNT(*) AS n FROM trades GROUP BY TUMBLE(trade_time, INTERVAL '1' MINUTE) EMIT CHANGES WITH ('partitioning.strategy' = 'fan_in')", "fan_in × 4"},
		{"SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE) WITH ('partitioning.strategy' = 'round_robin')", "round_robin two-phase × 4"},
		{"SELECT symbol, COUNT(*) AS n FROM trades GROUP BY symbol WINDOW SESSION(trade_time, INTERVAL '1' MINUTE) WITH ('partitioning.strategy' = 'round_robin')", "error: only tumbling and sliding windows with EMIT FINAL"},
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

// lateEvents arrives as four records (event times in seconds, v a power
// of two per row, so every sum names its rows):
//
//	1: a@1 b@3 c@5                 max 5  → watermark 3 (out-of-orderness 2 s)
//	2: d@2 a@14 c@NULL             max 14 → 12: [0,10) closes (tumbling)
//	3: b@4 (late) c@13 x@30        max 30 → 28: [10,20) closes; x fails WHERE v >= 0
//	4: a@15 (late) d@25 b@9 (late) e@22
//
// b@4 is late because of a@14, a row of another key (another partition);
// a@15 and b@9 because of x@30, a row the WHERE clause drops: the
// watermark follows every scanned row.
func lateEvents(mem memory.Allocator) []arrow.Record {
	schema := arrow.NewSchema([]arrow.Field{{Name: "ts", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "k", Type: arrow.BinaryTypes.String}, {Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	type row struct {
		k  string
		ts int64 // seconds; -1 for NULL
		v  int64
	}
	var recs []arrow.Record
	for _, batch := range [][]row{
		{{"a", 1, 1}, {"b", 3, 2}, {"c", 5, 4}},
		{{"d", 2, 8}, {"a", 14, 16}, {"c", -1, 1024}},
		{{"b", 4, 32}, {"c", 13, 64}, {"x", 30, -1}},
		{{"a", 15, 128}, {"d", 25, 256}, {"b", 9, 512}, {"e", 22, 2048}},
	} {
		var ts, vs []int64
		var ok []bool
		var ks []string
		for _, r := range batch {
			ts, ok, ks, vs = append(ts, r.ts*1000), append(ok, r.ts >= 0), append(ks, r.k), append(vs, r.v)
		}
		recs = append(recs, columnar.NewRecord(schema, []arrow.Array{columnar.BuildInt64(mem, ts, ok),
			columnar.BuildString(mem, ks, nil), columnar.BuildInt64(mem, vs, nil)}))
	}
	return recs
}

// lastCoalesced is the partitions' coalesced batch count of the last
// runWindowQueryWM pushing with coalesce.
var lastCoalesced int64

// runWindowQueryWM runs sql over recs on n partitions — through Run
// (Compile, or CompilePartitioned when n > 1) or, with push, through
// CompileStream / Partitioned.Stream fed one record per Push — and returns
// the result rows sorted, and the window counters.
// With push it sends the explicit watermark wm after record wmAfter (none when wmAfter < 0); with coalesce
// (n > 1) the partitions coalesce small batches (adaptive batching, no
// deadline) until a watermark or the end flushes them.
func runWindowQueryWM(t *testing.T, mem memory.Allocator, recs []arrow.Record, sql string, n int, push bool, wmAfter int, wm int64, coalesce bool) ([]string, window.Stats) {
	t.Helper()
	q, err := sqlfront.Plan(sql, sqlfront.MapCatalog{"ev": recs[0].Schema()})
	require.NoError(t, err)
	var rows []string
	collect := func(rec arrow.Record) { rows = append(rows, recordRows(rec)...) }
	var st window.Stats
	var ok bool
	ctx := context.Background()
	switch {
	case n == 1 && push:
		s, err := exec.CompileStream(mem, q, exec.Options{})
		require.NoError(t, err)
		for i, r := range recs {
			require.NoError(t, s.Push(ctx, r))
			if i == wmAfter {
				require.NoError(t, s.Watermark(ctx, wm))
			}
		}
		require.NoError(t, s.Finish(ctx))
		for rec := s.Next(); rec != nil; rec = s.Next() {
			collect(rec)
			rec.Release()
		}
		st, ok = s.WindowStats()
		s.Close()
	case push:
		p, err := exec.CompilePartitioned(mem, q, exec.Options{Partitions: n})
		require.NoError(t, err)
		if coalesce {
			exec.SetBatching(p, partition.Batching{Enabled: true, TargetRows: 64, MaxDelay: time.Hour})
		}
		s, err := p.Stream(ctx, func(rec arrow.Record) error {
			collect(rec)
			rec.Release()
			return nil
		})
		require.NoError(t, err)
		for i, r := range recs {
			require.NoError(t, s.Push(r))
			if i == wmAfter {
				require.NoError(t, s.Watermark(wm))
			}
		}
		require.NoError(t, s.Close())
		st, ok = s.WindowStats()
		if coalesce {
			lastCoalesced = exec.Coalesced(s)
		}
	default:
		var rdr array.RecordReader
		var stats func() (window.Stats, bool)
		src, err := array.NewRecordReader(recs[0].Schema(), recs)
		require.NoError(t, err)
		if n == 1 {
			p, err := exec.Compile(mem, q, exec.Options{})
			require.NoError(t, err)
			rdr, stats = p.Run(ctx, src), p.WindowStats
		} else {
			p, err := exec.CompilePartitioned(mem, q, exec.Options{Partitions: n})
			require.NoError(t, err)
			if coalesce {
				exec.SetBatching(p, partition.Batching{Enabled: true, TargetRows: 64, MaxDelay: time.Hour})
			}
			rdr, stats = p.Run(ctx, src), p.WindowStats
		}
		for rdr.Next() {
			collect(rdr.Record())
		}
		require.NoError(t, rdr.Err())
		rdr.Release()
		st, ok = stats()
	}
	require.True(t, ok, "the query has a time window")
	sort.Strings(rows)
	return rows, st
}

// TestLatePoliciesPartitioned: late rows under each policy give the same
// rows and the same late counters at 1, 2, 4 and 7 partitions, through Run
// and through pushed input; expected rows and counters hand-computed from
// lateEvents (window_start, then k, n, SUM(v)).
func TestLatePoliciesPartitioned(t *testing.T) {
	defer goleak.VerifyNone(t)
	const (
		tumbling = "SELECT window_start, k, COUNT(*) AS n, SUM(v) AS s FROM ev WHERE v >= 0 GROUP BY k WINDOW TUMBLING(ts, INTERVAL '10' SECOND)"
		sliding  = "SELECT window_start, k, COUNT(*) AS n, SUM(v) AS s FROM ev WHERE v >= 0 GROUP BY k WINDOW SLIDING(ts, INTERVAL '10' SECOND, INTERVAL '5' SECOND)"
		session  = "SELECT window_start, k, COUNT(*) AS n, SUM(v) AS s FROM ev WHERE v >= 0 GROUP BY k WINDOW SESSION(ts, INTERVAL '3' SECOND)"
	)
	sessionOnTime := []string{"1000 a 1 1", "3000 b 1 2", "5000 c 1 4", "2000 d 1 8", "14000 a 1 16", "13000 c 1 64"}
	tumbleOnTime := []string{"0 a 1 1", "0 b 1 2", "0 c 1 4", "0 d 1 8", "10000 a 1 16", "10000 c 1 64", "20000 d 1 256", "20000 e 1 2048"}
	slideOnTime := []string{"-5000 a 1 1", "-5000 b 1 2", "-5000 d 1 8", "0 a 1 1", "0 b 1 2", "0 c 1 4", "0 d 1 8",
		"5000 a 1 16", "5000 c 2 68", "10000 a 1 16", "10000 c 1 64", "20000 d 1 256", "25000 d 1 256"}
	with := func(sql, policy string) string {
		return sql + " WITH ('watermark.max_out_of_orderness' = '2s', 'late.data.strategy' = '" + policy + "')"
	}
	for _, c := range []struct {
		name, sql                     string
		want                          []string
		late, dropped, processed, out int64
	}{
		// b@4, a@15 and b@9 are late for their only window.
		{"tumbling/drop", with(tumbling, "drop"), tumbleOnTime, 3, 3, 0, 8},
		{"tumbling/warn", with(tumbling, "warn"), tumbleOnTime, 3, 3, 0, 8},
		// Late firings: [0,10) re-opens for b@4 and closes at the
		// watermark after record 3; b@9 and a@15 re-open [0,10) and
		// [10,20) again until the end.
		{"tumbling/process", with(tumbling, "process"), append(slices.Clone(tumbleOnTime), "0 b 1 32", "0 b 1 512", "10000 a 1 128"), 3, 0, 3, 11},
		// e@22 is late too: [15,25) closed, [20,30) open.
		{"sliding/drop", with(sliding, "drop"), slideOnTime, 4, 4, 0, 13},
		{"sliding/warn", with(sliding, "warn"), append(slices.Clone(slideOnTime), "20000 e 1 2048"), 4, 3, 1, 14},
		{"sliding/process", with(sliding, "process"), append(slices.Clone(slideOnTime), "-5000 b 1 32", "0 b 1 32", "0 b 1 512", "5000 b 1 512",
			"10000 a 1 128", "15000 a 1 128", "15000 e 1 2048", "20000 e 1 2048"), 4, 0, 4, 21},
		// Sessions (gap 3 s): b@4, then every row of record 4 — even d@25,
		// whose [25,28) ends at the watermark 28 — starts a closed session.
		{"session/drop", with(session, "drop"), sessionOnTime, 5, 5, 0, 6},
		{"session/warn", with(session, "warn"), sessionOnTime, 5, 5, 0, 6},
		{"session/process", with(session, "process"), append(slices.Clone(sessionOnTime), "4000 b 1 32", "15000 a 1 128", "25000 d 1 256",
			"9000 b 1 512", "22000 e 1 2048"), 5, 0, 5, 11},
	} {
		want := slices.Clone(c.want)
		sort.Strings(want)
		for _, n := range []int{1, 2, 4, 7} {
			for _, mode := range []struct{ push, coalesce bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
				if mode.coalesce && n == 1 {
					continue
				}
				t.Run(fmt.Sprintf("%s/%d/%+v", c.name, n, mode), func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					recs := lateEvents(mem)
					defer releaseRecs(recs)
					rows, st := runWindowQueryWM(t, mem, recs, c.sql, n, mode.push, -1, 0, mode.coalesce)
					require.Equal(t, want, rows)
					require.Equal(t, int64(12), st.Rows, "rows reaching the window (x@30 fails the WHERE)")
					require.Equal(t, int64(1), st.NullTime)
					require.Equal(t, c.late, st.LateRows)
					require.Equal(t, c.dropped, st.LateDropped)
					require.Equal(t, c.processed, st.LateProcessed)
					require.Equal(t, c.out, st.OutputRows)
					require.Equal(t, int64(math.MaxInt64), st.Watermark)
				})
			}
		}
	}
}

// TestExplicitWatermarkPartitioned: an explicit watermark (40 s after
// lateEvents' third record) closes [20,30) before d@25 and e@22 arrive, at
// every partition count: every row of the fourth record is late.
func TestExplicitWatermarkPartitioned(t *testing.T) {
	defer goleak.VerifyNone(t)
	const sql = "SELECT window_start, k, COUNT(*) AS n, SUM(v) AS s FROM ev WHERE v >= 0 GROUP BY k WINDOW TUMBLING(ts, INTERVAL '10' SECOND) WITH ('watermark.max_out_of_orderness' = '2s')"
	want := []string{"0 a 1 1", "0 b 1 2", "0 c 1 4", "0 d 1 8", "10000 a 1 16", "10000 c 1 64"}
	for _, n := range []int{1, 2, 4, 7} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			recs := lateEvents(mem)
			defer releaseRecs(recs)
			rows, st := runWindowQueryWM(t, mem, recs, sql, n, true, 2, 40_000, n > 1)
			require.Equal(t, want, rows)
			require.Equal(t, int64(5), st.LateRows)
			require.Equal(t, int64(5), st.LateDropped)
			require.Equal(t, int64(6), st.OutputRows)
		})
	}
}

// TestCoalescedLateRows: single-row pushes that do not move the watermark
// are coalesced by the partitions into one batch, judged against the
// watermark they were routed under: the same rows and counters as on one
// partition. With 2 s of out-of-orderness, a@100 s sets the watermark to
// 98 s, closing [80,90); then one row per push at 80..99 s (keys a..e in
// turn) — the ten below 90 s are late; then f@200 s closes the rest.
func TestCoalescedLateRows(t *testing.T) {
	defer goleak.VerifyNone(t)
	const sql = "SELECT window_start, k, COUNT(*) AS n, SUM(v) AS s FROM ev GROUP BY k WINDOW TUMBLING(ts, INTERVAL '10' SECOND) WITH ('watermark.max_out_of_orderness' = '2s', 'late.data.strategy' = 'process')"
	schema := arrow.NewSchema([]arrow.Field{{Name: "ts", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "k", Type: arrow.BinaryTypes.String}, {Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	one := func(mem memory.Allocator, ts int64, k string, v int64) arrow.Record {
		return columnar.NewRecord(schema, []arrow.Array{columnar.BuildInt64(mem, []int64{ts * 1000}, nil),
			columnar.BuildString(mem, []string{k}, nil), columnar.BuildInt64(mem, []int64{v}, nil)})
	}
	keys := []string{"a", "b", "c", "d", "e"}
	// Hand-computed: row i (0..19) at 80+i s, key keys[i%5], v = i.
	// The late rows re-open [80,90) (rows i and i+5 per key); 90..99 s are
	// on time in [90,100); a@100 s and f@200 s have windows of their own.
	want := []string{"100000 a 1 1000", "200000 f 1 1"}
	for k := range 5 {
		want = append(want, fmt.Sprintf("80000 %s 2 %d", keys[k], k+(k+5)), fmt.Sprintf("90000 %s 2 %d", keys[k], (k+10)+(k+15)))
	}
	sort.Strings(want)
	for _, n := range []int{1, 2, 4, 7} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			recs := []arrow.Record{one(mem, 100, "a", 1000)}
			for i := range 20 {
				recs = append(recs, one(mem, int64(80+i), keys[i%5], int64(i)))
			}
			recs = append(recs, one(mem, 200, "f", 1))
			defer releaseRecs(recs)
			lastCoalesced = 0
			rows, st := runWindowQueryWM(t, mem, recs, sql, n, true, -1, 0, n > 1)
			require.Equal(t, want, rows)
			require.Equal(t, int64(10), st.LateRows)
			require.Equal(t, int64(10), st.LateProcessed)
			require.Equal(t, int64(22), st.Rows)
			if n > 1 {
				require.Positive(t, lastCoalesced, "the 20 pushes under one watermark were coalesced")
			}
		})
	}
}

// TestPartitionedWindowTwoPhase: a tumbling or sliding window with EMIT
// FINAL under round_robin (or without keys) deals whole records in
// rotation to partial windows that a merger completes window by window;
// rows and every counter equal the one-partition run under each late
// policy, with rows late beyond the out-of-orderness, NULL event times and
// a WHERE.
func TestPartitionedWindowTwoPhase(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "ts", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "k", Type: arrow.BinaryTypes.String}, {Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	rng := rand.New(rand.NewPCG(5, 6))
	var recs []arrow.Record
	t0 := int64(1_700_000_000_000)
	for b := range 12 {
		n := 2048 + rng.IntN(1024)
		// Every third record holds late rows only (3-5 s behind): it moves
		// no watermark, so its rows fire together with the next records'.
		lateOnly := b%3 == 2
		ts, vs := make([]int64, n), make([]int64, n)
		ok, ks := make([]bool, n), make([]string, n)
		for i := range n {
			if !lateOnly {
				t0 += rng.Int64N(20)
			}
			ts[i], ok[i] = t0-rng.Int64N(2500), rng.IntN(300) != 0 // up to 2.5 s behind: late beyond 2 s
			if lateOnly {
				ts[i] = t0 - 3000 - rng.Int64N(2000)
			}
			if rng.IntN(40) == 0 {
				ts[i] -= 20_000 // well behind: late for closed windows
			}
			ks[i], vs[i] = fmt.Sprintf("k%d", rng.IntN(12)), rng.Int64N(1000)-50
		}
		recs = append(recs, columnar.NewRecord(schema, []arrow.Array{columnar.BuildInt64(mem, ts, ok),
			columnar.BuildString(mem, ks, nil), columnar.BuildInt64(mem, vs, nil)}))
	}
	defer releaseRecs(recs)
	for _, win := range []string{"GROUP BY k WINDOW TUMBLING(ts, INTERVAL '5' SECOND)", "GROUP BY k WINDOW SLIDING(ts, INTERVAL '6' SECOND, INTERVAL '2' SECOND)", "GROUP BY TUMBLE(ts, INTERVAL '3' SECOND)"} {
		for _, policy := range []string{"drop", "warn", "process"} {
			keyed := strings.Contains(win, "BY k")
			cols, strategy := "window_start, window_end, COUNT(*) AS n", ""
			if keyed {
				cols, strategy = "window_start, window_end, k, COUNT(*) AS n", ", 'partitioning.strategy' = 'round_robin'"
			}
			sql := "SELECT " + cols + ", SUM(v) AS s, MIN(v) AS lo, MAX(v) AS hi, AVG(v) AS a FROM ev WHERE v >= 0 " +
				win + " WITH ('watermark.max_out_of_orderness' = '2s', 'late.data.strategy' = '" + policy + "'" + strategy + ")"
			t.Run(win+"/"+policy, func(t *testing.T) {
				want, wst := runWindowQueryWM(t, mem, recs, sql, 1, false, -1, 0, false)
				require.Positive(t, wst.LateRows)
				if policy == "process" {
					require.Positive(t, wst.Reopened, "late firings")
				}
				for _, n := range []int{2, 3, 7} {
					q, err := sqlfront.Plan(sql, sqlfront.MapCatalog{"ev": schema})
					require.NoError(t, err)
					p, err := exec.CompilePartitioned(mem, q, exec.Options{Partitions: n})
					require.NoError(t, err)
					require.Equal(t, fmt.Sprintf("round_robin two-phase × %d", n), p.Plan().String())
					src, err := array.NewRecordReader(schema, recs)
					require.NoError(t, err)
					rdr := p.Run(context.Background(), src)
					var got []string
					for rdr.Next() {
						got = append(got, recordRows(rdr.Record())...)
					}
					require.NoError(t, rdr.Err())
					rdr.Release()
					sort.Strings(got)
					require.Equal(t, want, got, "%d partitions", n)
					st, ok := p.WindowStats()
					require.True(t, ok)
					st.Open, st.Watermark = 0, 0
					wst.Open, wst.Watermark = 0, 0
					require.Equal(t, wst, st, "%d partitions", n)
				}
			})
		}
	}
}

// recordRows renders rec's rows as their cells' ValueStr joined by spaces.
func recordRows(rec arrow.Record) []string {
	rows := make([]string, rec.NumRows())
	cells := make([]string, rec.NumCols())
	for i := range rows {
		for c := range cells {
			cells[c] = rec.Column(c).ValueStr(i)
		}
		rows[i] = strings.Join(cells, " ")
	}
	return rows
}
