package bench

import (
	"encoding/binary"
	"fmt"
	"math"
	"runtime"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"
)

// rowHash is xxhash64 over every row in order (trade_time, symbol length and
// bytes, trader_id, price bits, quantity, little-endian), so it does not
// depend on how the rows are cut into batches.
func rowHash(t testing.TB, recs []arrow.Record) (uint64, int64) {
	t.Helper()
	d := xxhash.New()
	var buf [8]byte
	put := func(v uint64) {
		binary.LittleEndian.PutUint64(buf[:], v)
		_, _ = d.Write(buf[:])
	}
	var rows int64
	for _, r := range recs {
		require.True(t, r.Schema().Equal(MarketDataSchema()))
		tt := r.Column(0).(*array.Int64)
		sym := r.Column(1).(*array.String)
		tr := r.Column(2).(*array.Int64)
		pr := r.Column(3).(*array.Float64)
		q := r.Column(4).(*array.Int64)
		for i := 0; i < int(r.NumRows()); i++ {
			put(uint64(tt.Value(i)))
			s := sym.Value(i)
			put(uint64(len(s)))
			_, _ = d.WriteString(s)
			put(uint64(tr.Value(i)))
			put(math.Float64bits(pr.Value(i)))
			put(uint64(q.Value(i)))
		}
		rows += r.NumRows()
	}
	return d.Sum64(), rows
}

// generate materialises cfg and returns the records (caller releases).
func generate(t testing.TB, mem memory.Allocator, cfg MarketDataConfig) []arrow.Record {
	t.Helper()
	g := NewMarketData(mem, cfg)
	defer g.Release()
	recs, err := g.GenerateAll()
	require.NoError(t, err)
	return recs
}

func release(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

func hashOf(t *testing.T, cfg MarketDataConfig) uint64 {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := generate(t, mem, cfg)
	defer release(recs)
	h, rows := rowHash(t, recs)
	require.Equal(t, cfg.Rows, rows)
	return h
}

func TestMarketDataSchema(t *testing.T) {
	s := MarketDataSchema()
	want := []struct {
		name string
		typ  arrow.DataType
	}{
		{ColumnTradeTime, arrow.PrimitiveTypes.Int64},
		{ColumnSymbol, arrow.BinaryTypes.String},
		{ColumnTraderID, arrow.PrimitiveTypes.Int64},
		{ColumnPrice, arrow.PrimitiveTypes.Float64},
		{ColumnQuantity, arrow.PrimitiveTypes.Int64},
	}
	require.Equal(t, len(want), s.NumFields())
	for i, w := range want {
		f := s.Field(i)
		require.Equal(t, w.name, f.Name)
		require.True(t, arrow.TypeEqual(w.typ, f.Type), "column %s: %s", f.Name, f.Type)
		v, ok := f.Metadata.GetValue(EventTimeMetadataKey)
		if f.Name == ColumnTradeTime {
			require.True(t, ok)
			require.Equal(t, "true", v)
		} else {
			require.False(t, ok, "column %s must not be the event-time column", f.Name)
		}
	}
	require.Equal(t, "velo.event_time", EventTimeMetadataKey)
}

// goldenHash is rowHash of the first 100,000 rows of seed 42, computed once
// natively on amd64; the same value must come out with -tags purego and on
// arm64 (under qemu), or the data set is not portable.
const goldenHash = uint64(0x79a25a5dc3d5ddfa)

func TestMarketDataGoldenHash(t *testing.T) {
	for _, c := range []struct{ batchSize, workers int }{{8192, 0}, {100_000, 2}, {777, 3}} {
		cfg := MarketDataConfig{Rows: 100_000, Seed: 42, BatchSize: c.batchSize, Workers: c.workers}
		require.Equal(t, goldenHash, hashOf(t, cfg), "batch size %d, workers %d", c.batchSize, c.workers)
	}
}

func TestMarketDataDeterminism(t *testing.T) {
	base := MarketDataConfig{Rows: 50_000, Seed: 42, BatchSize: 8192}
	h := hashOf(t, base)
	cases := []struct {
		name string
		cfg  MarketDataConfig
		same bool
	}{
		{"same config", base, true},
		{"batch size 1000", MarketDataConfig{Rows: 50_000, Seed: 42, BatchSize: 1000}, true},
		{"batch size 7", MarketDataConfig{Rows: 50_000, Seed: 42, BatchSize: 7}, true},
		{"one batch", MarketDataConfig{Rows: 50_000, Seed: 42, BatchSize: 50_000}, true},
		{"batch larger than rows", MarketDataConfig{Rows: 50_000, Seed: 42, BatchSize: 1 << 20}, true},
		{"default batch size", MarketDataConfig{Rows: 50_000, Seed: 42}, true},
		{"seed 43", MarketDataConfig{Rows: 50_000, Seed: 43, BatchSize: 8192}, false},
		{"seed 0", MarketDataConfig{Rows: 50_000, Seed: 0, BatchSize: 8192}, false},
		{"seed 1<<63", MarketDataConfig{Rows: 50_000, Seed: 1 << 63, BatchSize: 8192}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := hashOf(t, c.cfg)
			if c.same {
				require.Equal(t, h, got)
			} else {
				require.NotEqual(t, h, got)
			}
		})
	}
}

