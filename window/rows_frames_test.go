package window

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
)

// frameCalls are frame aggregates only (the bounded frame path) over the
// float column v (3), the int column q (4) and the string column p (1,
// COUNT only), with frames from CURRENT ROW to longer than a partition,
// around frameChunk, and unbounded.
func frameCalls(precs ...int64) []Call {
	var calls []Call
	for _, n := range precs {
		calls = append(calls,
			Call{Func: Sum, Arg: 3, Preceding: n}, Call{Func: Avg, Arg: 3, Preceding: n}, Call{Func: Min, Arg: 3, Preceding: n},
			Call{Func: Max, Arg: 3, Preceding: n}, Call{Func: Count, Arg: 3, Preceding: n}, Call{Func: CountStar, Preceding: n},
			Call{Func: Sum, Arg: 4, Preceding: n}, Call{Func: Avg, Arg: 4, Preceding: n}, Call{Func: Min, Arg: 4, Preceding: n},
			Call{Func: Max, Arg: 4, Preceding: n}, Call{Func: Count, Arg: 1, Preceding: n})
	}
	return calls
}

// frameData is random rows for the frame path: parts partitions (0: no
// key column NULLs), values with NULLs (nullPct %), and when special NaN,
// ±Inf and magnitudes from 1e-3 to 1e12; ties in t when ties.
func frameData(rng *rand.Rand, n, parts, nullPct int, special, ties bool) []rrow {
	rows := make([]rrow, n)
	for i := range rows {
		r := rrow{p: fmt.Sprintf("p%d", rng.IntN(parts)), q: rng.Int64N(2_000_000) - 1_000_000}
		if parts > 1 && rng.IntN(50) == 0 {
			r.p, r.pNull = "", true
		}
		if ties {
			r.t = rng.Int64N(int64(n/4 + 1))
		} else {
			r.t = int64(i) + 100 - rng.Int64N(200) // nearly ordered, some late
		}
		r.tNull = rng.IntN(200) == 0
		r.v = 100 + rng.NormFloat64()*20
		if special {
			switch rng.IntN(40) {
			case 0:
				r.v = math.NaN()
			case 1:
				r.v = math.Inf(1)
			case 2:
				r.v = math.Inf(-1)
			case 3:
				r.v = (rng.Float64() - 0.5) * 1e12
			case 4:
				r.v = rng.Float64() * 1e-3
			}
		}
		r.vNull = rng.IntN(100) < nullPct
		r.qNull = rng.IntN(100) < nullPct
		rows[i] = r
	}
	return rows
}

// frameRef computes every call per row from scratch: rows grouped by the
// partition key (spec.PartitionBy set), stably sorted by t (NULL lowest,
// DESC reversing), each frame scanned in full: SUM in frame order (IEEE:
// NaN, ±Inf as they come), MIN/MAX with NaN above every number. tol is
// each float result's error magnitude: Σ|x| over the frame and the one
// before it.
func frameRef(rows []rrow, spec RowsSpec) (map[int64][]any, map[int64][]float64) {
	parts := map[string][]int{}
	var keys []string
	for i, r := range rows {
		k := ""
		if len(spec.PartitionBy) > 0 {
			k = fmt.Sprint(r.pNull, r.p)
		}
		if _, ok := parts[k]; !ok {
			keys = append(keys, k)
		}
		parts[k] = append(parts[k], i)
	}
	key := func(i int) int64 {
		k := rows[i].t
		if rows[i].tNull {
			k = math.MinInt64
		}
		if spec.OrderDesc {
			k = ^k
		}
		return k
	}
	out, tol := map[int64][]any{}, map[int64][]float64{}
	for _, pk := range keys {
		idx := parts[pk]
		if spec.OrderBy >= 0 {
			slices.SortStableFunc(idx, func(a, b int) int { return cmpInt(key(a), key(b)) })
		}
		for pos, i := range idx {
			var vals []any
			var tols []float64
			var cache []frameStat
			for _, c := range spec.Calls {
				var st *frameStat
				for k := range cache {
					if cache[k].arg == c.Arg && cache[k].prec == c.Preceding {
						st = &cache[k]
					}
				}
				if st == nil {
					cache = append(cache, scanFrame(rows, idx, pos, c.Arg, c.Preceding))
					st = &cache[len(cache)-1]
				}
				var v any
				m := 0.0
				switch {
				case c.Func == CountStar:
					v = int64(st.rows)
				case c.Func == Count:
					v = int64(st.n)
				case st.n == 0:
					v = nil
				case c.Func == Min && c.Arg == 3:
					v = st.fmin
				case c.Func == Max && c.Arg == 3:
					v = st.fmax
				case c.Func == Min:
					v = st.imin
				case c.Func == Max:
					v = st.imax
				case c.Arg == 3 && c.Func == Sum:
					v, m = st.fs, st.mag
				case c.Func == Sum:
					v = st.is
				case c.Arg == 3:
					v, m = st.fs/float64(st.n), st.mag/float64(st.n)
				default:
					v = float64(st.is) / float64(st.n)
					m = math.Abs(float64(st.is)) / float64(st.n)
				}
				vals = append(vals, v)
				tols = append(tols, m)
			}
			out[int64(i)], tol[int64(i)] = vals, tols
		}
	}
	return out, tol
}

