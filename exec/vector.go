package exec

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

// kind is the physical storage of a vector: every Arrow type the evaluator
// handles maps to one of a few Go slices.
type kind uint8

const (
	kNull kind = iota // arrow.Null: every row NULL, no values
	kI64              // int64, timestamp, duration: int64 values
	kI32              // int32, date32: int32 values
	kF64              // float64
	kF32              // float32
	kBool             // bool: one Go bool per row
	kStr              // utf8: offsets + data
)

func kindOf(t arrow.DataType) (kind, error) {
	switch t.ID() {
	case arrow.NULL:
		return kNull, nil
	case arrow.INT64, arrow.TIMESTAMP, arrow.DURATION:
		return kI64, nil
	case arrow.INT32, arrow.DATE32:
		return kI32, nil
	case arrow.FLOAT64:
		return kF64, nil
	case arrow.FLOAT32:
		return kF32, nil
	case arrow.BOOL:
		return kBool, nil
	case arrow.STRING:
		return kStr, nil
	}
	return 0, fmt.Errorf("exec: type %s is not supported by the expression evaluator", t)
}

// vec is a column of n rows in evaluation: the dense result of an
// expression over a batch's selected rows. Values live in Go slices (the
// slices of an input column are aliased when no gather is needed, so a vec
// is never written in place once built). null is nil when no row is NULL;
// the value slot of a NULL row is unspecified.
type vec struct {
	t    arrow.DataType
	k    kind
	n    int
	i64  []int64
	i32  []int32
	f64  []float64
	f32  []float32
	b    []bool
	offs []int32 // kStr: n+1 offsets into data (need not start at 0)
	data []byte
	null []bool
	// pooled is the resultPool buffer under f64 or i64 (nil: Go memory),
	// see newFloat64Result, scatter and toArrayRecycled.
	pooled []byte
}

var float64Type = arrow.PrimitiveTypes.Float64

func (v *vec) isNull(i int) bool { return v.k == kNull || (v.null != nil && v.null[i]) }

// str returns row i of a string vector (aliasing its data).
func (v *vec) str(i int) []byte { return v.data[v.offs[i]:v.offs[i+1]] }

// newVec allocates a vector of n rows of type t with room for values.
func newVec(t arrow.DataType, n int) (*vec, error) {
	k, err := kindOf(t)
	if err != nil {
		return nil, err
	}
	v := &vec{t: t, k: k, n: n}
	switch k {
	case kI64:
		v.i64 = make([]int64, n)
	case kI32:
		v.i32 = make([]int32, n)
	case kF64:
		v.f64 = make([]float64, n)
	case kF32:
		v.f32 = make([]float32, n)
	case kBool:
		v.b = make([]bool, n)
	case kStr:
		v.offs = make([]int32, n+1)
	}
	return v, nil
}

func nullVec(t arrow.DataType, n int) *vec {
	v, err := newVec(t, n)
	if err != nil {
		v = &vec{t: arrow.Null, k: kNull, n: n}
	}
	if v.k != kNull {
		v.null = make([]bool, n)
		for i := range v.null {
			v.null[i] = true
		}
	}
	return v
}

// fromArray reads the rows sel of a (all rows when sel is nil) into a vec.
// Without a selection fixed-width values are aliased, not copied.
func fromArray(a arrow.Array, sel []int32) (*vec, error) {
	k, err := kindOf(a.DataType())
	if err != nil {
		return nil, err
	}
	n := a.Len()
	if sel != nil {
		n = len(sel)
	}
	v := &vec{t: a.DataType(), k: k, n: n}
	if k == kNull {
		return v, nil
	}
	switch k {
	case kI64:
		vals := int64View(a)
		if sel == nil {
			v.i64 = vals
		} else {
			v.i64 = make([]int64, n)
			kernels.TakeInt64(v.i64, vals, sel)
		}
	case kI32:
		vals := int32View(a)
		if sel == nil {
			v.i32 = vals
		} else {
			v.i32 = make([]int32, n)
			kernels.TakeInt32(v.i32, vals, sel)
		}
	case kF64:
		vals := a.(*array.Float64).Float64Values()
		if sel == nil {
			v.f64 = vals
		} else {
			v.f64 = make([]float64, n)
			kernels.TakeFloat64(v.f64, vals, sel)
		}
	case kF32:
		vals := a.(*array.Float32).Float32Values()
		v.f32 = make([]float32, n)
		for i := range v.f32 {
			v.f32[i] = vals[rowOf(sel, i)]
		}
	case kBool:
		bits, off, _ := columnar.BoolBits(a)
		v.b = make([]bool, n)
		if bits != nil {
			for i := range v.b {
				v.b[i] = bitutil.BitIsSet(bits, off+rowOf(sel, i))
			}
		}
	case kStr:
		offs, data, err := columnar.StringData(a)
		if err != nil {
			return nil, err
		}
		if sel == nil {
			v.offs, v.data = offs, data
		} else {
			v.offs, v.data = gatherStrings(offs, data, sel)
		}
	}
	if a.NullN() > 0 {
		bits, off := columnar.Validity(a)
		if bits != nil {
			v.null = make([]bool, n)
			for i := range v.null {
				v.null[i] = !bitutil.BitIsSet(bits, off+rowOf(sel, i))
			}
		}
	}
	return v, nil
}