// streamAll collects every record through Next (retained; caller releases).
func streamAll(t *testing.T, g *MarketData) []arrow.Record {
	t.Helper()
	var recs []arrow.Record
	for g.Next() {
		r := g.Record()
		r.Retain()
		recs = append(recs, r)
	}
	require.NoError(t, g.Err())
	return recs
}

// TestMarketDataWorkers: GenerateAll on several goroutines gives exactly the
// rows Next gives on one, also when it resumes after some Next calls.
func TestMarketDataWorkers(t *testing.T) {
	const rows = 30_001
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	g := NewMarketData(mem, MarketDataConfig{Rows: rows, Seed: 5, BatchSize: 1000})
	ref := streamAll(t, g)
	g.Release()
	want, n := rowHash(t, ref)
	release(ref)
	require.Equal(t, int64(rows), n)

	for _, workers := range []int{1, 2, 3, 8, 64} {
		for _, bs := range []int{1000, 4096, rows} {
			for _, skip := range []int{0, 2} {
				t.Run(fmt.Sprintf("workers=%d,batch=%d,skip=%d", workers, bs, skip), func(t *testing.T) {
					g := NewMarketData(mem, MarketDataConfig{Rows: rows, Seed: 5, BatchSize: bs, Workers: workers})
					defer g.Release()
					require.Equal(t, workers, g.Config().Workers)
					var recs []arrow.Record
					for i := 0; i < skip && g.Next(); i++ {
						g.Record().Retain()
						recs = append(recs, g.Record())
					}
					rest, err := g.GenerateAll()
					require.NoError(t, err)
					recs = append(recs, rest...)
					defer release(recs)
					got, n := rowHash(t, recs)
					require.Equal(t, int64(rows), n)
					require.Equal(t, want, got)
					require.False(t, g.Next(), "everything was generated")
					again, err := g.GenerateAll()
					require.NoError(t, err)
					require.Empty(t, again)
				})
			}
		}
	}
}

// TestMarketDataPrefix: the first n rows do not depend on how many rows
// are generated in total.
func TestMarketDataPrefix(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	short := generate(t, mem, MarketDataConfig{Rows: 10_000, Seed: 9, BatchSize: 4096})
	defer release(short)
	long := generate(t, mem, MarketDataConfig{Rows: 30_000, Seed: 9, BatchSize: 4096})
	defer release(long)
	// 10,000 = 4096 + 4096 + 1808: compare the two full batches and the prefix of the third.
	for i := 0; i < 2; i++ {
		require.True(t, array.RecordEqual(short[i], long[i]), "batch %d", i)
	}
	tail := long[2].NewSlice(0, 1808)
	defer tail.Release()
	require.True(t, array.RecordEqual(short[2], tail))
}

