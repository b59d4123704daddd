package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/internal/guardmem"
)

// ---------------------------------------------------------------------------
// Naive oracles: one plain statement per row, written independently of the
// kernels' run-carrying loops.

func grpRows(n int, validity []byte, off int, sel []int32) []int {
	var cand, rows []int
	if sel == nil {
		for i := 0; i < n; i++ {
			cand = append(cand, i)
		}
	} else {
		for _, r := range sel {
			cand = append(cand, int(r))
		}
	}
	for _, r := range cand {
		if validity == nil || validity[(off+r)/8]&(1<<((off+r)%8)) != 0 {
			rows = append(rows, r)
		}
	}
	return rows
}

func grpNaiveSumInt64(sums []int64, groups []uint32, vals []int64, validity []byte, off int, sel []int32) bool {
	ovf := false
	for _, r := range grpRows(len(groups), validity, off, sel) {
		g, v := groups[r], vals[r]
		s := sums[g] + v
		if v > 0 && s < sums[g] || v < 0 && s > sums[g] {
			ovf = true
		}
		sums[g] = s
	}
	return ovf
}

func grpNaiveSumFloat64(sums []float64, groups []uint32, vals []float64, validity []byte, off int, sel []int32) {
	for _, r := range grpRows(len(groups), validity, off, sel) {
		sums[groups[r]] += vals[r]
	}
}

func grpNaiveCount(counts []int64, groups []uint32, validity []byte, off int, sel []int32) {
	for _, r := range grpRows(len(groups), validity, off, sel) {
		counts[groups[r]]++
	}
}

func grpNaiveMinMaxInt64(dst []int64, groups []uint32, vals []int64, validity []byte, off int, sel []int32, isMax bool) {
	for _, r := range grpRows(len(groups), validity, off, sel) {
		g := groups[r]
		if isMax && vals[r] > dst[g] || !isMax && vals[r] < dst[g] {
			dst[g] = vals[r]
		}
	}
}

func grpNaiveMinMaxFloat64(dst []float64, groups []uint32, vals []float64, validity []byte, off int, sel []int32, isMax bool) {
	for _, r := range grpRows(len(groups), validity, off, sel) {
		g := groups[r]
		if isMax && redFloatLess(dst[g], vals[r]) || !isMax && redFloatLess(vals[r], dst[g]) {
			dst[g] = vals[r]
		}
	}
	for g, v := range dst {
		if v != v {
			dst[g] = math.NaN()
		}
	}
}

// ---------------------------------------------------------------------------
// Inputs.

// grpIDs returns n group ids < ngroups: random, or in runs of equal ids.
func grpIDs(rng *rand.Rand, n, ngroups int, runs bool) []uint32 {
	g := make([]uint32, n)
	for i := 0; i < n; {
		id := uint32(rng.IntN(ngroups))
		k := 1
		if runs {
			k = 1 + rng.IntN(32)
		}
		for ; k > 0 && i < n; k-- {
			g[i] = id
			i++
		}
	}
	return g
}

func grpCanonNaN(v []float64) []float64 {
	out := append([]float64(nil), v...)
	for i, f := range out {
		if f != f {
			out[i] = math.NaN()
		}
	}
	return out
}

func grpSameFloats(t *testing.T, what string, want, got []float64) {
	t.Helper()
	for i := range want {
		if math.Float64bits(want[i]) != math.Float64bits(got[i]) {
			t.Fatalf("%s: group %d: want %v (%#x), got %v (%#x)", what, i, want[i], math.Float64bits(want[i]), got[i], math.Float64bits(got[i]))
		}
	}
}

