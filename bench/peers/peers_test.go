package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/columnar"
)

// handRecords is four trades in two batches, with hand-computed results below.
func handRecords(mem memory.Allocator) []arrow.Record {
	schema := bench.MarketDataSchema()
	mk := func(t []int64, sym []string, tr []int64, p []float64, q []int64) arrow.Record {
		cols := []arrow.Array{columnar.BuildInt64(mem, t, nil), columnar.BuildString(mem, sym, nil),
			columnar.BuildInt64(mem, tr, nil), columnar.BuildFloat64(mem, p, nil), columnar.BuildInt64(mem, q, nil)}
		rec := array.NewRecord(schema, cols, int64(len(t)))
		for _, c := range cols {
			c.Release()
		}
		return rec
	}
	return []arrow.Record{
		mk([]int64{0, 1000}, []string{"A", "B"}, []int64{7, 8}, []float64{50, 200}, []int64{2, 3}),
		mk([]int64{61000, 500}, []string{"A", "A"}, []int64{7, 7}, []float64{150, 120}, []int64{4, 5}),
	}
}

func TestNaiveHandComputed(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := handRecords(mem)
	defer bench.ReleaseAll(recs)
	sum := func(id string) Checksum {
		r, err := naive(id, recs)
		require.NoError(t, err)
		return r.checksum()
	}
	// S0: rows with price > 100: B 200×3, A 150×4, A 120×5.
	s0 := sum("S0")
	require.Equal(t, int64(3), s0.Rows)
	require.Equal(t, 470.0, s0.Cols["price"].Sum)
	require.Equal(t, 600.0+600+600, s0.Cols["notional"].Sum)
	require.Equal(t, ColSum{Len: 3, Min: "A", Max: "B"}, s0.Cols["symbol"])
	// S2: A {50,150,120} and B {200}: avg sum 320/3 + 200, quantities 11 + 3.
	s2 := sum("S2")
	require.Equal(t, int64(2), s2.Rows)
	require.InDelta(t, 320.0/3+200, s2.Cols["avg_price"].Sum, 1e-12)
	require.Equal(t, 50.0+200, s2.Cols["min_price"].Sum)
	require.Equal(t, 150.0+200, s2.Cols["max_price"].Sum)
	require.Equal(t, 14.0, s2.Cols["total_quantity"].Sum)
	require.Equal(t, 4.0, s2.Cols["trade_count"].Sum)
	// S2h: trader 7 {50,150,120}, 8 {200}: same figures, keys 7 + 8.
	s2h := sum("S2h")
	require.Equal(t, 15.0, s2h.Cols["trader_id"].Sum)
	require.InDelta(t, s2.Cols["avg_price"].Sum, s2h.Cols["avg_price"].Sum, 1e-12)
	// S1: A in time order 50 (t0), 120 (t500), 150 (t61000); B 200.
	// ma: 50, 85, 320/3, 200; min: 50, 50, 50, 200; max: 50, 120, 150, 200.
	s1 := sum("S1")
	require.Equal(t, int64(4), s1.Rows)
	require.InDelta(t, 50+85+320.0/3+200, s1.Cols["ma100"].Sum, 1e-12)
	require.Equal(t, 350.0, s1.Cols["min100"].Sum)
	require.Equal(t, 520.0, s1.Cols["max100"].Sum)
	// S3a: bars (A, 0) {50, 120}, (A, 1) {150}, (B, 0) {200}.
	s3a := sum("S3a")
	require.Equal(t, int64(3), s3a.Rows)
	require.Equal(t, 85.0+150+200, s3a.Cols["avg_price"].Sum)
	require.Equal(t, 100.0+600+600+600, s3a.Cols["total_value"].Sum)
	// S3b: batch 1 touches (A,0), (B,0); batch 2 touches (A,1), (A,0).
	s3b := sum("S3b")
	require.Equal(t, int64(4), s3b.Rows)
	require.Equal(t, 1.0+1+1+2, s3b.Cols["trade_count"].Sum)
	_, err := naive("S9", recs)
	require.Error(t, err)
}