func rowOf(sel []int32, i int) int {
	if sel == nil {
		return i
	}
	return int(sel[i])
}

func int64View(a arrow.Array) []int64 {
	d := a.Data()
	buf := d.Buffers()[1]
	if buf == nil || d.Len() == 0 {
		return nil
	}
	all := unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(buf.Bytes()))), buf.Len()/8)
	return all[d.Offset() : d.Offset()+d.Len()]
}

func int32View(a arrow.Array) []int32 {
	d := a.Data()
	buf := d.Buffers()[1]
	if buf == nil || d.Len() == 0 {
		return nil
	}
	all := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(buf.Bytes()))), buf.Len()/4)
	return all[d.Offset() : d.Offset()+d.Len()]
}

// toArray converts a vector into an Arrow array of type t. Value buffers
// wrap the vector's Go memory (no copy); they belong to the Go heap, not
// to an allocator (a pooled buffer is left to the garbage collector, as a
// consumer may keep aliases of it without a reference: sortOp does).
func (v *vec) toArray(t arrow.DataType) arrow.Array {
	return v.array(t, false)
}

// toArrayRecycled is toArray for an array whose consumers follow Arrow's
// reference counting (retain what they keep, alias nothing after they
// return): a value buffer from resultPool goes back to the pool when the
// array's last reference is released. A pooled v must not be used
// afterwards: its values are dropped, so a stray use fails instead of
// reading a recycled buffer.
func (v *vec) toArrayRecycled(t arrow.DataType) arrow.Array {
	a := v.array(t, true)
	if v.pooled != nil {
		v.pooled, v.f64, v.i64 = nil, nil, nil
	}
	return a
}

func (v *vec) array(t arrow.DataType, recycle bool) arrow.Array {
	if v.k == kNull || t.ID() == arrow.NULL {
		return array.NewNull(v.n)
	}
	var validity *memory.Buffer
	nulls := 0
	if v.null != nil {
		bm := make([]byte, bitutil.BytesForBits(int64(v.n)))
		for i, isNull := range v.null {
			if isNull {
				nulls++
			} else {
				bitutil.SetBit(bm, i)
			}
		}
		if nulls > 0 {
			validity = memory.NewBufferBytes(bm)
		}
	}
	var bufs []*memory.Buffer
	switch v.k {
	case kI64:
		if recycle && v.pooled != nil {
			vals := memory.NewBufferWithAllocator(v.pooled[:v.n*8], &resultPool)
			defer vals.Release()
			bufs = []*memory.Buffer{validity, vals}
			break
		}
		bufs = []*memory.Buffer{validity, memory.NewBufferBytes(bytesOf(v.i64))}
	case kI32:
		bufs = []*memory.Buffer{validity, memory.NewBufferBytes(bytesOf(v.i32))}
	case kF64:
		if recycle && v.pooled != nil {
			// The array holds the only reference once d is released below.
			vals := memory.NewBufferWithAllocator(v.pooled[:v.n*8], &resultPool)
			defer vals.Release()
			bufs = []*memory.Buffer{validity, vals}
			break
		}
		bufs = []*memory.Buffer{validity, memory.NewBufferBytes(bytesOf(v.f64))}
	case kF32:
		bufs = []*memory.Buffer{validity, memory.NewBufferBytes(bytesOf(v.f32))}
	case kBool:
		bm := make([]byte, bitutil.BytesForBits(int64(v.n)))
		for i, x := range v.b {
			if x {
				bitutil.SetBit(bm, i)
			}
		}
		bufs = []*memory.Buffer{validity, memory.NewBufferBytes(bm)}
	case kStr:
		offs, data := v.offs, v.data
		if len(offs) > 0 && offs[0] != 0 {
			base := offs[0]
			data = data[base:offs[v.n]]
			o := make([]int32, v.n+1)
			for i := range o {
				o[i] = offs[i] - base
			}
			offs = o
		}
		bufs = []*memory.Buffer{validity, memory.NewBufferBytes(bytesOf(offs[:v.n+1])), memory.NewBufferBytes(data)}
	}
	d := array.NewData(t, v.n, bufs, nil, nulls, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

func bytesOf[T int64 | int32 | float64 | float32](s []T) []byte {
	if len(s) == 0 {
		return []byte{}
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(s))), len(s)*int(unsafe.Sizeof(s[0])))
}

