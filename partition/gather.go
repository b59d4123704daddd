package partition

import (
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/columnar"
)

// gatherColumn copies the selected rows of column c of every batch into one
// new array of type dt with rows rows. Fixed-width 8- and 4-byte types and
// utf8 are copied directly (one pass, no per-run allocations); it returns
// nil for other types, which concatBatches handles with array.Concatenate.
func gatherColumn(mem memory.Allocator, dt arrow.DataType, bs []pending, c, rows int) arrow.Array {
	switch dt.ID() {
	case arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.TIMESTAMP, arrow.DATE64, arrow.DURATION:
		return gatherFixed[uint64](mem, dt, bs, c, rows)
	case arrow.INT32, arrow.UINT32, arrow.FLOAT32, arrow.DATE32, arrow.TIME32:
		return gatherFixed[uint32](mem, dt, bs, c, rows)
	case arrow.STRING:
		return gatherStrings(mem, dt, bs, c, rows)
	}
	return nil
}

// gatherValidity copies the validity bits of the selected rows into a new
// bitmap, or returns nil when no selected row is null.
func gatherValidity(mem memory.Allocator, bs []pending, c, rows int) (*memory.Buffer, int) {
	anyNulls := false
	for _, h := range bs {
		if h.b.Rec.Column(c).NullN() > 0 {
			anyNulls = true
			break
		}
	}
	if !anyNulls {
		return nil, 0
	}
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(rows))))
	bits := buf.Bytes()
	clear(bits)
	i, nulls := 0, 0
	for _, h := range bs {
		a := h.b.Rec.Column(c)
		v, off := columnar.Validity(a)
		for k := range h.b.Len() {
			if columnar.IsValid(v, off, h.b.Row(k)) {
				bitutil.SetBit(bits, i)
			} else {
				nulls++
			}
			i++
		}
	}
	return buf, nulls
}

// fixedValues returns the values buffer of a fixed-width array as []T,
// starting at the array's offset.
func fixedValues[T uint32 | uint64](a arrow.Array) []T {
	buf := a.Data().Buffers()[1]
	if buf == nil || a.Len() == 0 {
		return nil
	}
	b := buf.Bytes()
	all := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/int(unsafe.Sizeof(T(0))))
	return all[a.Data().Offset() : a.Data().Offset()+a.Len()]
}

func gatherFixed[T uint32 | uint64](mem memory.Allocator, dt arrow.DataType, bs []pending, c, rows int) arrow.Array {
	size := int(unsafe.Sizeof(T(0)))
	vals := memory.NewResizableBuffer(mem)
	defer vals.Release()
	vals.Resize(rows * size)
	var out []T
	if rows > 0 {
		out = unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(vals.Bytes()))), rows)
	}
	i := 0
	for _, h := range bs {
		src := fixedValues[T](h.b.Rec.Column(c))
		if h.b.Sel == nil {
			i += copy(out[i:], src)
			continue
		}
		for _, r := range h.b.Sel {
			out[i] = src[r]
			i++
		}
	}
	valid, nulls := gatherValidity(mem, bs, c, rows)
	if valid != nil {
		defer valid.Release()
	}
	data := array.NewData(dt, rows, []*memory.Buffer{valid, vals}, nil, nulls, 0)
	defer data.Release()
	return array.MakeFromData(data)
}

func gatherStrings(mem memory.Allocator, dt arrow.DataType, bs []pending, c, rows int) arrow.Array {
	offs := memory.NewResizableBuffer(mem)
	defer offs.Release()
	offs.Resize((rows + 1) * 4)
	out := unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(offs.Bytes()))), rows+1)
	// Total bytes first, so the data buffer is allocated once.
	total := 0
	for _, h := range bs {
		o, _, _ := columnar.StringData(h.b.Rec.Column(c))
		if h.b.Sel == nil {
			total += int(o[h.b.NumRows()] - o[0])
			continue
		}
		for _, r := range h.b.Sel {
			total += int(o[r+1] - o[r])
		}
	}
	data := memory.NewResizableBuffer(mem)
	defer data.Release()
	data.Resize(total)
	dst := data.Bytes()
	i, pos := 0, int32(0)
	for _, h := range bs {
		o, src, _ := columnar.StringData(h.b.Rec.Column(c))
		for k := range h.b.Len() {
			r := h.b.Row(k)
			out[i] = pos
			pos += int32(copy(dst[pos:], src[o[r]:o[r+1]]))
			i++
		}
	}
	out[rows] = pos
	valid, nulls := gatherValidity(mem, bs, c, rows)
	if valid != nil {
		defer valid.Release()
	}
	d := array.NewData(dt, rows, []*memory.Buffer{valid, offs, data}, nil, nulls, 0)
	defer d.Release()
	return array.MakeFromData(d)
}
