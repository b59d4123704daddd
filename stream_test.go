package velo_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/exec"
)

const sqlS3a = "SELECT symbol, COUNT(*) AS trade_count, AVG(price) AS avg_price, MIN(price) AS low, MAX(price) AS high, SUM(quantity) AS total_quantity, SUM(price * quantity) AS total_value FROM market_data GROUP BY symbol WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE)"

// sqlS3aWindows is S3a with the window bounds in the result.
const sqlS3aWindows = "SELECT symbol, window_start, window_end, COUNT(*) AS trade_count, AVG(price) AS avg_price, MIN(price) AS low, MAX(price) AS high, SUM(quantity) AS total_quantity, SUM(price * quantity) AS total_value FROM market_data GROUP BY symbol WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE)"

// recRows renders every row of rec exactly ("a|b|c").
func recRows(rec arrow.Record) []string {
	rows := make([]string, rec.NumRows())
	for i := range rows {
		cells := make([]string, rec.NumCols())
		for c := range cells {
			col := rec.Column(c)
			if col.IsNull(i) {
				cells[c] = "NULL"
			} else {
				cells[c] = col.ValueStr(i)
			}
		}
		rows[i] = strings.Join(cells, "|")
	}
	return rows
}

// executeRows runs sql in batch mode and returns its rows.
func executeRows(t *testing.T, eng *velo.Engine, sql string) []string {
	t.Helper()
	r, err := eng.Execute(context.Background(), sql)
	require.NoError(t, err)
	defer r.Release()
	var rows []string
	for r.Next() {
		rows = append(rows, recRows(r.Record())...)
	}
	require.NoError(t, r.Err())
	return rows
}

// collector is a sink that keeps the rows it receives, per call.
type collector struct {
	calls [][]string
}

func (c *collector) sink(rec arrow.Record) error {
	defer rec.Release()
	c.calls = append(c.calls, recRows(rec))
	return nil
}

func (c *collector) rows() []string {
	var all []string
	for _, r := range c.calls {
		all = append(all, r...)
	}
	return all
}

// pushRandom pushes the rows of recs to q in slices of 1..10,000 rows.
func pushRandom(t *testing.T, q *velo.Query, recs []arrow.Record, rng *rand.Rand) int {
	t.Helper()
	pushes := 0
	for _, rec := range recs {
		for lo := int64(0); lo < rec.NumRows(); {
			hi := min(lo+1+rng.Int64N(10_000), rec.NumRows())
			s := rec.NewSlice(lo, hi)
			err := q.Push(s)
			s.Release()
			require.NoError(t, err)
			pushes++
			lo = hi
		}
	}
	return pushes
}

// TestStartMatchesExecute: S3a (EMIT FINAL) pushed in random slices gives
// exactly Execute's rows, and EMIT CHANGES' last change per (window,
// group) is the FINAL row.
func TestStartMatchesExecute(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	g := bench.NewMarketData(mem, bench.MarketDataConfig{Rows: 100_000, Seed: 42, BatchSize: 8192})
	recs, err := g.GenerateAll()
	g.Release()
	require.NoError(t, err)
	defer releaseAll(recs)
	eng := velo.New(velo.WithAllocator(mem))
	defer eng.Close()
	require.NoError(t, eng.RegisterTable("market_data", recs))

	rng := rand.New(rand.NewPCG(7, 11))
	for _, sql := range []string{sqlS3a, sqlS3aWindows} {
		want := executeRows(t, eng, sql+" EMIT FINAL")
		require.Greater(t, len(want), 100)
		slices.Sort(want)
		var final collector
		q, err := eng.Start(context.Background(), sql+" EMIT FINAL", final.sink)
		require.NoError(t, err)
		pushRandom(t, q, recs, rng)
		before := len(final.rows())
		require.NoError(t, q.Close())
		require.NoError(t, q.Close(), "Close twice")
		got := final.rows()
		if sql == sqlS3aWindows {
			// Exactly the windows the event-time watermark (max
			// trade_time − 5 s) passed arrive before Close.
			wm := maxTradeTime(recs) - 5000
			for i, row := range got {
				end, err := strconv.ParseInt(strings.Split(row, "|")[2], 10, 64)
				require.NoError(t, err)
				require.Equal(t, i < before, end <= wm, row)
			}
			require.Greater(t, before, 0)
		}
		slices.Sort(got)
		require.Equal(t, want, got)

		if sql != sqlS3aWindows {
			continue
		}
		var changes collector
		q, err = eng.Start(context.Background(), sql+" EMIT CHANGES", changes.sink)
		require.NoError(t, err)
		pushes := pushRandom(t, q, recs, rng)
		require.NoError(t, q.Close())
		require.GreaterOrEqual(t, len(changes.calls), pushes, "changes after every push")
		last := map[string]string{} // symbol|window_start|window_end → row
		for _, row := range changes.rows() {
			cells := strings.Split(row, "|")
			last[strings.Join(cells[:3], "|")] = row
		}
		lastRows := make([]string, 0, len(last))
		for _, r := range last {
			lastRows = append(lastRows, r)
		}
		slices.Sort(lastRows)
		require.Equal(t, want, lastRows)
	}
}