func TestMarketDataBatches(t *testing.T) {
	cases := []struct {
		rows      int64
		batchSize int
		want      []int64
	}{
		{0, 8192, nil},
		{1, 8192, []int64{1}},
		{1, 1, []int64{1}},
		{5, 2, []int64{2, 2, 1}},
		{8192, 8192, []int64{8192}},
		{8193, 8192, []int64{8192, 1}},
		{20_000, 8192, []int64{8192, 8192, 3616}},
		{100, 0, []int64{100}}, // 0 means DefaultBatchSize
		{10, -3, []int64{10}},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("rows=%d,batch=%d", c.rows, c.batchSize), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			g := NewMarketData(mem, MarketDataConfig{Rows: c.rows, Seed: 1, BatchSize: c.batchSize})
			defer g.Release()
			require.True(t, g.Schema().Equal(MarketDataSchema()))
			var sizes []int64
			var row int64
			for g.Next() {
				r := g.Record()
				require.Equal(t, int64(5), r.NumCols())
				for c := 0; c < 5; c++ {
					require.Equal(t, r.NumRows(), int64(r.Column(c).Len()))
					require.Zero(t, r.Column(c).NullN())
				}
				offs := r.Column(1).(*array.String).ValueOffsets()
				require.Len(t, offs, int(r.NumRows())+1)
				for i, o := range offs {
					require.Equal(t, int32(7*i), o)
				}
				require.Len(t, r.Column(1).(*array.String).ValueBytes(), 7*int(r.NumRows()))
				sizes = append(sizes, r.NumRows())
				tt := r.Column(0).(*array.Int64)
				sym := r.Column(1).(*array.String)
				for i := 0; i < tt.Len(); i++ {
					// Late rows are at most 2 s early; on-time rows are exactly base+row.
					require.LessOrEqual(t, tt.Value(i), BaseTradeTime+row)
					require.GreaterOrEqual(t, tt.Value(i), BaseTradeTime+row-MaxLatenessMillis)
					require.Regexp(t, `^SYM0\d{3}$`, sym.Value(i))
					row++
				}
			}
			require.NoError(t, g.Err())
			require.Equal(t, c.want, sizes)
			require.Equal(t, c.rows, row)
			require.False(t, g.Next(), "Next after the end")
			require.Nil(t, g.Record())
		})
	}
}

func TestMarketDataRetainRelease(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	g := NewMarketData(mem, MarketDataConfig{Rows: 100, Seed: 1, BatchSize: 64})
	require.True(t, g.Next())
	kept := g.Record()
	kept.Retain()
	g.Retain()
	g.Release() // one reference left: the current record stays alive
	require.NotNil(t, g.Record())
	require.True(t, g.Next())
	require.Equal(t, int64(64), kept.NumRows(), "a retained record outlives Next")
	require.Equal(t, int64(36), g.Record().NumRows())
	g.Release() // frees the current record
	require.Nil(t, g.Record())
	kept.Release()
}

func TestMarketDataInvalidConfig(t *testing.T) {
	cases := []struct {
		cfg  MarketDataConfig
		want string
	}{
		{MarketDataConfig{Rows: -1}, "rows must be >= 0, got -1"},
		{MarketDataConfig{Rows: 10, BatchSize: MaxBatchSize + 1}, "batch size must be <="},
	}
	for _, c := range cases {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		g := NewMarketData(mem, c.cfg)
		require.False(t, g.Next())
		require.ErrorContains(t, g.Err(), c.want)
		recs, err := g.GenerateAll()
		require.Nil(t, recs)
		require.ErrorContains(t, err, c.want)
		g.Release()
		mem.AssertSize(t, 0)
	}
}

