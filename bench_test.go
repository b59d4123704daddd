package velo_test

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/agg"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

const benchRows = 1_000_000

var scenarios = map[string]string{
	"S0":  "SELECT symbol, price, quantity, price * quantity AS notional FROM market_data WHERE price > 100.0",
	"S2":  "SELECT symbol, COUNT(*) AS trade_count, AVG(price) AS avg_price, MIN(price) AS min_price, MAX(price) AS max_price, SUM(quantity) AS total_quantity FROM market_data GROUP BY symbol",
	"S2h": "SELECT trader_id, COUNT(*) AS trade_count, AVG(price) AS avg_price, MIN(price) AS min_price, MAX(price) AS max_price, SUM(quantity) AS total_quantity FROM market_data GROUP BY trader_id",
}

// BenchmarkScenarios runs S0, S2 and S2h through the full SQL path (SQL
// sub-benchmark) and the same work at library level (Library: kernels and
// agg called directly) in one run; compare their rows/s.
func BenchmarkScenarios(b *testing.B) {
	mem := memory.NewGoAllocator()
	recs := genMarket(b, mem, benchRows, 8192)
	defer releaseAll(recs)
	for _, name := range []string{"S0", "S2", "S2h"} {
		b.Run(name+"/SQL", func(b *testing.B) {
			eng := velo.New(velo.WithAllocator(mem))
			defer eng.Close()
			if err := eng.RegisterTable("market_data", recs); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				res, err := eng.Execute(context.Background(), scenarios[name])
				if err != nil {
					b.Fatal(err)
				}
				for res.Next() {
				}
				if err := res.Err(); err != nil {
					b.Fatal(err)
				}
				res.Release()
			}
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
		})
		b.Run(name+"/Library", func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if name == "S0" {
					libraryS0(b, recs)
				} else {
					key := 1 // symbol
					if name == "S2h" {
						key = 2 // trader_id
					}
					libraryS2(b, mem, recs, key)
				}
			}
			b.ReportMetric(float64(benchRows)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
		})
		// Paired alternates the two within each iteration, so host load
		// drifts affect both alike; it reports the SQL/library ratio.
		b.Run(name+"/Paired", func(b *testing.B) {
			eng := velo.New(velo.WithAllocator(mem))
			defer eng.Close()
			if err := eng.RegisterTable("market_data", recs); err != nil {
				b.Fatal(err)
			}
			var sqlTime, libTime time.Duration
			for i := 0; i < b.N; i++ {
				t0 := time.Now()
				res, err := eng.Execute(context.Background(), scenarios[name])
				if err != nil {
					b.Fatal(err)
				}
				for res.Next() {
				}
				if err := res.Err(); err != nil {
					b.Fatal(err)
				}
				res.Release()
				t1 := time.Now()
				if name == "S0" {
					libraryS0(b, recs)
				} else {
					key := 1
					if name == "S2h" {
						key = 2
					}
					libraryS2(b, mem, recs, key)
				}
				sqlTime += t1.Sub(t0)
				libTime += time.Since(t1)
			}
			b.ReportMetric(float64(benchRows)*float64(b.N)/sqlTime.Seconds()/1e6, "sql-Mrows/s")
			b.ReportMetric(float64(benchRows)*float64(b.N)/libTime.Seconds()/1e6, "lib-Mrows/s")
			b.ReportMetric(100*libTime.Seconds()/sqlTime.Seconds(), "sql/lib-%")
		})
	}
}

// libraryS0 is S0 by hand: compare kernel → compress → gather the three
// columns and compute notional into Arrow arrays.
func libraryS0(b *testing.B, recs []arrow.Record) {
	var bits []byte
	var sel []int32
	for _, rec := range recs {
		price, _ := columnar.Float64Column(rec, "price")
		qty, _ := columnar.Int64Column(rec, "quantity")
		offs, data, _ := columnar.StringColumn(rec, "symbol")
		n := len(price)
		if cap(bits) < kernels.BitmapBytes(n) {
			bits = make([]byte, kernels.BitmapBytes(n))
			sel = make([]int32, n)
		}
		kernels.CompareFloat64Scalar(bits[:kernels.BitmapBytes(n)], price, kernels.Gt, 100.0)
		k := kernels.Compress(sel[:n], bits[:kernels.BitmapBytes(n)], n)
		s := sel[:k]
		p := make([]float64, k)
		q := make([]int64, k)
		notional := make([]float64, k)
		kernels.TakeFloat64(p, price, s)
		kernels.TakeInt64(q, qty, s)
		for j := range notional {
			notional[j] = p[j] * float64(q[j])
		}
		so := make([]int32, k+1)
		size := int32(0)
		for j, r := range s {
			size += offs[r+1] - offs[r]
			so[j+1] = size
		}
		sd := make([]byte, size)
		for j, r := range s {
			copy(sd[so[j]:so[j+1]], data[offs[r]:offs[r+1]])
		}
		if len(notional) != k || int(so[k]) != len(sd) {
			b.Fatal("gather size")
		}
	}
}

func libraryS2(b *testing.B, mem memory.Allocator, recs []arrow.Record, key int) {
	a, err := agg.New(mem, recs[0].Schema(), []agg.KeySpec{{Column: key}}, []agg.AggSpec{
		{Func: agg.CountStar}, {Func: agg.Avg, Column: 3}, {Func: agg.Min, Column: 3}, {Func: agg.Max, Column: 3}, {Func: agg.Sum, Column: 4},
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, rec := range recs {
		if err := a.Update(columnar.Batch{Rec: rec}); err != nil {
			b.Fatal(err)
		}
	}
	out, err := a.Emit()
	if err != nil {
		b.Fatal(err)
	}
	out.Release()
}
