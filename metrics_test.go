package velo_test

import (
	"bytes"
	"context"
	"math"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	velo "github.com/velo-engine/velo"
)

// scrape gathers g through prometheus.Gatherers (which checks the families'
// consistency), encodes the text format and parses it back with expfmt.
func scrape(t *testing.T, g prometheus.Gatherer) map[string]*dto.MetricFamily {
	t.Helper()
	fams, err := prometheus.Gatherers{g}.Gather()
	require.NoError(t, err)
	var buf bytes.Buffer
	for _, f := range fams {
		_, err := expfmt.MetricFamilyToText(&buf, f)
		require.NoError(t, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	parsed, err := parser.TextToMetricFamilies(&buf)
	require.NoError(t, err)
	return parsed
}

// value returns the value of the counter or gauge in family name whose
// labels include every pair in want, and how many metrics matched.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, int) {
	f := fams[name]
	if f == nil {
		return 0, 0
	}
	var v float64
	n := 0
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, w := range want {
			if have[k] != w {
				continue next
			}
		}
		n++
		switch {
		case m.Counter != nil:
			v += m.Counter.GetValue()
		case m.Gauge != nil:
			v += m.Gauge.GetValue()
		}
	}
	return v, n
}

// countingSink counts the rows and records it receives (atomically: the
// sink of a partitioned query runs on its drain goroutine).
type countingSink struct{ rows, recs atomic.Int64 }

func (s *countingSink) sink(rec arrow.Record) error {
	s.rows.Add(rec.NumRows())
	s.recs.Add(1)
	rec.Release()
	return nil
}

// TestQueryMetricsOnePartition: the one-partition snapshot counts the rows
// and records pushed and handed to the sink (counted independently by the
// sink), follows explicit watermarks, and the query leaves the engine's
// registry at Close.
func TestQueryMetricsOnePartition(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	eng := velo.New(velo.WithAllocator(mem))
	defer eng.Close()
	const sql = "SELECT k, COUNT(*) AS n FROM events GROUP BY k EMIT CHANGES"
	var s countingSink
	q, err := eng.Start(context.Background(), sql, s.sink, velo.WithInputSchema(eventSchema()), velo.WithQueryName("by_k"))
	require.NoError(t, err)
	require.Equal(t, "by_k", q.Name())
	require.Equal(t, 1, eng.RunningQueries())
	m := q.Metrics()
	require.Len(t, m.Partitions, 1)
	require.Equal(t, int64(math.MinInt64), m.Watermark)

	keys := []string{"a", "b", "c", "d", "e"}
	var rows, batches int64
	for i := range 7 {
		n := 1 + i*3
		ts, ks, vs := make([]int64, n), make([]string, n), make([]int64, n)
		for j := range n {
			ts[j], ks[j], vs[j] = int64(j), keys[(i+j)%len(keys)], int64(j)
		}
		rec := events(mem, ts, ks, vs)
		require.NoError(t, q.Push(rec))
		rec.Release()
		rows += int64(n)
		batches++
	}
	empty := events(mem, nil, nil, nil)
	require.NoError(t, q.Push(empty)) // an empty record is not a batch
	empty.Release()
	require.NoError(t, q.Watermark(1234))
	require.NoError(t, q.Watermark(1000)) // not ahead: unchanged

	m = q.Metrics()
	pm := m.Partitions[0]
	require.Equal(t, rows, pm.RecordsIn)
	require.Equal(t, rows, m.RecordsIn)
	require.Equal(t, batches, pm.BatchesIn)
	require.Equal(t, batches, pm.Invocations)
	require.Equal(t, s.rows.Load(), pm.RecordsOut)
	require.Equal(t, s.recs.Load(), pm.BatchesOut)
	require.Equal(t, s.rows.Load(), m.RecordsOut)
	require.Equal(t, int64(1234), pm.Watermark)

	fams := scrape(t, eng.Gatherer())
	id := strconv.FormatUint(q.ID(), 10)
	labels := map[string]string{"query": id, "name": "by_k"}
	v, n := value(fams, "velo_query_records_in_total", labels)
	require.Equal(t, 1, n)
	require.Equal(t, float64(rows), v)
	v, _ = value(fams, "velo_query_records_out_total", labels)
	require.Equal(t, float64(s.rows.Load()), v)
	v, n = value(fams, "velo_partition_records_in_total", map[string]string{"query": id, "partition": "0"})
	require.Equal(t, 1, n)
	require.Equal(t, float64(rows), v)
	v, _ = value(fams, "velo_partition_batches_total", map[string]string{"query": id, "direction": "in"})
	require.Equal(t, float64(batches), v)
	v, _ = value(fams, "velo_partition_watermark", map[string]string{"query": id})
	require.Equal(t, 1234.0, v)
	v, _ = value(fams, "velo_queries_running", nil)
	require.Equal(t, 1.0, v)

	require.NoError(t, q.Close())
	require.Equal(t, 0, eng.RunningQueries())
	require.Equal(t, int64(math.MaxInt64), q.Metrics().Watermark)
	fams = scrape(t, eng.Gatherer())
	_, n = value(fams, "velo_query_records_in_total", nil)
	require.Zero(t, n, "a closed query is no longer exported")
	v, _ = value(fams, "velo_queries_running", nil)
	require.Zero(t, v)
}