func TestDefaultMarketDataConfig(t *testing.T) {
	require.Equal(t, MarketDataConfig{Rows: 10_000_000, Seed: 42, BatchSize: 8192}, DefaultMarketDataConfig())
	g := NewMarketData(memory.NewGoAllocator(), MarketDataConfig{Rows: 1})
	defer g.Release()
	require.Equal(t, DefaultBatchSize, g.Config().BatchSize)
	require.Equal(t, 1, g.Config().Workers)
}

// TestMarketDataDistributions checks each column's law on 2,000,000 rows of
// seed 42 against independently computed expectations. Tolerances are
// k standard deviations of the estimator (stated per check).
func TestMarketDataDistributions(t *testing.T) {
	const rows = 2_000_000
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	g := NewMarketData(mem, MarketDataConfig{Rows: rows, Seed: 42})
	defer g.Release()

	var (
		late, latenessSum        int64
		minLateness, maxLateness = int64(math.MaxInt64), int64(0)
		symCount                 [NumSymbols]int64
		minTrader, maxTrader     = int64(math.MaxInt64), int64(math.MinInt64)
		minQty, maxQty           = int64(math.MaxInt64), int64(math.MinInt64)
		traderSum, qtySum        float64
		qtyHist                  [MaxQuantity + 1]int64
		lastPrice                [NumSymbols]float64
		minPrice, maxPrice       = math.Inf(1), math.Inf(-1)
		row                      int64
	)
	rankOf := map[string]int{}
	for k := 0; k < NumSymbols; k++ {
		rankOf[SymbolName(k)] = k
	}
	// Per-row checks avoid require (too slow per row under qemu): the first
	// violation fails the test.
	bad := func(format string, args ...any) {
		t.Helper()
		require.FailNowf(t, "bad row", format, args...)
	}
	for g.Next() {
		r := g.Record()
		tt := r.Column(0).(*array.Int64).Int64Values()
		sym := r.Column(1).(*array.String)
		tr := r.Column(2).(*array.Int64).Int64Values()
		pr := r.Column(3).(*array.Float64).Float64Values()
		q := r.Column(4).(*array.Int64).Int64Values()
		for i := range tt {
			if d := BaseTradeTime + row - tt[i]; d != 0 {
				late++
				latenessSum += d
				minLateness, maxLateness = min(minLateness, d), max(maxLateness, d)
			}
			k, ok := rankOf[sym.Value(i)]
			if !ok {
				bad("row %d: unknown symbol %q", row, sym.Value(i))
			}
			symCount[k]++

			minTrader, maxTrader = min(minTrader, tr[i]), max(maxTrader, tr[i])
			traderSum += float64(tr[i])
			minQty, maxQty = min(minQty, q[i]), max(maxQty, q[i])
			qtySum += float64(q[i])
			if q[i] >= 1 && q[i] <= MaxQuantity {
				qtyHist[q[i]]++
			}

			// Prices: whole cents, within ±band of the symbol's base, and
			// each trade moves the symbol's price by at most step cents.
			p := pr[i]
			st := g.syms[k]
			cents := math.Round(p * 100)
			if cents/100 != p {
				bad("row %d: price %v is not a whole number of cents", row, p)
			}
			if math.Abs(cents-float64(st.base)) > float64(st.band) {
				bad("row %d: price %v outside %d ± %d cents", row, p, st.base, st.band)
			}
			if lastPrice[k] != 0 && math.Abs(cents-math.Round(lastPrice[k]*100)) > float64(st.step) {
				bad("row %d: %s moved from %v to %v, more than %d cents", row, SymbolName(k), lastPrice[k], p, st.step)
			}
			lastPrice[k] = p
			minPrice, maxPrice = min(minPrice, p), max(maxPrice, p)
			row++
		}
	}
	require.NoError(t, g.Err())
	require.Equal(t, int64(rows), row)

	// Late rows: 1 % ± 0.2 % (the binomial sd is 0.007 %), lateness within
	// [1, 2000] ms, mean ≈ 1000.5 (sd of the mean ≈ 577/sqrt(20000) ≈ 4).
	frac := float64(late) / rows
	require.InDelta(t, 0.01, frac, 0.002)
	require.InDelta(t, 0.01, frac, 5*math.Sqrt(0.01*0.99/rows), "late fraction %v beyond 5 sd", frac)
	require.Equal(t, int64(1), minLateness)
	require.Equal(t, MaxLatenessMillis, maxLateness)
	require.InDelta(t, 1000.5, float64(latenessSum)/float64(late), 5*577.0/math.Sqrt(float64(late)))

	// Zipf: expected share of rank k is k^-1.1 / H, computed here with
	// math.Pow (independent of the generator's bisection). Each rank's count
	// is within 5 binomial sd; chi-square over all 1000 ranks is below
	// dof + 6·sqrt(2·dof) (p ≈ 1e-8 for a correct sampler).
	var hsum float64
	for k := 1; k <= NumSymbols; k++ {
		hsum += math.Pow(float64(k), -ZipfExponent)
	}
	var chi2 float64
	for k := 0; k < NumSymbols; k++ {
		p := math.Pow(float64(k+1), -ZipfExponent) / hsum
		exp := p * rows
		d := float64(symCount[k]) - exp
		chi2 += d * d / exp
		require.InDelta(t, exp, float64(symCount[k]), 5*math.Sqrt(rows*p*(1-p)), "rank %d (%s)", k+1, SymbolName(k))
	}
	require.Less(t, chi2, 999+6*math.Sqrt(2*999), "chi-square over the symbol ranks")
	top := float64(symCount[0]) / rows
	require.InDelta(t, 1/hsum, top, 0.002, "share of SYM0000")
	t.Logf("SYM0000 share %.4f (expected %.4f), chi2 %.1f", top, 1/hsum, chi2)

	// trader_id uniform in [0, 100000): extremes hit, mean 49999.5 ± 5 sd.
	require.Equal(t, int64(0), minTrader)
	require.Equal(t, NumTraders-1, maxTrader)
	require.InDelta(t, 49999.5, traderSum/rows, 5*28867.5/math.Sqrt(rows))
	// quantity uniform in [1, 1000]: every value's count within 5 sd of 2000.
	require.Equal(t, int64(1), minQty)
	require.Equal(t, MaxQuantity, maxQty)
	require.InDelta(t, 500.5, qtySum/rows, 5*288.7/math.Sqrt(rows))
	for v := int64(1); v <= MaxQuantity; v++ {
		require.InDelta(t, rows/1000.0, float64(qtyHist[v]), 5*math.Sqrt(rows/1000.0), "quantity %d", v)
	}
	// Prices: inside the documented global bounds.
	require.GreaterOrEqual(t, minPrice, MinPrice)
	require.LessOrEqual(t, maxPrice, MaxPrice)
}

