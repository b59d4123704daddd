package velo_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/sqlfront"
)

func genMarket(t testing.TB, mem memory.Allocator, rows int64, batch int) []arrow.Record {
	g := bench.NewMarketData(mem, bench.MarketDataConfig{Rows: rows, Seed: 42, BatchSize: batch})
	defer g.Release()
	recs, err := g.GenerateAll()
	require.NoError(t, err)
	return recs
}

func releaseAll(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

func collect(t *testing.T, r array.RecordReader) (rows int64, err error) {
	defer r.Release()
	for r.Next() {
		rows += r.Record().NumRows()
	}
	return rows, r.Err()
}

func TestEngineSources(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := genMarket(t, mem, 10_000, 1000)
	defer releaseAll(recs)
	eng := velo.New(velo.WithAllocator(mem), velo.WithPartitions(4), velo.WithBatchSize(512))
	defer eng.Close()
	require.Equal(t, 4, eng.Partitions())
	ctx := context.Background()

	// Records are re-readable.
	require.NoError(t, eng.RegisterTable("market_data", recs))
	for i := 0; i < 2; i++ {
		res, err := eng.Execute(ctx, "SELECT symbol FROM market_data WHERE quantity > 500")
		require.NoError(t, err)
		n, err := collect(t, res)
		require.NoError(t, err)
		want := int64(0)
		for _, r := range recs {
			q, _ := columnar.Int64Column(r, "quantity")
			for _, v := range q {
				if v > 500 {
					want++
				}
			}
		}
		require.Equal(t, want, n)
	}

	// A RecordReader is consumed once.
	rdr, err := array.NewRecordReader(recs[0].Schema(), recs)
	require.NoError(t, err)
	require.NoError(t, eng.RegisterTable("once", rdr))
	res, err := eng.Execute(ctx, "SELECT COUNT(*) FROM once")
	require.NoError(t, err)
	n, err := collect(t, res)
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	_, err = eng.Execute(ctx, "SELECT COUNT(*) FROM once")
	require.ErrorIs(t, err, velo.ErrConsumed)

	// A file path is opened per query.
	path := filepath.Join(t.TempDir(), "md.parquet")
	w, err := columnar.CreateFile(path, recs[0].Schema(), mem)
	require.NoError(t, err)
	for _, r := range recs {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Close())
	require.NoError(t, eng.RegisterTable("md_file", path))
	res, err = eng.Execute(ctx, "SELECT SUM(quantity) AS q FROM md_file")
	require.NoError(t, err)
	require.True(t, res.Next())
	got := res.Record().Column(0).(*array.Int64).Value(0)
	res.Release()
	want := int64(0)
	for _, r := range recs {
		q, _ := columnar.Int64Column(r, "quantity")
		for _, v := range q {
			want += v
		}
	}
	require.Equal(t, want, got)

	// EXPLAIN, Explain and bind errors with positions.
	plan, err := eng.Explain("SELECT price FROM market_data WHERE price > 1.0")
	require.NoError(t, err)
	require.Contains(t, plan, "Filter")
	res, err = eng.Execute(ctx, "EXPLAIN SELECT price FROM market_data")
	require.NoError(t, err)
	n, err = collect(t, res)
	require.NoError(t, err)
	require.Positive(t, n)
	// At several partitions EXPLAIN also says how they run the query; at
	// one it does not.
	eng1 := velo.New(velo.WithAllocator(mem))
	defer eng1.Close()
	require.NoError(t, eng1.RegisterTable("market_data", recs))
	plan1, err := eng1.Explain("SELECT price FROM market_data WHERE price > 1.0")
	require.NoError(t, err)
	require.NotContains(t, plan1, "Partitions:")
	for sql, want := range map[string]string{
		"SELECT symbol, COUNT(*) AS n FROM market_data GROUP BY symbol WINDOW TUMBLING(trade_time, INTERVAL '1' MINUTE)": "Partitions: hash(symbol) (by window if windows span few records, else two-phase if few groups) × 4",
		"SELECT symbol, COUNT(*) AS n FROM market_data GROUP BY symbol WINDOW SESSION(trade_time, INTERVAL '1' MINUTE)":  "Partitions: hash(symbol) × 4",
		"SELECT price FROM market_data WHERE price > 1.0 WITH ('partitions' = '2')":                                      "Partitions: round_robin × 2",
	} {
		plan, err := eng.Explain(sql)
		require.NoError(t, err)
		require.True(t, strings.HasSuffix(plan, want+"\n"), "%s:\n%s", sql, plan)
		res, err := eng.Execute(ctx, "EXPLAIN "+sql)
		require.NoError(t, err)
		var lines []string
		for res.Next() {
			col := res.Record().Column(0).(*array.String)
			for i := range col.Len() {
				lines = append(lines, col.Value(i))
			}
		}
		require.NoError(t, res.Err())
		res.Release()
		require.Equal(t, want, lines[len(lines)-1], sql)
	}
	_, err = eng.Explain("SELECT symbol, COUNT(*) AS n FROM market_data GROUP BY symbol WINDOW SESSION(trade_time, INTERVAL '1' MINUTE) WITH ('partitioning.strategy' = 'round_robin')")
	require.ErrorContains(t, err, "only tumbling and sliding windows")
	_, err = eng.Execute(ctx, "SELECT price FROM market_dat")
	var se *sqlfront.Error
	require.ErrorAs(t, err, &se)
	require.Contains(t, err.Error(), `did you mean "market_data"`)
	require.Error(t, eng.RegisterTable("bad", 42))
	require.Error(t, eng.RegisterTable("bad", []arrow.Record{}))
}

// A LIMIT stops reading the source early, and abandoning a reader or a
// cancelled context leaves no allocation behind.
func TestEngineLimitAndCancel(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := genMarket(t, mem, 50_000, 1000)
	defer releaseAll(recs)
	counter := &countingReader{RecordReader: mustReader(t, recs)}
	eng := velo.New(velo.WithAllocator(mem))
	defer eng.Close()
	require.NoError(t, eng.RegisterTable("market_data", counter))
	res, err := eng.Execute(context.Background(), "SELECT symbol, price FROM market_data WHERE price > 10.0 LIMIT 5")
	require.NoError(t, err)
	n, err := collect(t, res)
	require.NoError(t, err)
	require.Equal(t, int64(5), n)
	require.Equal(t, 1, counter.batches, "LIMIT must stop reading after the first batch")

	require.NoError(t, eng.RegisterTable("market_data", recs))
	ctx, cancel := context.WithCancel(context.Background())
	res, err = eng.Execute(ctx, "SELECT symbol, price * quantity FROM market_data")
	require.NoError(t, err)
	require.True(t, res.Next())
	cancel()
	for res.Next() {
	}
	require.True(t, errors.Is(res.Err(), context.Canceled))
	res.Release()

	// Abandoned mid-way and an error mid-way.
	res, err = eng.Execute(context.Background(), "SELECT symbol, price FROM market_data ORDER BY price DESC")
	require.NoError(t, err)
	require.True(t, res.Next())
	res.Release()
	res, err = eng.Execute(context.Background(), "SELECT quantity * 9223372036854775807 FROM market_data")
	require.NoError(t, err)
	_, err = collect(t, res)
	require.Error(t, err)
	// An OVER query runs (the window operator), but one that cannot be
	// planned is still an error before any reader exists.
	res, err = eng.Execute(context.Background(), "SELECT symbol, AVG(price) OVER (PARTITION BY symbol ORDER BY trade_time ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) FROM market_data")
	require.NoError(t, err)
	_, err = collect(t, res)
	require.NoError(t, err)
	res, err = eng.Execute(context.Background(), "SELECT symbol, AVG(price) OVER (PARTITION BY symbol ORDER BY symbol ROWS BETWEEN 9 PRECEDING AND CURRENT ROW) FROM market_data")
	require.Nil(t, res)
	require.ErrorContains(t, err, "ORDER BY")
}

func mustReader(t *testing.T, recs []arrow.Record) array.RecordReader {
	r, err := array.NewRecordReader(recs[0].Schema(), recs)
	require.NoError(t, err)
	return r
}

type countingReader struct {
	array.RecordReader
	batches int
}

func (c *countingReader) Next() bool {
	ok := c.RecordReader.Next()
	if ok {
		c.batches++
	}
	return ok
}

// Queries on one engine may run concurrently (each has its own pipeline
// and reader over shared, read-only records).
func TestEngineConcurrentQueries(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := genMarket(t, mem, 20_000, 1000)
	defer releaseAll(recs)
	eng := velo.New(velo.WithAllocator(mem))
	defer eng.Close()
	require.NoError(t, eng.RegisterTable("market_data", recs))
	queries := []string{
		"SELECT symbol, COUNT(*) AS n FROM market_data GROUP BY symbol ORDER BY n DESC, symbol LIMIT 10",
		"SELECT symbol, price * quantity AS v FROM market_data WHERE price > 100.0",
		"SELECT DISTINCT symbol FROM market_data",
	}
	want := make([]int64, len(queries))
	for i, q := range queries {
		res, err := eng.Execute(context.Background(), q)
		require.NoError(t, err)
		want[i], err = collect(t, res)
		require.NoError(t, err)
	}
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func(g int) {
			q := queries[g%len(queries)]
			res, err := eng.Execute(context.Background(), q)
			if err != nil {
				errs <- err
				return
			}
			n, err := collect(t, res)
			if err == nil && n != want[g%len(queries)] {
				err = fmt.Errorf("%s: %d rows, want %d", q, n, want[g%len(queries)])
			}
			errs <- err
		}(g)
	}
	for g := 0; g < 8; g++ {
		require.NoError(t, <-errs)
	}
}