// grpCheckAll runs every grouped kernel on one input against the oracles.
func grpCheckAll(t *testing.T, ngroups int, groups []uint32, iv []int64, fv []float64, validity []byte, off int, sel []int32, what string) {
	t.Helper()
	rng := rand.New(rand.NewPCG(uint64(len(groups)), uint64(ngroups)))
	initI := redInts(rng, ngroups, 0)
	initF := redFloats(rng, ngroups, 1)

	// Sums start from values near the limits so overflow happens.
	want, got := append([]int64{}, initI...), append([]int64{}, initI...)
	if len(want) > 0 {
		want[0], got[0] = math.MaxInt64-1000, math.MaxInt64-1000
	}
	wovf := grpNaiveSumInt64(want, groups, iv, validity, off, sel)
	ovf := GroupedSumInt64(got, groups, iv, validity, off, sel)
	require.Equal(t, wovf, ovf, "%s GroupedSumInt64 overflow", what)
	require.Equal(t, want, got, "%s GroupedSumInt64", what)

	wf, gf := append([]float64{}, initF...), append([]float64{}, initF...)
	grpNaiveSumFloat64(wf, groups, fv, validity, off, sel)
	GroupedSumFloat64(gf, groups, fv, validity, off, sel)
	grpSameFloats(t, what+" GroupedSumFloat64", grpCanonNaN(wf), grpCanonNaN(gf))

	wc, gc := make([]int64, ngroups), make([]int64, ngroups)
	grpNaiveCount(wc, groups, validity, off, sel)
	GroupedCountValid(gc, groups, validity, off, sel)
	require.Equal(t, wc, gc, "%s GroupedCountValid", what)
	wc, gc = make([]int64, ngroups), make([]int64, ngroups)
	grpNaiveCount(wc, groups, nil, 0, sel)
	GroupedCountRows(gc, groups, sel)
	require.Equal(t, wc, gc, "%s GroupedCountRows", what)

	for _, isMax := range []bool{false, true} {
		want, got := append([]int64{}, initI...), append([]int64{}, initI...)
		grpNaiveMinMaxInt64(want, groups, iv, validity, off, sel, isMax)
		if isMax {
			GroupedMaxInt64(got, groups, iv, validity, off, sel)
		} else {
			GroupedMinInt64(got, groups, iv, validity, off, sel)
		}
		require.Equal(t, want, got, "%s GroupedMinMaxInt64 max=%v", what, isMax)

		wf, gf := append([]float64{}, initF...), append([]float64{}, initF...)
		grpNaiveMinMaxFloat64(wf, groups, fv, validity, off, sel, isMax)
		if isMax {
			GroupedMaxFloat64(gf, groups, fv, validity, off, sel)
		} else {
			GroupedMinFloat64(gf, groups, fv, validity, off, sel)
		}
		// Untouched groups are canonicalised by the kernel only when they
		// are the run state at a switch, so compare NaNs as NaNs.
		grpSameFloats(t, fmt.Sprintf("%s GroupedMinMaxFloat64 max=%v", what, isMax), grpCanonNaN(wf), grpCanonNaN(gf))
	}

	// The fused sum/min/max against the three oracles, with and without
	// the sums.
	for _, withSums := range []bool{true, false} {
		initMin, initMax := redFloats(rng, ngroups, 2), redFloats(rng, ngroups, 0)
		ws, wmin, wmax := append([]float64{}, initF...), append([]float64{}, initMin...), append([]float64{}, initMax...)
		gs, gmin, gmax := append([]float64{}, initF...), append([]float64{}, initMin...), append([]float64{}, initMax...)
		grpNaiveSumFloat64(ws, groups, fv, validity, off, sel)
		grpNaiveMinMaxFloat64(wmin, groups, fv, validity, off, sel, false)
		grpNaiveMinMaxFloat64(wmax, groups, fv, validity, off, sel, true)
		if withSums {
			GroupedSumMinMaxFloat64(gs, gmin, gmax, groups, fv, validity, off, sel)
			grpSameFloats(t, what+" GroupedSumMinMaxFloat64 sums", grpCanonNaN(ws), grpCanonNaN(gs))
		} else {
			GroupedSumMinMaxFloat64(nil, gmin, gmax, groups, fv, validity, off, sel)
		}
		grpSameFloats(t, fmt.Sprintf("%s GroupedSumMinMaxFloat64 mins (sums %v)", what, withSums), grpCanonNaN(wmin), grpCanonNaN(gmin))
		grpSameFloats(t, fmt.Sprintf("%s GroupedSumMinMaxFloat64 maxs (sums %v)", what, withSums), grpCanonNaN(wmax), grpCanonNaN(gmax))
	}
}

func TestGroupedDifferential(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(17, uint64(l)))
		sizes := []int{}
		for n := 0; n <= 300; n++ {
			sizes = append(sizes, n)
		}
		sizes = append(sizes, 1<<16+3)
		for _, n := range sizes {
			for _, ng := range []int{1, 7, 1000} {
				if n > 300 && ng != 1000 {
					continue
				}
				start := n % 8
				groups := grpIDs(rng, n+start, ng, n%2 == 0)[start:]
				iv := redInts(rng, n+start, n)[start:]
				fv := redFloats(rng, n+start, n)[start:]
				for vm := 0; vm < 5; vm += 2 {
					off := 0
					if vm > 0 {
						off = rng.IntN(13)
					}
					bm := redBitmap(rng, n, off, vm)
					for sm := 0; sm < 3; sm++ {
						if n > 300 && redShort() && sm+vm > 0 {
							continue
						}
						sel := redSel(rng, n, sm)
						grpCheckAll(t, ng, groups, iv, fv, bm, off, sel, fmt.Sprintf("n=%d groups=%d vm=%d off=%d sm=%d", n, ng, vm, off, sm))
					}
				}
			}
		}
	})
}

// TestGroupedPrefetchVariants covers the routines for large states (see
// groupedPrefetchMin) around the end of their prefetching loop, with ids
// in and out of range ahead of the current row.
func TestGroupedPrefetchVariants(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(31, uint64(l)))
		for _, ng := range []int{groupedPrefetchMin, 100_000} {
			for _, n := range []int{0, 1, 5, 16, 17, 19, 20, 21, 23, 36, 37, 1000, 1<<16 + 3} {
				groups := grpIDs(rng, n, ng, false)
				iv, fv := redInts(rng, n, n), redFloats(rng, n, n)
				for vm := 0; vm < 3; vm += 2 {
					bm := redBitmap(rng, n, 3, vm)
					for sm := 0; sm < 2; sm++ {
						sel := redSel(rng, n, sm)
						grpCheckAll(t, ng, groups, iv, fv, bm, 3, sel, fmt.Sprintf("n=%d groups=%d vm=%d sm=%d", n, ng, vm, sm))
					}
				}
			}
			// An id out of range ahead of the current row is prefetched
			// harmlessly and reported when its row comes.
			groups := grpIDs(rng, 64, ng, false)
			groups[40] = uint32(ng)
			require.Panics(t, func() {
				GroupedSumMinMaxFloat64(make([]float64, ng), make([]float64, ng), make([]float64, ng), groups, make([]float64, 64), nil, 0, nil)
			})
		}
	})
}

