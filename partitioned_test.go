package velo_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	velo "github.com/velo-engine/velo"
)

// The BENCH.md group-by scenarios.
const (
	sqlS2  = "SELECT symbol, COUNT(*) AS trade_count, AVG(price) AS avg_price, MIN(price) AS min_price, MAX(price) AS max_price, SUM(quantity) AS total_quantity FROM market_data GROUP BY symbol"
	sqlS2h = "SELECT trader_id, COUNT(*) AS trade_count, AVG(price) AS avg_price, MIN(price) AS min_price, MAX(price) AS max_price, SUM(quantity) AS total_quantity FROM market_data GROUP BY trader_id"
)

// resultRows renders every row of a result ("a|b|c"); floats with 12
// significant digits, so partial sums merged in another order compare
// equal.
func resultRows(t *testing.T, r array.RecordReader) []string {
	t.Helper()
	defer r.Release()
	var rows []string
	for r.Next() {
		rec := r.Record()
		for i := range int(rec.NumRows()) {
			cells := make([]string, rec.NumCols())
			for c := range cells {
				col := rec.Column(c)
				switch {
				case col.IsNull(i):
					cells[c] = "NULL"
				case col.DataType().ID() == arrow.FLOAT64:
					cells[c] = strconv.FormatFloat(col.(*array.Float64).Value(i), 'g', 12, 64)
				default:
					cells[c] = col.ValueStr(i)
				}
			}
			rows = append(rows, strings.Join(cells, "|"))
		}
	}
	require.NoError(t, r.Err())
	return rows
}

// TestEnginePartitioned runs queries of every shape at 1, 2, 4 and 7
// partitions and compares them with the single-partition results (as
// multisets without ORDER BY).
func TestEnginePartitioned(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := genMarket(t, mem, 40_000, 1000)
	defer releaseAll(recs)
	queries := []struct {
		sql     string
		ordered bool
	}{
		{sqlS2, false},
		{sqlS2h, false},
		{"SELECT symbol, SUM(quantity) AS q FROM market_data WHERE price > 100.0 GROUP BY symbol HAVING COUNT(*) > 5 ORDER BY q DESC, symbol LIMIT 20", true},
		{"SELECT COUNT(*), SUM(quantity), MIN(price), MAX(price), COUNT(DISTINCT symbol) FROM market_data", false},
		{"SELECT quantity % 7 AS k, COUNT(*), AVG(price) FROM market_data GROUP BY quantity % 7", false},
		{"SELECT symbol, price * quantity AS notional FROM market_data WHERE quantity > 900", true},
		{"SELECT DISTINCT symbol FROM market_data WHERE price < 20.0", false},
		{"SELECT trader_id, price FROM market_data ORDER BY price DESC, trader_id LIMIT 7 OFFSET 3", true},
		{"SELECT symbol, FIRST(price), LAST(price) FROM market_data GROUP BY symbol", false},
		{"SELECT FIRST(price), LAST(trader_id) FROM market_data", false},
		{"SELECT symbol, trader_id FROM market_data LIMIT 25", true},
	}
	eng1 := velo.New(velo.WithAllocator(mem))
	defer eng1.Close()
	require.NoError(t, eng1.RegisterTable("market_data", recs))
	for _, q := range queries {
		res, err := eng1.Execute(context.Background(), q.sql)
		require.NoError(t, err)
		want := resultRows(t, res)
		require.NotEmpty(t, want, q.sql)
		if !q.ordered {
			sort.Strings(want)
		}
		for _, n := range []int{2, 4, 7} {
			eng := velo.New(velo.WithAllocator(mem), velo.WithPartitions(n), velo.WithBatchSize(300))
			require.NoError(t, eng.RegisterTable("market_data", recs))
			res, err := eng.Execute(context.Background(), q.sql)
			require.NoError(t, err)
			got := resultRows(t, res)
			if !q.ordered {
				sort.Strings(got)
			}
			require.Equal(t, want, got, "%d partitions: %s", n, q.sql)
			eng.Close()
		}
		// The 'partitions' setting overrides the engine's count.
		res, err = eng1.Execute(context.Background(), q.sql+" WITH ('partitions' = '3')")
		require.NoError(t, err)
		got := resultRows(t, res)
		if !q.ordered {
			sort.Strings(got)
		}
		require.Equal(t, want, got, "'partitions' = '3': %s", q.sql)
	}
	// Strategy overrides: valid ones give the same result, invalid ones an
	// error that says why.
	res, err := eng1.Execute(context.Background(), sqlS2)
	require.NoError(t, err)
	want := resultRows(t, res)
	sort.Strings(want)
	for _, st := range []string{"hash", "smart", "fan_in", "round_robin"} {
		res, err := eng1.Execute(context.Background(), sqlS2+fmt.Sprintf(" WITH ('partitions' = '4', 'partitioning.strategy' = '%s')", st))
		require.NoError(t, err, st)
		got := resultRows(t, res)
		sort.Strings(got)
		require.Equal(t, want, got, st)
	}
	_, err = eng1.Execute(context.Background(), sqlS2+" WITH ('partitions' = '4', 'partitioning.strategy' = 'sticky')")
	require.ErrorContains(t, err, "sticky")
	_, err = eng1.Execute(context.Background(), "SELECT symbol, LAST(price) FROM market_data GROUP BY symbol WITH ('partitions' = '4', 'partitioning.strategy' = 'round_robin')")
	require.ErrorContains(t, err, "arrival order")
	_, err = eng1.Execute(context.Background(), "SELECT symbol FROM market_data WITH ('partitions' = '4', 'partitioning.strategy' = 'nonsense')")
	require.Error(t, err)
	// An invalid strategy is an error on one partition too.
	_, err = eng1.Execute(context.Background(), "SELECT symbol, LAST(price) FROM market_data GROUP BY symbol WITH ('partitioning.strategy' = 'round_robin')")
	require.ErrorContains(t, err, "arrival order")
	_, err = eng1.Execute(context.Background(), "SELECT price / 2 AS k, COUNT(*) FROM market_data GROUP BY price / 2 WITH ('partitioning.strategy' = 'hash')")
	require.ErrorContains(t, err, "not an input column")
}