func maxTradeTime(recs []arrow.Record) int64 {
	m := int64(math.MinInt64)
	for _, rec := range recs {
		for _, v := range rec.Column(0).(*array.Int64).Int64Values() {
			m = max(m, v)
		}
	}
	return m
}

// events builds a (ts int64, k utf8, v int64) record.
func events(mem memory.Allocator, ts []int64, k []string, v []int64) arrow.Record {
	schema := eventSchema()
	cols := []arrow.Array{columnar.BuildInt64(mem, ts, nil), columnar.BuildString(mem, k, nil), columnar.BuildInt64(mem, v, nil)}
	rec := array.NewRecord(schema, cols, int64(len(ts)))
	for _, c := range cols {
		c.Release()
	}
	return rec
}

func eventSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "ts", Type: arrow.PrimitiveTypes.Int64},
		{Name: "k", Type: arrow.BinaryTypes.String},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
}

// TestStartWatermark: hand-computed 10 s tumbling windows under the
// default 5 s out-of-orderness; an explicit watermark closes a window the
// event-time watermark has not reached.
func TestStartWatermark(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	eng := velo.New(velo.WithAllocator(mem))
	defer eng.Close()
	var c collector
	q, err := eng.Start(context.Background(),
		"SELECT k, window_start, window_end, COUNT(*) AS n, SUM(v) AS s FROM events GROUP BY k WINDOW TUMBLING(ts, INTERVAL '10' SECOND) EMIT FINAL",
		c.sink, velo.WithInputSchema(eventSchema()))
	require.NoError(t, err)
	require.Equal(t, []string{"k", "window_start", "window_end", "n", "s"}, fieldNames(q.Schema()))

	push := func(ts []int64, k []string, v []int64) {
		rec := events(mem, ts, k, v)
		defer rec.Release()
		require.NoError(t, q.Push(rec))
	}
	push([]int64{1000, 2000, 9000}, []string{"a", "b", "a"}, []int64{1, 2, 3})
	require.Empty(t, c.rows(), "event-time watermark 4000 closes nothing")
	push([]int64{14000}, []string{"a"}, []int64{4})
	require.Empty(t, c.rows(), "event-time watermark 9000 closes nothing")
	require.NoError(t, q.Watermark(10_000))
	got := c.rows()
	slices.Sort(got)
	require.Equal(t, []string{"a|0|10000|2|4", "b|0|10000|1|2"}, got)
	require.NoError(t, q.Watermark(5_000), "a watermark behind changes nothing")
	push([]int64{3000, 16000}, []string{"b", "b"}, []int64{100, 5}) // 3000 is late
	require.Len(t, c.rows(), 2)
	require.NoError(t, q.Close())
	got = c.rows()[2:]
	slices.Sort(got)
	require.Equal(t, []string{"a|10000|20000|1|4", "b|10000|20000|1|5"}, got)
	empty := events(mem, nil, nil, nil)
	defer empty.Release()
	require.ErrorIs(t, q.Push(empty), velo.ErrQueryClosed)
	require.ErrorIs(t, q.Watermark(1), velo.ErrQueryClosed)
}

