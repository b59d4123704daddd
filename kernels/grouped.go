package kernels

import (
	"fmt"
	"math"
)

// Grouped updates: dst[groups[i]] op= vals[i] for the aggregate states of a
// hash aggregation, one state array per aggregate indexed by dense group id.
//
// Every kernel takes the rows' group ids, and where it reads values the
// values, as parallel slices (groups[i] and vals[i] belong to row i), plus
// the same optional filters as the reductions:
//
//   - validity: Arrow-layout (LSB-first) bitmap, row i valid when bit off+i
//     is set; nil means all valid. A non-nil bitmap must hold off+len(groups)
//     bits.
//   - sel: row indices to update, in order; nil means every row in order.
//     Row sel[j] reads groups[sel[j]] and vals[sel[j]].
//
// Rows are applied in row (selection) order. Group ids are bounds-checked on
// every access by Go's indexing: an id >= len(dst) panics with an index out
// of range (rows before it are already applied) and never writes out of
// bounds.
//
// Implementation: one of two loop shapes picked per call from the first 64
// rows. "Row at a time" (load dst[g], update,
// store) is fastest for ids that change from row to row; "run-carrying"
// keeps the current group's state in a register while consecutive rows
// share an id, so long runs of equal ids (sorted or clustered keys) do not
// serialise on store-to-load forwarding through dst[g]. Measured on this
// machine (Zen 4, GroupedSumInt64 with its overflow check, 8192 rows, best
// of 15, ns/row, row-at-a-time / run-carrying): random ids 1k groups
// 0.72 / 0.91, 100k groups 1.30 / 1.37; runs of 1..32 equal ids 1.67 / 0.81;
// by the fraction p of rows repeating their predecessor's id: p=0.6
// 0.65 / 0.92, p=0.85 0.81 / 0.81, p=0.95 1.22 / 0.81. So the run-carrying
// loop runs when at least 7/8 of the sampled rows repeat their predecessor.
// On amd64 the row-at-a-time shape runs scalar assembly (see
// grouped_amd64.go for why and how much faster); the run-carrying one stays
// in Go everywhere.
//
// AVX-512 did not win and is not used: a GroupedSumInt64 routine that per 8
// rows loads the ids (VPMOVZXDQ), checks them against len(dst), tests
// VPCONFLICTQ for equal ids, then VPGATHERQQ, VPADDQ, an overflow check
// (VPTERNLOGQ) and VPSCATTERQQ — or, for a block with equal ids, eight
// scalar ADDQ/SETO to memory — measured (same runs, best of 15, ns/row,
// Go / AVX-512): 1k random 0.72 / 0.83, 100k random 1.33 / 1.30, runs of
// 1..32 0.82 / 1.36, 8 groups 0.90 / 0.71. Zen 4's gather and scatter cost
// about as much as eight scalar loads and stores, so only the all-conflict
// case (a handful of groups, i.e. its scalar fallback) gained; a level that
// is slower on the common shapes was not kept.
//
// Float min/max follow the reductions' total order
// -Inf < … < -0.0 < +0.0 < … < +Inf < NaN; a NaN winner is stored as
// math.NaN(). Their identities (the values to initialise dst with) are NaN
// for min and -Inf for max.

// Row-at-a-time prefixes in assembly (grouped_amd64.go sets them at the AVX2
// and AVX-512 levels; nil elsewhere). Each applies the candidates' updates
// from the first on, exactly as the Go loop would, and returns how many it
// did: all of them, or fewer when it reached a group id or selection index
// out of range, which the Go loop then reports by panicking.
var (
	groupedSumInt64Prefix      func(sums []int64, groups []uint32, vals []int64, validity []byte, off int, sel []int32) (done int, overflow bool)
	groupedCountPrefix         func(counts []int64, groups []uint32, validity []byte, off int, sel []int32) (done int)
	groupedSumFloat64Prefix    func(sums []float64, groups []uint32, vals []float64, validity []byte, off int, sel []int32) (done int)
	groupedMinMaxInt64Prefix   func(dst []int64, groups []uint32, vals []int64, validity []byte, off int, sel []int32, isMax bool) (done int)
	groupedMinMaxFloat64Prefix func(dst []float64, groups []uint32, vals []float64, validity []byte, off int, sel []int32, isMax bool) (done int)
)

