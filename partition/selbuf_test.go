package partition

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/columnar"
)

func TestRoutingAllocatesNothingPerRecord(t *testing.T) {
	// Steady-state hash routing reuses its selection buffers: once the
	// free list holds as many as can be in flight, pushing a record
	// allocates nothing (the previous router allocated one []int32 per
	// record).
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	for _, utf8Key := range []bool{false, true} {
		t.Run(fmt.Sprintf("utf8=%v", utf8Key), func(t *testing.T) {
			recs := benchRecords(t, utf8Key, 4, 4096)
			defer func() {
				for _, r := range recs {
					r.Release()
				}
			}()
			var seen atomic.Int64
			q, err := Start(context.Background(), Config{Partitions: 3, KeyColumns: []string{"k"}},
				func(int) (Pipeline, error) { return nopPipe{&seen}, nil },
				func(o Output) error { o.Rec.Release(); return nil })
			require.NoError(t, err)
			src, err := q.NewSource(SourceOptions{})
			require.NoError(t, err)
			i := 0
			push := func() {
				if err := src.Push(recs[i%len(recs)]); err != nil {
					panic(err)
				}
				i++
			}
			for range 500 {
				push()
			}
			allocs := testing.AllocsPerRun(500, push)
			require.NoError(t, q.Close())
			require.EqualValues(t, int64(i)*4096, seen.Load())
			require.Zero(t, allocs, "allocations per routed record")
		})
	}
}

func TestSelectionBuffersNotReusedEarly(t *testing.T) {
	// Many small records through partitions that hold batches (adaptive
	// batching) or process them at once: every batch a pipeline sees must
	// still list exactly its own rows, so a selection buffer recycled
	// while a partition still held a batch cut from it would show up as
	// misrouted, lost or duplicated rows.
	// Two partitions take the one-pass cut (cutTwo), three the histogram
	// and scatter kernels.
	const records, rows = 400, 97
	for _, tc := range []struct {
		n        int
		batching bool
	}{{2, false}, {2, true}, {3, false}, {3, true}} {
		n, batching := tc.n, tc.batching
		t.Run(fmt.Sprintf("N=%d/batching=%v", n, batching), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			h := newHarness(mem)
			var misrouted atomic.Int64
			h.hook = func(p int, b columnar.Batch) error {
				vals, err := columnar.Int64Values(b.Column(2))
				if err != nil {
					return err
				}
				for i := range b.Len() {
					v := vals[b.Row(i)]
					if fastrange(keyHashOracle(keyUTF8, v%31), n) != p {
						misrouted.Add(1)
					}
				}
				return nil
			}
			cfg := Config{Partitions: n, KeyColumns: []string{"k"}, ChannelCapacity: 4}
			cfg.Batching = Batching{Enabled: batching, TargetRows: 512}
			q, err := Start(context.Background(), cfg, h.factory, h.sink)
			require.NoError(t, err)
			recs := make([]arrow.Record, 0, records)
			for r := range records {
				recs = append(recs, makeRecord(t, mem, keyUTF8, genRows(r*rows, rows, func(v int) int64 { return int64(v % 31) })))
			}
			for _, rec := range recs {
				require.NoError(t, q.Push(rec))
				rec.Release()
			}
			require.NoError(t, q.Close())
			require.Zero(t, misrouted.Load())
			h.requireExactlyOnce(t, records*rows)
		})
	}
}
