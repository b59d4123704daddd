package window_test

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/agg"
	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/window"
)

const benchRows = 2_000_000

// marketData is bench market_data (2 M rows, seed 42, 8,192-row batches)
// with total_value = price * quantity appended (the projection exec runs
// before the window operator in S3a/S3b).
var marketData = sync.OnceValues(func() ([]arrow.Record, error) {
	mem := memory.NewGoAllocator()
	recs, err := bench.NewMarketData(mem, bench.MarketDataConfig{Rows: benchRows, Seed: 42, BatchSize: 8192}).GenerateAll()
	if err != nil {
		return nil, err
	}
	sch := recs[0].Schema()
	fields := append(slices.Clone(sch.Fields()), arrow.Field{Name: "total_value", Type: arrow.PrimitiveTypes.Float64})
	ext := arrow.NewSchema(fields, nil)
	out := make([]arrow.Record, len(recs))
	for i, r := range recs {
		price := r.Column(3).(*array.Float64).Float64Values()
		qty := r.Column(4).(*array.Int64).Int64Values()
		tv := make([]float64, len(price))
		for j := range tv {
			tv[j] = price[j] * float64(qty[j])
		}
		col := columnar.BuildFloat64(mem, tv, nil)
		out[i] = array.NewRecord(ext, append(slices.Clone(r.Columns()), col), r.NumRows())
		col.Release()
		r.Release()
	}
	return out, nil
})

func loadMarket(b *testing.B) []arrow.Record {
	recs, err := marketData()
	if err != nil {
		b.Fatal(err)
	}
	return recs
}

// reportRows reports input rows per wall-clock second and per CPU-second
// of the process (the host is shared: CPU time is the steadier figure).
func reportRows(b *testing.B, start time.Time, cpu0 time.Duration) {
	rows := float64(benchRows) * float64(b.N)
	b.ReportMetric(rows/time.Since(start).Seconds()/1e6, "Mrows/s")
	if c := cpuTime() - cpu0; c > 0 {
		b.ReportMetric(rows/c.Seconds()/1e6, "Mrows/cpu-s")
	}
}

// BenchmarkS1 is BENCH.md S1: AVG, MIN, MAX of price over the last 100 rows
// per symbol (1,000 symbols), ordered by trade_time, bounded input.
func BenchmarkS1(b *testing.B) {
	recs := loadMarket(b)
	mem := memory.NewGoAllocator()
	spec := window.RowsSpec{PartitionBy: []int{1}, OrderBy: 0, Calls: []window.Call{
		{Func: window.Avg, Arg: 3, Preceding: 99, Name: "ma100"},
		{Func: window.Min, Arg: 3, Preceding: 99, Name: "min100"},
		{Func: window.Max, Arg: 3, Preceding: 99, Name: "max100"},
	}}
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		op, err := window.NewRows(mem, recs[0].Schema(), spec)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if _, err := op.Push(columnar.Batch{Rec: r}); err != nil {
				b.Fatal(err)
			}
		}
		out, err := op.Finish()
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range out {
			r.Release()
		}
		op.Release()
	}
	reportRows(b, start, cpu0)
}

func s3Spec(emit window.EmitMode) window.Spec {
	return window.Spec{Kind: window.Tumbling, TimeCol: 0, SizeMs: 60_000, Emit: emit,
		Keys: []agg.KeySpec{{Column: 1}},
		Aggs: []agg.AggSpec{
			{Func: agg.CountStar, Name: "trade_count"}, {Func: agg.Avg, Column: 3, Name: "avg_price"},
			{Func: agg.Min, Column: 3, Name: "low"}, {Func: agg.Max, Column: 3, Name: "high"},
			{Func: agg.Sum, Column: 4, Name: "total_quantity"}, {Func: agg.Sum, Column: 5, Name: "total_value"},
		}}
}

// BenchmarkS3a is BENCH.md S3a: 1-minute tumbling bars per symbol, EMIT FINAL.
func BenchmarkS3a(b *testing.B) {
	recs := loadMarket(b)
	mem := memory.NewGoAllocator()
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	var st window.Stats
	for i := 0; i < b.N; i++ {
		st = runS3a(b, mem, recs)
	}
	reportRows(b, start, cpu0)
	b.ReportMetric(float64(st.OutputRows), "out-rows")
	b.ReportMetric(float64(st.LateRows), "late-rows")
}

