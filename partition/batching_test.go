package partition

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/columnar"
)

// runBatched pushes rows [0, total) as slices of batchRows of one record
// and returns the harness, the per-key counts and sums over all
// partitions, and the metrics.
func runBatched(t *testing.T, mem memory.Allocator, cfg Config, total, batchRows int) (*harness, map[string][2]int64, Metrics) {
	t.Helper()
	h := newHarness(mem)
	q, err := Start(context.Background(), cfg, h.factory, h.sink)
	require.NoError(t, err)
	big := makeRecord(t, mem, keyInt64, genRows(0, total, func(v int) int64 { return int64(v*31) % 1000 }))
	for i := 0; i < total; i += batchRows {
		rec := big.NewSlice(int64(i), int64(min(i+batchRows, total)))
		err := q.Push(rec)
		rec.Release()
		require.NoError(t, err)
	}
	big.Release()
	require.NoError(t, q.Close())
	res := map[string][2]int64{}
	for p := range cfg.Partitions {
		c := h.pipe(p)
		for k, n := range c.counts {
			r := res[k]
			r[0] += n
			r[1] += c.sums[k]
			res[k] = r
		}
	}
	return h, res, q.Metrics()
}

func TestAdaptiveBatchingCoalesces(t *testing.T) {
	total := 1_000_000
	maxDelay := time.Millisecond
	if testing.Short() || raceEnabled {
		total = 100_000
	}
	if testing.Short() || raceEnabled {
		// Emulated (qemu) and race-instrumented runs route several times
		// slower: fewer rows arrive per millisecond to coalesce.
		maxDelay = 10 * time.Millisecond
	}
	for _, n := range []int{1, 4} {
		t.Run(fmt.Sprintf("N=%d", n), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			cfg := Config{Partitions: n, KeyColumns: []string{"k"}, Batching: Batching{Enabled: true, MaxDelay: maxDelay}}
			hSmall, small, mSmall := runBatched(t, mem, cfg, total, 10)
			hBig, big, mBig := runBatched(t, mem, cfg, total, 8192)
			hSmall.requireExactlyOnce(t, total)
			hBig.requireExactlyOnce(t, total)
			require.Equal(t, big, small)
			require.Len(t, small, 1000)
			// Per-key oracle.
			want := map[string][2]int64{}
			for v := range total {
				k := strconv.FormatInt(int64(v*31)%1000, 10)
				r := want[k]
				r[0]++
				r[1] += int64(v)
				want[k] = r
			}
			require.Equal(t, want, small)
			var invSmall, invBig, coalesced, routed int64
			for p := range n {
				routed += mSmall.Partitions[p].BatchesIn
				invSmall += mSmall.Partitions[p].Invocations
				invBig += mBig.Partitions[p].Invocations
				coalesced += mSmall.Partitions[p].Coalesced
				require.EqualValues(t, hSmall.pipe(p).pushes.Load(), mSmall.Partitions[p].Invocations)
				require.Positive(t, mSmall.Partitions[p].BatchTarget)
				// No batch waited in the coalescing buffer much beyond the
				// bound (a missing delay flush would hold rows until Close).
				// The slack absorbs the scheduling of a shared 2-core host
				// (and the race detector's slowdown).
				require.Less(t, mSmall.Partitions[p].MaxHold, maxDelay+500*time.Millisecond)
			}
			pushes := int64(total / 10)
			// Without batching every routed batch is one invocation.
			require.LessOrEqual(t, invSmall*20, routed, "10-row pushes: %d invocations for %d routed batches", invSmall, routed)
			require.Positive(t, coalesced)
			t.Logf("N=%d, max delay %s: %d 10-row pushes → %d routed batches → %d invocations (%.0f× fewer), max hold %s; 8192-row pushes → %d invocations",
				n, maxDelay, pushes, routed, invSmall, float64(routed)/float64(invSmall), mSmall.Partitions[0].MaxHold, invBig)
		})
	}
}

func TestAdaptiveBatchingDelayFlush(t *testing.T) {
	// A trickle: one 10-row batch every 300 ms. Each must be flushed by the
	// delay timer (about MaxDelay after it arrived), not by the next push.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h := newHarness(mem)
	const maxDelay = time.Millisecond
	q, err := Start(context.Background(), Config{Partitions: 2, KeyColumns: []string{"k"}, Batching: Batching{Enabled: true, MaxDelay: maxDelay}}, h.factory, h.sink)
	require.NoError(t, err)
	const pushes = 3
	for i := range pushes {
		rec := makeRecord(t, mem, keyInt64, genRows(i*10, 10, func(v int) int64 { return int64(v) }))
		require.NoError(t, q.Push(rec))
		rec.Release()
		// The rows reach the pipelines without any further push.
		require.Eventually(t, func() bool {
			return h.pipe(0).rowsSeen.Load()+h.pipe(1).rowsSeen.Load() == int64((i+1)*10)
		}, 10*time.Second, 100*time.Microsecond)
		time.Sleep(300 * time.Millisecond)
	}
	m := q.Metrics()
	require.NoError(t, q.Close())
	h.requireExactlyOnce(t, pushes*10)
	for _, pm := range m.Partitions {
		// A missing timer flush would hold rows for the 300 ms pause; the
		// bound here is far above MaxDelay only to absorb scheduling noise.
		require.Less(t, pm.MaxHold, 150*time.Millisecond, "partition %d", pm.Partition)
		t.Logf("partition %d: max hold %s (max delay %s), invocations %d", pm.Partition, pm.MaxHold, maxDelay, pm.Invocations)
	}
}

