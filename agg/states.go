package agg

import (
	"fmt"
	"math"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// countState is COUNT(*) (star) or COUNT(x).
type countState struct {
	star   bool
	counts []int64
	iota   []int32
}

func (s *countState) resize(n int) { s.counts = growZero(s.counts, n) }

func (s *countState) update(groups []uint32, arr arrow.Array, sel []int32) error {
	rows := rowsOf(arr.Len(), sel, &s.iota)
	counts := s.counts
	valid, off := validityOf(arr)
	if s.star || valid == nil {
		for _, r := range rows {
			counts[groups[r]]++
		}
		return nil
	}
	for _, r := range rows {
		if bitutil.BitIsSet(valid, off+int(r)) {
			counts[groups[r]]++
		}
	}
	return nil
}

func (s *countState) merge(src state, mapping []uint32) error {
	for i, c := range src.(*countState).counts {
		s.counts[mapping[i]] += c
	}
	return nil
}

func (s *countState) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	return buildInt64(mem, s.counts, ids, nil)
}

func (s *countState) compact(keep []uint32) { s.counts = compactSlice(s.counts, keep) }
func (s *countState) reset()                { s.counts = s.counts[:0] }
func (s *countState) bytes() int            { return cap(s.counts) * 8 }

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

// addInt64 adds with overflow detection.
func addInt64(a, b int64) (int64, bool) {
	s := a + b
	return s, (a^s)&(b^s) < 0
}

// sumIntState is SUM of an integer column: an exact int64, overflow an
// error naming the aggregate.
type sumIntState struct {
	label   string
	sums    []int64
	cnt     []int64 // contributing rows; 0 means NULL
	scratch []int64
	iota    []int32
}

func (s *sumIntState) resize(n int) {
	s.sums = growZero(s.sums, n)
	s.cnt = growZero(s.cnt, n)
}

func (s *sumIntState) overflow() error {
	return fmt.Errorf("agg: %s: integer overflow (the sum does not fit in int64)", s.label)
}

func (s *sumIntState) update(groups []uint32, arr arrow.Array, sel []int32) error {
	vals := intValues(arr, &s.scratch)
	rows := rowsOf(arr.Len(), sel, &s.iota)
	valid, off := validityOf(arr)
	sums, cnt := s.sums, s.cnt
	for _, r := range rows {
		if valid != nil && !bitutil.BitIsSet(valid, off+int(r)) {
			continue
		}
		g := groups[r]
		v, o := addInt64(sums[g], vals[r])
		if o {
			return s.overflow()
		}
		sums[g] = v
		cnt[g]++
	}
	return nil
}

func (s *sumIntState) merge(src state, mapping []uint32) error {
	o := src.(*sumIntState)
	for i, v := range o.sums {
		g := mapping[i]
		sum, ov := addInt64(s.sums[g], v)
		if ov {
			return s.overflow()
		}
		s.sums[g] = sum
		s.cnt[g] += o.cnt[i]
	}
	return nil
}

func (s *sumIntState) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	return buildInt64(mem, s.sums, ids, func(g int) bool { return s.cnt[g] == 0 })
}

func (s *sumIntState) compact(keep []uint32) {
	s.sums, s.cnt = compactSlice(s.sums, keep), compactSlice(s.cnt, keep)
}
func (s *sumIntState) reset()     { s.sums, s.cnt = s.sums[:0], s.cnt[:0] }
func (s *sumIntState) bytes() int { return cap(s.sums)*8 + cap(s.cnt)*8 }

// sumFloatState is SUM of a float column (float64 result), adding in row
// order per group; AVG shares it and divides at emit.
type sumFloatState struct {
	avg     bool
	sums    []float64
	cnt     []int64
	scratch []float64
	iota    []int32
}

func (s *sumFloatState) resize(n int) {
	s.sums = growZero(s.sums, n)
	s.cnt = growZero(s.cnt, n)
}

func (s *sumFloatState) update(groups []uint32, arr arrow.Array, sel []int32) error {
	vals := floatValues(arr, &s.scratch)
	rows := rowsOf(arr.Len(), sel, &s.iota)
	valid, off := validityOf(arr)
	sums, cnt := s.sums, s.cnt
	if valid == nil {
		for _, r := range rows {
			g := groups[r]
			sums[g] += vals[r]
			cnt[g]++
		}
		return nil
	}
	for _, r := range rows {
		if bitutil.BitIsSet(valid, off+int(r)) {
			g := groups[r]
			sums[g] += vals[r]
			cnt[g]++
		}
	}
	return nil
}

func (s *sumFloatState) merge(src state, mapping []uint32) error {
	o := src.(*sumFloatState)
	for i, v := range o.sums {
		g := mapping[i]
		s.sums[g] += v
		s.cnt[g] += o.cnt[i]
	}
	return nil
}

func (s *sumFloatState) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	val := func(g int) float64 { return s.sums[g] }
	if s.avg {
		val = func(g int) float64 { return s.sums[g] / float64(s.cnt[g]) }
	}
	return buildFloat64(mem, len(s.sums), ids, val, func(g int) bool { return s.cnt[g] == 0 })
}

func (s *sumFloatState) compact(keep []uint32) {
	s.sums, s.cnt = compactSlice(s.sums, keep), compactSlice(s.cnt, keep)
}
func (s *sumFloatState) reset()     { s.sums, s.cnt = s.sums[:0], s.cnt[:0] }
func (s *sumFloatState) bytes() int { return cap(s.sums)*8 + cap(s.cnt)*8 }

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

func (s *momentsState) update(groups []uint32, arr arrow.Array, sel []int32) error {
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