// TestGroupedPrefetchSelection covers the selection loops of the routines
// for large states (see groupedPrefetchMin), which prefetch the states of
// candidate j+16's row: a selection index out of range (too large,
// negative, far outside any mapping) at or ahead of the current candidate
// is not read through and panics when its candidate comes, with the
// candidates before it applied; a group id out of range ahead is
// prefetched harmlessly and panics when its candidate comes; and the
// selection, ids, values and states ending at a guard page.
func TestGroupedPrefetchSelection(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(61, uint64(l)))
		const ng, n = groupedPrefetchMin, 128
		groups := grpIDs(rng, n, ng, false)
		fv := redFloats(rng, n, 0)
		backwards := func() []int32 {
			sel := make([]int32, n)
			for j := range sel {
				sel[j] = int32(n - 1 - j)
			}
			return sel
		}
		// check runs the fused routine over sel, which must panic after
		// the candidates before done, against the oracles over sel[:done].
		check := func(g []uint32, sel []int32, done int, what string) {
			ws, wmin, wmax := make([]float64, ng), make([]float64, ng), make([]float64, ng)
			gs, gmin, gmax := make([]float64, ng), make([]float64, ng), make([]float64, ng)
			grpNaiveSumFloat64(ws, g, fv, nil, 0, sel[:done])
			grpNaiveMinMaxFloat64(wmin, g, fv, nil, 0, sel[:done], false)
			grpNaiveMinMaxFloat64(wmax, g, fv, nil, 0, sel[:done], true)
			require.Panics(t, func() { GroupedSumMinMaxFloat64(gs, gmin, gmax, g, fv, nil, 0, sel) }, what)
			grpSameFloats(t, what+" sums", ws, gs)
			grpSameFloats(t, what+" mins", wmin, grpCanonNaN(gmin))
			grpSameFloats(t, what+" maxs", wmax, grpCanonNaN(gmax))
		}
		for _, pos := range []int{0, 1, 15, 16, 17, 40, 64, 65, 66, 67, 80, 81, 100, 109, 110, 115, n - 1} {
			for _, bad := range []int32{n, -1, 1 << 30, math.MaxInt32, math.MinInt32} {
				sel := backwards()
				sel[pos] = bad
				// A bad index among the first 64 candidates panics before
				// any update, in the sampling for runs (groupedRunny).
				done := pos
				if pos < 64 {
					done = 0
				}
				check(groups, sel, done, fmt.Sprintf("sel[%d] = %d", pos, bad))
			}
			for _, bad := range []uint32{ng, math.MaxUint32} {
				sel := backwards()
				g := append([]uint32{}, groups...)
				g[sel[pos]] = bad
				check(g, sel, pos, fmt.Sprintf("groups[sel[%d]] = %d", pos, bad))
			}
		}

		for m := 0; m <= 300; m += 1 + m/16 {
			var rows []int32
			for r := 0; r < m; r++ {
				if rng.IntN(2) == 0 {
					rows = append(rows, int32(r))
				}
			}
			sel, f1 := guardmem.Int32s(len(rows))
			copy(sel, rows)
			g, f2 := guardmem.Uint32s(m)
			copy(g, grpIDs(rng, m, ng, false))
			v, f3 := guardmem.Float64s(m)
			copy(v, redFloats(rng, m, m))
			gs, f4 := guardmem.Float64s(ng)
			gmin, f5 := guardmem.Float64s(ng)
			gmax, f6 := guardmem.Float64s(ng)
			ws, wmin, wmax := make([]float64, ng), make([]float64, ng), make([]float64, ng)
			grpNaiveSumFloat64(ws, g, v, nil, 0, sel)
			grpNaiveMinMaxFloat64(wmin, g, v, nil, 0, sel, false)
			grpNaiveMinMaxFloat64(wmax, g, v, nil, 0, sel, true)
			GroupedSumMinMaxFloat64(gs, gmin, gmax, g, v, nil, 0, sel)
			what := fmt.Sprintf("guard m=%d", m)
			grpSameFloats(t, what+" sums", grpCanonNaN(ws), grpCanonNaN(gs))
			grpSameFloats(t, what+" mins", wmin, grpCanonNaN(gmin))
			grpSameFloats(t, what+" maxs", wmax, grpCanonNaN(gmax))
			for _, f := range []func(){f1, f2, f3, f4, f5, f6} {
				f()
			}
		}
	})
}