// runS3a runs S3a's EMIT FINAL window over recs once and returns its
// counters.
func runS3a(b *testing.B, mem memory.Allocator, recs []arrow.Record) window.Stats {
	w, err := window.NewTimeWindow(mem, recs[0].Schema(), s3Spec(window.EmitFinal))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Release()
	for _, r := range recs {
		out, err := w.Push(columnar.Batch{Rec: r})
		if err != nil {
			b.Fatal(err)
		}
		release(out)
	}
	out, err := w.Finish()
	if err != nil {
		b.Fatal(err)
	}
	release(out)
	return w.Stats()
}

// BenchmarkS3b is BENCH.md S3b: S3a with EMIT CHANGES; it also reports the
// per-batch latency (Push until its changes are returned) percentiles.
func BenchmarkS3b(b *testing.B) {
	recs := loadMarket(b)
	mem := memory.NewGoAllocator()
	lat := make([]time.Duration, 0, len(recs))
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		w, err := window.NewTimeWindow(mem, recs[0].Schema(), s3Spec(window.EmitChanges))
		if err != nil {
			b.Fatal(err)
		}
		lat = lat[:0]
		for _, r := range recs {
			t0 := time.Now()
			out, err := w.Push(columnar.Batch{Rec: r})
			lat = append(lat, time.Since(t0))
			if err != nil {
				b.Fatal(err)
			}
			release(out)
		}
		out, err := w.Finish()
		if err != nil {
			b.Fatal(err)
		}
		release(out)
		w.Release()
	}
	reportRows(b, start, cpu0)
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(pct(0.50), "p50-µs")
	b.ReportMetric(pct(0.95), "p95-µs")
	b.ReportMetric(pct(0.99), "p99-µs")
}

func release(rs []arrow.Record) {
	for _, r := range rs {
		r.Release()
	}
}

// BenchmarkS3aKeyedAlternative measures the design not taken for S3a: one
// aggregator keyed by (symbol, window_start), the window start computed
// per row into an extra int64 column. It only updates (closing windows
// would add Evict/Compact on top), so it bounds that design from below.
func BenchmarkS3aKeyedAlternative(b *testing.B) {
	recs := loadMarket(b)
	mem := memory.NewGoAllocator()
	sch := recs[0].Schema()
	fields := append(slices.Clone(sch.Fields()), arrow.Field{Name: "window_start", Type: arrow.PrimitiveTypes.Int64})
	ext := arrow.NewSchema(fields, nil)
	spec := s3Spec(window.EmitFinal)
	keys := []agg.KeySpec{{Column: 1}, {Column: ext.NumFields() - 1}}
	ws := make([]int64, 8192)
	b.ResetTimer()
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		a, err := agg.New(mem, ext, keys, spec.Aggs)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			ts := r.Column(0).(*array.Int64).Int64Values()
			ws = ws[:len(ts)]
			for j, t := range ts {
				ws[j] = t - t%60_000
			}
			col := columnar.BuildInt64(mem, ws, nil)
			rec := array.NewRecord(ext, append(slices.Clone(r.Columns()), col), r.NumRows())
			col.Release()
			if err := a.Update(columnar.Batch{Rec: rec}); err != nil {
				b.Fatal(err)
			}
			rec.Release()
		}
	}
	reportRows(b, start, cpu0)
}

// BenchmarkWindowKinds runs the S3a aggregates over sliding (1 min every
// 10 s: 6 windows per row) and session (gap 500 ms per symbol) windows.
func BenchmarkWindowKinds(b *testing.B) {
	recs := loadMarket(b)
	mem := memory.NewGoAllocator()
	for _, k := range []struct {
		name string
		mod  func(*window.Spec)
	}{
		{"sliding", func(s *window.Spec) { s.Kind, s.SlideMs = window.Sliding, 10_000 }},
		{"session", func(s *window.Spec) { s.Kind, s.GapMs = window.Session, 500 }},
	} {
		b.Run(k.name, func(b *testing.B) {
			spec := s3Spec(window.EmitFinal)
			k.mod(&spec)
			start, cpu0 := time.Now(), cpuTime()
			for i := 0; i < b.N; i++ {
				w, err := window.NewTimeWindow(mem, recs[0].Schema(), spec)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range recs {
					out, err := w.Push(columnar.Batch{Rec: r})
					if err != nil {
						b.Fatal(err)
					}
					release(out)
				}
				out, err := w.Finish()
				if err != nil {
					b.Fatal(err)
				}
				release(out)
				b.ReportMetric(float64(w.Stats().OutputRows), "out-rows")
				w.Release()
			}
			reportRows(b, start, cpu0)
		})
	}
}
