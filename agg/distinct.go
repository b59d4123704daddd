package agg

import (
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// countDistinctState is COUNT(DISTINCT x): a second KeyTable over (group
// id, x) pairs; a group's count is the number of its pairs, bumped when a
// pair is created. NULL values are not counted.
type countDistinctState struct {
	mem    memory.Allocator
	in     arrow.DataType
	pairs  *KeyTable
	counts []int64
	gbuf   []int64
	pids   []uint32
	sel    []int32
	seen   []bool
	iota   []int32
}

func newCountDistinct(mem memory.Allocator, in arrow.DataType) (state, error) {
	pairs, err := NewKeyTable([]arrow.DataType{arrow.PrimitiveTypes.Int64, in})
	if err != nil {
		return nil, err
	}
	return &countDistinctState{mem: mem, in: in, pairs: pairs}, nil
}

// int64Array wraps Go memory as an Arrow int64 array without copying; the
// caller keeps vals alive and unchanged while the array is in use.
func int64Array(vals []int64) *array.Int64 {
	var buf *memory.Buffer
	if len(vals) > 0 {
		buf = memory.NewBufferBytes(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(vals))), len(vals)*8))
	} else {
		buf = memory.NewBufferBytes(nil)
	}
	d := array.NewData(arrow.PrimitiveTypes.Int64, len(vals), []*memory.Buffer{nil, buf}, nil, 0, 0)
	defer d.Release()
	return array.NewInt64Data(d)
}

func (s *countDistinctState) resize(n int) { s.counts = growZero(s.counts, n) }

// insertPairs inserts (gcol[r], xs[r]) for the selected rows whose x is not
// NULL and counts the pairs created per group.
func (s *countDistinctState) insertPairs(gcol []int64, xs arrow.Array, sel []int32) error {
	n := xs.Len()
	rows := rowsOf(n, sel, &s.iota)
	valid, off := validityOf(xs)
	if s.sel == nil {
		s.sel = make([]int32, 0, n) // non-nil: an empty selection is not "all rows"
	}
	s.sel = s.sel[:0]
	for _, r := range rows {
		if !isNull(valid, off, int(r)) {
			s.sel = append(s.sel, r)
		}
	}
	garr := int64Array(gcol)
	defer garr.Release()
	s.pids = resize(s.pids, n)
	created, err := s.pairs.Insert([]arrow.Array{garr, xs}, s.sel, s.pids)
	if err != nil || created == 0 {
		return err
	}
	first := uint32(s.pairs.Len() - created)
	s.seen = resize(s.seen, created)
	clear(s.seen)
	for _, r := range s.sel {
		if p := s.pids[r]; p >= first && !s.seen[p-first] {
			s.seen[p-first] = true
			s.counts[gcol[r]]++
		}
	}
	return nil
}

func (s *countDistinctState) update(groups []uint32, in *argInput) error {
	arr, sel := in.arr, in.sel
	n := arr.Len()
	s.gbuf = resize(s.gbuf, n)
	for _, r := range rowsOf(n, sel, &s.iota) {
		s.gbuf[r] = int64(groups[r])
	}
	return s.insertPairs(s.gbuf, arr, sel)
}

func (s *countDistinctState) merge(src state, mapping []uint32) error {
	o := src.(*countDistinctState)
	keys := o.pairs.EmitKeys(s.mem, nil)
	defer releaseAll(keys)
	g := keys[0].(*array.Int64).Int64Values()
	s.gbuf = resize(s.gbuf, len(g))
	for i, v := range g {
		s.gbuf[i] = int64(mapping[v])
	}
	return s.insertPairs(s.gbuf, keys[1], nil)
}

func (s *countDistinctState) emit(mem memory.Allocator, ids []uint32) arrow.Array {
	return buildInt64(mem, len(s.counts), ids, func(g int) int64 { return s.counts[g] }, nil)
}

func (s *countDistinctState) compact(keep []uint32) {
	newID := make([]int64, len(s.counts))
	for i := range newID {
		newID[i] = -1
	}
	for j, g := range keep {
		newID[g] = int64(j)
	}
	keys := s.pairs.EmitKeys(s.mem, nil)
	defer releaseAll(keys)
	s.pairs.Reset()
	s.counts = make([]int64, len(keep))
	g := keys[0].(*array.Int64).Int64Values()
	s.gbuf = resize(s.gbuf, len(g))
	var sel []int32
	for i, v := range g {
		s.gbuf[i] = newID[v]
		if newID[v] >= 0 {
			sel = append(sel, int32(i))
		}
	}
	if sel == nil {
		sel = []int32{}
	}
	// Re-inserting known pairs cannot fail: the types are the table's own.
	_ = s.insertPairs(s.gbuf, keys[1], sel)
}

func (s *countDistinctState) reset() {
	s.pairs.Reset()
	s.counts = s.counts[:0]
}

func (s *countDistinctState) bytes() int { return s.pairs.Bytes() + cap(s.counts)*8 }

func releaseAll(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}