// groupedPrefetchMin is the state length (groups) from which
// GroupedSumMinMaxFloat64 runs the assembly routine that also prefetches
// the state lines of the candidate 16 ahead (amd64; with or without a
// selection): 32k groups is 256 KiB per state array, three of them beyond
// L2. Below, the states stay cached and prefetching only costs
// instructions.
const groupedPrefetchMin = 1 << 15

// groupedCheck panics when the inputs do not line up.
func groupedCheck(kernel string, groups int, vals int, validity []byte, off int) {
	if vals >= 0 && vals != groups {
		panic(fmt.Sprintf("kernels.%s: %d group ids for %d values", kernel, groups, vals))
	}
	reduceCheck(kernel, groups, validity, off)
}

// groupedRow returns the row of candidate j.
func groupedRow(j int, sel []int32) int {
	if sel != nil {
		return int(sel[j])
	}
	return j
}

// groupedBit returns 1 when row r is valid (always with validity nil), else 0.
func groupedBit(validity []byte, off, r int) int64 {
	if validity == nil {
		return 1
	}
	b := off + r
	return int64(validity[b>>3] >> (b & 7) & 1)
}

// groupedRunny reports whether at least 7/8 of the first (up to 64)
// candidates repeat their predecessor's group id (see the measurements
// above).
func groupedRunny(groups []uint32, sel []int32) bool {
	n := min(groupedCandidates(groups, sel), 64)
	if n < 2 {
		return false
	}
	eq := 0
	prev := groups[groupedRow(0, sel)]
	for j := 1; j < n; j++ {
		g := groups[groupedRow(j, sel)]
		if g == prev {
			eq++
		}
		prev = g
	}
	return eq*8 >= (n-1)*7
}

// groupedCandidates returns the number of candidate rows.
func groupedCandidates(groups []uint32, sel []int32) int {
	if sel != nil {
		return len(sel)
	}
	return len(groups)
}

// GroupedCountRows adds 1 to counts[groups[i]] for every row (every selected
// row when sel is non-nil): COUNT(*).
func GroupedCountRows(counts []int64, groups []uint32, sel []int32) {
	if sel != nil || !groupedRunny(groups, nil) {
		from := 0
		if groupedCountPrefix != nil && sel != nil {
			// Without a selection the Go loop (one INCQ per row) is as
			// fast as the assembly (see grouped_amd64.go).
			from = groupedCountPrefix(counts, groups, nil, 0, sel)
		}
		if sel != nil {
			for _, r := range sel[from:] {
				counts[groups[r]]++
			}
			return
		}
		for _, g := range groups[from:] {
			counts[g]++
		}
		return
	}
	g := groups[0]
	acc := counts[g]
	for _, ng := range groups {
		if ng != g {
			counts[g] = acc
			g = ng
			acc = counts[g]
		}
		acc++
	}
	counts[g] = acc
}

// GroupedCountValid adds 1 to counts[groups[i]] for every valid row (and
// selected, when sel is non-nil): COUNT(x).
func GroupedCountValid(counts []int64, groups []uint32, validity []byte, off int, sel []int32) {
	groupedCheck("GroupedCountValid", len(groups), -1, validity, off)
	if validity == nil {
		GroupedCountRows(counts, groups, sel)
		return
	}
	n := groupedCandidates(groups, sel)
	if n == 0 {
		return
	}
	if !groupedRunny(groups, sel) {
		from := 0
		if groupedCountPrefix != nil {
			from = groupedCountPrefix(counts, groups, validity, off, sel)
		}
		for j := from; j < n; j++ {
			r := groupedRow(j, sel)
			counts[groups[r]] += groupedBit(validity, off, r)
		}
		return
	}
	g := groups[groupedRow(0, sel)]
	acc := counts[g]
	for j := 0; j < n; j++ {
		r := groupedRow(j, sel)
		if ng := groups[r]; ng != g {
			counts[g] = acc
			g = ng
			acc = counts[g]
		}
		acc += groupedBit(validity, off, r)
	}
	counts[g] = acc
}