// take returns the rows idx of v, in that order.
func (v *vec) take(idx []int32) *vec {
	out := &vec{t: v.t, k: v.k, n: len(idx)}
	switch v.k {
	case kI64:
		out.i64 = make([]int64, len(idx))
		kernels.TakeInt64(out.i64, v.i64, idx)
	case kI32:
		out.i32 = make([]int32, len(idx))
		kernels.TakeInt32(out.i32, v.i32, idx)
	case kF64:
		out.f64 = make([]float64, len(idx))
		kernels.TakeFloat64(out.f64, v.f64, idx)
	case kF32:
		out.f32 = make([]float32, len(idx))
		for i, r := range idx {
			out.f32[i] = v.f32[r]
		}
	case kBool:
		out.b = make([]bool, len(idx))
		for i, r := range idx {
			out.b[i] = v.b[r]
		}
	case kStr:
		out.offs, out.data = gatherStrings(v.offs, v.data, idx)
	}
	if v.null != nil {
		out.null = make([]bool, len(idx))
		for i, r := range idx {
			out.null[i] = v.null[r]
		}
	}
	return out
}

// concatVecs appends vectors of one type into one.
func concatVecs(t arrow.DataType, vs []*vec) (*vec, error) {
	n := 0
	anyNull := false
	for _, v := range vs {
		n += v.n
		anyNull = anyNull || v.null != nil || v.k == kNull
	}
	out, err := newVec(t, n)
	if err != nil {
		return nil, err
	}
	if out.k == kNull {
		return out, nil
	}
	if anyNull {
		out.null = make([]bool, n)
	}
	pos := 0
	if out.k == kStr {
		out.data = make([]byte, 0)
	}
	for _, v := range vs {
		if v.k == kNull {
			for i := 0; i < v.n; i++ {
				out.null[pos+i] = true
				if out.k == kStr {
					out.offs[pos+i+1] = int32(len(out.data))
				}
			}
			pos += v.n
			continue
		}
		switch out.k {
		case kI64:
			copy(out.i64[pos:], v.i64[:v.n])
		case kI32:
			copy(out.i32[pos:], v.i32[:v.n])
		case kF64:
			copy(out.f64[pos:], v.f64[:v.n])
		case kF32:
			copy(out.f32[pos:], v.f32[:v.n])
		case kBool:
			copy(out.b[pos:], v.b[:v.n])
		case kStr:
			for i := 0; i < v.n; i++ {
				out.data = append(out.data, v.str(i)...)
				out.offs[pos+i+1] = int32(len(out.data))
			}
		}
		if v.null != nil {
			copy(out.null[pos:], v.null)
		}
		pos += v.n
	}
	return out, nil
}

// builder assembles a vector row by row from other vectors of its type
// (CASE, COALESCE): rows not set stay NULL.
type assembler struct {
	src []*vec  // sources
	who []int32 // per output row: source index, -1 for NULL
	idx []int32 // per output row: row within the source
	t   arrow.DataType
	n   int
}