// Column types the evaluator does not handle yet are errors, not panics;
// plain pass-through still works.
func TestEngineUnsupportedTypes(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "u", Type: arrow.PrimitiveTypes.Uint8},
		{Name: "l", Type: arrow.BinaryTypes.LargeString},
	}, nil)
	ub := array.NewUint8Builder(mem)
	ub.AppendValues([]uint8{1, 2, 3}, nil)
	lb := array.NewLargeStringBuilder(mem)
	lb.AppendValues([]string{"a", "b", "c"}, nil)
	u, l := ub.NewArray(), lb.NewArray()
	ub.Release()
	lb.Release()
	rec := array.NewRecord(schema, []arrow.Array{u, l}, 3)
	u.Release()
	l.Release()
	defer rec.Release()
	eng := velo.New(velo.WithAllocator(mem))
	defer eng.Close()
	require.NoError(t, eng.RegisterTable("x", rec))

	res, err := eng.Execute(context.Background(), "SELECT u, l FROM x")
	require.NoError(t, err)
	n, err := collect(t, res)
	require.NoError(t, err)
	require.Equal(t, int64(3), n)
	for _, q := range []string{"SELECT u + 1 FROM x", "SELECT l FROM x WHERE l = 'a'", "SELECT u FROM x ORDER BY u"} {
		res, err := eng.Execute(context.Background(), q)
		if err == nil {
			_, err = collect(t, res)
		}
		require.ErrorContains(t, err, "not supported", q)
	}
}