// TestSymbolBasePrices: every symbol's base price is in [10, 500] and the
// walk parameters keep the price inside [MinPrice, MaxPrice].
func TestSymbolBasePrices(t *testing.T) {
	for _, seed := range []uint64{0, 42, math.MaxUint64} {
		g := NewMarketData(memory.NewGoAllocator(), MarketDataConfig{Rows: 1, Seed: seed})
		distinct := map[int64]bool{}
		for k, s := range g.syms {
			require.GreaterOrEqual(t, float64(s.base)/100, MinBasePrice, "seed %d symbol %d", seed, k)
			require.LessOrEqual(t, float64(s.base)/100, MaxBasePrice, "seed %d symbol %d", seed, k)
			require.Equal(t, int64(0), s.offset(g.pos[k]), "walks start at the base price")
			require.Less(t, s.step, s.band)
			require.GreaterOrEqual(t, float64(s.base-s.band)/100, MinPrice)
			require.LessOrEqual(t, float64(s.base+s.band)/100, MaxPrice)
			distinct[s.base] = true
		}
		require.Greater(t, len(distinct), 900, "base prices should differ between symbols")
		g.Release()
	}
}

// TestPriceFold: the folded walk reflects at ±band (hand-computed cases).
func TestPriceFold(t *testing.T) {
	s := symbolState{band: 10, period: 40}
	cases := []struct{ pos, want int64 }{
		{10, 0}, {0, -10}, {20, 10}, {25, 5}, {30, 0}, {39, -9}, {15, 5},
	}
	for _, c := range cases {
		require.Equal(t, c.want, s.offset(c.pos), "pos %d", c.pos)
	}
}