func newAssembler(t arrow.DataType, n int) *assembler {
	a := &assembler{t: t, n: n, who: make([]int32, n), idx: make([]int32, n)}
	for i := range a.who {
		a.who[i] = -1
	}
	return a
}

// set routes output rows pos[k] to row k of src.
func (a *assembler) set(pos []int32, src *vec) {
	s := int32(len(a.src))
	a.src = append(a.src, src)
	for k, p := range pos {
		a.who[p] = s
		a.idx[p] = int32(k)
	}
}

func (a *assembler) build() (*vec, error) {
	out, err := newVec(a.t, a.n)
	if err != nil {
		return nil, err
	}
	if out.k == kNull {
		return out, nil
	}
	for i := 0; i < a.n; i++ {
		w := a.who[i]
		var s *vec
		r := int(a.idx[i])
		if w >= 0 {
			s = a.src[w]
		}
		if s == nil || s.isNull(r) {
			if out.null == nil {
				out.null = make([]bool, a.n)
			}
			out.null[i] = true
			if out.k == kStr {
				out.offs[i+1] = int32(len(out.data))
			}
			continue
		}
		switch out.k {
		case kI64:
			out.i64[i] = s.i64[r]
		case kI32:
			out.i32[i] = s.i32[r]
		case kF64:
			out.f64[i] = s.f64[r]
		case kF32:
			out.f32[i] = s.f32[r]
		case kBool:
			out.b[i] = s.b[r]
		case kStr:
			out.data = append(out.data, s.str(r)...)
			out.offs[i+1] = int32(len(out.data))
		}
	}
	return out, nil
}

// gatherStrings gathers the strings sel of (offs, data) into fresh offsets
// (starting at 0) and data.
func gatherStrings(offs []int32, data []byte, sel []int32) ([]int32, []byte) {
	o := make([]int32, len(sel)+1)
	size := int32(0)
	for i, r := range sel {
		size += offs[r+1] - offs[r]
		o[i+1] = size
	}
	d := make([]byte, size)
	for i, r := range sel {
		copy(d[o[i]:o[i+1]], data[offs[r]:offs[r+1]])
	}
	return o, d
}

// scatter places the rows of v, dense over the physical rows sel, at their
// positions in a vector of n rows (sel holds distinct rows below n), for
// toArrayRecycled: large int64 and float64 values take a resultPool buffer.
// The values of rows outside sel are unspecified (zero, empty strings or a
// recycled buffer's), never NULL, so the NULL count of the result is the
// selected rows' own.
func (v *vec) scatter(sel []int32, n int) *vec {
	out := &vec{t: v.t, k: v.k, n: n}
	switch v.k {
	case kNull:
		return out
	case kI64:
		if int64(n)*8 >= poolMinBytes.Load() {
			out.pooled = resultPool.Allocate(n * 8)
			out.i64 = unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(out.pooled))), n)
		} else {
			out.i64 = make([]int64, n)
		}
		for k, r := range sel {
			out.i64[r] = v.i64[k]
		}
	case kI32:
		out.i32 = make([]int32, n)
		for k, r := range sel {
			out.i32[r] = v.i32[k]
		}
	case kF64:
		if int64(n)*8 >= poolMinBytes.Load() {
			out = newFloat64Result(n, true)
			out.t = v.t
		} else {
			out.f64 = make([]float64, n)
		}
		for k, r := range sel {
			out.f64[r] = v.f64[k]
		}
	case kF32:
		out.f32 = make([]float32, n)
		for k, r := range sel {
			out.f32[r] = v.f32[k]
		}
	case kBool:
		out.b = make([]bool, n)
		for k, r := range sel {
			out.b[r] = v.b[k]
		}
	case kStr:
		// Lengths at their positions, prefix sums, then each string copied
		// to its place: any order of sel works.
		out.offs = make([]int32, n+1)
		for k, r := range sel {
			out.offs[r+1] = v.offs[k+1] - v.offs[k]
		}
		for i := range n {
			out.offs[i+1] += out.offs[i]
		}
		out.data = make([]byte, out.offs[n])
		for k, r := range sel {
			copy(out.data[out.offs[r]:out.offs[r+1]], v.str(k))
		}
	}
	if v.null != nil {
		out.null = make([]bool, n)
		for k, r := range sel {
			out.null[r] = v.null[k]
		}
	}
	return out
}
