package window

import (
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/agg"
	"github.com/velo-engine/velo/columnar"
)

// TestPartialWindowsMerge deals batches round-robin to several operators in
// partial mode sharing a Merger that follow one external watermark
// (generated from every batch, as the SQL path does) and compares what they
// emit together with one operator fed every batch: the same rows (as a
// multiset) and the same counters, with late rows under every policy, NULL
// keys, values and times, and random batch sizes. Windows must come out
// while the input runs, not all at the end.
func TestPartialWindowsMerge(t *testing.T) {
	n := 6000
	if testing.Short() {
		n = 2000
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, kind := range []Kind{Tumbling, Sliding} {
		for _, policy := range []LatePolicy{LateDrop, LateWarn, LateProcess} {
			for _, parts := range []int{1, 2, 3} {
				t.Run(fmt.Sprintf("%s/%s/%d", kind, policy, parts), func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					rng := rand.New(rand.NewPCG(uint64(parts), uint64(kind)*3+uint64(policy)))
					rows := genRows(rng, n, 10, 900, 5) // disorder up to 900 ms, allowed 300: late rows
					spec := Spec{Kind: kind, SizeMs: 400, MaxOutOfOrdernessMs: 300, AllowedLatenessMs: 50,
						ExternalWatermark: true, Late: policy, Keys: []agg.KeySpec{{Column: 1}}, Aggs: fullAggs, Logger: quiet}
					if kind == Sliding {
						spec.SlideMs = 100
					}
					var batches [][]trow
					for i := 0; i < len(rows); {
						k := min(1+rng.IntN(400), len(rows)-i)
						batches = append(batches, rows[i:i+k])
						i += k
						if rng.IntN(3) == 0 {
							// Two batches of late rows only (dealt to different
							// operators): they move no watermark, so under
							// LateProcess their rows fire together at the next
							// watermark step, as one window.
							shift := 1500 + rng.Int64N(1000)
							for range 2 {
								late := slices.Clone(rows[max(0, i-20):i])
								for j := range late {
									late[j].ts -= shift
								}
								batches = append(batches, late)
							}
						}
					}
					want, wst := runDealt(t, mem, spec, batches, 1)
					got, gst := runDealt(t, mem, spec, batches, parts)
					require.Positive(t, wst.LateRows)
					if policy == LateProcess {
						require.Positive(t, wst.Reopened, "late firings")
					}
					require.Equal(t, want, got)
					require.Equal(t, wst, gst)
				})
			}
		}
	}
}

// runDealt deals batches round-robin to parts operators (partial mode when
// parts > 1) under one external watermark and returns the sorted output
// rows and the summed counters (Open and Watermark left out).
func runDealt(t *testing.T, mem memory.Allocator, spec Spec, batches [][]trow, parts int) ([]string, Stats) {
	ops := make([]*TimeWindow, parts)
	m := NewMerger(parts)
	for i := range ops {
		w, err := NewTimeWindow(mem, testSchema, spec)
		require.NoError(t, err)
		defer w.Release()
		if parts > 1 {
			require.NoError(t, w.Partial(m, i))
		}
		ops[i] = w
	}
	var out []arrow.Record
	defer func() { releaseRecords(out) }()
	keep := func(rs []arrow.Record, err error) {
		require.NoError(t, err)
		out = append(out, rs...)
	}
	// Like the partition layer: each operator gets its batches and every
	// watermark step (taken, as the router does, only when it moves) in
	// input order, and the operators run in a random interleaving, so some
	// fall behind others.
	type event struct {
		rec arrow.Record // nil: the watermark step wm
		wm  int64
	}
	queues := make([][]event, parts)
	maxEv, wm := int64(math.MinInt64), int64(math.MinInt64)
	for i, b := range batches {
		queues[i%parts] = append(queues[i%parts], event{rec: mkRec(mem, b)})
		for _, r := range b {
			if !r.tsNull {
				maxEv = max(maxEv, r.ts)
			}
		}
		if maxEv != math.MinInt64 && maxEv-spec.MaxOutOfOrdernessMs > wm {
			wm = maxEv - spec.MaxOutOfOrdernessMs
			for p := range queues {
				queues[p] = append(queues[p], event{wm: wm})
			}
		}
	}
	rng := rand.New(rand.NewPCG(uint64(len(batches)), uint64(parts)))
	for {
		var live []int
		for p, q := range queues {
			if len(q) > 0 {
				live = append(live, p)
			}
		}
		if len(live) == 0 {
			break
		}
		p := live[rng.IntN(len(live))]
		ev := queues[p][0]
		queues[p] = queues[p][1:]
		if ev.rec != nil {
			keep(ops[p].Push(columnar.Batch{Rec: ev.rec}))
			ev.rec.Release()
		} else {
			keep(ops[p].AdvanceWatermark(ev.wm))
		}
	}
	beforeFinish := len(out)
	for _, i := range rng.Perm(parts) {
		keep(ops[i].Finish())
	}
	require.Positive(t, beforeFinish, "windows close while the input runs")
	require.Empty(t, m.pending, "every partial merged")
	var st Stats
	for _, w := range ops {
		s := w.Stats()
		st.Rows += s.Rows
		st.NullTime += s.NullTime
		st.LateRows += s.LateRows
		st.LateDropped += s.LateDropped
		st.LateProcessed += s.LateProcessed
		st.Windows += s.Windows
		st.Reopened += s.Reopened
		st.OutputRows += s.OutputRows
	}
	rows := rowsOf(out)
	slices.Sort(rows)
	return rows, st
}

func TestPartialRefusesWhatHasNoPartialForm(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	keys := []agg.KeySpec{{Column: 1}}
	for _, tc := range []struct {
		spec Spec
		err  string
	}{
		{Spec{Kind: Session, GapMs: 10, ExternalWatermark: true, Keys: keys, Aggs: countSum}, "SESSION windows have no partial form"},
		{Spec{Kind: Tumbling, SizeMs: 10, ExternalWatermark: true, Emit: EmitChanges, Keys: keys, Aggs: countSum}, "EMIT CHANGES has no partial form"},
		{Spec{Kind: Tumbling, SizeMs: 10, Keys: keys, Aggs: countSum}, "external watermark"},
	} {
		w, err := NewTimeWindow(mem, testSchema, tc.spec)
		require.NoError(t, err)
		require.ErrorContains(t, w.Partial(NewMerger(2), 0), tc.err)
		w.Release()
	}
	w, err := NewTimeWindow(mem, testSchema, Spec{Kind: Tumbling, SizeMs: 10, ExternalWatermark: true, Keys: keys, Aggs: countSum})
	require.NoError(t, err)
	defer w.Release()
	rec := mkRec(mem, []trow{a(1, 1)})
	defer rec.Release()
	_, err = w.Push(columnar.Batch{Rec: rec})
	require.NoError(t, err)
	require.ErrorContains(t, w.Partial(NewMerger(2), 1), "before the first Push")
}
