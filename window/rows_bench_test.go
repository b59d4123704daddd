package window_test

import (
	"os"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/window"
)

// s1Rows is the market_data size of BenchmarkRowsS1: BENCH.md's 10 M rows
// unless VELO_S1_ROWS says otherwise.
func s1Rows() int {
	if n, err := strconv.Atoi(os.Getenv("VELO_S1_ROWS")); err == nil && n > 0 {
		return n
	}
	return 10_000_000
}

var s1Data = sync.OnceValues(func() ([]arrow.Record, error) {
	return bench.NewMarketData(memory.NewGoAllocator(), bench.MarketDataConfig{Rows: int64(s1Rows()), Seed: 42, BatchSize: 8192}).GenerateAll()
})

// BenchmarkRowsS1 is BENCH.md S1 at the library level over full-size
// market_data (window.Rows alone: no scan, projection or output batching)
// next to BENCH.md's naive Go baseline (map of per-symbol slices, stable
// sort, running sum, MIN/MAX rescanned per row) measured in the same
// binary; compare the Mrows/s of the two sub-benchmarks.
func BenchmarkRowsS1(b *testing.B) {
	recs, err := s1Data()
	if err != nil {
		b.Fatal(err)
	}
	rows := 0
	for _, r := range recs {
		rows += int(r.NumRows())
	}
	report := func(b *testing.B, start time.Time, cpu0 time.Duration) {
		n := float64(rows) * float64(b.N)
		b.ReportMetric(n/time.Since(start).Seconds()/1e6, "Mrows/s")
		if c := cpuTime() - cpu0; c > 0 {
			b.ReportMetric(n/c.Seconds()/1e6, "Mrows/cpu-s")
		}
	}
	// S1 partitions by symbol (1,000 keys); by-trader partitions the same
	// frames by trader_id (100,000 keys of ~100 rows: a frame per key).
	for _, key := range []int{1, 2} {
		for _, perRow := range []bool{false, true} {
			name := "frames"
			if perRow {
				name = "per-row"
			}
			if key == 2 {
				name = "by-trader/" + name
			}
			b.Run(name, func(b *testing.B) {
				mem := memory.NewGoAllocator()
				spec := window.RowsSpec{PartitionBy: []int{key}, OrderBy: 0, Calls: []window.Call{
					{Func: window.Avg, Arg: 3, Preceding: 99, Name: "ma100"},
					{Func: window.Min, Arg: 3, Preceding: 99, Name: "min100"},
					{Func: window.Max, Arg: 3, Preceding: 99, Name: "max100"},
				}}
				b.ReportAllocs()
				start, cpu0 := time.Now(), cpuTime()
				for range b.N {
					op, err := window.NewRows(mem, recs[0].Schema(), spec)
					if err != nil {
						b.Fatal(err)
					}
					if perRow {
						window.SetPerRow(op)
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
				report(b, start, cpu0)
			})
		}
	}
	// streaming: the same calls over an unbounded input (the per-row path:
	// rows released as the watermark passes them).
	b.Run("streaming", func(b *testing.B) {
		mem := memory.NewGoAllocator()
		spec := window.RowsSpec{PartitionBy: []int{1}, OrderBy: 0, Streaming: true, Calls: []window.Call{
			{Func: window.Avg, Arg: 3, Preceding: 99, Name: "ma100"},
			{Func: window.Min, Arg: 3, Preceding: 99, Name: "min100"},
			{Func: window.Max, Arg: 3, Preceding: 99, Name: "max100"},
		}}
		b.ReportAllocs()
		start, cpu0 := time.Now(), cpuTime()
		for range b.N {
			op, err := window.NewRows(mem, recs[0].Schema(), spec)
			if err != nil {
				b.Fatal(err)
			}
			for _, r := range recs {
				out, err := op.Push(columnar.Batch{Rec: r})
				if err != nil {
					b.Fatal(err)
				}
				for _, o := range out {
					o.Release()
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
		report(b, start, cpu0)
	})
	b.Run("naive", func(b *testing.B) {
		b.ReportAllocs()
		start, cpu0 := time.Now(), cpuTime()
		for range b.N {
			naiveS1(recs)
		}
		report(b, start, cpu0)
	})
}

// naiveS1 is bench/peers' naive Go S1: per symbol a slice of (time,
// price), a stable sort by time, a running sum, and MIN/MAX rescanned over
// the frame per row.
func naiveS1(recs []arrow.Record) (ma, mn, mx []float64) {
	type row struct {
		t int64
		p float64
	}
	bySym := map[string][]row{}
	for _, rec := range recs {
		tm := rec.Column(0).(*array.Int64).Int64Values()
		sym := rec.Column(1).(*array.String)
		price := rec.Column(3).(*array.Float64).Float64Values()
		for i, t := range tm {
			s := sym.Value(i)
			bySym[s] = append(bySym[s], row{t, price[i]})
		}
	}
	for _, rows := range bySym {
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].t < rows[j].t })
		sum := 0.0
		for i, r := range rows {
			sum += r.p
			lo := i - 99
			if lo > 0 {
				sum -= rows[lo-1].p
			} else {
				lo = 0
			}
			wmin, wmax := r.p, r.p
			for _, w := range rows[lo:i] {
				if w.p < wmin {
					wmin = w.p
				}
				if w.p > wmax {
					wmax = w.p
				}
			}
			ma = append(ma, sum/float64(i-lo+1))
			mn = append(mn, wmin)
			mx = append(mx, wmax)
		}
	}
	return ma, mn, mx
}