// frameStat is one frame of one argument, scanned row by row.
type frameStat struct {
	arg        int
	prec       int64
	rows, n    int     // rows in the frame, non-NULL values
	fs, mag    float64 // float sum in frame order, Σ|finite x| over this frame and the one before
	fmin, fmax float64 // NaN above every number
	is         int64
	imin, imax int64
}

// scanFrame scans the frame of n PRECEDING rows ending at idx[pos].
func scanFrame(rows []rrow, idx []int, pos, arg int, prec int64) frameStat {
	st := frameStat{arg: arg, prec: prec}
	lo := 0
	if prec != UnboundedPreceding {
		lo = max(0, pos-int(prec))
	}
	frame := idx[lo : pos+1]
	st.rows = len(frame)
	for _, j := range frame {
		r := rows[j]
		switch arg {
		case 1:
			if !r.pNull {
				st.n++
			}
		case 3:
			if r.vNull {
				continue
			}
			x := r.v
			st.fs += x
			if !math.IsInf(x, 0) && !math.IsNaN(x) {
				st.mag += math.Abs(x)
			}
			if st.n == 0 || !math.IsNaN(x) && (math.IsNaN(st.fmin) || x < st.fmin) {
				st.fmin = x
			}
			if st.n == 0 || !math.IsNaN(st.fmax) && (math.IsNaN(x) || x > st.fmax) {
				st.fmax = x
			}
			st.n++
		case 4:
			if r.qNull {
				continue
			}
			st.is += r.q
			if st.n == 0 || r.q < st.imin {
				st.imin = r.q
			}
			if st.n == 0 || r.q > st.imax {
				st.imax = r.q
			}
			st.n++
		}
	}
	if arg == 3 {
		for _, j := range idx[max(0, lo-len(frame)):lo] {
			if x := rows[j].v; !rows[j].vNull && !math.IsInf(x, 0) && !math.IsNaN(x) {
				st.mag += math.Abs(x)
			}
		}
	}
	return st
}

// requireFrames compares results: ints and NULLs exactly, floats equal
// when both are NaN or the same infinity, else within 1e-9·(1+tol).
func requireFrames(t *testing.T, want, got map[int64][]any, tol map[int64][]float64, calls []Call) {
	t.Helper()
	require.Equal(t, len(want), len(got))
	for seq, w := range want {
		g := got[seq]
		require.Len(t, g, len(w), "row %d", seq)
		for c := range w {
			wf, ok1 := w[c].(float64)
			gf, ok2 := g[c].(float64)
			if !ok1 || !ok2 {
				require.Equal(t, w[c], g[c], "row %d %s(%d) preceding %d", seq, calls[c].Func, calls[c].Arg, calls[c].Preceding)
				continue
			}
			switch {
			case math.IsNaN(wf) || math.IsInf(wf, 0):
				require.True(t, math.IsNaN(wf) && math.IsNaN(gf) || wf == gf, "row %d %s(%d) preceding %d: want %v, got %v", seq, calls[c].Func, calls[c].Arg, calls[c].Preceding, wf, gf)
			default:
				m := 0.0
				if tol != nil {
					m = tol[seq][c]
				}
				require.InDelta(t, wf, gf, 1e-9*(1+m), "row %d %s(%d) preceding %d", seq, calls[c].Func, calls[c].Arg, calls[c].Preceding)
			}
		}
	}
}

