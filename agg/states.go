package agg

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/kernels"
)

// input is one aggregate argument column of a batch, prepared once per
// batch and shared by every aggregate over that column.
type argInput struct {
	arr   arrow.Array
	sel   []int32 // selected rows (nil: all)
	valid []byte  // validity bitmap, nil when the column has no NULLs
	off   int
	// nullRows lists the selected rows whose value is NULL.
	nullRows []int32
}

// prepare fills in for column arr and selection sel, reusing in's buffers.
func (in *argInput) prepare(arr arrow.Array, sel []int32) {
	in.arr, in.sel = arr, sel
	in.valid, in.off = validityOf(arr)
	in.nullRows = in.nullRows[:0]
	if in.valid == nil {
		return
	}
	if sel != nil {
		for _, r := range sel {
			if !bitutil.BitIsSet(in.valid, in.off+int(r)) {
				in.nullRows = append(in.nullRows, r)
			}
		}
		return
	}
	for r := 0; r < arr.Len(); r++ {
		if !bitutil.BitIsSet(in.valid, in.off+r) {
			in.nullRows = append(in.nullRows, int32(r))
		}
	}
}

// groupRows is the number of rows (selected rows, NULLs included) each
// group has received. The Aggregator keeps it for every group; states that
// need "how many non-NULL values" keep only a NULL count per group, updated
// for NULL rows alone, so the common NULL-free batch touches one array less
// per aggregate.
type groupRows struct {
	n []int64
}

// countNulls adds the batch's NULL rows to nulls.
func countNulls(nulls []int64, groups []uint32, in *argInput) {
	for _, r := range in.nullRows {
		nulls[groups[r]]++
	}
}

// countState is COUNT(*) (star: the shared row counts themselves) or
// COUNT(x) (rows minus NULLs).
type countState struct {
	star  bool
	rows  *groupRows
	nulls []int64
}

func (s *countState) resize(n int) {
	if !s.star {
		s.nulls = growZero(s.nulls, n)
	}
}

func (s *countState) update(groups []uint32, in *argInput) error {
	if !s.star {
		countNulls(s.nulls, groups, in)
	}
	return nil
}

func (s *countState) merge(src state, mapping []uint32) error {
	if !s.star {
		for i, c := range src.(*countState).nulls {
			s.nulls[mapping[i]] += c
		}
	}
	return nil
}

func (s *countState) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	if s.star {
		return wordArray(mem, arrow.PrimitiveTypes.Int64, len(s.rows.n), ids, nullRule{}, func(out []int64) {
			gatherGroups(out, s.rows.n, ids)
		})
	}
	return wordArray(mem, arrow.PrimitiveTypes.Int64, len(s.nulls), ids, nullRule{}, func(out []int64) {
		for j := range out {
			g := groupAt(ids, j)
			out[j] = s.rows.n[g] - s.nulls[g]
		}
	})
}

func (s *countState) compact(keep []uint32) {
	if !s.star {
		s.nulls = compactSlice(s.nulls, keep)
	}
}
func (s *countState) reset()     { s.nulls = s.nulls[:0] }
func (s *countState) bytes() int { return cap(s.nulls) * 8 }

// growZero extends s to n elements, new ones zero.
func growZero[T any](s []T, n int) []T {
	if n <= len(s) {
		return s
	}
	if n <= cap(s) {
		old := len(s)
		s = s[:n]
		clear(s[old:])
		return s
	}
	out := make([]T, n, n+n/2+8)
	copy(out, s)
	return out
}

// growFill extends s to n elements, new ones v.
func growFill[T any](s []T, n int, v T) []T {
	old := len(s)
	s = growZero(s, n)
	for i := old; i < len(s); i++ {
		s[i] = v
	}
	return s
}

// addInt64 adds with overflow detection.
func addInt64(a, b int64) (int64, bool) {
	s := a + b
	return s, (a^s)&(b^s) < 0
}

// nonNull reports whether group g has at least one non-NULL value.
func nonNull(rows *groupRows, nulls []int64, g int) bool { return rows.n[g] > nulls[g] }