func TestAdaptiveBatchingSplitsAndAdapts(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	t.Run("split and grow", func(t *testing.T) {
		// Fast invocations relative to a 1 s bound: the target grows by a
		// quarter per full-size invocation up to MaxRows.
		cfg := Config{Partitions: 1, Strategy: FanIn, Batching: Batching{Enabled: true, TargetRows: 1000, MinRows: 500, MaxRows: 4000, MaxDelay: time.Second}}
		h, _, m := runBatched(t, mem, cfg, 100_000, 100_000)
		h.requireExactlyOnce(t, 100_000)
		pm := m.Partitions[0]
		require.EqualValues(t, 1, pm.Split)
		require.Equal(t, 4000, pm.BatchTarget)
		// Chunks of the target as it grows: 1000, 1250, 1562, 1952, 2440,
		// 3050, 3812, then 4000 each.
		sizes := []int{1000, 1250, 1562, 1952, 2440, 3050, 3812}
		rest := 100_000
		for _, s := range sizes {
			rest -= s
		}
		want := int64(len(sizes) + (rest+3999)/4000)
		require.Equal(t, want, pm.Invocations)
	})
	t.Run("shrink", func(t *testing.T) {
		// Invocations slower than MaxDelay shrink the target to MinRows.
		h := newHarness(mem)
		h.hook = func(p int, b columnar.Batch) error {
			time.Sleep(3 * time.Millisecond)
			return nil
		}
		cfg := Config{Partitions: 1, Strategy: FanIn, Batching: Batching{Enabled: true, TargetRows: 1000, MinRows: 250, MaxDelay: time.Millisecond}}
		q, err := Start(context.Background(), cfg, h.factory, h.sink)
		require.NoError(t, err)
		for i := range 8 {
			rec := makeRecord(t, mem, keyInt64, genRows(i*1000, 1000, func(v int) int64 { return 1 }))
			require.NoError(t, q.Push(rec))
			rec.Release()
		}
		require.NoError(t, q.Close())
		require.Equal(t, 250, q.Metrics().Partitions[0].BatchTarget)
		h.requireExactlyOnce(t, 8000)
	})
}

func TestConcatBatches(t *testing.T) {
	for _, kind := range []keyKind{keyInt64, keyUTF8, keyDict} {
		t.Run(kind.String(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			r1 := makeRecord(t, mem, kind, []row{{1, 10, 0}, {-1, 11, 1}, {3, nullTS, 2}, {4, 13, 3}, {5, 14, 4}})
			// r2 is a slice (non-zero array offsets).
			r2full := makeRecord(t, mem, kind, []row{{99, 1, 99}, {6, 15, 5}, {7, 16, 6}, {98, 2, 98}})
			r2 := r2full.NewSlice(1, 3)
			r2full.Release()
			r3 := makeRecord(t, mem, kind, []row{{8, 17, 7}, {9, 18, 8}, {10, 19, 9}})
			defer r1.Release()
			defer r2.Release()
			defer r3.Release()
			bs := []pending{
				{b: columnar.Batch{Rec: r1, Sel: []int32{1, 2, 4}}},
				{b: columnar.Batch{Rec: r2}},
				{b: columnar.Batch{Rec: r3, Sel: []int32{0, 2}}},
			}
			rec, err := concatBatches(mem, bs)
			require.NoError(t, err)
			defer rec.Release()
			want := []row{{-1, 11, 1}, {3, nullTS, 2}, {5, 14, 4}, {6, 15, 5}, {7, 16, 6}, {8, 17, 7}, {10, 19, 9}}
			require.EqualValues(t, len(want), rec.NumRows())
			c := &countPipe{}
			for i, w := range want {
				k := c.key(rec.Column(0), i)
				if w.key < 0 {
					require.Equal(t, "<null>", k)
				} else if kind == keyInt64 {
					require.Equal(t, strconv.FormatInt(w.key, 10), k)
				} else {
					require.Equal(t, keyString(w.key), k)
				}
				ts := rec.Column(1).(*array.Int64)
				if w.ts == nullTS {
					require.True(t, ts.IsNull(i))
				} else {
					require.Equal(t, w.ts, ts.Value(i))
				}
				require.Equal(t, w.v, rec.Column(2).(*array.Int64).Value(i))
			}
			// Different schemas are refused.
			other := array.NewRecord(outSchema, []arrow.Array{r1.Column(2)}, r1.NumRows())
			defer other.Release()
			_, err = concatBatches(mem, []pending{{b: columnar.Batch{Rec: r1}}, {b: columnar.Batch{Rec: other}}})
			require.ErrorContains(t, err, "different schemas")
		})
	}
}