// TestEngineGathererQueries: several live queries — one- and
// multi-partition Start, a batch Execute mid-read — export side by side
// under their own query label, each counting exactly its own rows; the
// output parses with expfmt; finished queries disappear.
func TestEngineGathererQueries(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := genMarket(t, mem, 20_000, 1000)
	defer releaseAll(recs)
	eng := velo.New(velo.WithAllocator(mem), velo.WithPartitions(2))
	defer eng.Close()
	require.NoError(t, eng.RegisterTable("market_data", recs))
	ctx := context.Background()

	const sqlAgg = "SELECT symbol, COUNT(*) AS n FROM market_data GROUP BY symbol EMIT CHANGES"
	var s1, s2 countingSink
	q1, err := eng.Start(ctx, sqlAgg+" WITH ('partitions' = '1')", s1.sink)
	require.NoError(t, err)
	q2, err := eng.Start(ctx, sqlAgg, s2.sink, velo.WithQueryName("two"))
	require.NoError(t, err)
	require.NotEqual(t, q1.ID(), q2.ID())
	var pushed1, pushed2 int64
	for i, rec := range recs {
		require.NoError(t, q1.Push(rec))
		pushed1 += rec.NumRows()
		if i%2 == 0 {
			require.NoError(t, q2.Push(rec))
			pushed2 += rec.NumRows()
		}
	}

	// A batch query, read halfway.
	rdr, err := eng.Execute(ctx, "SELECT symbol, price FROM market_data WHERE quantity > 100")
	require.NoError(t, err)
	var outRows int64
	for range 3 {
		require.True(t, rdr.Next())
		outRows += rdr.Record().NumRows()
	}
	require.Equal(t, 3, eng.RunningQueries())

	fams := scrape(t, eng.Gatherer())
	v, _ := value(fams, "velo_queries_running", nil)
	require.Equal(t, 3.0, v)
	id1, id2 := strconv.FormatUint(q1.ID(), 10), strconv.FormatUint(q2.ID(), 10)
	v, n := value(fams, "velo_query_records_in_total", map[string]string{"query": id1, "kind": "continuous"})
	require.Equal(t, 1, n)
	require.Equal(t, float64(pushed1), v)
	v, _ = value(fams, "velo_partition_records_in_total", map[string]string{"query": id1})
	require.Equal(t, float64(pushed1), v)
	v, n = value(fams, "velo_query_records_in_total", map[string]string{"query": id2, "name": "two"})
	require.Equal(t, 1, n)
	require.Equal(t, float64(pushed2), v)
	// The partitions add up to the rows pushed.
	m := q2.Metrics()
	require.Len(t, m.Partitions, 2)
	require.Equal(t, pushed2, m.RecordsIn)
	v, n = value(fams, "velo_partition_records_in_total", map[string]string{"query": id2})
	require.Equal(t, 2, n)
	require.Equal(t, float64(pushed2), v)
	// The partitioned batch query exports its two partitions too: one
	// series per partition of the three queries.
	_, n = value(fams, "velo_partition_queue_depth", nil)
	require.Equal(t, 1+2+2, n)
	v, n = value(fams, "velo_query_records_out_total", map[string]string{"kind": "batch"})
	require.Equal(t, 1, n)
	require.Equal(t, float64(outRows), v)

	// Reading the batch query to its end removes it; its input count is
	// the whole table.
	for rdr.Next() {
		outRows += rdr.Record().NumRows()
	}
	require.NoError(t, rdr.Err())
	require.Equal(t, 2, eng.RunningQueries())
	rdr.Release()

	require.NoError(t, q1.Close())
	require.NoError(t, q2.Close())
	require.Equal(t, pushed1, q1.Metrics().RecordsIn)
	require.Equal(t, s1.rows.Load(), q1.Metrics().RecordsOut)
	require.Equal(t, 0, eng.RunningQueries())

	// A batch query released before its end leaves the registry too.
	rdr, err = eng.Execute(ctx, "SELECT symbol FROM market_data")
	require.NoError(t, err)
	require.True(t, rdr.Next())
	require.Equal(t, 1, eng.RunningQueries())
	rdr.Release()
	require.Equal(t, 0, eng.RunningQueries())
	fams = scrape(t, eng.Gatherer())
	_, n = value(fams, "velo_query_records_in_total", nil)
	require.Zero(t, n)
}

