package window

import (
	"math"
	"slices"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// number is the element type of moving aggregates.
type number interface{ int64 | float64 }

// frameOut receives one frame's results, indexed by output position; nil
// slices are not wanted.
type frameOut[T number] struct {
	sum, min, max []T
	avg           []float64
	has           []bool // frame holds a non-NULL value: shared validity of sum, avg, min, max
	cnt           []int64
}

// frameState is the per-partition state of one (argument, frame) pair,
// struct-of-arrays indexed by partition id: a ring of the frame's last n
// values, a compensated running sum of the finite values, the count of
// non-NULL values, counts of the NaN, +Inf and -Inf values (kept apart from
// the sum so an infinity leaving the frame leaves no NaN behind), and
// monotonic deques (ring of (sequence, value)) for MIN and MAX. n == 0 is
// an unbounded frame (running sum / min / max, no ring).
type frameState[T number] struct {
	n          int
	float      bool
	wantMin    bool
	wantMax    bool
	seq        []int64
	pos        []int32
	ring       []T
	ringOK     []bool
	sum, comp  []T
	cnt        []int64
	special    [][3]int32 // NaN, +Inf, -Inf values in the frame (floats)
	minS, maxS []int64
	minV, maxV []T
	minH, minL []int32
	maxH, maxL []int32
}

func growTo[T any](s []T, n int) []T {
	if len(s) >= n {
		return s
	}
	if cap(s) >= n {
		return s[:n]
	}
	t := make([]T, n, max(n, 2*cap(s)))
	copy(t, s)
	return t
}

func (f *frameState[T]) grow(parts int) {
	f.seq = growTo(f.seq, parts)
	f.sum = growTo(f.sum, parts)
	f.comp = growTo(f.comp, parts)
	f.cnt = growTo(f.cnt, parts)
	if f.float {
		f.special = growTo(f.special, parts)
	}
	m := max(f.n, 1)
	if f.n > 0 {
		f.pos = growTo(f.pos, parts)
		f.ring = growTo(f.ring, parts*f.n)
		f.ringOK = growTo(f.ringOK, parts*f.n)
	}
	if f.wantMin {
		f.minS, f.minV = growTo(f.minS, parts*m), growTo(f.minV, parts*m)
		f.minH, f.minL = growTo(f.minH, parts), growTo(f.minL, parts)
	}
	if f.wantMax {
		f.maxS, f.maxV = growTo(f.maxS, parts*m), growTo(f.maxV, parts*m)
		f.maxH, f.maxL = growTo(f.maxH, parts), growTo(f.maxL, parts)
	}
}

// neumaier adds y to the compensated sum (s, c).
func neumaier[T number](s, c, y T) (T, T) {
	t := s + y
	as, ay := s, y
	if as < 0 {
		as = -as
	}
	if ay < 0 {
		ay = -ay
	}
	if as >= ay {
		c += (s - t) + y
	} else {
		c += (y - t) + s
	}
	return t, c
}

// addSpecial counts the non-finite x (NaN, +Inf or -Inf) into sp with
// weight d.
func addSpecial[T number](sp *[3]int32, x T, d int32) {
	switch {
	case x != x:
		sp[0] += d
	case x > 0:
		sp[1] += d
	default:
		sp[2] += d
	}
}

// withSpecial is the frame sum s overridden by its non-finite values: NaN
// with a NaN or both infinities, else the infinity present.
func withSpecial[T number](s T, sp [3]int32) T {
	if sp == ([3]int32{}) {
		return s
	}
	var f float64
	switch {
	case sp[0] > 0 || (sp[1] > 0 && sp[2] > 0):
		f = math.NaN()
	case sp[1] > 0:
		f = math.Inf(1)
	default:
		f = math.Inf(-1)
	}
	return any(f).(T)
}

// minFirst reports a ≤ b in the order NaN above every number (for int64
// the NaN tests fold away).
func lessEq[T number](a, b T) bool { return b != b || (a == a && a <= b) }

// run processes one run's rows partition by partition. vals/valid hold the
// argument in processing order (vals nil: COUNT(*) or a validity-only
// COUNT; valid nil: no NULLs); results go to processing index i (numCol
// permutes them to output order afterwards: sequential writes here, and a
// read pattern of one sequential stream per partition there).
// A partition's scalars live in locals for its whole run.
func (f *frameState[T]) run(in *runInput, vals []T, valid []bool, o *frameOut[T]) {
	n := f.n
	star := vals == nil && valid == nil
	for _, pr := range in.runs {
		p := int(pr.pid)
		seq, cnt, sum, comp := f.seq[p], f.cnt[p], f.sum[p], f.comp[p]
		var sp [3]int32
		if f.float {
			sp = f.special[p]
		}
		if n == 0 {
			var lo, hi T
			if f.wantMin {
				lo = f.minV[p]
			}
			if f.wantMax {
				hi = f.maxV[p]
			}
			for i := pr.lo; i < pr.hi; i++ {
				at := int32(i)
				ok := valid == nil || valid[i]
				if ok {
					var x T
					if vals != nil {
						x = vals[i]
					}
					if x-x == 0 {
						sum, comp = neumaier(sum, comp, x)
					} else {
						addSpecial(&sp, x, 1)
					}
					if cnt == 0 || lessEq(x, lo) {
						lo = x
					}
					if cnt == 0 || lessEq(hi, x) {
						hi = x
					}
					cnt++
				}
				seq++
				if o.cnt != nil {
					if star {
						o.cnt[at] = seq
					} else {
						o.cnt[at] = cnt
					}
				}
				has := cnt > 0
				if o.has != nil {
					o.has[at] = has
				}
				if o.sum != nil {
					o.sum[at] = withSpecial(sum+comp, sp)
				}
				if o.avg != nil {
					if has {
						o.avg[at] = float64(withSpecial(sum+comp, sp)) / float64(cnt)
					}
				}
				if o.min != nil {
					o.min[at] = lo
				}
				if o.max != nil {
					o.max[at] = hi
				}
			}
			if f.wantMin {
				f.minV[p] = lo
			}
			if f.wantMax {
				f.maxV[p] = hi
			}
			f.seq[p], f.cnt[p], f.sum[p], f.comp[p] = seq, cnt, sum, comp
			if f.float {
				f.special[p] = sp
			}
			continue
		}
		base := p * n
		ring, ringOK := f.ring[base:base+n], f.ringOK[base:base+n]
		ps := int(f.pos[p])
		var minS, maxS []int64
		var minV, maxV []T
		var mh, ml, xh, xl int
		if f.wantMin {
			minS, minV = f.minS[base:base+n], f.minV[base:base+n]
			mh, ml = int(f.minH[p]), int(f.minL[p])
		}
		if f.wantMax {
			maxS, maxV = f.maxS[base:base+n], f.maxV[base:base+n]
			xh, xl = int(f.maxH[p]), int(f.maxL[p])
		}
		expire := seq - int64(n) // a deque entry with sequence <= expire has left the frame
		for i := pr.lo; i < pr.hi; i++ {
			at := int32(i)
			var x T
			if vals != nil {
				x = vals[i]
			}
			ok := valid == nil || valid[i]
			// Between recomputations a plain running sum: at most 2n
			// roundings, each within ulp of the last two frames' magnitude.
			if expire >= 0 && ringOK[ps] {
				if v := ring[ps]; v-v == 0 {
					sum -= v
				} else {
					addSpecial(&sp, v, -1)
				}
				cnt--
			}
			ring[ps], ringOK[ps] = x, ok
			if ok {
				if x-x == 0 {
					sum += x
				} else {
					addSpecial(&sp, x, 1)
				}
				cnt++
			}
			ps++
			if ps == n {
				ps = 0
				if f.float {
					var rs, rc T
					for j, v := range ring {
						if ringOK[j] && v-v == 0 {
							rs, rc = neumaier(rs, rc, v)
						}
					}
					sum, comp = rs+rc, 0
				}
			}
			var lo, hi T
			if minS != nil {
				if ml > 0 && minS[mh] <= expire {
					mh++
					if mh == n {
						mh = 0
					}
					ml--
				}
				if ok {
					for ml > 0 {
						b := mh + ml - 1
						if b >= n {
							b -= n
						}
						if !lessEq(x, minV[b]) {
							break
						}
						ml--
					}
					b := mh + ml
					if b >= n {
						b -= n
					}
					minS[b], minV[b] = seq, x
					ml++
				}
				if ml > 0 {
					lo = minV[mh]
				}
			}
			if maxS != nil {
				if xl > 0 && maxS[xh] <= expire {
					xh++
					if xh == n {
						xh = 0
					}
					xl--
				}
				if ok {
					for xl > 0 {
						b := xh + xl - 1
						if b >= n {
							b -= n
						}
						if !lessEq(maxV[b], x) {
							break
						}
						xl--
					}
					b := xh + xl
					if b >= n {
						b -= n
					}
					maxS[b], maxV[b] = seq, x
					xl++
				}
				if xl > 0 {
					hi = maxV[xh]
				}
			}
			seq++
			expire++
			if o.cnt != nil {
				if star {
					o.cnt[at] = min(seq, int64(n))
				} else {
					o.cnt[at] = cnt
				}
			}
			has := cnt > 0
			if o.has != nil {
				o.has[at] = has
			}
			if o.sum != nil {
				o.sum[at] = withSpecial(sum+comp, sp)
			}
			if o.avg != nil {
				if has {
					o.avg[at] = float64(withSpecial(sum+comp, sp)) / float64(cnt)
				}
			}
			if o.min != nil {
				o.min[at] = lo
			}
			if o.max != nil {
				o.max[at] = hi
			}
		}
		f.seq[p], f.cnt[p], f.sum[p], f.comp[p], f.pos[p] = seq, cnt, sum, comp, int32(ps)
		if f.float {
			f.special[p] = sp
		}
		if minS != nil {
			f.minH[p], f.minL[p] = int32(mh), int32(ml)
		}
		if maxS != nil {
			f.maxH[p], f.maxL[p] = int32(xh), int32(xl)
		}
	}
}

// numCol is an output column under construction: values in processing
// order in Go memory, permuted into an Arrow buffer by finalize.
type numCol struct {
	i64   []int64
	f64   []float64
	ok    []bool // nil: never NULL
	buf   *memory.Buffer
	okOut []bool
}

func newNumCol(float bool, n int, nullable bool) *numCol {
	c := &numCol{}
	if float {
		c.f64 = make([]float64, n)
	} else {
		c.i64 = make([]int64, n)
	}
	if nullable {
		c.ok = make([]bool, n)
	}
	return c
}

// finalize writes output row j from processing index perm[j].
func (c *numCol) finalize(mem memory.Allocator, perm []int32) {
	c.buf = memory.NewResizableBuffer(mem)
	c.buf.Resize(len(perm) * 8)
	if c.f64 != nil {
		dst := arrow.Float64Traits.CastFromBytes(c.buf.Bytes())
		src := c.f64
		for j, i := range perm {
			dst[j] = src[i]
		}
	} else {
		dst := arrow.Int64Traits.CastFromBytes(c.buf.Bytes())
		src := c.i64
		for j, i := range perm {
			dst[j] = src[i]
		}
	}
	if c.ok != nil && slices.Contains(c.ok, false) {
		c.okOut = make([]bool, len(perm))
		for j, i := range perm {
			c.okOut[j] = c.ok[i]
		}
	}
}

// array returns output rows [off, off+n) as an array of type dt.
func (c *numCol) array(mem memory.Allocator, dt arrow.DataType, off, n int) arrow.Array {
	var valid *memory.Buffer
	nulls := 0
	if c.okOut != nil {
		for _, v := range c.okOut[off : off+n] {
			if !v {
				nulls++
			}
		}
		if nulls > 0 {
			valid = memory.NewResizableBuffer(mem)
			valid.Resize(int(bitutil.BytesForBits(int64(n))))
			vb := valid.Bytes()
			clear(vb)
			for i, v := range c.okOut[off : off+n] {
				if v {
					bitutil.SetBit(vb, i)
				}
			}
		}
	}
	vals := memory.SliceBuffer(c.buf, off*8, n*8)
	d := array.NewData(dt, n, []*memory.Buffer{valid, vals}, nil, nulls, 0)
	vals.Release()
	if valid != nil {
		valid.Release()
	}
	defer d.Release()
	return array.MakeFromData(d)
}