// GroupedSumInt64 adds each contributing vals[i] to sums[groups[i]] in row
// order and reports overflow when any of these additions leaves the int64
// range (the sums are then wrapped and must be discarded: SQL's integer SUM
// overflow is an error). Unlike SumInt64, which sums exactly, the check is
// per running group sum.
func GroupedSumInt64(sums []int64, groups []uint32, vals []int64, validity []byte, off int, sel []int32) (overflow bool) {
	groupedCheck("GroupedSumInt64", len(groups), len(vals), validity, off)
	n := groupedCandidates(groups, sel)
	if n == 0 {
		return false
	}
	var ovf int64 // sign bit set once an addition overflowed
	if !groupedRunny(groups, sel) {
		from := 0
		if groupedSumInt64Prefix != nil {
			var o bool
			if from, o = groupedSumInt64Prefix(sums, groups, vals, validity, off, sel); o {
				ovf = -1
			}
		}
		if sel == nil && validity == nil {
			vals = vals[:len(groups)]
			for i := from; i < len(groups); i++ {
				g, v := groups[i], vals[i]
				a := sums[g]
				s := a + v
				ovf |= (a ^ s) & (v ^ s)
				sums[g] = s
			}
		} else {
			for j := from; j < n; j++ {
				r := groupedRow(j, sel)
				g, v := groups[r], vals[r]&-groupedBit(validity, off, r)
				a := sums[g]
				s := a + v
				ovf |= (a ^ s) & (v ^ s)
				sums[g] = s
			}
		}
		return ovf < 0
	}
	g := groups[groupedRow(0, sel)]
	acc := sums[g]
	if sel == nil && validity == nil {
		vals = vals[:len(groups)]
		for i, ng := range groups {
			v := vals[i]
			if ng != g {
				sums[g] = acc
				g = ng
				acc = sums[g]
			}
			s := acc + v
			ovf |= (acc ^ s) & (v ^ s)
			acc = s
		}
	} else {
		for j := 0; j < n; j++ {
			r := groupedRow(j, sel)
			v := vals[r] & -groupedBit(validity, off, r) // null rows add 0
			if ng := groups[r]; ng != g {
				sums[g] = acc
				g = ng
				acc = sums[g]
			}
			s := acc + v
			ovf |= (acc ^ s) & (v ^ s)
			acc = s
		}
	}
	sums[g] = acc
	return ovf < 0
}

// GroupedSumFloat64 adds each contributing vals[i] to sums[groups[i]], in
// row order (so a group's sum is the sequential sum of its rows; null rows
// add nothing, not even +0.0, so an all -0.0 group stays -0.0).
func GroupedSumFloat64(sums []float64, groups []uint32, vals []float64, validity []byte, off int, sel []int32) {
	groupedCheck("GroupedSumFloat64", len(groups), len(vals), validity, off)
	n := groupedCandidates(groups, sel)
	if n == 0 {
		return
	}
	const negZero = 1 << 63 // the bits of -0.0, the exact identity of +
	if !groupedRunny(groups, sel) {
		from := 0
		if groupedSumFloat64Prefix != nil {
			from = groupedSumFloat64Prefix(sums, groups, vals, validity, off, sel)
		}
		if sel == nil && validity == nil {
			vals = vals[:len(groups)]
			for i := from; i < len(groups); i++ {
				sums[groups[i]] += vals[i]
			}
		} else {
			for j := from; j < n; j++ {
				r := groupedRow(j, sel)
				m := uint64(-groupedBit(validity, off, r))
				sums[groups[r]] += math.Float64frombits(math.Float64bits(vals[r])&m | negZero&^m)
			}
		}
		return
	}
	g := groups[groupedRow(0, sel)]
	acc := sums[g]
	if sel == nil && validity == nil {
		vals = vals[:len(groups)]
		for i, ng := range groups {
			if ng != g {
				sums[g] = acc
				g = ng
				acc = sums[g]
			}
			acc += vals[i]
		}
	} else {
		for j := 0; j < n; j++ {
			r := groupedRow(j, sel)
			m := uint64(-groupedBit(validity, off, r))
			v := math.Float64frombits(math.Float64bits(vals[r])&m | negZero&^m)
			if ng := groups[r]; ng != g {
				sums[g] = acc
				g = ng
				acc = sums[g]
			}
			acc += v
		}
	}
	sums[g] = acc
}