// TestZipfTable: the alias table's implied probabilities equal the Zipf law
// computed with math.Pow to within 1e-9 (32-bit coins and float rounding).
func TestZipfTable(t *testing.T) {
	tab := symbolAlias()
	require.Len(t, tab, NumSymbols)
	got := make([]float64, NumSymbols)
	for k, e := range tab {
		keep := float64(e.thr) / (1 << 32)
		if e.thr == ^uint32(0) && int(e.alias) == k {
			keep = 1
		}
		got[k] += keep / NumSymbols
		got[e.alias] += (1 - keep) / NumSymbols
	}
	var h float64
	for k := 1; k <= NumSymbols; k++ {
		h += math.Pow(float64(k), -ZipfExponent)
	}
	for k := range got {
		require.InDelta(t, math.Pow(float64(k+1), -ZipfExponent)/h, got[k], 1e-9, "rank %d", k+1)
	}
	// tenthRoot against math.Pow.
	for _, x := range []float64{1, 2, 3, 10, 999, 1000, 1024} {
		require.InEpsilon(t, math.Pow(x, 0.1), tenthRoot(x), 1e-15, "x=%v", x)
	}
}

func TestSymbolName(t *testing.T) {
	require.Equal(t, "SYM0000", SymbolName(0))
	require.Equal(t, "SYM0042", SymbolName(42))
	require.Equal(t, "SYM0999", SymbolName(NumSymbols-1))
}

// bytesPerRow is what one row occupies in the records: three int64, one
// float64, 7 symbol bytes and one int32 offset.
const bytesPerRow = 8 + 8 + 8 + 8 + 7 + 4

// BenchmarkMarketData measures generation into memory. stream: one op is one
// 8,192-row batch, released before the next (the RecordReader path).
// materialise: one op is GenerateAll of rows rows on workers goroutines, all
// kept in memory (what the benchmark harness does before timing).
func BenchmarkMarketData(b *testing.B) {
	b.Run(fmt.Sprintf("stream/batch=%d", DefaultBatchSize), func(b *testing.B) {
		g := NewMarketData(memory.NewGoAllocator(), MarketDataConfig{Rows: math.MaxInt64, Seed: 42})
		defer g.Release()
		b.SetBytes(int64(DefaultBatchSize) * bytesPerRow)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if !g.Next() {
				b.Fatal(g.Err())
			}
		}
		b.ReportMetric(float64(b.N)*float64(DefaultBatchSize)/b.Elapsed().Seconds(), "rows/s")
	})
	for _, bc := range []struct {
		rows    int64
		workers int
	}{{1_000_000, 1}, {DefaultRows, 1}, {1_000_000, runtime.GOMAXPROCS(0)}, {DefaultRows, runtime.GOMAXPROCS(0)}} {
		rows := bc.rows
		b.Run(fmt.Sprintf("materialise/rows=%d/workers=%d", rows, bc.workers), func(b *testing.B) {
			b.SetBytes(rows * bytesPerRow)
			for i := 0; i < b.N; i++ {
				g := NewMarketData(memory.NewGoAllocator(), MarketDataConfig{Rows: rows, Seed: 42, Workers: bc.workers})
				recs, err := g.GenerateAll()
				if err != nil {
					b.Fatal(err)
				}
				g.Release()
				release(recs)
			}
			b.ReportMetric(float64(b.N)*float64(rows)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
