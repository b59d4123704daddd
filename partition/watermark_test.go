package partition

import (
	"context"
	"log/slog"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
)

func TestWatermarkMinOverSources(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const n = 3
	h := newHarness(mem)
	q, err := Start(context.Background(), Config{Partitions: n, KeyColumns: []string{"k"}, EventTimeColumn: "ts", MaxOutOfOrderness: 100 * time.Millisecond}, h.factory, h.sink)
	require.NoError(t, err)
	a, err := q.NewSource(SourceOptions{})
	require.NoError(t, err)
	b, err := q.NewSource(SourceOptions{})
	require.NoError(t, err)

	// Source a reaches event time 1000+4999: its watermark is 5899, but b
	// has none yet, so the partitions stay at -inf.
	rec := makeRecord(t, mem, keyInt64, genRows(0, 5000, func(v int) int64 { return int64(v % 17) }))
	require.NoError(t, a.Push(rec))
	rec.Release()
	require.Equal(t, int64(5899), a.CurrentWatermark())
	require.NoError(t, b.Watermark(3000))
	require.NoError(t, b.Watermark(2000)) // never goes back
	require.NoError(t, b.Close())         // b done: +inf
	// The default source, created now, holds the partitions back again
	// until its explicit watermarks.
	require.NoError(t, q.Watermark(7000))
	require.NoError(t, a.Close())
	require.NoError(t, q.Close())
	for p := range n {
		require.Equal(t, []int64{3000, 5899, 7000}, h.pipe(p).watermarks, "partition %d", p)
	}
	m := q.Metrics()
	require.Equal(t, int64(math.MaxInt64), m.Watermark)
	h.requireExactlyOnce(t, 5000)
}

func TestWatermarkFromEventTime(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h := newHarness(mem)
	q, err := Start(context.Background(), Config{Partitions: 2, KeyColumns: []string{"k"}, EventTimeColumn: "ts"}, h.factory, h.sink)
	require.NoError(t, err)
	// Default out-of-orderness 5 s; a null event time is ignored.
	rows := []row{{1, 10_000, 0}, {2, nullTS, 1}, {3, 12_000, 2}, {4, 11_000, 3}}
	rec := makeRecord(t, mem, keyInt64, rows)
	require.NoError(t, q.Push(rec))
	rec.Release()
	rec = makeRecord(t, mem, keyInt64, []row{{5, 11_500, 4}}) // no new maximum
	require.NoError(t, q.Push(rec))
	rec.Release()
	rec = makeRecord(t, mem, keyInt64, []row{{6, 20_000, 5}})
	require.NoError(t, q.Push(rec))
	rec.Release()
	require.Eventually(t, func() bool { return q.OutputWatermark() == 15_000 }, 10*time.Second, time.Millisecond)
	require.NoError(t, q.Close())
	for p := range 2 {
		require.Equal(t, []int64{7000, 15_000}, h.pipe(p).watermarks)
	}
	// The watermark handed to the sink never goes back.
	require.NotEmpty(t, h.wms)
	for i := 1; i < len(h.wms); i++ {
		require.LessOrEqual(t, h.wms[i-1], h.wms[i])
	}
}

func TestOutputWatermarkIdleExclusion(t *testing.T) {
	h := newHarness(memory.NewGoAllocator())
	q, err := Start(context.Background(), Config{Partitions: 3, Strategy: FanIn, IdleTimeout: time.Hour}, h.factory, h.sink)
	require.NoError(t, err)
	defer func() { require.NoError(t, q.Close()) }()
	set := func(p int, wm int64, idle bool) {
		q.parts[p].c.watermark.Store(wm)
		last := now()
		if idle {
			last -= int64(2 * time.Hour)
		}
		q.parts[p].c.lastInput.Store(last)
	}
	set(0, 100, false)
	set(1, 50, true)
	set(2, 200, false)
	require.Equal(t, int64(100), q.OutputWatermark(), "idle partition 1 is left out")
	m := q.Metrics()
	require.Equal(t, []bool{false, true, false}, []bool{m.Partitions[0].Idle, m.Partitions[1].Idle, m.Partitions[2].Idle})
	set(1, 50, false)
	require.Equal(t, int64(100), q.OutputWatermark(), "the query watermark never goes back")
	set(0, 300, false)
	set(1, 250, false)
	require.Equal(t, int64(200), q.OutputWatermark())
	set(0, 400, true)
	set(1, 150, true)
	set(2, 500, true)
	require.Equal(t, int64(200), q.OutputWatermark(), "all idle: min over all, clamped")
	set(1, 450, true)
	require.Equal(t, int64(400), q.OutputWatermark(), "all idle: min over all")
}