// sumIntState is SUM of an integer column: exact, an error naming the
// aggregate when a result does not fit in int64. The sums are int64 words
// until an addition leaves that range; then the state keeps 128-bit sums
// (hi holds the upper words), so whether a result fits depends on the
// values alone, not on the order they were added in — which two-phase
// plans change: a partial can go out of range and the merged sum come
// back.
type sumIntState struct {
	label   string
	rows    *groupRows
	sums    []int64 // the sums, or their low 64 bits once hi is set
	hi      []int64 // nil, or the high 64 bits of each 128-bit sum
	nulls   []int64
	scratch []int64
}

func (s *sumIntState) resize(n int) {
	s.sums = growZero(s.sums, n)
	s.nulls = growZero(s.nulls, n)
	if s.hi != nil {
		s.hi = growZero(s.hi, n)
	}
}

func (s *sumIntState) overflow() error {
	return fmt.Errorf("agg: %s: integer overflow (the sum does not fit in int64)", s.label)
}

// widen switches the state to 128-bit sums.
func (s *sumIntState) widen() {
	s.hi = make([]int64, len(s.sums), cap(s.sums))
	for g, v := range s.sums {
		s.hi[g] = v >> 63
	}
}

// add128 adds the 128-bit value hi·2⁶⁴ + lo to group g's sum.
func (s *sumIntState) add128(g uint32, lo uint64, hi int64) {
	l, c := bits.Add64(uint64(s.sums[g]), lo, 0)
	s.sums[g] = int64(l)
	s.hi[g] += hi + int64(c)
}

func (s *sumIntState) update(groups []uint32, in *argInput) error {
	vals := intValues(in.arr, &s.scratch)
	countNulls(s.nulls, groups, in)
	if s.hi == nil {
		if !kernels.GroupedSumInt64(s.sums, groups[:len(vals)], vals, in.valid, in.off, in.sel) {
			return nil
		}
		// A running sum left int64. The kernel wraps, so taking the
		// batch back out restores the sums exactly; the batch is then
		// added again in 128 bits.
		eachValue(in, vals, func(r int, v int64) { s.sums[groups[r]] -= v })
		s.widen()
	}
	eachValue(in, vals, func(r int, v int64) { s.add128(groups[r], uint64(v), v>>63) })
	return nil
}

// eachValue calls f for every selected non-NULL row r of in with its value.
func eachValue(in *argInput, vals []int64, f func(r int, v int64)) {
	visit := func(r int) {
		if in.valid == nil || bitutil.BitIsSet(in.valid, in.off+r) {
			f(r, vals[r])
		}
	}
	if in.sel == nil {
		for r := range vals {
			visit(r)
		}
		return
	}
	for _, r := range in.sel {
		visit(int(r))
	}
}

func (s *sumIntState) merge(src state, mapping []uint32) error {
	o := src.(*sumIntState)
	for i, v := range o.sums {
		g := mapping[i]
		s.nulls[g] += o.nulls[i]
		if s.hi == nil && o.hi == nil {
			if sum, ov := addInt64(s.sums[g], v); !ov {
				s.sums[g] = sum
				continue
			}
		}
		if s.hi == nil {
			s.widen()
		}
		hi := v >> 63
		if o.hi != nil {
			hi = o.hi[i]
		}
		s.add128(g, uint64(v), hi)
	}
	return nil
}

// check reports an error when a non-NULL sum of groups ids (nil: all) does
// not fit in int64.
func (s *sumIntState) check(ids []uint32) error {
	if s.hi == nil {
		return nil
	}
	for j := range emitCount(len(s.sums), ids) {
		g := groupAt(ids, j)
		if nonNull(s.rows, s.nulls, g) && s.hi[g] != s.sums[g]>>63 {
			return s.overflow()
		}
	}
	return nil
}

func (s *sumIntState) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	return wordArray(mem, arrow.PrimitiveTypes.Int64, len(s.sums), ids, nullRule{rows: s.rows, nulls: s.nulls}, func(out []int64) {
		gatherGroups(out, s.sums, ids)
	})
}

