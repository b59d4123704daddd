package agg

import (
	"math"
	"math/bits"
	"slices"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

// APPROX_COUNT_DISTINCT is a HyperLogLog sketch per group over the values'
// 64-bit key hashes (the same kernels.Hash* functions the key table uses,
// so equal values — NaN with NaN, -0.0 with 0.0 — hash alike).
//
// A group starts exact: it keeps the distinct hashes themselves, up to
// hllExactMax, and reports their number (exact unless two distinct values
// share a 64-bit hash). Past that it switches to 2^hllP one-byte registers:
// the top hllP bits of a hash pick a register, which keeps the maximum
// position of the first set bit in the remaining bits. The estimate is the
// bias-corrected harmonic mean α·m²/Σ2^-M[j], replaced by linear counting
// m·ln(m/V) while it is at most 2.5·m and V registers are still zero. With
// m = 4096 registers the relative standard error is 1.04/√m ≈ 1.6 %; the
// tests hold every estimate to within 5 % (about 3σ) for cardinalities from
// 100 to 1,000,000. NULLs are not counted.
const (
	hllP        = 12
	hllM        = 1 << hllP
	hllExactMax = 64
)

type hllState struct {
	exact  [][]uint64 // sorted distinct hashes while small
	regs   [][]uint8  // dense registers once large (nil before)
	hashes []uint64
	ibuf   []int64
	fbuf   []float64
	iota   []int32
}

func (s *hllState) resize(n int) {
	s.exact = growZero(s.exact, n)
	s.regs = growZero(s.regs, n)
}

func (s *hllState) add(g uint32, h uint64) {
	if r := s.regs[g]; r != nil {
		hllAdd(r, h)
		return
	}
	e := s.exact[g]
	i, found := slices.BinarySearch(e, h)
	if found {
		return
	}
	if len(e) < hllExactMax {
		s.exact[g] = slices.Insert(e, i, h)
		return
	}
	r := make([]uint8, hllM)
	for _, x := range e {
		hllAdd(r, x)
	}
	hllAdd(r, h)
	s.regs[g], s.exact[g] = r, nil
}

func hllAdd(r []uint8, h uint64) {
	idx := h >> (64 - hllP)
	w := h<<hllP | 1<<(hllP-1) // sentinel bit bounds the rank
	rank := uint8(bits.LeadingZeros64(w) + 1)
	if rank > r[idx] {
		r[idx] = rank
	}
}

func hllEstimate(r []uint8) int64 {
	var sum float64
	zeros := 0
	for _, v := range r {
		sum += math.Ldexp(1, -int(v))
		if v == 0 {
			zeros++
		}
	}
	m := float64(hllM)
	alpha := 0.7213 / (1 + 1.079/m)
	e := alpha * m * m / sum
	if e <= 2.5*m && zeros > 0 {
		e = m * math.Log(m/float64(zeros))
	}
	return int64(e + 0.5)
}

// hashValues hashes every row of arr (NULL rows get kernels.NullHash).
func (s *hllState) hashValues(arr arrow.Array) []uint64 {
	n := arr.Len()
	s.hashes = resize(s.hashes, n)
	valid, off := validityOf(arr)
	switch a := arr.(type) {
	case *array.String:
		offs, data, _ := columnar.StringData(a)
		kernels.HashStrings(s.hashes, offs, data, valid, off)
	case *array.Float64, *array.Float32:
		kernels.HashFloat64(s.hashes, floatValues(a, &s.fbuf), valid, off)
	default:
		kernels.HashInt64(s.hashes, intValues(a, &s.ibuf), valid, off)
	}
	return s.hashes
}

func (s *hllState) update(groups []uint32, in *argInput) error {
	arr, sel := in.arr, in.sel
	hs := s.hashValues(arr)
	valid, off := validityOf(arr)
	for _, r := range rowsOf(arr.Len(), sel, &s.iota) {
		if !isNull(valid, off, int(r)) {
			s.add(groups[r], hs[r])
		}
	}
	return nil
}

func (s *hllState) merge(src state, mapping []uint32) error {
	o := src.(*hllState)
	for i := range o.exact {
		g := mapping[i]
		for _, h := range o.exact[i] {
			s.add(g, h)
		}
		if ro := o.regs[i]; ro != nil {
			r := s.regs[g]
			if r == nil {
				r = make([]uint8, hllM)
				for _, h := range s.exact[g] {
					hllAdd(r, h)
				}
				s.regs[g], s.exact[g] = r, nil
			}
			for j, v := range ro {
				if v > r[j] {
					r[j] = v
				}
			}
		}
	}
	return nil
}

func (s *hllState) count(g int) int64 {
	if r := s.regs[g]; r != nil {
		return hllEstimate(r)
	}
	return int64(len(s.exact[g]))
}

func (s *hllState) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	return buildInt64(mem, len(s.exact), ids, s.count, nil)
}

func (s *hllState) compact(keep []uint32) {
	s.exact, s.regs = compactSlice(s.exact, keep), compactSlice(s.regs, keep)
}
func (s *hllState) reset() { s.exact, s.regs = s.exact[:0], s.regs[:0] }
func (s *hllState) bytes() int {
	b := cap(s.exact)*24 + cap(s.regs)*24
	for i := range s.exact {
		b += cap(s.exact[i])*8 + cap(s.regs[i])
	}
	return b
}