// GroupedMinInt64 sets dst[groups[i]] = min(dst[groups[i]], vals[i]) for the
// contributing rows (identity: math.MaxInt64).
func GroupedMinInt64(dst []int64, groups []uint32, vals []int64, validity []byte, off int, sel []int32) {
	groupedCheck("GroupedMinInt64", len(groups), len(vals), validity, off)
	groupedMaxInt64(dst, groups, vals, validity, off, sel, -1)
}

// GroupedMaxInt64 sets dst[groups[i]] = max(dst[groups[i]], vals[i]) for the
// contributing rows (identity: math.MinInt64).
func GroupedMaxInt64(dst []int64, groups []uint32, vals []int64, validity []byte, off int, sel []int32) {
	groupedCheck("GroupedMaxInt64", len(groups), len(vals), validity, off)
	groupedMaxInt64(dst, groups, vals, validity, off, sel, 0)
}

// groupedMaxInt64 folds max(state^flip, v^flip) (see keyFlip: flip -1 makes
// it a min).
func groupedMaxInt64(dst []int64, groups []uint32, vals []int64, validity []byte, off int, sel []int32, flip int64) {
	n := groupedCandidates(groups, sel)
	if n == 0 {
		return
	}
	if !groupedRunny(groups, sel) {
		from := 0
		if groupedMinMaxInt64Prefix != nil {
			from = groupedMinMaxInt64Prefix(dst, groups, vals, validity, off, sel, flip == 0)
		}
		if sel == nil && validity == nil {
			vals = vals[:len(groups)]
			for i := from; i < len(groups); i++ {
				g := groups[i]
				dst[g] = max(dst[g]^flip, vals[i]^flip) ^ flip
			}
		} else {
			for j := from; j < n; j++ {
				r := groupedRow(j, sel)
				m := -groupedBit(validity, off, r)
				g := groups[r]
				dst[g] = max(dst[g]^flip, (vals[r]^flip)&m|math.MinInt64&^m) ^ flip
			}
		}
		return
	}
	g := groups[groupedRow(0, sel)]
	acc := dst[g] ^ flip
	if sel == nil && validity == nil {
		vals = vals[:len(groups)]
		for i, ng := range groups {
			if ng != g {
				dst[g] = acc ^ flip
				g = ng
				acc = dst[g] ^ flip
			}
			acc = max(acc, vals[i]^flip)
		}
	} else {
		for j := 0; j < n; j++ {
			r := groupedRow(j, sel)
			m := -groupedBit(validity, off, r)
			v := (vals[r]^flip)&m | math.MinInt64&^m // null rows: the identity
			if ng := groups[r]; ng != g {
				dst[g] = acc ^ flip
				g = ng
				acc = dst[g] ^ flip
			}
			acc = max(acc, v)
		}
	}
	dst[g] = acc ^ flip
}

// GroupedMinFloat64 sets dst[groups[i]] to the smaller of it and vals[i] in
// the order -Inf < … < -0.0 < +0.0 < … < +Inf < NaN, for the contributing
// rows (identity: NaN).
func GroupedMinFloat64(dst []float64, groups []uint32, vals []float64, validity []byte, off int, sel []int32) {
	groupedCheck("GroupedMinFloat64", len(groups), len(vals), validity, off)
	groupedMaxFloat64(dst, groups, vals, validity, off, sel, -1)
}