func TestRowsFramesMatchReference(t *testing.T) {
	cases := []struct {
		name                  string
		rows, parts, nullPct  int
		special, ties, single bool
		precs                 []int64
	}{
		{name: "S1-shape", rows: 6000, parts: 20, precs: []int64{99}},
		{name: "nulls-special", rows: 5000, parts: 7, nullPct: 10, special: true, precs: []int64{0, 1, 2, 99, UnboundedPreceding}},
		{name: "ties", rows: 4000, parts: 3, nullPct: 5, ties: true, precs: []int64{0, 3, 50, UnboundedPreceding}},
		{name: "mostly-null", rows: 3000, parts: 4, nullPct: 90, special: true, precs: []int64{0, 4, 40}},
		{name: "one-partition-chunks", rows: 5000, parts: 1, nullPct: 3, special: true, single: true,
			precs: []int64{frameChunk - 1, frameChunk, frameChunk + 5, 20000}},
		{name: "many-partitions", rows: 8000, parts: 3000, nullPct: 5, special: true, precs: []int64{0, 5, 99, UnboundedPreceding}},
		{name: "frame-longer-than-partition", rows: 2000, parts: 5, nullPct: 5, precs: []int64{500, 1 << 20}},
	}
	for _, tc := range cases {
		for _, desc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/desc=%v", tc.name, desc), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				rng := rand.New(rand.NewPCG(uint64(tc.rows), uint64(tc.parts)))
				rows := frameData(rng, tc.rows, tc.parts, tc.nullPct, tc.special, tc.ties)
				spec := RowsSpec{PartitionBy: []int{1}, OrderBy: 2, OrderDesc: desc, Calls: frameCalls(tc.precs...)}
				if tc.single {
					spec.PartitionBy = nil
				}
				want, tol := frameRef(rows, spec)
				outs, op := runRows(t, mem, spec, rows, func() int { return 1 + rng.IntN(1500) })
				defer op.Release()
				defer releaseRecords(outs)
				require.True(t, op.framesOnly())
				requireFrames(t, want, resultsBySeq(t, outs, len(spec.Calls)), tol, spec.Calls)
			})
		}
	}
}

// TestRowsFramesMatchPerRow runs the same frames through the frame path
// and the per-row path (a ROW_NUMBER call forces it) over finite values
// with NULLs: equal MIN/MAX/COUNT, sums within the documented bound.
func TestRowsFramesMatchPerRow(t *testing.T) {
	for _, parts := range []int{1, 6, 500} {
		t.Run(fmt.Sprint("parts=", parts), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(7, uint64(parts)))
			rows := frameData(rng, 5000, parts, 8, false, parts == 6)
			calls := frameCalls(0, 1, 99, frameChunk+10, UnboundedPreceding)
			fast, op1 := runRows(t, mem, RowsSpec{PartitionBy: []int{1}, OrderBy: 2, Calls: calls}, rows, func() int { return 1 + rng.IntN(900) })
			defer op1.Release()
			defer releaseRecords(fast)
			slow, op2 := runRows(t, mem, RowsSpec{PartitionBy: []int{1}, OrderBy: 2, Calls: append(slices.Clone(calls), Call{Func: RowNumber})}, rows, func() int { return 1 + rng.IntN(900) })
			defer op2.Release()
			defer releaseRecords(slow)
			require.True(t, op1.framesOnly())
			require.False(t, op2.framesOnly())
			want := resultsBySeq(t, slow, len(calls)+1)
			for k, v := range want {
				want[k] = v[:len(calls)]
			}
			_, tol := frameRef(rows, RowsSpec{PartitionBy: []int{1}, OrderBy: 2, Calls: calls})
			requireFrames(t, want, resultsBySeq(t, fast, len(calls)), tol, calls)
		})
	}
}