// TestGroupedGuardPages puts the group ids, values, bitmap, selection and
// the state arrays at the end of a page followed by a PROT_NONE page.
func TestGroupedGuardPages(t *testing.T) {
	rng := rand.New(rand.NewPCG(19, 19))
	for n := 0; n <= 300; n += 1 + n/32 {
		const ng = 37
		groups, f1 := guardmem.Uint32s(n)
		iv, f2 := guardmem.Int64s(n)
		fv, f3 := guardmem.Float64s(n)
		copy(groups, grpIDs(rng, n, ng, n%2 == 1))
		copy(iv, redInts(rng, n, n))
		copy(fv, redFloats(rng, n, n))
		src := redBitmap(rng, n, 5, 3)
		bm, f4 := guardmem.Bytes(len(src))
		copy(bm, src)
		grpCheckAll(t, ng, groups, iv, fv, nil, 0, nil, fmt.Sprintf("guard n=%d", n))
		grpCheckAll(t, ng, groups, iv, fv, bm, 5, nil, fmt.Sprintf("guard n=%d validity", n))
		var rows []int32
		for r := 0; r < n; r++ {
			if rng.IntN(2) == 0 {
				rows = append(rows, int32(r))
			}
		}
		sel, f6 := guardmem.Int32s(len(rows))
		copy(sel, rows)
		grpCheckAll(t, ng, groups, iv, fv, nil, 0, sel, fmt.Sprintf("guard n=%d sel", n))
		grpCheckAll(t, ng, groups, iv, fv, bm, 5, sel, fmt.Sprintf("guard n=%d validity sel", n))
		f6()
		dst, f5 := guardmem.Int64s(ng)
		GroupedSumInt64(dst, groups, iv, bm, 5, nil)
		GroupedCountRows(dst, groups, nil)
		f1()
		f2()
		f3()
		f4()
		f5()
	}
}

func TestGroupedHandComputed(t *testing.T) {
	nz, nan, inf := math.Copysign(0, -1), math.NaN(), math.Inf(1)
	groups := []uint32{0, 1, 0, 2, 2, 1, 0}
	iv := []int64{5, -3, 7, math.MaxInt64, 1, 10, -2}
	sums := make([]int64, 3)
	require.True(t, GroupedSumInt64(sums, groups, iv, nil, 0, nil))
	require.Equal(t, []int64{10, 7, math.MinInt64}, sums) // group 2 wrapped
	sums = make([]int64, 3)
	// Row 3 (MaxInt64) null: no overflow.
	require.False(t, GroupedSumInt64(sums, groups, iv, []byte{0b1110111}, 0, nil))
	require.Equal(t, []int64{10, 7, 1}, sums)
	// MaxInt64 + 1 - 1 overflows in the running sum, even though the total
	// fits (the documented difference from SumInt64).
	require.True(t, GroupedSumInt64(make([]int64, 1), []uint32{0, 0, 0}, []int64{math.MaxInt64, 1, -1}, nil, 0, nil))

	counts := make([]int64, 3)
	GroupedCountRows(counts, groups, []int32{6, 6, 1})
	require.Equal(t, []int64{2, 1, 0}, counts)
	GroupedCountValid(counts, groups, []byte{0b1000001}, 0, nil)
	require.Equal(t, []int64{4, 1, 0}, counts)

	fv := []float64{nz, 0, 1, nan, -inf, nz, 2}
	mx := []float64{math.Inf(-1), math.Inf(-1), math.Inf(-1)}
	mn := []float64{nan, nan, nan}
	GroupedMaxFloat64(mx, []uint32{0, 0, 1, 1, 2, 2, 2}, fv, nil, 0, nil)
	GroupedMinFloat64(mn, []uint32{0, 0, 1, 1, 2, 2, 2}, fv, nil, 0, nil)
	grpSameFloats(t, "max", []float64{0, nan, 2}, mx)
	grpSameFloats(t, "min", []float64{nz, 1, -inf}, mn)
	sf := []float64{nz, nz}
	GroupedSumFloat64(sf, []uint32{0, 1}, []float64{nz, inf}, []byte{0b01}, 0, nil)
	grpSameFloats(t, "sum -0 stays", []float64{nz, nz}, sf)

	require.Panics(t, func() { GroupedSumInt64(make([]int64, 2), []uint32{0, 2}, []int64{1, 1}, nil, 0, nil) })
	require.Panics(t, func() { GroupedCountRows(make([]int64, 2), []uint32{5}, nil) })
	require.PanicsWithValue(t, "kernels.GroupedMaxInt64: 2 group ids for 1 values", func() {
		GroupedMaxInt64(make([]int64, 2), []uint32{0, 1}, []int64{1}, nil, 0, nil)
	})
}

