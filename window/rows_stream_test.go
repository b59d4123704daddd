package window

import (
	"bytes"
	"log/slog"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/columnar"
)

func TestRowsStreamEqualsBounded(t *testing.T) {
	var calls []Call
	for _, c := range allCalls {
		if c.Func != Lead {
			calls = append(calls, c)
		}
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(8, 9))
	n := 6000
	if testing.Short() {
		n = 1500
	}
	// Out of order within the allowed disorder (300): never late; ties in t.
	rows := make([]rrow, n)
	base := int64(0)
	for i := range rows {
		base += rng.Int64N(4)
		rows[i] = rrow{p: []string{"x", "y", "z"}[rng.IntN(3)], t: base - rng.Int64N(300), v: float64(rng.IntN(100)), q: rng.Int64N(50), vNull: rng.IntN(9) == 0}
	}
	want, tol := naiveRows(rows, calls)
	for _, maxB := range []int{1, 50, 5000} {
		outs, op := runRows(t, mem, RowsSpec{PartitionBy: []int{1}, OrderBy: 2, Calls: calls, Streaming: true, MaxOutOfOrdernessMs: 300},
			rows, func() int { return 1 + rng.IntN(maxB) })
		st := op.Stats()
		require.Zero(t, st.LateRows)
		require.Equal(t, int64(n), st.OutputRows)
		// Emitted in order-key order.
		last := int64(-1 << 62)
		for _, r := range outs {
			for _, k := range r.Column(2).(*array.Int64).Int64Values() {
				require.GreaterOrEqual(t, k, last)
				last = k
			}
		}
		requireClose(t, want, resultsBySeq(t, outs, len(calls)), tol, calls)
		releaseRecords(outs)
		op.Release()
	}
}

func TestRowsStreamLate(t *testing.T) {
	for _, policy := range []LatePolicy{LateDrop, LateWarn, LateProcess} {
		t.Run(policy.String(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			var logs bytes.Buffer
			op, err := NewRows(mem, rowsSchema, RowsSpec{OrderBy: 2, Streaming: true, MaxOutOfOrdernessMs: NoOutOfOrderness, Late: policy,
				Logger: slog.New(slog.NewTextHandler(&logs, nil)), Calls: []Call{{Func: RowNumber}, {Func: Lag, Arg: 2}}})
			require.NoError(t, err)
			defer op.Release()
			push := func(seq int, rows ...rrow) []string {
				rec := mkRowsRec(mem, rows, seq)
				defer rec.Release()
				out, err := op.Push(columnar.Batch{Rec: rec})
				require.NoError(t, err)
				defer releaseRecords(out)
				return rowsOf(out)
			}
			require.Equal(t, []string{"1|a|10|0|0|1|(null)", "0|a|20|0|0|2|10"}, push(0, rrow{p: "a", t: 20}, rrow{p: "a", t: 10}))
			// 15 is at or below the watermark of the last release (20): late.
			got := push(2, rrow{p: "a", t: 15}, rrow{p: "a", t: 25})
			st := op.Stats()
			require.Equal(t, int64(1), st.LateRows)
			if policy == LateDrop {
				require.Equal(t, []string{"3|a|25|0|0|3|20"}, got)
				require.Equal(t, int64(1), st.LateDropped)
			} else {
				require.Equal(t, []string{"2|a|15|0|0|3|20", "3|a|25|0|0|4|15"}, got)
				require.Equal(t, int64(1), st.LateProcessed)
			}
			require.Equal(t, policy == LateWarn, logs.Len() > 0)
			fin, err := op.Finish()
			require.NoError(t, err)
			require.Empty(t, fin)
			wm, err := op.AdvanceWatermark(100)
			require.NoError(t, err)
			require.Empty(t, wm)
		})
	}
}

func TestRowsExplicitWatermark(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	op, err := NewRows(mem, rowsSchema, RowsSpec{OrderBy: 2, Streaming: true, Calls: []Call{{Func: FirstValue, Arg: 2, Preceding: UnboundedPreceding}}})
	require.NoError(t, err)
	defer op.Release()
	rec := mkRowsRec(mem, []rrow{{t: 1000}, {t: 3000}, {tNull: true}}, 0)
	out, err := op.Push(columnar.Batch{Rec: rec})
	rec.Release()
	require.NoError(t, err)
	require.Empty(t, out) // default disorder 5 s holds both rows
	out, err = op.AdvanceWatermark(2000)
	require.NoError(t, err)
	require.Equal(t, []string{"0||1000|0|0|1000"}, rowsOf(out))
	releaseRecords(out)
	out, err = op.Finish()
	require.NoError(t, err)
	require.Equal(t, []string{"1||3000|0|0|1000"}, rowsOf(out))
	releaseRecords(out)
	require.Equal(t, int64(1), op.Stats().NullTime)
}
