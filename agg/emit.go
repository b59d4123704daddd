package agg

import (
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Emission of the common states straight into Arrow buffers: one pass per
// column over the emitted groups, without a builder and without a call per
// value (emitGroups stays for the other types and is these helpers' test
// oracle). A window operator emits every window's groups as it closes, so
// this runs once per output row and column.

// groupAt is emitted row j's group: ids[j], or j when every group is
// emitted (ids == nil).
func groupAt(ids []uint32, j int) int {
	if ids == nil {
		return j
	}
	return int(ids[j])
}

// emitCount is the number of emitted rows: len(ids), or n groups when ids
// is nil.
func emitCount(n int, ids []uint32) int {
	if ids == nil {
		return n
	}
	return len(ids)
}

// gatherGroups sets out[j] = vals[group j].
func gatherGroups[T int64 | float64](out, vals []T, ids []uint32) {
	if ids == nil {
		copy(out, vals[:len(out)])
		return
	}
	for j, g := range ids[:len(out)] {
		out[j] = vals[g]
	}
}

// nullRule says which groups emit NULL: with rows set, a group none of
// whose input rows was non-NULL (rows.n[g] <= nulls[g], as nonNull); with
// flags set, a group whose flag is true; the zero rule, none.
type nullRule struct {
	rows  *groupRows
	nulls []int64
	flags []bool
}

func (r nullRule) null(g int) bool {
	if r.flags != nil {
		return r.flags[g]
	}
	return r.rows != nil && r.rows.n[g] <= r.nulls[g]
}

// count is the number of NULLs among the m emitted groups.
func (r nullRule) count(ids []uint32, m int) int {
	c := 0
	switch {
	case r.flags != nil && ids == nil:
		for _, f := range r.flags[:m] {
			if f {
				c++
			}
		}
	case r.flags != nil:
		for _, g := range ids {
			if r.flags[g] {
				c++
			}
		}
	case r.rows != nil && ids == nil:
		n, nulls := r.rows.n[:m], r.nulls[:m]
		for g := range n {
			if n[g] <= nulls[g] {
				c++
			}
		}
	case r.rows != nil:
		for _, g := range ids {
			if r.rows.n[g] <= r.nulls[g] {
				c++
			}
		}
	}
	return c
}

// wordArray builds an array of dt, an 8-byte fixed-width type (int64,
// float64, timestamp, date64, duration), with one value per emitted group
// of n (ids, or all): fill writes them into out. Groups nr makes NULL get
// a zeroed slot.
func wordArray[T int64 | float64](mem memory.Allocator, dt arrow.DataType, n int, ids []uint32, nr nullRule, fill func(out []T)) arrow.Array {
	m := emitCount(n, ids)
	data := memory.NewResizableBuffer(mem)
	defer data.Release()
	data.Resize(m * 8)
	out := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(data.Bytes()))), m)
	fill(out)
	nullCount := nr.count(ids, m)
	var valid *memory.Buffer
	if nullCount > 0 {
		valid = newValidity(mem, m, func(j int) bool { return !nr.null(groupAt(ids, j)) })
		defer valid.Release()
		for j := range m {
			if !bitutil.BitIsSet(valid.Bytes(), j) {
				out[j] = 0
			}
		}
	}
	d := array.NewData(dt, m, []*memory.Buffer{valid, data}, nil, nullCount, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

// isWordType reports whether dt's values are 8-byte words wordArray can
// build.
func isWordType(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.INT64, arrow.FLOAT64, arrow.TIMESTAMP, arrow.DATE64, arrow.DURATION:
		return true
	}
	return false
}

// emitStrings builds the utf8 array of the emitted groups of stringKey's
// stored keys: group g's bytes are arena[offs[g]:offs[g+1]], NULL where
// words[g] is stringNullWord (its range is empty).
func emitStrings(mem memory.Allocator, words []int64, offs []int32, arena []byte, ids []uint32) arrow.Array {
	m := emitCount(len(words), ids)
	total, nullCount := 0, 0
	if m == 0 {
		offs = []int32{0} // a key table without groups has no offsets yet
	}
	if ids == nil {
		total = int(offs[m] - offs[0])
		for _, w := range words {
			if w == stringNullWord {
				nullCount++
			}
		}
	} else {
		for _, g := range ids {
			total += int(offs[g+1] - offs[g])
			if words[g] == stringNullWord {
				nullCount++
			}
		}
	}
	offBuf, dataBuf := memory.NewResizableBuffer(mem), memory.NewResizableBuffer(mem)
	defer offBuf.Release()
	defer dataBuf.Release()
	offBuf.Resize((m + 1) * 4)
	dataBuf.Resize(total)
	outOffs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())[:m+1]
	data := dataBuf.Bytes()
	if ids == nil {
		// The stored keys in group order are the arena as it is.
		copy(data, arena[offs[0]:offs[m]])
		for j, o := range offs[:m+1] {
			outOffs[j] = o - offs[0]
		}
	} else {
		pos := int32(0)
		outOffs[0] = 0
		for j, g := range ids {
			pos += int32(copy(data[pos:], arena[offs[g]:offs[g+1]]))
			outOffs[j+1] = pos
		}
	}
	var valid *memory.Buffer
	if nullCount > 0 {
		valid = newValidity(mem, m, func(j int) bool { return words[groupAt(ids, j)] != stringNullWord })
		defer valid.Release()
	}
	d := array.NewData(arrow.BinaryTypes.String, m, []*memory.Buffer{valid, offBuf, dataBuf}, nil, nullCount, 0)
	defer d.Release()
	return array.MakeFromData(d)
}

// newValidity returns a validity bitmap of m rows, row j valid when ok(j).
func newValidity(mem memory.Allocator, m int, ok func(j int) bool) *memory.Buffer {
	valid := memory.NewResizableBuffer(mem)
	valid.Resize(int(bitutil.BytesForBits(int64(m))))
	bits := valid.Bytes()
	clear(bits)
	for j := range m {
		if ok(j) {
			bitutil.SetBit(bits, j)
		}
	}
	return valid
}