// TestStartGroupByEmitChanges: a GROUP BY without a window and EMIT
// CHANGES hands the sink, during each Push, the current row of every group
// that batch touched (hand-computed running COUNT/SUM); nothing more at
// Close. On two partitions the same rows arrive by Close.
func TestStartGroupByEmitChanges(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const sql = "SELECT k, COUNT(*) AS n, SUM(v) AS s FROM events GROUP BY k EMIT CHANGES"
	batches := []struct {
		k []string
		v []int64
	}{
		{[]string{"a", "b", "a"}, []int64{1, 2, 3}},
		{[]string{"b", "b"}, []int64{10, 20}},
		{[]string{"c", "a"}, []int64{7, 100}},
	}
	// Within a push, groups come in the order they first appeared in the
	// input (a before c).
	want := [][]string{{"a|2|4", "b|1|2"}, {"b|3|32"}, {"a|3|104", "c|1|7"}}
	for _, parts := range []int{1, 2} {
		eng := velo.New(velo.WithAllocator(mem), velo.WithPartitions(parts))
		var c collector
		q, err := eng.Start(context.Background(), sql, c.sink, velo.WithInputSchema(eventSchema()))
		require.NoError(t, err)
		require.Equal(t, []string{"k", "n", "s"}, fieldNames(q.Schema()))
		var all []string
		for i, b := range batches {
			rec := events(mem, make([]int64, len(b.k)), b.k, b.v)
			require.NoError(t, q.Push(rec))
			rec.Release()
			all = append(all, want[i]...)
			if parts == 1 {
				require.Equal(t, all, c.rows(), "after push %d", i)
			}
		}
		require.NoError(t, q.Close())
		got := c.rows()
		slices.Sort(got)
		slices.Sort(all)
		require.Equal(t, all, got, "%d partitions", parts)
		eng.Close()
	}
}

func fieldNames(s *arrow.Schema) []string {
	var names []string
	for _, f := range s.Fields() {
		names = append(names, f.Name)
	}
	return names
}

// TestStartStateless: a filter/project query emits each pushed batch's
// selected rows during its Push; a plain GROUP BY emits at Close.
func TestStartStateless(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := genMarket(t, mem, 20_000, 1000)
	defer releaseAll(recs)
	eng := velo.New(velo.WithAllocator(mem))
	defer eng.Close()
	require.NoError(t, eng.RegisterTable("market_data", recs))

	var c collector
	q, err := eng.Start(context.Background(), "SELECT symbol, price * 2 AS p2 FROM market_data WHERE price > 100.0", c.sink)
	require.NoError(t, err)
	total := 0
	for _, rec := range recs {
		calls := len(c.calls)
		require.NoError(t, q.Push(rec))
		// Oracle: the rows of rec with price > 100, computed here.
		var want []string
		sym := rec.Column(1).(*array.String)
		price := rec.Column(3).(*array.Float64)
		for i := range int(rec.NumRows()) {
			if p := price.Value(i); p > 100 {
				want = append(want, sym.Value(i)+"|"+formatFloat(p*2))
			}
		}
		var got []string
		for _, call := range c.calls[calls:] {
			got = append(got, call...)
		}
		require.Equal(t, want, got)
		total += len(want)
	}
	require.NoError(t, q.Close())
	require.Greater(t, total, 0)
	require.Len(t, c.rows(), total)

	var agg collector
	q, err = eng.Start(context.Background(), "SELECT symbol, COUNT(*) AS n FROM market_data GROUP BY symbol", agg.sink)
	require.NoError(t, err)
	for _, rec := range recs {
		require.NoError(t, q.Push(rec))
	}
	require.Empty(t, agg.calls)
	require.NoError(t, q.Close())
	got := agg.rows()
	slices.Sort(got)
	want := executeRows(t, eng, "SELECT symbol, COUNT(*) AS n FROM market_data GROUP BY symbol")
	slices.Sort(want)
	require.Equal(t, want, got)
}