func (s *sumIntState) compact(keep []uint32) {
	s.sums, s.nulls = compactSlice(s.sums, keep), compactSlice(s.nulls, keep)
	if s.hi != nil {
		s.hi = compactSlice(s.hi, keep)
	}
}
func (s *sumIntState) reset()     { s.sums, s.nulls, s.hi = s.sums[:0], s.nulls[:0], nil }
func (s *sumIntState) bytes() int { return cap(s.sums)*8 + cap(s.nulls)*8 + cap(s.hi)*8 }

// sumFloatState is SUM of a float column (float64 result), adding in row
// order per group; AVG shares it and divides by the non-NULL count at emit.
type sumFloatState struct {
	avg     bool
	rows    *groupRows
	sums    []float64
	nulls   []int64
	scratch []float64
}

func (s *sumFloatState) resize(n int) {
	s.sums = growZero(s.sums, n)
	s.nulls = growZero(s.nulls, n)
}

func (s *sumFloatState) update(groups []uint32, in *argInput) error {
	vals := floatValues(in.arr, &s.scratch)
	countNulls(s.nulls, groups, in)
	kernels.GroupedSumFloat64(s.sums, groups[:len(vals)], vals, in.valid, in.off, in.sel)
	return nil
}

func (s *sumFloatState) merge(src state, mapping []uint32) error {
	o := src.(*sumFloatState)
	for i, v := range o.sums {
		g := mapping[i]
		s.sums[g] += v
		s.nulls[g] += o.nulls[i]
	}
	return nil
}

func (s *sumFloatState) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	return wordArray(mem, arrow.PrimitiveTypes.Float64, len(s.sums), ids, nullRule{rows: s.rows, nulls: s.nulls}, func(out []float64) {
		if !s.avg {
			gatherGroups(out, s.sums, ids)
			return
		}
		for j := range out {
			g := groupAt(ids, j)
			out[j] = s.sums[g] / float64(s.rows.n[g]-s.nulls[g]) // a NULL group's slot is zeroed after
		}
	})
}

func (s *sumFloatState) compact(keep []uint32) {
	s.sums, s.nulls = compactSlice(s.sums, keep), compactSlice(s.nulls, keep)
}
func (s *sumFloatState) reset()     { s.sums, s.nulls = s.sums[:0], s.nulls[:0] }
func (s *sumFloatState) bytes() int { return cap(s.sums)*8 + cap(s.nulls)*8 }

// minMaxFloatState is MIN or MAX of a float64/float32 column under the
// order -Inf < … < -0.0 < +0.0 < … < +Inf < NaN. The running value starts
// at the identity (NaN for MIN, -Inf for MAX), so no per-group "seen" flag
// is needed; NULL-ness comes from the NULL count.
type minMaxFloatState struct {
	max     bool
	dt      arrow.DataType
	rows    *groupRows
	vals    []float64
	nulls   []int64
	scratch []float64
}

func (s *minMaxFloatState) identity() float64 {
	if s.max {
		return math.Inf(-1)
	}
	return math.NaN()
}

func (s *minMaxFloatState) resize(n int) {
	s.vals = growFill(s.vals, n, s.identity())
	s.nulls = growZero(s.nulls, n)
}

func (s *minMaxFloatState) update(groups []uint32, in *argInput) error {
	vals := floatValues(in.arr, &s.scratch)
	countNulls(s.nulls, groups, in)
	if s.max {
		kernels.GroupedMaxFloat64(s.vals, groups[:len(vals)], vals, in.valid, in.off, in.sel)
	} else {
		kernels.GroupedMinFloat64(s.vals, groups[:len(vals)], vals, in.valid, in.off, in.sel)
	}
	return nil
}

func (s *minMaxFloatState) merge(src state, mapping []uint32) error {
	o := src.(*minMaxFloatState)
	for i, v := range o.vals {
		g := mapping[i]
		s.nulls[g] += o.nulls[i]
		if c := s.vals[g]; (s.max && floatLess(c, v)) || (!s.max && floatLess(v, c)) {
			s.vals[g] = v
		}
	}
	return nil
}

func (s *minMaxFloatState) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	null := func(g int) bool { return !nonNull(s.rows, s.nulls, g) }
	if s.dt.ID() == arrow.FLOAT32 {
		return emitGroups(mem, s.dt, len(s.vals), ids, func(b array.Builder, g int) {
			if null(g) {
				b.AppendNull()
			} else {
				b.(*array.Float32Builder).Append(float32(s.vals[g]))
			}
		})
	}
	return wordArray(mem, arrow.PrimitiveTypes.Float64, len(s.vals), ids, nullRule{rows: s.rows, nulls: s.nulls}, func(out []float64) {
		gatherGroups(out, s.vals, ids)
	})
}