// TestGroupedOutOfRange: a group id >= len(dst), or a selection index
// outside the rows, panics at every level wherever it sits (the assembly
// routines stop before it and the Go loop reports it), and the rows before
// it are applied.
func TestGroupedOutOfRange(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		const n = 40
		for _, pos := range []int{0, 1, 2, 3, 5, 17, n - 1} {
			groups := make([]uint32, n)
			for i := range groups {
				groups[i] = uint32(i % 3)
			}
			groups[pos] = 3
			vals := make([]int64, n)
			for i := range vals {
				vals[i] = 1
			}
			sums := make([]int64, 3)
			require.Panics(t, func() { GroupedSumInt64(sums, groups, vals, nil, 0, nil) }, "pos %d", pos)
			require.Equal(t, int64(pos), sums[0]+sums[1]+sums[2], "rows before %d applied", pos)
			require.Panics(t, func() { GroupedCountRows(make([]int64, 3), groups, nil) })
			require.Panics(t, func() { GroupedCountValid(make([]int64, 3), groups, make([]byte, 5), 0, nil) })
			require.Panics(t, func() { GroupedMinInt64(make([]int64, 3), groups, vals, nil, 0, nil) })
			require.Panics(t, func() { GroupedMaxInt64(make([]int64, 3), groups, vals, nil, 0, nil) })
			require.Panics(t, func() { GroupedMinFloat64(make([]float64, 3), groups, make([]float64, n), nil, 0, nil) })
			fmax := make([]float64, 3)
			fv := make([]float64, n)
			for i := range fv {
				fv[i] = float64(i + 1)
			}
			require.Panics(t, func() { GroupedMaxFloat64(fmax, groups, fv, nil, 0, nil) })
			require.Equal(t, float64(pos), max(fmax[0], fmax[1], fmax[2]), "rows before %d applied", pos)
			fs, fmin, fmax := make([]float64, 3), make([]float64, 3), make([]float64, 3)
			require.Panics(t, func() { GroupedSumMinMaxFloat64(fs, fmin, fmax, groups, fv, nil, 0, nil) })
			require.Equal(t, float64(pos*(pos+1)/2), fs[0]+fs[1]+fs[2], "rows before %d applied", pos)
			require.Panics(t, func() { GroupedSumMinMaxFloat64(nil, fmin, fmax, groups, fv, nil, 0, nil) })
			require.Panics(t, func() { GroupedSumMinMaxFloat64(fs, fmin, fmax[:2], groups[:0], fv[:0], nil, 0, nil) }, "state lengths")
			groups[pos] = 0
			for _, bad := range []int32{n, -1, math.MinInt32} {
				sel := make([]int32, n)
				for i := range sel {
					sel[i] = int32(i)
				}
				sel[pos] = bad
				require.Panics(t, func() { GroupedSumInt64(make([]int64, 3), groups, vals, nil, 0, sel) })
				require.Panics(t, func() { GroupedCountRows(make([]int64, 3), groups, sel) })
				require.Panics(t, func() { GroupedCountValid(make([]int64, 3), groups, make([]byte, 5), 0, sel) })
				require.Panics(t, func() { GroupedMaxInt64(make([]int64, 3), groups, vals, make([]byte, 5), 0, sel) })
				require.Panics(t, func() { GroupedMinFloat64(make([]float64, 3), groups, make([]float64, n), nil, 0, sel) })
				require.Panics(t, func() {
					GroupedSumMinMaxFloat64(make([]float64, 3), make([]float64, 3), make([]float64, 3), groups, make([]float64, n), nil, 0, sel)
				})
			}
		}
	})
}

// TestGroupedSelectionOutOfRange: a bad selection index or a bad group id
// behind a selection stops every kernel at its candidate (at each position
// of the assembly's unrolled selection loops and in their tails), with the
// candidates before it applied exactly once.
func TestGroupedSelectionOutOfRange(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(67, uint64(l)))
		const n, ng = 128, 5
		groups := grpIDs(rng, n, ng, false)
		iv, fv := redInts(rng, n, 0), redFloats(rng, n, 0)
		bm := redBitmap(rng, n, 3, 3)
		for _, pos := range []int{0, 3, 64, 65, 66, 67, 80, 99, 110, 125, n - 1} {
			for _, bad := range []int64{n, -1, math.MinInt32, 1 << 40} {
				sel := make([]int32, n)
				for j, r := range rng.Perm(n) {
					sel[j] = int32(r)
				}
				g := groups
				// done: the candidates applied before the panic. The Go
				// code samples the first 64 candidates' ids for runs
				// (groupedRunny), which panics on a bad index before any
				// update; GroupedCountRows does not sample with a
				// selection.
				done, doneCount := pos, pos
				what := fmt.Sprintf("pos %d", pos)
				if bad == 1<<40 {
					g = append([]uint32{}, groups...)
					g[sel[pos]] = ng
					what += " bad id"
				} else {
					sel[pos] = int32(bad)
					what += fmt.Sprintf(" sel %d", bad)
					if pos < 64 {
						done = 0
					}
				}
				// The bad id's row valid and NULL: it panics either way.
				vbm, nbm := append([]byte{}, bm...), append([]byte{}, bm...)
				if bad == 1<<40 {
					vbm[(3+sel[pos])/8] |= 1 << ((3 + sel[pos]) % 8)
					nbm[(3+sel[pos])/8] &^= 1 << ((3 + sel[pos]) % 8)
				}
				for _, v := range [][]byte{nil, vbm, nbm} {
					w := what + fmt.Sprintf(" bitmap %v", v != nil)
					want, got := make([]int64, ng), make([]int64, ng)
					grpNaiveSumInt64(want, g, iv, v, 3, sel[:done])
					require.Panics(t, func() { GroupedSumInt64(got, g, iv, v, 3, sel) }, w)
					require.Equal(t, want, got, "%s: GroupedSumInt64", w)

					wf, gf := make([]float64, ng), make([]float64, ng)
					grpNaiveSumFloat64(wf, g, fv, v, 3, sel[:done])
					require.Panics(t, func() { GroupedSumFloat64(gf, g, fv, v, 3, sel) }, w)
					grpSameFloats(t, w+": GroupedSumFloat64", wf, gf)

					want, got = make([]int64, ng), make([]int64, ng)
					if v == nil {
						grpNaiveCount(want, g, nil, 0, sel[:doneCount])
						require.Panics(t, func() { GroupedCountRows(got, g, sel) }, w)
					} else {
						grpNaiveCount(want, g, v, 3, sel[:done])
						require.Panics(t, func() { GroupedCountValid(got, g, v, 3, sel) }, w)
					}
					require.Equal(t, want, got, "%s: GroupedCount", w)

					for _, isMax := range []bool{false, true} {
						want, got := make([]int64, ng), make([]int64, ng)
						grpNaiveMinMaxInt64(want, g, iv, v, 3, sel[:done], isMax)
						wf, gf := make([]float64, ng), make([]float64, ng)
						grpNaiveMinMaxFloat64(wf, g, fv, v, 3, sel[:done], isMax)
						if isMax {
							require.Panics(t, func() { GroupedMaxInt64(got, g, iv, v, 3, sel) }, w)
							require.Panics(t, func() { GroupedMaxFloat64(gf, g, fv, v, 3, sel) }, w)
						} else {
							require.Panics(t, func() { GroupedMinInt64(got, g, iv, v, 3, sel) }, w)
							require.Panics(t, func() { GroupedMinFloat64(gf, g, fv, v, 3, sel) }, w)
						}
						require.Equal(t, want, got, "%s: GroupedMinMaxInt64 max=%v", w, isMax)
						grpSameFloats(t, fmt.Sprintf("%s: GroupedMinMaxFloat64 max=%v", w, isMax), wf, grpCanonNaN(gf))
					}

					ws, wmin, wmax := make([]float64, ng), make([]float64, ng), make([]float64, ng)
					gs, gmin, gmax := make([]float64, ng), make([]float64, ng), make([]float64, ng)
					grpNaiveSumFloat64(ws, g, fv, v, 3, sel[:done])
					grpNaiveMinMaxFloat64(wmin, g, fv, v, 3, sel[:done], false)
					grpNaiveMinMaxFloat64(wmax, g, fv, v, 3, sel[:done], true)
					require.Panics(t, func() { GroupedSumMinMaxFloat64(gs, gmin, gmax, g, fv, v, 3, sel) }, w)
					grpSameFloats(t, w+": GroupedSumMinMaxFloat64 sums", ws, gs)
					if v == nil {
						// With a bitmap, the assembly levels run the three
						// single routines, and the first one panics.
						grpSameFloats(t, w+": GroupedSumMinMaxFloat64 mins", wmin, grpCanonNaN(gmin))
						grpSameFloats(t, w+": GroupedSumMinMaxFloat64 maxs", wmax, grpCanonNaN(gmax))
					}
				}
			}
		}
	})
}