func formatFloat(f float64) string {
	b := array.NewFloat64Builder(memory.NewGoAllocator())
	defer b.Release()
	b.Append(f)
	a := b.NewFloat64Array()
	defer a.Release()
	return a.ValueStr(0)
}

// TestStartErrors: schema mismatches name the column and leave the query
// running; a sink error stops it; cancellation stops it.
func TestStartErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	eng := velo.New(velo.WithAllocator(mem))
	defer eng.Close()
	const sql = "SELECT k, v FROM events WHERE v > 1"
	ok := func(arrow.Record) error { return nil }

	_, err := eng.Start(context.Background(), sql, ok)
	require.ErrorContains(t, err, "events", "unregistered stream without WithInputSchema")
	_, err = eng.Start(context.Background(), "SELECT nope FROM events", ok, velo.WithInputSchema(eventSchema()))
	require.ErrorContains(t, err, "nope")

	sinkCalls := 0
	sink := func(rec arrow.Record) error {
		rec.Release()
		sinkCalls++
		if sinkCalls == 2 {
			return errors.New("sink full")
		}
		return nil
	}
	q, err := eng.Start(context.Background(), sql, sink, velo.WithInputSchema(eventSchema()))
	require.NoError(t, err)

	bad := []struct {
		name   string
		fields []arrow.Field
		col    string
	}{
		{"type", []arrow.Field{{Name: "ts", Type: arrow.PrimitiveTypes.Int64}, {Name: "k", Type: arrow.BinaryTypes.String}, {Name: "v", Type: arrow.PrimitiveTypes.Float64}}, `"v"`},
		{"name", []arrow.Field{{Name: "ts", Type: arrow.PrimitiveTypes.Int64}, {Name: "key", Type: arrow.BinaryTypes.String}, {Name: "v", Type: arrow.PrimitiveTypes.Int64}}, `"key"`},
		{"count", []arrow.Field{{Name: "ts", Type: arrow.PrimitiveTypes.Int64}}, "1 columns"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			b := array.NewRecordBuilder(mem, arrow.NewSchema(tc.fields, nil))
			defer b.Release()
			rec := b.NewRecord()
			defer rec.Release()
			err := q.Push(rec)
			require.ErrorContains(t, err, tc.col)
			require.NoError(t, q.Err(), "a rejected record does not stop the query")
		})
	}

	rec := events(mem, []int64{1, 2, 3}, []string{"a", "b", "c"}, []int64{1, 2, 3})
	defer rec.Release()
	require.NoError(t, q.Push(rec))
	require.Equal(t, 1, sinkCalls)
	err = q.Push(rec)
	require.ErrorContains(t, err, "sink full")
	require.Equal(t, err, q.Err())
	require.Equal(t, err, q.Push(rec), "a stopped query keeps its error")
	require.Equal(t, 2, sinkCalls)
	require.Equal(t, err, q.Close())
	require.Equal(t, err, q.Close())

	// An operator error (integer overflow) stops the query.
	q, err = eng.Start(context.Background(), "SELECT v * 4611686018427387904 AS x FROM events", ok, velo.WithInputSchema(eventSchema()))
	require.NoError(t, err)
	err = q.Push(rec)
	require.Error(t, err)
	require.Equal(t, err, q.Close())

	ctx, cancel := context.WithCancel(context.Background())
	q, err = eng.Start(ctx, sql, ok, velo.WithInputSchema(eventSchema()))
	require.NoError(t, err)
	require.NoError(t, q.Push(rec))
	cancel()
	require.ErrorIs(t, q.Push(rec), context.Canceled)
	require.ErrorIs(t, q.Close(), context.Canceled)
}

