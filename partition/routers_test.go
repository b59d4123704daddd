package partition

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/columnar"
)

func TestSuiteWithRouterGoroutines(t *testing.T) {
	// The routing, watermark, failure and metrics tests again with every
	// hash-routed source using router goroutines: delivery in push order
	// must give the same results as routing on the caller.
	// (TestWatermarkMinOverSources is left out: it reads CurrentWatermark
	// right after Push, which routers update asynchronously.)
	defer func(old int) { DefaultRouters = old }(DefaultRouters)
	for _, r := range []int{2, 3} {
		DefaultRouters = r
		for name, test := range map[string]func(*testing.T){
			"ExactlyOnceEveryStrategy":  TestExactlyOnceEveryStrategy,
			"MultiColumnKeyHash":        TestMultiColumnKeyHash,
			"OtherKeyTypes":             TestOtherKeyTypes,
			"RoutingShareRecords":       TestRoutingShareRecords,
			"PushErrors":                TestPushErrors,
			"PipelinePanicStopsQuery":   TestPipelinePanicStopsQuery,
			"SinkPanicStopsQuery":       TestSinkPanicStopsQuery,
			"SinkErrorStopsQuery":       TestSinkErrorStopsQuery,
			"CancelMidStream":           TestCancelMidStream,
			"SlowSinkBlocksProducer":    TestSlowSinkBlocksProducer,
			"SkewedKeysHotPartition":    TestSkewedKeysHotPartition,
			"SelectionBuffersNotReused": TestSelectionBuffersNotReusedEarly,
			"WatermarkFromEventTime":    TestWatermarkFromEventTime,
			"LateRecords":               TestLateRecords,
			"MetricsAndPrometheus":      TestMetricsAndPrometheus,
			"AdaptiveBatchingCoalesces": TestAdaptiveBatchingCoalesces,
			"AllocatesNothing":          TestRoutingAllocatesNothingPerRecord,
		} {
			t.Run(fmt.Sprintf("routers=%d/%s", r, name), test)
		}
	}
}

func TestRoutersKeepPushOrder(t *testing.T) {
	// One producer, three routers, records of very different sizes (so
	// routers finish preparing out of order): every partition still sees
	// its rows in push order, and the event-time watermark and late rows
	// are what routing on the caller gives.
	const maxN = 3
	sizes := []int{1, 700, 3, 2048, 17, 1, 999, 64}
	run := func(t *testing.T, n, routers int) (order [maxN][]int64, late int64, wms [maxN][]int64) {
		mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
		defer mem.AssertSize(t, 0)
		h := newHarness(mem)
		h.hook = func(p int, b columnar.Batch) error {
			vals, err := columnar.Int64Values(b.Column(2))
			if err != nil {
				return err
			}
			for i := range b.Len() {
				order[p] = append(order[p], vals[b.Row(i)])
			}
			return nil
		}
		cfg := Config{Partitions: n, KeyColumns: []string{"k"}, EventTimeColumn: "ts", MaxOutOfOrderness: 50 * 1e6, Routers: routers}
		q, err := Start(context.Background(), cfg, h.factory, h.sink)
		require.NoError(t, err)
		v := 0
		for r := range 120 {
			rows := genRows(v, sizes[r%len(sizes)], func(v int) int64 { return int64(v % 11) })
			for i := range rows {
				if rows[i].v%13 == 0 {
					rows[i].ts -= 400 // late against a 50 ms out-of-orderness
				}
			}
			rec := makeRecord(t, mem, keyInt64, rows)
			require.NoError(t, q.Push(rec))
			rec.Release()
			v += len(rows)
			if r%10 == 9 {
				require.NoError(t, q.Watermark(int64(1000+v-200)))
			}
		}
		require.NoError(t, q.Close())
		h.requireExactlyOnce(t, v)
		late = q.Metrics().LateRecords
		for p := range n {
			wms[p] = h.pipe(p).watermarks
		}
		return order, late, wms
	}
	for _, n := range []int{2, 3} {
		wantOrder, wantLate, wantWMs := run(t, n, 1)
		require.Positive(t, wantLate)
		for _, routers := range []int{2, 3} {
			t.Run(fmt.Sprintf("N=%d/routers=%d", n, routers), func(t *testing.T) {
				order, late, wms := run(t, n, routers)
				require.Equal(t, wantOrder, order)
				require.Equal(t, wantLate, late)
				require.Equal(t, wantWMs, wms)
			})
		}
	}
}

func TestRouterErrorStopsQuery(t *testing.T) {
	// A routing error on a router goroutine (here a dictionary index
	// outside its dictionary, which only hashing finds) stops the query
	// with that error; later pushes fail and nothing leaks.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h := newHarness(mem)
	q, err := Start(context.Background(), Config{Partitions: 2, KeyColumns: []string{"k"}, Routers: 2}, h.factory, h.sink)
	require.NoError(t, err)
	good := makeRecord(t, mem, keyDict, genRows(0, 100, func(v int) int64 { return int64(v % 7) }))
	defer good.Release()
	bad := badDictRecord(t, good)
	defer bad.Release()
	require.NoError(t, q.Push(good))
	require.NoError(t, q.Push(bad))
	var pushErr error
	for range 1000 {
		if pushErr = q.Push(good); pushErr != nil {
			break
		}
	}
	require.ErrorContains(t, pushErr, "outside the dictionary")
	err = q.Wait()
	require.ErrorContains(t, err, `hash key column "k"`)
	require.ErrorContains(t, err, "outside the dictionary")
	require.ErrorIs(t, q.Close(), err)
}

// badDictRecord returns rec with its dictionary key column's indices
// replaced by ones past the end of its dictionary.
func badDictRecord(t *testing.T, rec arrow.Record) arrow.Record {
	t.Helper()
	d := rec.Column(0).Data()
	idx := make([]byte, d.Len()*4)
	for i := range d.Len() {
		idx[i*4] = 200
	}
	buf := memory.NewBufferBytes(idx)
	data := array.NewData(d.DataType(), d.Len(), []*memory.Buffer{nil, buf}, nil, 0, 0)
	data.SetDictionary(d.Dictionary())
	defer data.Release()
	col := array.MakeFromData(data)
	defer col.Release()
	cols := []arrow.Array{col, rec.Column(1), rec.Column(2)}
	return array.NewRecord(rec.Schema(), cols, rec.NumRows())
}

func TestRoutersCloseWhilePushing(t *testing.T) {
	// Close from another goroutine while the producer is blocked handing a
	// record to a full router queue (the partitions are slow): Close must
	// not deadlock, and every push that succeeded is delivered exactly once.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h := newHarness(mem)
	h.hook = func(int, columnar.Batch) error {
		time.Sleep(200 * time.Microsecond)
		return nil
	}
	q, err := Start(context.Background(), Config{Partitions: 2, KeyColumns: []string{"k"}, ChannelCapacity: 1, Routers: 2}, h.factory, h.sink)
	require.NoError(t, err)
	const rows = 50
	accepted := make(chan int, 1)
	go func() {
		n := 0
		for r := range 400 {
			rec := makeRecord(t, mem, keyInt64, genRows(r*rows, rows, func(v int) int64 { return int64(v % 5) }))
			err := q.Push(rec)
			rec.Release()
			if err != nil {
				break
			}
			n++
		}
		accepted <- n
	}()
	time.Sleep(5 * time.Millisecond)
	require.NoError(t, q.Close())
	n := <-accepted
	require.Less(t, n, 400, "Close should have stopped the producer")
	h.requireExactlyOnce(t, n*rows)
}