// TestGroupedFloatSpecials puts pairs of ±0.0 and NaN into each group at
// every position of the assembly's unrolled loop, so the out-of-line paths
// for equal values and NaNs are exercised everywhere.
func TestGroupedFloatSpecials(t *testing.T) {
	nz, nan := math.Copysign(0, -1), math.NaN()
	pairs := [][2]float64{{nz, 0}, {0, nz}, {nan, 1}, {1, nan}, {nan, nan}, {nz, nz}, {0, 0}, {1, 1}, {-nan, 0}, {0, -nan}}
	forEachLevel(t, func(t *testing.T, l Level) {
		for lead := 0; lead < 4; lead++ {
			var groups []uint32
			var vals []float64
			for i := 0; i < lead; i++ {
				groups = append(groups, 0)
				vals = append(vals, 5)
			}
			for k := 0; k < 4*len(pairs); k++ {
				p := pairs[k%len(pairs)]
				groups = append(groups, uint32(1+k), uint32(1+k))
				vals = append(vals, p[0], p[1])
			}
			ng := 1 + 4*len(pairs)
			for _, isMax := range []bool{false, true} {
				init := math.NaN()
				if isMax {
					init = math.Inf(-1)
				}
				want, got := make([]float64, ng), make([]float64, ng)
				for i := range want {
					want[i], got[i] = init, init
				}
				grpNaiveMinMaxFloat64(want, groups, vals, nil, 0, nil, isMax)
				if isMax {
					GroupedMaxFloat64(got, groups, vals, nil, 0, nil)
				} else {
					GroupedMinFloat64(got, groups, vals, nil, 0, nil)
				}
				grpSameFloats(t, fmt.Sprintf("lead %d max=%v", lead, isMax), want, grpCanonNaN(got))
			}
			wmin, wmax := make([]float64, ng), make([]float64, ng)
			gmin, gmax := make([]float64, ng), make([]float64, ng)
			for i := range wmin {
				wmin[i], wmax[i], gmin[i], gmax[i] = math.NaN(), math.Inf(-1), math.NaN(), math.Inf(-1)
			}
			grpNaiveMinMaxFloat64(wmin, groups, vals, nil, 0, nil, false)
			grpNaiveMinMaxFloat64(wmax, groups, vals, nil, 0, nil, true)
			GroupedSumMinMaxFloat64(make([]float64, ng), gmin, gmax, groups, vals, nil, 0, nil)
			grpSameFloats(t, fmt.Sprintf("fused min lead %d", lead), wmin, grpCanonNaN(gmin))
			grpSameFloats(t, fmt.Sprintf("fused max lead %d", lead), wmax, grpCanonNaN(gmax))
		}
	})
}