// TestStartPartitioned runs Start on several partitions (partition.Start
// behind Push): results reach the sink asynchronously and, after Close,
// equal the batch results; explicit watermarks reach every partition; a
// sink error stops the query; no goroutine is left.
func TestStartPartitioned(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := genMarket(t, mem, 50_000, 4096)
	defer releaseAll(recs)
	one := velo.New(velo.WithAllocator(mem))
	defer one.Close()
	require.NoError(t, one.RegisterTable("market_data", recs))
	eng := velo.New(velo.WithAllocator(mem), velo.WithPartitions(3))
	defer eng.Close()
	require.NoError(t, eng.RegisterTable("market_data", recs))
	rng := rand.New(rand.NewPCG(3, 5))

	tests := []struct {
		name    string
		sql     string
		ordered bool // the result keeps the input order
	}{
		{"filter", "SELECT symbol, price * 2 AS p2 FROM market_data WHERE price > 100.0", true},
		{"final", sqlS3aWindows + " EMIT FINAL", false},
		{"group by", "SELECT symbol, COUNT(*) AS n, SUM(quantity) AS q FROM market_data GROUP BY symbol", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			want := executeRows(t, one, tc.sql)
			var c collector
			q, err := eng.Start(context.Background(), tc.sql, c.sink)
			require.NoError(t, err)
			pushRandom(t, q, recs, rng)
			require.NoError(t, q.Close())
			require.NoError(t, q.Close())
			got := c.rows()
			if !tc.ordered {
				slices.Sort(want)
				slices.Sort(got)
			}
			require.Equal(t, want, got)
		})
	}

	t.Run("changes", func(t *testing.T) {
		want := executeRows(t, one, sqlS3aWindows+" EMIT FINAL")
		slices.Sort(want)
		var c collector
		q, err := eng.Start(context.Background(), sqlS3aWindows+" EMIT CHANGES", c.sink)
		require.NoError(t, err)
		pushRandom(t, q, recs, rng)
		require.NoError(t, q.Close())
		last := map[string]string{}
		for _, row := range c.rows() {
			cells := strings.Split(row, "|")
			last[strings.Join(cells[:3], "|")] = row
		}
		got := make([]string, 0, len(last))
		for _, r := range last {
			got = append(got, r)
		}
		slices.Sort(got)
		require.Equal(t, want, got)
	})

	t.Run("watermark", func(t *testing.T) {
		sql := "SELECT k, window_start, window_end, COUNT(*) AS n, SUM(v) AS s FROM events GROUP BY k WINDOW TUMBLING(ts, INTERVAL '10' SECOND) EMIT FINAL"
		for _, explicit := range []bool{false, true} {
			var c collector
			q, err := eng.Start(context.Background(), sql, c.sink, velo.WithInputSchema(eventSchema()))
			require.NoError(t, err)
			a := events(mem, []int64{1000, 2000, 9000}, []string{"a", "b", "a"}, []int64{1, 2, 3})
			require.NoError(t, q.Push(a))
			a.Release()
			if explicit {
				require.NoError(t, q.Watermark(10_000))
			}
			b := events(mem, []int64{3000, 16000}, []string{"b", "b"}, []int64{100, 5})
			require.NoError(t, q.Push(b))
			b.Release()
			require.NoError(t, q.Close())
			got := c.rows()
			slices.Sort(got)
			// The explicit watermark closed [0, 10 s) before b's row at
			// 3 s arrived: it is late and dropped.
			want := []string{"a|0|10000|2|4", "b|0|10000|2|102", "b|10000|20000|1|5"}
			if explicit {
				want = []string{"a|0|10000|2|4", "b|0|10000|1|2", "b|10000|20000|1|5"}
			}
			require.Equal(t, want, got)
		}
	})

	t.Run("operator error", func(t *testing.T) {
		q, err := eng.Start(context.Background(), "SELECT quantity * 4611686018427387904 AS x FROM market_data", func(rec arrow.Record) error {
			rec.Release()
			return nil
		})
		require.NoError(t, err)
		for _, rec := range recs {
			if q.Push(rec) != nil {
				break
			}
		}
		require.ErrorIs(t, q.Close(), exec.ErrOverflow)
		require.ErrorIs(t, q.Close(), exec.ErrOverflow)
	})

	t.Run("sink error", func(t *testing.T) {
		boom := errors.New("sink full")
		calls := 0
		q, err := eng.Start(context.Background(), "SELECT symbol FROM market_data WHERE price > 10.0", func(rec arrow.Record) error {
			rec.Release()
			calls++
			return boom
		})
		require.NoError(t, err)
		for _, rec := range recs {
			if q.Push(rec) != nil {
				break
			}
		}
		require.ErrorIs(t, q.Close(), boom)
		require.ErrorIs(t, q.Err(), boom)
		require.Equal(t, 1, calls)
	})
}

