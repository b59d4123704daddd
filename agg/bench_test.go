package agg_test

import (
	"math"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/agg"
	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/columnar"
)

// Benchmarks shaped like BENCH.md's S2 (GROUP BY symbol, 1,000 string
// groups) and S2h (GROUP BY trader_id, 100,000 int groups) with S2's five
// aggregates, at the library level, each beside a naive Go-map baseline
// (one goroutine, plain loops, one map lookup per row) in the same run:
//
//	go test -run '^$' -bench 'S2' -count 5 ./agg/

const benchRows = 2_000_000

var benchData []arrow.Record

func marketData(b *testing.B) []arrow.Record {
	if benchData == nil {
		g := bench.NewMarketData(memory.NewGoAllocator(), bench.MarketDataConfig{Rows: benchRows, Seed: 42, BatchSize: 8192})
		recs, err := g.GenerateAll()
		g.Release()
		if err != nil {
			b.Fatal(err)
		}
		benchData = recs
	}
	return benchData
}

func s2Aggs(schema *arrow.Schema) []agg.AggSpec {
	price := schema.FieldIndices(bench.ColumnPrice)[0]
	qty := schema.FieldIndices(bench.ColumnQuantity)[0]
	return []agg.AggSpec{
		{Func: agg.CountStar, Name: "trade_count"},
		{Func: agg.Avg, Column: price, Name: "avg_price"},
		{Func: agg.Min, Column: price, Name: "min_price"},
		{Func: agg.Max, Column: price, Name: "max_price"},
		{Func: agg.Sum, Column: qty, Name: "total_quantity"},
	}
}

func benchVelo(b *testing.B, keyCol string) {
	recs := marketData(b)
	schema := bench.MarketDataSchema()
	key := schema.FieldIndices(keyCol)[0]
	b.ResetTimer()
	var groups, bytes int
	for i := 0; i < b.N; i++ {
		a, err := agg.New(memory.DefaultAllocator, schema, []agg.KeySpec{{Column: key}}, s2Aggs(schema))
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := a.Update(columnar.Batch{Rec: r}); err != nil {
				b.Fatal(err)
			}
		}
		out, err := a.Emit()
		if err != nil {
			b.Fatal(err)
		}
		groups, bytes = int(out.NumRows()), a.Bytes()
		out.Release()
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(bytes)/float64(groups), "B/group")
}

type naiveAcc struct {
	count            int64
	sumPrice         float64
	minPrice, maxPrc float64
	sumQty           int64
}

func (a *naiveAcc) add(p float64, q int64) {
	if a.count == 0 || p < a.minPrice {
		a.minPrice = p
	}
	if a.count == 0 || p > a.maxPrc {
		a.maxPrc = p
	}
	a.count++
	a.sumPrice += p
	a.sumQty += q
}

func benchNaiveString(b *testing.B) {
	recs := marketData(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := map[string]*naiveAcc{}
		for _, r := range recs {
			sym := r.Column(1).(*array.String)
			price := r.Column(3).(*array.Float64).Float64Values()
			qty := r.Column(4).(*array.Int64).Int64Values()
			for j := 0; j < int(r.NumRows()); j++ {
				a := m[sym.Value(j)]
				if a == nil {
					a = &naiveAcc{}
					m[sym.Value(j)] = a
				}
				a.add(price[j], qty[j])
			}
		}
		if len(m) == 0 || math.IsNaN(m["SYM0000"].sumPrice) {
			b.Fatal("no groups")
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func benchNaiveInt(b *testing.B) {
	recs := marketData(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := map[int64]*naiveAcc{}
		for _, r := range recs {
			tid := r.Column(2).(*array.Int64).Int64Values()
			price := r.Column(3).(*array.Float64).Float64Values()
			qty := r.Column(4).(*array.Int64).Int64Values()
			for j := range tid {
				a := m[tid[j]]
				if a == nil {
					a = &naiveAcc{}
					m[tid[j]] = a
				}
				a.add(price[j], qty[j])
			}
		}
		if len(m) == 0 {
			b.Fatal("no groups")
		}
	}
	b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

func BenchmarkS2(b *testing.B) {
	b.Run("velo", func(b *testing.B) { benchVelo(b, bench.ColumnSymbol) })
	b.Run("naive-map", benchNaiveString)
}

func BenchmarkS2h(b *testing.B) {
	b.Run("velo", func(b *testing.B) { benchVelo(b, bench.ColumnTraderID) })
	b.Run("naive-map", benchNaiveInt)
}

// BenchmarkEmit measures emitting S2's aggregates grouped by symbol (1,000
// string groups) and by trader_id (100,000 int groups): ns per emitted
// group, for all groups and for every other group by id.
//
//	go test -run '^$' -bench Emit -count 5 ./agg/
func BenchmarkEmit(b *testing.B) {
	recs := marketData(b)
	schema := bench.MarketDataSchema()
	for _, keyCol := range []string{bench.ColumnSymbol, bench.ColumnTraderID} {
		a, err := agg.New(memory.DefaultAllocator, schema, []agg.KeySpec{{Column: schema.FieldIndices(keyCol)[0]}}, s2Aggs(schema))
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range recs {
			if err := a.Update(columnar.Batch{Rec: r}); err != nil {
				b.Fatal(err)
			}
		}
		var half []uint32
		for g := 0; g < a.NumGroups(); g += 2 {
			half = append(half, uint32(g))
		}
		for _, ids := range []struct {
			name string
			ids  []uint32
		}{{"all", nil}, {"half", half}} {
			b.Run(keyCol+"/"+ids.name, func(b *testing.B) {
				n := a.NumGroups()
				if ids.ids != nil {
					n = len(ids.ids)
				}
				for b.Loop() {
					rec, err := a.EmitGroups(ids.ids)
					if err != nil {
						b.Fatal(err)
					}
					rec.Release()
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/group")
			})
		}
	}
}
