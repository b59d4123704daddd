package window

import (
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
	sum, min, max       []T
	sumOK, minOK, maxOK []bool
	avg                 []float64
	avgOK               []bool
	cnt                 []int64
}

// frameState is the per-partition state of one (argument, frame) pair,
// struct-of-arrays indexed by partition id: a ring of the frame's last n
// values, a compensated running sum, the count of non-NULL values, and
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

// minFirst reports a ≤ b in the order NaN above every number (for int64
// the NaN tests fold away).
func lessEq[T number](a, b T) bool { return b != b || (a == a && a <= b) }

// run processes the rows order (input indices) of one run. vals/valid are
// the argument per input index (valid nil: no NULLs); out positions are
// the input index when byInput, else the position in order.
func (f *frameState[T]) run(order []int32, pid []uint32, vals []T, valid []bool, o *frameOut[T], byInput bool) {
	n := f.n
	for i, g := range order {
		p := int(pid[g])
		at := i
		if byInput {
			at = int(g)
		}
		var x T
		if vals != nil {
			x = vals[g]
		}
		ok := valid == nil || valid[g]
		s := f.seq[p]
		f.seq[p] = s + 1
		if n > 0 {
			base := p * n
			ps := int(f.pos[p])
			slot := base + ps
			if s >= int64(n) && f.ringOK[slot] {
				f.sum[p], f.comp[p] = neumaier(f.sum[p], f.comp[p], -f.ring[slot])
				f.cnt[p]--
			}
			f.ring[slot], f.ringOK[slot] = x, ok
			if ok {
				f.sum[p], f.comp[p] = neumaier(f.sum[p], f.comp[p], x)
				f.cnt[p]++
			}
			ps++
			if ps == n {
				ps = 0
				if f.float {
					var rs, rc T
					for j, v := range f.ring[base : base+n] {
						if f.ringOK[base+j] {
							rs, rc = neumaier(rs, rc, v)
						}
					}
					f.sum[p], f.comp[p] = rs, rc
				}
			}
			f.pos[p] = int32(ps)
			if f.wantMin {
				h, l := f.minH[p], f.minL[p]
				if l > 0 && f.minS[base+int(h)] <= s-int64(n) {
					h++
					if int(h) == n {
						h = 0
					}
					l--
				}
				if ok {
					for l > 0 {
						b := int(h) + int(l) - 1
						if b >= n {
							b -= n
						}
						if !lessEq(x, f.minV[base+b]) {
							break
						}
						l--
					}
					b := int(h) + int(l)
					if b >= n {
						b -= n
					}
					f.minS[base+b], f.minV[base+b] = s, x
					l++
				}
				f.minH[p], f.minL[p] = h, l
				if l > 0 {
					o.min[at], o.minOK[at] = f.minV[base+int(h)], true
				} else {
					o.minOK[at] = false
				}
			}
			if f.wantMax {
				h, l := f.maxH[p], f.maxL[p]
				if l > 0 && f.maxS[base+int(h)] <= s-int64(n) {
					h++
					if int(h) == n {
						h = 0
					}
					l--
				}
				if ok {
					for l > 0 {
						b := int(h) + int(l) - 1
						if b >= n {
							b -= n
						}
						if !lessEq(f.maxV[base+b], x) {
							break
						}
						l--
					}
					b := int(h) + int(l)
					if b >= n {
						b -= n
					}
					f.maxS[base+b], f.maxV[base+b] = s, x
					l++
				}
				f.maxH[p], f.maxL[p] = h, l
				if l > 0 {
					o.max[at], o.maxOK[at] = f.maxV[base+int(h)], true
				} else {
					o.maxOK[at] = false
				}
			}
		} else {
			if ok {
				f.sum[p], f.comp[p] = neumaier(f.sum[p], f.comp[p], x)
				c := f.cnt[p]
				f.cnt[p] = c + 1
				if f.wantMin && (c == 0 || lessEq(x, f.minV[p])) {
					f.minV[p] = x
				}
				if f.wantMax && (c == 0 || lessEq(f.maxV[p], x)) {
					f.maxV[p] = x
				}
			}
			has := f.cnt[p] > 0
			if f.wantMin {
				o.min[at], o.minOK[at] = f.minV[p], has
			}
			if f.wantMax {
				o.max[at], o.maxOK[at] = f.maxV[p], has
			}
		}
		c := f.cnt[p]
		if o.cnt != nil {
			if vals == nil && valid == nil { // COUNT(*)
				c = min(s+1, int64(n))
				if n == 0 {
					c = s + 1
				}
			}
			o.cnt[at] = c
		}
		if o.sum != nil {
			o.sum[at], o.sumOK[at] = f.sum[p]+f.comp[p], c > 0
		}
		if o.avg != nil {
			if c > 0 {
				o.avg[at], o.avgOK[at] = float64(f.sum[p]+f.comp[p])/float64(c), true
			} else {
				o.avgOK[at] = false
			}
		}
	}
}

// numCol is an output column under construction: values live directly in
// an Arrow buffer.
type numCol struct {
	buf *memory.Buffer
	i64 []int64
	f64 []float64
	ok  []bool // nil: never NULL
}

func newNumCol(mem memory.Allocator, float bool, n int, nullable bool) *numCol {
	c := &numCol{buf: memory.NewResizableBuffer(mem)}
	c.buf.Resize(n * 8)
	if float {
		c.f64 = arrow.Float64Traits.CastFromBytes(c.buf.Bytes())
	} else {
		c.i64 = arrow.Int64Traits.CastFromBytes(c.buf.Bytes())
	}
	if nullable {
		c.ok = make([]bool, n)
	}
	return c
}

// array returns rows [off, off+n) as an array of type dt.
func (c *numCol) array(mem memory.Allocator, dt arrow.DataType, off, n int) arrow.Array {
	var valid *memory.Buffer
	nulls := 0
	if c.ok != nil {
		for _, v := range c.ok[off : off+n] {
			if !v {
				nulls++
			}
		}
		if nulls > 0 {
			valid = memory.NewResizableBuffer(mem)
			valid.Resize(int(bitutil.BytesForBits(int64(n))))
			vb := valid.Bytes()
			clear(vb)
			for i, v := range c.ok[off : off+n] {
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