// TestStartPartitionedCancel: cancelling the context stops every goroutine
// of a partitioned query before Close, which reports the cancellation.
func TestStartPartitionedCancel(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := genMarket(t, mem, 20_000, 1000)
	defer releaseAll(recs)
	eng := velo.New(velo.WithAllocator(mem), velo.WithPartitions(2))
	defer eng.Close()
	require.NoError(t, eng.RegisterTable("market_data", recs))
	ctx, cancel := context.WithCancel(context.Background())
	var c collector
	q, err := eng.Start(ctx, "SELECT symbol, price FROM market_data WHERE price > 10.0", c.sink)
	require.NoError(t, err)
	for _, rec := range recs[:5] {
		require.NoError(t, q.Push(rec))
	}
	cancel()
	goleak.VerifyNone(t)
	require.ErrorIs(t, q.Push(recs[5]), context.Canceled)
	require.ErrorIs(t, q.Close(), context.Canceled)
}

// BenchmarkStart pushes BENCH.md's market_data (8,192-row batches) through
// continuous S3a (EMIT FINAL) and S3b (EMIT CHANGES) on one partition and
// reports input rows/s and the per-batch latency (Push → its results
// handed to the sink) p50/p99.
func BenchmarkStart(b *testing.B) {
	mem := memory.NewGoAllocator()
	recs := genMarket(b, mem, benchRows, 8192)
	defer releaseAll(recs)
	eng := velo.New(velo.WithAllocator(mem))
	defer eng.Close()
	if err := eng.RegisterTable("market_data", recs); err != nil {
		b.Fatal(err)
	}
	for _, sc := range []struct{ name, sql string }{{"S3a", sqlS3a + " EMIT FINAL"}, {"S3b", sqlS3a + " EMIT CHANGES"}} {
		b.Run(sc.name, func(b *testing.B) {
			sink := func(rec arrow.Record) error { rec.Release(); return nil }
			var lat []time.Duration
			b.ResetTimer()
			for range b.N {
				q, err := eng.Start(context.Background(), sc.sql, sink)
				if err != nil {
					b.Fatal(err)
				}
				for _, rec := range recs {
					t0 := time.Now()
					if err := q.Push(rec); err != nil {
						b.Fatal(err)
					}
					lat = append(lat, time.Since(t0))
				}
				if err := q.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds()), "p99-µs")
		})
	}
}

// TestStartLimit: a satisfied LIMIT ends the query; later pushes are
// accepted and ignored, on one partition and on several.
func TestStartLimit(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, parts := range []int{1, 3} {
		eng := velo.New(velo.WithAllocator(mem), velo.WithPartitions(parts))
		var c collector
		q, err := eng.Start(context.Background(), "SELECT k, v FROM events WHERE v > 1 LIMIT 3", c.sink, velo.WithInputSchema(eventSchema()))
		require.NoError(t, err)
		for i := range int64(4) {
			rec := events(mem, []int64{1, 2}, []string{"a", "b"}, []int64{10*i + 1, 10*i + 2})
			require.NoError(t, q.Push(rec))
			rec.Release()
		}
		require.NoError(t, q.Close())
		require.Equal(t, []string{"b|2", "a|11", "b|12"}, c.rows(), "partitions=%d", parts)
		eng.Close()
	}
}