func (s *minMaxFloatState) compact(keep []uint32) {
	s.vals, s.nulls = compactSlice(s.vals, keep), compactSlice(s.nulls, keep)
}
func (s *minMaxFloatState) reset()     { s.vals, s.nulls = s.vals[:0], s.nulls[:0] }
func (s *minMaxFloatState) bytes() int { return cap(s.vals)*8 + cap(s.nulls)*8 }

// fusedFloat updates MIN and MAX of one float column, and optionally one
// SUM or AVG of it, with one kernels.GroupedSumMinMaxFloat64 pass: the
// states stay separate (merge, emit and compact are theirs), only the
// per-batch update is shared.
type fusedFloat struct {
	col      int
	sum      *sumFloatState // nil: MIN and MAX only
	min, max *minMaxFloatState
	scratch  []float64
}

func (f *fusedFloat) update(groups []uint32, in *argInput) {
	vals := floatValues(in.arr, &f.scratch)
	var sums []float64
	if f.sum != nil {
		countNulls(f.sum.nulls, groups, in)
		sums = f.sum.sums
	}
	countNulls(f.min.nulls, groups, in)
	countNulls(f.max.nulls, groups, in)
	kernels.GroupedSumMinMaxFloat64(sums, f.min.vals, f.max.vals, groups[:len(vals)], vals, in.valid, in.off, in.sel)
}

// planFused finds, per float column, a MIN and a MAX (and the first SUM or
// AVG) to update together.
func (a *Aggregator) planFused() {
	a.fusedState = make([]bool, len(a.states))
	byCol := map[int]*fusedFloat{}
	idx := map[*fusedFloat][]int{}
	var order []int
	for i, st := range a.states {
		col := a.aggs[i].Column
		switch s := st.(type) {
		case *minMaxFloatState:
			f := byCol[col]
			if f == nil {
				f = &fusedFloat{col: col}
				byCol[col] = f
				order = append(order, col)
			}
			if s.max && f.max == nil {
				f.max = s
				idx[f] = append(idx[f], i)
			} else if !s.max && f.min == nil {
				f.min = s
				idx[f] = append(idx[f], i)
			}
		}
	}
	for i, st := range a.states {
		if s, ok := st.(*sumFloatState); ok && isFloat(a.input.Field(a.aggs[i].Column).Type) {
			if f := byCol[a.aggs[i].Column]; f != nil && f.sum == nil {
				f.sum = s
				idx[f] = append(idx[f], i)
			}
		}
	}
	for _, col := range order {
		f := byCol[col]
		if f.min == nil || f.max == nil {
			continue
		}
		a.fused = append(a.fused, f)
		for _, i := range idx[f] {
			a.fusedState[i] = true
		}
	}
}

// minMaxIntState is MIN or MAX of an int-like or bool column (held as int64
// words), starting from the identity (MaxInt64 for MIN, MinInt64 for MAX).
type minMaxIntState struct {
	max     bool
	dt      arrow.DataType
	rows    *groupRows
	vals    []int64
	nulls   []int64
	scratch []int64
}

func (s *minMaxIntState) resize(n int) {
	id := int64(math.MaxInt64)
	if s.max {
		id = math.MinInt64
	}
	s.vals = growFill(s.vals, n, id)
	s.nulls = growZero(s.nulls, n)
}

func (s *minMaxIntState) update(groups []uint32, in *argInput) error {
	vals := intValues(in.arr, &s.scratch)
	countNulls(s.nulls, groups, in)
	if s.max {
		kernels.GroupedMaxInt64(s.vals, groups[:len(vals)], vals, in.valid, in.off, in.sel)
	} else {
		kernels.GroupedMinInt64(s.vals, groups[:len(vals)], vals, in.valid, in.off, in.sel)
	}
	return nil
}