func TestIdleAfterTimeout(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h := newHarness(mem)
	q, err := Start(context.Background(), Config{Partitions: 2, Strategy: FanIn, IdleTimeout: 20 * time.Millisecond}, h.factory, h.sink)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		m := q.Metrics()
		return m.Partitions[0].Idle && m.Partitions[1].Idle
	}, 10*time.Second, time.Millisecond)
	rec := makeRecord(t, mem, keyInt64, genRows(0, 10, func(v int) int64 { return 1 }))
	require.NoError(t, q.Push(rec))
	rec.Release()
	require.Eventually(t, func() bool { return !q.Metrics().Partitions[0].Idle }, 10*time.Second, time.Millisecond)
	require.NoError(t, q.Close())
	require.False(t, q.Metrics().Partitions[1].Idle, "a finished partition is not idle")
}

// countingHandler counts slog records at warn level.
type countingHandler struct{ warns atomic.Int64 }

func (c *countingHandler) Enabled(context.Context, slog.Level) bool { return true }
func (c *countingHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Level == slog.LevelWarn {
		c.warns.Add(1)
	}
	return nil
}
func (c *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return c }
func (c *countingHandler) WithGroup(string) slog.Handler      { return c }

func TestLateRecords(t *testing.T) {
	const n = 4
	// Batch 1: ts 1000..1999 sets the watermark to 1999 (no out-of-order
	// allowance). Batch 2: rows v with ts = 1000 + v%1500 (late when below
	// 1999) and a null ts (never late). Batch 3 again has late rows.
	keyOf := func(v int) int64 { return int64(v % 37) }
	batch2 := genRows(1000, 1000, keyOf)
	for i := range batch2 {
		batch2[i].ts = 1000 + (batch2[i].v*7)%1500
	}
	batch2[5].ts = nullTS
	batch3 := genRows(2000, 100, keyOf)
	for i := range batch3 {
		batch3[i].ts = 1500
	}
	wantLate := make([]int64, n)
	lateV := map[int64]bool{}
	for _, rs := range [][]row{batch2, batch3} {
		for _, r := range rs {
			if r.ts != nullTS && r.ts < 1999 {
				wantLate[fastrange(keyHashOracle(keyInt64, r.key), n)]++
				lateV[r.v] = true
			}
		}
	}
	require.NotZero(t, len(lateV))
	for _, policy := range []LatePolicy{LateProcess, LateWarn, LateDrop} {
		t.Run(policy.String(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			h := newHarness(mem)
			logs := &countingHandler{}
			q, err := Start(context.Background(), Config{Partitions: n, KeyColumns: []string{"k"}, EventTimeColumn: "ts",
				MaxOutOfOrderness: -1, LatePolicy: policy, Logger: slog.New(logs)}, h.factory, h.sink)
			require.NoError(t, err)
			for _, rs := range [][]row{genRows(0, 1000, keyOf), batch2, batch3} {
				rec := makeRecord(t, mem, keyInt64, rs)
				require.NoError(t, q.Push(rec))
				rec.Release()
			}
			require.NoError(t, q.Close())
			m := q.Metrics()
			var totalLate int64
			for p, pm := range m.Partitions {
				require.Equal(t, wantLate[p], pm.LateRecords, "partition %d", p)
				totalLate += wantLate[p]
				if policy == LateDrop {
					require.Equal(t, wantLate[p], pm.DroppedRecords)
				} else {
					require.Zero(t, pm.DroppedRecords)
				}
			}
			require.Equal(t, totalLate, m.LateRecords)
			delivered := int64(len(h.got))
			if policy == LateDrop {
				require.Equal(t, int64(2100)-totalLate, delivered)
				require.Equal(t, delivered, m.RecordsIn)
				for v := range h.got {
					require.False(t, lateV[v], "late row v=%d delivered", v)
				}
			} else {
				h.requireExactlyOnce(t, 2100)
				require.EqualValues(t, 2100, m.RecordsIn)
			}
			wantWarns := int64(0)
			if policy == LateWarn {
				wantWarns = 1 // two late batches within a second: one warning
			}
			require.Equal(t, wantWarns, logs.warns.Load())
		})
	}
}

func TestLateDropFanIn(t *testing.T) {
	// Non-hash strategies drop late rows through a selection vector too.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h := newHarness(mem)
	q, err := Start(context.Background(), Config{Partitions: 3, Strategy: FanIn, EventTimeColumn: "ts", MaxOutOfOrderness: -1, LatePolicy: LateDrop}, h.factory, h.sink)
	require.NoError(t, err)
	rec := makeRecord(t, mem, keyInt64, []row{{1, 100, 0}, {1, 200, 1}})
	require.NoError(t, q.Push(rec))
	rec.Release()
	rec = makeRecord(t, mem, keyInt64, []row{{1, 150, 2}, {1, 250, 3}, {1, 199, 4}, {1, 200, 5}})
	require.NoError(t, q.Push(rec))
	rec.Release()
	require.NoError(t, q.Close())
	require.Equal(t, map[int64]int{0: 1, 1: 1, 3: 1, 5: 1}, h.got)
	m := q.Metrics()
	require.EqualValues(t, 2, m.Partitions[0].DroppedRecords)
	require.EqualValues(t, 4, m.Partitions[0].RecordsIn)
}