// TestEnginePartitionedFailures: errors in a partition, cancellation and
// abandoned readers leave no goroutine and no allocation behind.
func TestEnginePartitionedFailures(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := genMarket(t, mem, 50_000, 1000)
	defer releaseAll(recs)
	eng := velo.New(velo.WithAllocator(mem), velo.WithPartitions(4))
	defer eng.Close()
	require.NoError(t, eng.RegisterTable("market_data", recs))
	for _, q := range []string{
		"SELECT quantity * 9223372036854775807 FROM market_data",
		"SELECT symbol, SUM(quantity * 4611686018427387) FROM market_data GROUP BY symbol",
		"SELECT SUM(quantity * 4611686018427387) FROM market_data",
	} {
		res, err := eng.Execute(context.Background(), q)
		require.NoError(t, err)
		_, err = collect(t, res)
		require.ErrorContains(t, err, "overflow", q)
	}

	// Cancellation mid-query: the context is cancelled while the table is
	// being read.
	ctx, cancel := context.WithCancel(context.Background())
	counter := &cancellingReader{RecordReader: mustReader(t, recs), cancel: cancel, at: 10}
	require.NoError(t, eng.RegisterTable("stream", counter))
	res, err := eng.Execute(ctx, "SELECT symbol, COUNT(*) FROM stream GROUP BY symbol")
	require.NoError(t, err)
	_, err = collect(t, res)
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
	require.Less(t, counter.batches, len(recs), "cancellation must stop reading")
	cancel()

	// LIMIT without ORDER BY stops the partitioned run early (with
	// one-batch channels at most a few batches are in flight) and keeps the
	// input order.
	counter = &cancellingReader{RecordReader: mustReader(t, recs), at: -1}
	require.NoError(t, eng.RegisterTable("stream", counter))
	res, err = eng.Execute(context.Background(), "SELECT trader_id FROM stream LIMIT 3 WITH ('channel.capacity' = '1')")
	require.NoError(t, err)
	got := resultRows(t, res)
	ids := recs[0].Column(2).(*array.Int64).Int64Values()
	require.Equal(t, []string{strconv.FormatInt(ids[0], 10), strconv.FormatInt(ids[1], 10), strconv.FormatInt(ids[2], 10)}, got)
	require.Less(t, counter.batches, len(recs), "LIMIT must stop reading early")

	// A slow reader holds the run back: with one-batch channels only a
	// bounded number of batches are read ahead of it.
	slow := &atomicCountingReader{RecordReader: mustReader(t, recs)}
	require.NoError(t, eng.RegisterTable("stream", slow))
	res, err = eng.Execute(context.Background(), "SELECT trader_id, price FROM stream WITH ('channel.capacity' = '1')")
	require.NoError(t, err)
	require.True(t, res.Next())
	time.Sleep(100 * time.Millisecond)
	require.Less(t, slow.batches.Load(), int64(30), "the run must wait for the reader")
	rows := int64(res.Record().NumRows())
	for res.Next() {
		rows += res.Record().NumRows()
	}
	require.NoError(t, res.Err())
	require.Equal(t, int64(50_000), rows)
	res.Release()

	// A reader released before (or after) its first Next.
	res, err = eng.Execute(context.Background(), sqlS2h)
	require.NoError(t, err)
	res.Release()
	res, err = eng.Execute(context.Background(), sqlS2h)
	require.NoError(t, err)
	require.True(t, res.Next())
	res.Release()
}

// atomicCountingReader counts the batches read (read concurrently).
type atomicCountingReader struct {
	array.RecordReader
	batches atomic.Int64
}

func (c *atomicCountingReader) Next() bool {
	ok := c.RecordReader.Next()
	if ok {
		c.batches.Add(1)
	}
	return ok
}

// cancellingReader counts the batches read and calls cancel before batch
// number at.
type cancellingReader struct {
	array.RecordReader
	cancel  func()
	at      int
	batches int
}

func (c *cancellingReader) Next() bool {
	if c.batches == c.at && c.cancel != nil {
		c.cancel()
	}
	ok := c.RecordReader.Next()
	if ok {
		c.batches++
	}
	return ok
}

// BenchmarkPartitioned runs S2 and S2h through Engine.Execute at 1 and 2
// partitions (BENCH.md: compare the 2-partition speed-up with the
// two-goroutine control of the same run; this machine is shared).
func BenchmarkPartitioned(b *testing.B) {
	mem := memory.NewGoAllocator()
	rows := int64(1_000_000)
	if testing.Short() {
		rows = 100_000
	}
	recs := genMarket(b, mem, rows, 8192)
	defer releaseAll(recs)
	for _, sc := range []struct{ name, sql string }{{"S2", sqlS2}, {"S2h", sqlS2h}} {
		for _, n := range []int{1, 2} {
			b.Run(fmt.Sprintf("%s/partitions=%d", sc.name, n), func(b *testing.B) {
				eng := velo.New(velo.WithAllocator(mem), velo.WithPartitions(n))
				defer eng.Close()
				if err := eng.RegisterTable("market_data", recs); err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					res, err := eng.Execute(context.Background(), sc.sql)
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
				b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds()/1e6, "Mrows/s")
			})
		}
	}
}