// TestConcurrentQueriesShareTable: queries running at once over one
// in-memory table share its records; sliced records (whose null counts
// Arrow computes lazily) and a dictionary column must not race (-race).
func TestConcurrentQueriesShareTable(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}, Nullable: true},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	var wantSum, wantNulls, wantKeys int64
	for i := range 1000 {
		kb := b.Field(0).(*array.BinaryDictionaryBuilder)
		if i%7 == 0 {
			kb.AppendNull()
		} else {
			if i > 0 {
				wantKeys++
			}
			require.NoError(t, kb.AppendString(fmt.Sprintf("k%d", i%5)))
		}
		if i%3 == 0 {
			b.Field(1).AppendNull()
			if i > 0 {
				wantNulls++
			}
		} else {
			b.Field(1).(*array.Int64Builder).Append(int64(i))
			if i > 0 {
				wantSum += int64(i)
			}
		}
	}
	full := b.NewRecord()
	rec := full.NewSlice(1, 1000) // null counts unknown until asked
	full.Release()
	eng := velo.New(velo.WithAllocator(mem), velo.WithPartitions(1))
	defer eng.Close()
	require.NoError(t, eng.RegisterTable("t", rec))
	rec.Release()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rdr, err := eng.Execute(context.Background(), "SELECT SUM(v) AS s, COUNT(*) - COUNT(v) AS nulls, COUNT(k) AS ks FROM t")
			if !assert.NoError(t, err) {
				return
			}
			defer rdr.Release()
			if assert.True(t, rdr.Next()) {
				r := rdr.Record()
				assert.Equal(t, wantSum, r.Column(0).(*array.Int64).Value(0))
				assert.Equal(t, wantNulls, r.Column(1).(*array.Int64).Value(0))
				assert.Equal(t, wantKeys, r.Column(2).(*array.Int64).Value(0))
			}
		}()
	}
	wg.Wait()
}