// TestRowsFramesNoOrder covers arrival order (no ORDER BY) and no
// PARTITION BY on the frame path.
func TestRowsFramesNoOrder(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(11, 12))
	rows := frameData(rng, 3000, 4, 5, true, false)
	for _, part := range [][]int{nil, {1}} {
		spec := RowsSpec{PartitionBy: part, OrderBy: -1, Calls: frameCalls(0, 7, 99)}
		want, tol := frameRef(rows, spec)
		outs, op := runRows(t, mem, spec, rows, func() int { return 1 + rng.IntN(400) })
		requireFrames(t, want, resultsBySeq(t, outs, len(spec.Calls)), tol, spec.Calls)
		releaseRecords(outs)
		op.Release()
	}
}

// TestRowsFramesGolden checks hand-computed values: AVG/MIN/MAX over 2
// PRECEDING with a NULL, NaN and +Inf entering and leaving the frame.
func TestRowsFramesGolden(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	inf, nan := math.Inf(1), math.NaN()
	vs := []float64{1, 2, inf, 4, 5, nan, 7, 0, 9, 10}
	rows := make([]rrow, len(vs))
	for i, v := range vs {
		rows[i] = rrow{p: "a", t: int64(i), v: v, vNull: i == 7}
	}
	calls := []Call{{Func: Sum, Arg: 3, Preceding: 2}, {Func: Min, Arg: 3, Preceding: 2}, {Func: Max, Arg: 3, Preceding: 2}, {Func: Count, Arg: 3, Preceding: 2}}
	outs, op := runRows(t, mem, RowsSpec{PartitionBy: []int{1}, OrderBy: 2, Calls: calls}, rows, func() int { return 3 })
	defer op.Release()
	defer releaseRecords(outs)
	got := resultsBySeq(t, outs, len(calls))
	want := map[int64][]any{
		0: {1.0, 1.0, 1.0, int64(1)}, 1: {3.0, 1.0, 2.0, int64(2)}, 2: {inf, 1.0, inf, int64(3)},
		3: {inf, 2.0, inf, int64(3)}, 4: {inf, 4.0, inf, int64(3)}, 5: {nan, 4.0, nan, int64(3)},
		6: {nan, 5.0, nan, int64(3)}, 7: {nan, 7.0, nan, int64(2)}, 8: {16.0, 7.0, 9.0, int64(2)}, 9: {19.0, 9.0, 10.0, int64(2)},
	}
	requireFrames(t, want, got, nil, calls)
	st := op.Stats()
	require.Equal(t, 1, st.Open)
	require.Equal(t, int64(len(vs)), st.OutputRows)
}

// TestRowsPerRowSpecialValues runs the frame aggregates through the
// per-row path (bounded with a ROW_NUMBER call, and streaming) over NULLs,
// NaN and ±Inf: an infinity leaving a moving sum's frame must leave no
// NaN behind, and NaN sorts above every number for MIN/MAX.
func TestRowsPerRowSpecialValues(t *testing.T) {
	for _, streaming := range []bool{false, true} {
		t.Run(fmt.Sprint("streaming=", streaming), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			rng := rand.New(rand.NewPCG(21, 22))
			rows := frameData(rng, 4000, 7, 10, true, false)
			for i := range rows {
				rows[i].tNull = false // a stream skips rows without event time
			}
			calls := frameCalls(0, 1, 5, 99, UnboundedPreceding)
			spec := RowsSpec{PartitionBy: []int{1}, OrderBy: 2, Streaming: streaming, Calls: calls}
			if !streaming {
				spec.Calls = append(slices.Clone(calls), Call{Func: RowNumber})
			}
			outs, op := runRows(t, mem, spec, rows, func() int { return 1 + rng.IntN(600) })
			defer op.Release()
			defer releaseRecords(outs)
			require.False(t, op.framesOnly())
			got := resultsBySeq(t, outs, len(spec.Calls))
			for k, v := range got {
				got[k] = v[:len(calls)]
			}
			want, tol := frameRef(rows, RowsSpec{PartitionBy: []int{1}, OrderBy: 2, Calls: calls})
			requireFrames(t, want, got, tol, calls)
		})
	}
}