func TestGroupedAllocs(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 23))
	const n, ng = 8192, 1000
	groups, iv, fv := grpIDs(rng, n, ng, false), redInts(rng, n, 0), redFloats(rng, n, 0)
	bm, sel := redBitmap(rng, n, 3, 3), redSel(rng, n, 1)
	si, sf := make([]int64, ng), make([]float64, ng)
	forEachLevel(t, func(t *testing.T, l Level) {
		a := testing.AllocsPerRun(10, func() {
			for _, c := range []struct {
				bm  []byte
				sel []int32
			}{{nil, nil}, {bm, sel}} {
				GroupedSumInt64(si, groups, iv, c.bm, 3, c.sel)
				GroupedSumFloat64(sf, groups, fv, c.bm, 3, c.sel)
				GroupedCountRows(si, groups, c.sel)
				GroupedCountValid(si, groups, c.bm, 3, c.sel)
				GroupedMinInt64(si, groups, iv, c.bm, 3, c.sel)
				GroupedMaxInt64(si, groups, iv, c.bm, 3, c.sel)
				GroupedMinFloat64(sf, groups, fv, c.bm, 3, c.sel)
				GroupedMaxFloat64(sf, groups, fv, c.bm, 3, c.sel)
			}
		})
		require.Zero(t, a)
	})
}

func FuzzGrouped(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9}, []byte{0xff}, uint8(2), uint8(0), false)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1}, []byte{}, uint8(0), uint8(3), true)
	f.Add(make([]byte, 90), []byte{0xa5, 0x5a}, uint8(7), uint8(9), false)
	f.Fuzz(func(t *testing.T, data, bits []byte, ngroups, off uint8, useSel bool) {
		ng := 1 + int(ngroups%16)
		n := len(data) / 9
		groups := make([]uint32, n)
		iv := make([]int64, n)
		fv := make([]float64, n)
		for i := 0; i < n; i++ {
			groups[i] = uint32(data[9*i]) % uint32(ng)
			u := uint64(0)
			for b := 0; b < 8; b++ {
				u |= uint64(data[9*i+1+b]) << (8 * b)
			}
			iv[i], fv[i] = int64(u), math.Float64frombits(u)
		}
		o := int(off % 16)
		var bm []byte
		if len(bits) > 0 {
			bm = make([]byte, (o+n+7)/8)
			for i := range bm {
				bm[i] = bits[i%len(bits)]
			}
		}
		var sel []int32
		if useSel {
			for i := n - 1; i >= 0; i -= 1 + i%2 {
				sel = append(sel, int32(i))
			}
		}
		for _, l := range SupportedLevels() {
			restore, err := SetLevel(l)
			require.NoError(t, err)
			grpCheckAll(t, ng, groups, iv, fv, bm, o, sel, "fuzz "+l.String())
			restore()
		}
	})
}

// ---------------------------------------------------------------------------
// Benchmarks: 8192-row batches with 1k and 100k groups (random ids) and 1k
// groups in runs of 1..32 equal ids, plus 1<<20 rows into 100k groups. The
// "naive" cases (level-free) are plain one-statement-per-row loops without
// the overflow check, as a floor for the kernels. The kernels are pure Go,
// so their levels differ only by noise.

type grpBenchShape struct {
	name    string
	n, ng   int
	runs    bool
	big     bool
	withVal bool
}

func init() {
	shapes := []grpBenchShape{
		{"N=8192/groups=1k", 8192, 1000, false, false, false},
		{"N=8192/groups=100k", 8192, 100000, false, false, false},
		{"N=8192/groups=1k-runs", 8192, 1000, true, false, false},
		{"N=1048576/groups=100k", 1 << 20, 100000, false, true, false},
		{"N=8192/groups=1k/validity", 8192, 1000, false, false, true},
	}
	for _, s := range shapes {
		type kernel struct {
			name  string
			naive bool
			op    func(si []int64, sf []float64, g []uint32, iv []int64, fv []float64, bm []byte)
		}
		for _, k := range []kernel{
			{"SumInt64", false, func(si []int64, _ []float64, g []uint32, iv []int64, _ []float64, bm []byte) {
				GroupedSumInt64(si, g, iv, bm, 0, nil)
			}},
			{"SumFloat64", false, func(_ []int64, sf []float64, g []uint32, _ []int64, fv []float64, bm []byte) {
				GroupedSumFloat64(sf, g, fv, bm, 0, nil)
			}},
			{"CountRows", false, func(si []int64, _ []float64, g []uint32, _ []int64, _ []float64, _ []byte) {
				GroupedCountRows(si, g, nil)
			}},
			{"CountValid", false, func(si []int64, _ []float64, g []uint32, _ []int64, _ []float64, bm []byte) {
				GroupedCountValid(si, g, bm, 0, nil)
			}},
			{"MinInt64", false, func(si []int64, _ []float64, g []uint32, iv []int64, _ []float64, bm []byte) {
				GroupedMinInt64(si, g, iv, bm, 0, nil)
			}},
			{"MaxInt64", false, func(si []int64, _ []float64, g []uint32, iv []int64, _ []float64, bm []byte) {
				GroupedMaxInt64(si, g, iv, bm, 0, nil)
			}},
			{"MinFloat64", false, func(_ []int64, sf []float64, g []uint32, _ []int64, fv []float64, bm []byte) {
				GroupedMinFloat64(sf, g, fv, bm, 0, nil)
			}},
			{"MaxFloat64", false, func(_ []int64, sf []float64, g []uint32, _ []int64, fv []float64, bm []byte) {
				GroupedMaxFloat64(sf, g, fv, bm, 0, nil)
			}},
			{"SumMinMaxFloat64", false, func(_ []int64, sf []float64, g []uint32, _ []int64, fv []float64, bm []byte) {
				// the three states are the thirds of sf (see setup)
				m := len(sf) / 3
				GroupedSumMinMaxFloat64(sf[:m], sf[m:2*m], sf[2*m:], g, fv, bm, 0, nil)
			}},
			{"SumMinMax3Float64", false, func(_ []int64, sf []float64, g []uint32, _ []int64, fv []float64, bm []byte) {
				// the same as three kernels, for comparison
				m := len(sf) / 3
				GroupedSumFloat64(sf[:m], g, fv, bm, 0, nil)
				GroupedMinFloat64(sf[m:2*m], g, fv, bm, 0, nil)
				GroupedMaxFloat64(sf[2*m:], g, fv, bm, 0, nil)
			}},
			{"naive/SumInt64", true, func(si []int64, _ []float64, g []uint32, iv []int64, _ []float64, _ []byte) {
				iv = iv[:len(g)]
				for i, x := range g {
					si[x] += iv[i]
				}
			}},
			{"naive/SumFloat64", true, func(_ []int64, sf []float64, g []uint32, _ []int64, fv []float64, _ []byte) {
				fv = fv[:len(g)]
				for i, x := range g {
					sf[x] += fv[i]
				}
			}},
			{"naive/CountRows", true, func(si []int64, _ []float64, g []uint32, _ []int64, _ []float64, _ []byte) {
				for _, x := range g {
					si[x]++
				}
			}},
		} {
			if k.naive && s.withVal {
				continue
			}
			registerBench(benchCase{
				name:      "grouped/" + k.name + "/" + s.name,
				n:         s.n,
				bytes:     int64(s.n) * 12, // group id + value
				big:       s.big,
				levelFree: k.naive,
				setup: func() (func(), func()) {
					rng := rand.New(rand.NewPCG(29, uint64(s.n)))
					g := grpIDs(rng, s.n, s.ng, s.runs)
					iv, fv := redInts(rng, s.n, 0), redFloats(rng, s.n, 0)
					var bm []byte
					if s.withVal {
						bm = redBitmap(rng, s.n, 0, 4)
					}
					si, sf := make([]int64, s.ng), make([]float64, 3*s.ng)
					return func() { k.op(si, sf, g, iv, fv, bm) }, nil
				},
			})
		}
	}
}