func TestAgree(t *testing.T) {
	a := Checksum{Rows: 2, Cols: map[string]ColSum{"x": {Numeric: true, Sum: 1e9}, "symbol": {Len: 4, Min: "A", Max: "B"}}}
	require.NoError(t, Agree(a, a))
	b := a
	b.Rows = 3
	require.ErrorContains(t, Agree(a, b), "row counts differ")
	c := Checksum{Rows: 2, Cols: map[string]ColSum{"x": {Numeric: true, Sum: 1e9 + 1}, "symbol": a.Cols["symbol"]}}
	require.NoError(t, Agree(a, c), "within the relative tolerance")
	c.Cols["x"] = ColSum{Numeric: true, Sum: 1.001e9}
	require.ErrorContains(t, Agree(a, c), "column x: sums differ")
	c.Cols["x"] = a.Cols["x"]
	c.Cols["symbol"] = ColSum{Len: 4, Min: "A", Max: "C"}
	require.ErrorContains(t, Agree(a, c), "column symbol: strings differ")
	require.ErrorContains(t, Agree(a, Checksum{Rows: 2, Cols: map[string]ColSum{"y": {}}}), "no column in common")
}

// TestEnginesAgree checks naive Go, Velo and DuckDB against each other on
// generated rows: row counts and checksums of every supported scenario.
func TestEnginesAgree(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	gen := bench.NewMarketData(mem, bench.MarketDataConfig{Rows: 30_000, Seed: 5, BatchSize: 4096})
	recs, err := gen.GenerateAll()
	gen.Release()
	require.NoError(t, err)
	defer bench.ReleaseAll(recs)
	path := filepath.Join(t.TempDir(), "md.parquet")
	require.NoError(t, writeParquet(path, recs, mem))
	ctx := context.Background()
	d, err := openDuck(ctx, path)
	require.NoError(t, err)
	defer d.Close()
	require.NoError(t, d.setThreads(ctx, 2))
	eng := velo.New(velo.WithAllocator(mem))
	defer eng.Close()
	require.NoError(t, eng.RegisterTable(bench.MarketDataTable, recs))
	for _, id := range bench.ScenarioIDs() {
		t.Run(id, func(t *testing.T) {
			nr, err := naive(id, recs)
			require.NoError(t, err)
			ns := nr.checksum()
			require.Positive(t, ns.Rows)
			if _, ok := duckSQL[id]; ok {
				ds, err := d.run(ctx, id)
				require.NoError(t, err)
				require.NoError(t, Agree(ns, ds))
				require.Len(t, ds.Cols, len(checkCols[id]))
			}
			rd, err := eng.Execute(ctx, bench.Scenarios()[indexOf(id)].SQL)
			if err != nil {
				t.Logf("Velo: %v", err)
				return
			}
			vs, err := ChecksumRecords(rd, checkCols[id])
			rd.Release()
			require.NoError(t, err)
			require.NoError(t, Agree(ns, vs))
		})
	}
}

func indexOf(id string) int {
	for i, s := range bench.ScenarioIDs() {
		if s == id {
			return i
		}
	}
	return -1
}

func TestRunSmall(t *testing.T) {
	var out, errb bytes.Buffer
	plot := filepath.Join(t.TempDir(), "p.svg")
	err := run(context.Background(), []string{"--rows", "20000", "--reps", "1", "--warmup", "0", "--partitions", "1", "--plot", plot}, &out, &errb)
	require.NoError(t, err, errb.String())
	s := out.String()
	require.Regexp(t, `S2\s+1\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d\s+\d+\.\d\d`, s)
	require.Contains(t, s, "S0 ×1: naive vs DuckDB ok; Velo vs DuckDB ok; Velo vs naive ok")
	require.Contains(t, s, "S2h ×1: naive vs DuckDB ok; Velo vs DuckDB ok")
	require.NotContains(t, s, "MISMATCH")
	for _, bad := range [][]string{{"--partitions", "0"}, {"--scenarios", "S9"}, {"--rows", "0"}, {"extra"}} {
		err := run(context.Background(), bad, &out, &errb)
		require.Error(t, err, strings.Join(bad, " "))
	}
}
