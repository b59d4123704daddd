package kernels

import "fmt"

// GroupedSumMinMaxFloat64 applies GroupedSumFloat64(sums, …),
// GroupedMinFloat64(mins, …) and GroupedMaxFloat64(maxs, …) to the same
// rows in one pass, with exactly their results: the states of aggregates
// such as AVG, MIN and MAX of one column. sums may be nil (MIN and MAX
// only); otherwise sums, mins and maxs must have the same length.
//
// One pass reads each group id and value once instead of three times, and
// when consecutive rows often hit the same group (a skewed key such as a
// Zipf-distributed symbol), the three states' load-update-store chains
// through memory overlap instead of running one after the other. Runs of
// equal ids (see grouped.go) go to the three run-carrying loops instead.
//
// Measured at the AVX2 level (8192 rows, random ids, best of 3 on a shared
// host, ns/row, the three single routines / the fused one): 1k groups
// 3.8 / 2.0, 100k groups 10.0 / 7.1.
func GroupedSumMinMaxFloat64(sums, mins, maxs []float64, groups []uint32, vals []float64, validity []byte, off int, sel []int32) {
	groupedCheck("GroupedSumMinMaxFloat64", len(groups), len(vals), validity, off)
	if len(maxs) != len(mins) || (sums != nil && len(sums) != len(mins)) {
		panic(fmt.Sprintf("kernels.GroupedSumMinMaxFloat64: state lengths differ (sums %d, mins %d, maxs %d)", len(sums), len(mins), len(maxs)))
	}
	n := groupedCandidates(groups, sel)
	if n == 0 {
		return
	}
	if groupedRunny(groups, sel) || (groupedMinMaxFloat64Prefix != nil && (sums == nil || validity != nil)) {
		// Runs of equal ids: the three run-carrying loops. At the
		// assembly levels, bitmaps and MIN/MAX without a sum: the single
		// routines (the fused one has no bitmap loops).
		if sums != nil {
			GroupedSumFloat64(sums, groups, vals, validity, off, sel)
		}
		GroupedMinFloat64(mins, groups, vals, validity, off, sel)
		GroupedMaxFloat64(maxs, groups, vals, validity, off, sel)
		return
	}
	maxs = maxs[:len(mins)]
	if sums == nil {
		for j := 0; j < n; j++ {
			r := groupedRow(j, sel)
			g := groups[r]
			if groupedBit(validity, off, r) == 0 {
				_ = mins[g] // bad indices and ids panic on NULL rows too
				continue
			}
			groupedMinMaxStep(mins, maxs, g, vals[r])
		}
		return
	}
	sums = sums[:len(mins)]
	from := 0
	if groupedSumMinMaxFloat64Prefix != nil {
		from = groupedSumMinMaxFloat64Prefix(sums, mins, maxs, groups, vals, sel)
	}
	if sel == nil && validity == nil {
		vals = vals[:len(groups)]
		for i := from; i < len(groups); i++ {
			g, v := groups[i], vals[i]
			sums[g] += v
			groupedMinMaxStep(mins, maxs, g, v)
		}
		return
	}
	for j := from; j < n; j++ {
		r := groupedRow(j, sel)
		g := groups[r]
		if groupedBit(validity, off, r) == 0 {
			// A NULL changes none of the three states; bad indices and
			// ids panic on it too, as in the single kernels.
			_ = sums[g]
			continue
		}
		v := vals[r]
		sums[g] += v
		groupedMinMaxStep(mins, maxs, g, v)
	}
}

// groupedSumMinMaxFloat64Prefix is the fused routine in assembly for
// inputs without a bitmap (see the prefixes in grouped.go; set by
// grouped_amd64.go).
var groupedSumMinMaxFloat64Prefix func(sums, mins, maxs []float64, groups []uint32, vals []float64, sel []int32) (done int)

// groupedMinMaxStep folds v into mins[g] and maxs[g] (len(maxs) ==
// len(mins)) as groupedFloatRows does: one float comparison decides for
// values that differ and are not NaN; equal values (±0.0) and NaNs take the
// total order through floatKey.
func groupedMinMaxStep(mins, maxs []float64, g uint32, v float64) {
	if d := mins[g]; v < d {
		mins[g] = v
	} else if !(v > d) && floatKey(v) < floatKey(d) {
		mins[g] = keyFloat(floatKey(v))
	}
	if d := maxs[g]; v > d {
		maxs[g] = v
	} else if !(v < d) && floatKey(v) > floatKey(d) {
		maxs[g] = keyFloat(floatKey(v))
	}
}