// grpHalfSel returns a sorted selection of exactly half of n rows (n even):
// one row of each pair, picked at random, as a two-partition hash cut hands
// each partition its rows of a shared record.
func grpHalfSel(rng *rand.Rand, n int) []int32 {
	sel := make([]int32, n/2)
	for i := range sel {
		sel[i] = int32(2*i + rng.IntN(2))
	}
	return sel
}

// Benchmarks of the selection loops against the whole-record ones on
// states larger than L2 (and cached ones for comparison): 128 batches of
// 8192 rows (random ids into 1k, 50k or 100k groups) per op, each batch
// whole ("dense", elems = rows) or through a half-density sorted selection
// ("half-sel", elems = selected rows), so ns/elem compares the two per
// updated row.
func init() {
	const batch, nbatch = 8192, 128
	for _, ng := range []int{1000, 50_000, 100_000} {
		for _, withSel := range []bool{false, true} {
			shape, elems := "dense", batch*nbatch
			if withSel {
				shape, elems = "half-sel", batch/2*nbatch
			}
			for _, k := range []struct {
				name string
				op   func(si []int64, sf []float64, g []uint32, iv []int64, fv []float64, sel []int32)
			}{
				{"SumInt64", func(si []int64, _ []float64, g []uint32, iv []int64, _ []float64, sel []int32) {
					GroupedSumInt64(si, g, iv, nil, 0, sel)
				}},
				{"CountRows", func(si []int64, _ []float64, g []uint32, _ []int64, _ []float64, sel []int32) {
					GroupedCountRows(si, g, sel)
				}},
				{"MaxFloat64", func(_ []int64, sf []float64, g []uint32, _ []int64, fv []float64, sel []int32) {
					GroupedMaxFloat64(sf[:len(sf)/3], g, fv, nil, 0, sel)
				}},
				{"SumMinMaxFloat64", func(_ []int64, sf []float64, g []uint32, _ []int64, fv []float64, sel []int32) {
					m := len(sf) / 3
					GroupedSumMinMaxFloat64(sf[:m], sf[m:2*m], sf[2*m:], g, fv, nil, 0, sel)
				}},
			} {
				registerBench(benchCase{
					name:  fmt.Sprintf("grouped/batches/%s/%s/groups=%dk", k.name, shape, ng/1000),
					n:     elems,
					bytes: int64(elems) * 12,
					big:   true,
					setup: func() (func(), func()) {
						rng := rand.New(rand.NewPCG(43, uint64(ng)))
						type in struct {
							g   []uint32
							iv  []int64
							fv  []float64
							sel []int32
						}
						ins := make([]in, nbatch)
						for i := range ins {
							ins[i] = in{grpIDs(rng, batch, ng, false), redInts(rng, batch, 0), redFloats(rng, batch, 0), nil}
							if withSel {
								ins[i].sel = grpHalfSel(rng, batch)
							}
						}
						si, sf := make([]int64, ng), make([]float64, 3*ng)
						return func() {
							for _, b := range ins {
								k.op(si, sf, b.g, b.iv, b.fv, b.sel)
							}
						}, nil
					},
				})
			}
		}
	}
}