func (s *minMaxIntState) merge(src state, mapping []uint32) error {
	o := src.(*minMaxIntState)
	for i, v := range o.vals {
		g := mapping[i]
		s.nulls[g] += o.nulls[i]
		if (s.max && v > s.vals[g]) || (!s.max && v < s.vals[g]) {
			s.vals[g] = v
		}
	}
	return nil
}

func (s *minMaxIntState) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	if isWordType(s.dt) {
		return wordArray(mem, s.dt, len(s.vals), ids, nullRule{rows: s.rows, nulls: s.nulls}, func(out []int64) {
			gatherGroups(out, s.vals, ids)
		})
	}
	return emitGroups(mem, s.dt, len(s.vals), ids, func(b array.Builder, g int) {
		if !nonNull(s.rows, s.nulls, g) {
			b.AppendNull()
		} else {
			appendWord(b, s.vals[g])
		}
	})
}

func (s *minMaxIntState) compact(keep []uint32) {
	s.vals, s.nulls = compactSlice(s.vals, keep), compactSlice(s.nulls, keep)
}
func (s *minMaxIntState) reset()     { s.vals, s.nulls = s.vals[:0], s.nulls[:0] }
func (s *minMaxIntState) bytes() int { return cap(s.vals)*8 + cap(s.nulls)*8 }

// momentsState computes VAR_POP/VAR_SAMP/STDDEV_POP/STDDEV_SAMP with
// Welford's online update per group (numerically stable: no sum of squares)
// and Chan et al.'s formula to merge two partial states.
type momentsState struct {
	f       Func
	n       []int64
	mean    []float64
	m2      []float64
	scratch []float64
	iota    []int32
}

func (s *momentsState) resize(n int) {
	s.n = growZero(s.n, n)
	s.mean = growZero(s.mean, n)
	s.m2 = growZero(s.m2, n)
}

func (s *momentsState) update(groups []uint32, in *argInput) error {
	arr, sel := in.arr, in.sel
	vals := floatValues(arr, &s.scratch)
	rows := rowsOf(arr.Len(), sel, &s.iota)
	valid, off := validityOf(arr)
	for _, r := range rows {
		if valid != nil && !bitutil.BitIsSet(valid, off+int(r)) {
			continue
		}
		g := groups[r]
		x := vals[r]
		s.n[g]++
		d := x - s.mean[g]
		s.mean[g] += d / float64(s.n[g])
		s.m2[g] += d * (x - s.mean[g])
	}
	return nil
}

func (s *momentsState) merge(src state, mapping []uint32) error {
	o := src.(*momentsState)
	for i, nb := range o.n {
		if nb == 0 {
			continue
		}
		g := mapping[i]
		na := s.n[g]
		if na == 0 {
			s.n[g], s.mean[g], s.m2[g] = nb, o.mean[i], o.m2[i]
			continue
		}
		n := na + nb
		d := o.mean[i] - s.mean[g]
		s.mean[g] += d * float64(nb) / float64(n)
		s.m2[g] += o.m2[i] + d*d*float64(na)*float64(nb)/float64(n)
		s.n[g] = n
	}
	return nil
}

func (s *momentsState) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	samp := s.f == VarSamp || s.f == StddevSamp
	root := s.f == StddevPop || s.f == StddevSamp
	val := func(g int) float64 {
		var v float64
		if samp {
			v = s.m2[g] / float64(s.n[g]-1)
		} else {
			v = s.m2[g] / float64(s.n[g])
		}
		if v < 0 { // rounding can leave m2 a hair below zero
			v = 0
		}
		if root {
			v = math.Sqrt(v)
		}
		return v
	}
	null := func(g int) bool { return s.n[g] == 0 || (samp && s.n[g] < 2) }
	return buildFloat64(mem, len(s.n), ids, val, null)
}

func (s *momentsState) compact(keep []uint32) {
	s.n, s.mean, s.m2 = compactSlice(s.n, keep), compactSlice(s.mean, keep), compactSlice(s.m2, keep)
}
func (s *momentsState) reset()     { s.n, s.mean, s.m2 = s.n[:0], s.mean[:0], s.m2[:0] }
func (s *momentsState) bytes() int { return cap(s.n)*8 + cap(s.mean)*8 + cap(s.m2)*8 }