// GroupedMaxFloat64 sets dst[groups[i]] to the larger of it and vals[i] in
// the order -Inf < … < -0.0 < +0.0 < … < +Inf < NaN, for the contributing
// rows (identity: -Inf).
func GroupedMaxFloat64(dst []float64, groups []uint32, vals []float64, validity []byte, off int, sel []int32) {
	groupedCheck("GroupedMaxFloat64", len(groups), len(vals), validity, off)
	groupedMaxFloat64(dst, groups, vals, validity, off, sel, 0)
}

// groupedMaxFloat64 is groupedMaxInt64 over floatKey.
func groupedMaxFloat64(dst []float64, groups []uint32, vals []float64, validity []byte, off int, sel []int32, flip int64) {
	n := groupedCandidates(groups, sel)
	if n == 0 {
		return
	}
	if !groupedRunny(groups, sel) {
		groupedFloatRows(dst, groups, vals, validity, off, sel, flip == 0)
		return
	}
	g := groups[groupedRow(0, sel)]
	acc := floatKey(dst[g]) ^ flip
	if sel == nil && validity == nil {
		vals = vals[:len(groups)]
		for i, ng := range groups {
			if ng != g {
				dst[g] = keyFloat(acc ^ flip)
				g = ng
				acc = floatKey(dst[g]) ^ flip
			}
			acc = max(acc, floatKey(vals[i])^flip)
		}
	} else {
		for j := 0; j < n; j++ {
			r := groupedRow(j, sel)
			m := -groupedBit(validity, off, r)
			v := (floatKey(vals[r])^flip)&m | math.MinInt64&^m
			if ng := groups[r]; ng != g {
				dst[g] = keyFloat(acc ^ flip)
				g = ng
				acc = floatKey(dst[g]) ^ flip
			}
			acc = max(acc, v)
		}
	}
	dst[g] = keyFloat(acc ^ flip)
}

// groupedFloatRows is the row-at-a-time loop of GroupedMin/MaxFloat64: one
// float comparison decides for values that differ and are not NaN; equal
// values (±0.0) and NaNs take a rarely-taken branch that applies the total
// order through floatKey. Null rows compare as the identity (-Inf for max,
// NaN for min), which never replaces anything.
func groupedFloatRows(dst []float64, groups []uint32, vals []float64, validity []byte, off int, sel []int32, isMax bool) {
	from := 0
	if groupedMinMaxFloat64Prefix != nil {
		from = groupedMinMaxFloat64Prefix(dst, groups, vals, validity, off, sel, isMax)
	}
	if sel == nil && validity == nil {
		vals = vals[:len(groups)]
		if isMax {
			for i := from; i < len(groups); i++ {
				g := groups[i]
				if v, d := vals[i], dst[g]; v > d {
					dst[g] = v
				} else if !(v < d) && floatKey(v) > floatKey(d) {
					dst[g] = keyFloat(floatKey(v))
				}
			}
		} else {
			for i := from; i < len(groups); i++ {
				g := groups[i]
				if v, d := vals[i], dst[g]; v < d {
					dst[g] = v
				} else if !(v > d) && floatKey(v) < floatKey(d) {
					dst[g] = keyFloat(floatKey(v))
				}
			}
		}
		return
	}
	ident := math.Float64bits(math.Inf(-1))
	if !isMax {
		ident = math.Float64bits(math.NaN())
	}
	n := groupedCandidates(groups, sel)
	for j := from; j < n; j++ {
		r := groupedRow(j, sel)
		m := uint64(-groupedBit(validity, off, r))
		v := math.Float64frombits(math.Float64bits(vals[r])&m | ident&^m)
		g := groups[r]
		d := dst[g]
		if isMax {
			if v > d {
				dst[g] = v
			} else if !(v < d) && floatKey(v) > floatKey(d) {
				dst[g] = keyFloat(floatKey(v))
			}
		} else if v < d {
			dst[g] = v
		} else if !(v > d) && floatKey(v) < floatKey(d) {
			dst[g] = keyFloat(floatKey(v))
		}
	}
}