// TestExecuteMetricsCountTable: a one-partition Execute counts the table's
// rows in and its result rows out while it runs.
func TestExecuteMetricsCountTable(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	recs := genMarket(t, mem, 5_000, 1000)
	defer releaseAll(recs)
	eng := velo.New(velo.WithAllocator(mem))
	defer eng.Close()
	require.NoError(t, eng.RegisterTable("market_data", recs))
	rdr, err := eng.Execute(context.Background(), "SELECT symbol, COUNT(*) AS n FROM market_data GROUP BY symbol")
	require.NoError(t, err)
	defer rdr.Release()
	require.True(t, rdr.Next()) // the aggregate read the whole table
	groups := rdr.Record().NumRows()
	fams := scrape(t, eng.Gatherer())
	v, _ := value(fams, "velo_query_records_in_total", map[string]string{"kind": "batch"})
	require.Equal(t, 5000.0, v)
	v, _ = value(fams, "velo_query_batches_total", map[string]string{"kind": "batch", "direction": "in"})
	require.Equal(t, 5.0, v)
	v, _ = value(fams, "velo_partition_records_in_total", map[string]string{"partition": "0"})
	require.Equal(t, 5000.0, v)
	v, _ = value(fams, "velo_query_records_out_total", map[string]string{"kind": "batch"})
	require.Equal(t, float64(groups), v)
}

// TestQueryMetricsLateRows: a time window's late and dropped rows show in
// Query.Metrics and on the engine's gatherer, on one partition (in its
// partition 0 too) and on several.
func TestQueryMetricsLateRows(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const sql = "SELECT k, COUNT(*) AS n FROM events GROUP BY k WINDOW TUMBLING(ts, INTERVAL '10' SECOND) WITH ('late.data.strategy' = 'drop')"
	for _, parts := range []int{1, 2} {
		eng := velo.New(velo.WithAllocator(mem), velo.WithPartitions(parts))
		var s countingSink
		q, err := eng.Start(context.Background(), sql, s.sink, velo.WithInputSchema(eventSchema()))
		require.NoError(t, err)
		rec := events(mem, []int64{1000, 2000, 15000}, []string{"a", "b", "a"}, []int64{1, 2, 3})
		require.NoError(t, q.Push(rec))
		rec.Release()
		require.NoError(t, q.Watermark(20_000)) // closes [0, 10 s) and [10 s, 20 s)
		late := events(mem, []int64{3000, 4000, 25000}, []string{"a", "c", "c"}, []int64{4, 5, 6})
		require.NoError(t, q.Push(late))
		late.Release()
		require.Eventually(t, func() bool { return q.Metrics().LateRecords == 2 }, 10*time.Second, time.Millisecond, "%d partitions", parts)
		m := q.Metrics()
		require.EqualValues(t, 2, m.DroppedRecords)
		require.EqualValues(t, 6, m.RecordsIn)
		if parts == 1 {
			require.EqualValues(t, 2, m.Partitions[0].LateRecords)
			require.EqualValues(t, 2, m.Partitions[0].DroppedRecords)
			require.GreaterOrEqual(t, m.Watermark, int64(20_000))
		}
		fams := scrape(t, eng.Gatherer())
		id := strconv.FormatUint(q.ID(), 10)
		v, n := value(fams, "velo_query_late_records_total", map[string]string{"query": id})
		require.Equal(t, 1, n)
		require.Equal(t, 2.0, v)
		v, _ = value(fams, "velo_query_dropped_records_total", map[string]string{"query": id})
		require.Equal(t, 2.0, v)
		require.NoError(t, q.Close())
		eng.Close()
	}
}
