package exec

import (
	"context"
	"encoding/binary"
	"math"
	"slices"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/sqlfront"
)

// sortOp buffers its input (gathered into dense vectors) and emits it
// ordered by the keys at Finish. The sort is stable, so rows with equal
// keys keep their arrival order. NULLs sort last unless a key says NULLS
// FIRST; DESC reverses the order of non-NULL values only (DuckDB). Floats
// use the total order of the compare kernels: NaN above +Inf, -0.0 = 0.0.
type sortOp struct {
	mem       memory.Allocator
	keys      []sqlfront.SortKey
	schema    *arrow.Schema
	batchSize int
	next      Operator
	// limit, when ≥ 0, is how many leading rows the consumer needs (LIMIT
	// + OFFSET above the sort): the buffer is then cut back to the best
	// limit rows whenever it grows past 2·limit + batchSize (top-N).
	limit int64

	cols     [][]*vec // per column, one vec per buffered batch
	keyv     [][]*vec // per key, one vec per buffered batch
	buffered int
}

func (s *sortOp) Push(_ context.Context, b columnar.Batch) error {
	if s.cols == nil {
		s.cols = make([][]*vec, s.schema.NumFields())
		s.keyv = make([][]*vec, len(s.keys))
	}
	rs := selRows(b.Rec, b.Sel)
	for i := range s.cols {
		v, err := fromArray(b.Rec.Column(i), b.Sel)
		if err != nil {
			return err
		}
		if b.Sel == nil {
			v = v.take(identity(v.n)) // own the memory: the record goes away
		}
		s.cols[i] = append(s.cols[i], v)
	}
	for k, key := range s.keys {
		if c, ok := key.Expr.(*sqlfront.ColRef); ok {
			s.keyv[k] = append(s.keyv[k], s.cols[c.Index][len(s.cols[c.Index])-1])
			continue
		}
		v, err := evalExpr(key.Expr, rs)
		if err != nil {
			return err
		}
		if b.Sel == nil {
			v = v.take(identity(v.n))
		}
		s.keyv[k] = append(s.keyv[k], v)
	}
	s.buffered += rs.n
	if s.limit >= 0 && int64(s.buffered) > 2*s.limit+int64(s.batchSize) {
		return s.compact()
	}
	return nil
}

// compact keeps only the best limit rows of the buffer (in sorted order,
// which keeps the sort stable: ties stay in arrival order).
func (s *sortOp) compact() error {
	cols, keys, perm, err := s.sorted()
	if err != nil {
		return err
	}
	if int64(len(perm)) > s.limit {
		perm = perm[:s.limit]
	}
	for i, c := range cols {
		s.cols[i] = []*vec{c.take(perm)}
	}
	for k, c := range keys {
		s.keyv[k] = []*vec{c.take(perm)}
	}
	s.buffered = len(perm)
	return nil
}

// sorted concatenates the buffer and returns it with the sorted order.
func (s *sortOp) sorted() (cols, keys []*vec, perm []int32, err error) {
	cols = make([]*vec, len(s.cols))
	for i, parts := range s.cols {
		if cols[i], err = concatVecs(s.schema.Field(i).Type, parts); err != nil {
			return nil, nil, nil, err
		}
	}
	keys = make([]*vec, len(s.keys))
	for k, parts := range s.keyv {
		if keys[k], err = concatVecs(s.keys[k].Expr.DataType(), parts); err != nil {
			return nil, nil, nil, err
		}
	}
	n := 0
	if len(cols) > 0 {
		n = cols[0].n
	}
	perm = identity(n)
	slices.SortStableFunc(perm, func(a, b int32) int {
		for k, key := range s.keys {
			if c := compareSortRows(keys[k], int(a), int(b), key); c != 0 {
				return c
			}
		}
		return 0
	})
	return cols, keys, perm, nil
}

func identity(n int) []int32 {
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32(i)
	}
	return idx
}

func (s *sortOp) Finish(ctx context.Context) error {
	if s.cols == nil {
		return s.next.Finish(ctx)
	}
	cols, _, perm, err := s.sorted()
	if err != nil {
		return err
	}
	s.cols, s.keyv = nil, nil
	n := len(perm)
	if s.limit >= 0 && int64(n) > s.limit {
		n = int(s.limit)
	}
	for lo := 0; lo < n; lo += s.batchSize {
		hi := min(lo+s.batchSize, n)
		arrs := make([]arrow.Array, len(cols))
		for i, c := range cols {
			arrs[i] = c.take(perm[lo:hi]).toArray(s.schema.Field(i).Type)
		}
		rec := columnar.MakeRecord(s.schema, arrs, int64(hi-lo))
		for _, a := range arrs {
			a.Release()
		}
		err := s.next.Push(ctx, columnar.Batch{Rec: rec})
		rec.Release()
		if err != nil {
			return err
		}
	}
	return s.next.Finish(ctx)
}

func compareSortRows(v *vec, a, b int, key sqlfront.SortKey) int {
	an, bn := v.isNull(a), v.isNull(b)
	switch {
	case an && bn:
		return 0
	case an || bn:
		c := 1 // NULL after
		if key.NullsFirst {
			c = -1
		}
		if bn {
			c = -c
		}
		return c
	}
	c := cmpRows(v, a, v, b)
	if key.Desc {
		c = -c
	}
	return c
}

func (s *sortOp) Close() {
	s.cols, s.keyv = nil, nil
	s.next.Close()
}

// distinctOp passes each distinct row once, in order of first appearance;
// NULLs equal each other, NaN equals NaN and -0.0 equals 0.0 (rows equal
// under the comparison order are duplicates).
type distinctOp struct {
	mem    memory.Allocator
	schema *arrow.Schema
	seen   map[string]struct{}
	next   Operator
	key    []byte
}

func (d *distinctOp) Push(ctx context.Context, b columnar.Batch) error {
	if d.seen == nil {
		d.seen = map[string]struct{}{}
	}
	cols := make([]*vec, b.Rec.NumCols())
	for i := range cols {
		v, err := fromArray(b.Rec.Column(i), b.Sel)
		if err != nil {
			return err
		}
		cols[i] = v
	}
	n := b.Len()
	var keep []int32
	for r := 0; r < n; r++ {
		d.key = d.key[:0]
		for _, c := range cols {
			d.key = appendKey(d.key, c, r)
		}
		if _, ok := d.seen[string(d.key)]; ok {
			continue
		}
		d.seen[string(d.key)] = struct{}{}
		keep = append(keep, int32(rowOf(b.Sel, r)))
	}
	if len(keep) == 0 {
		return nil
	}
	return d.next.Push(ctx, columnar.Batch{Rec: b.Rec, Sel: keep})
}

// appendKey encodes row r of v so that rows equal in SQL DISTINCT encode
// equally.
func appendKey(buf []byte, v *vec, r int) []byte {
	if v.isNull(r) {
		return append(buf, 0)
	}
	buf = append(buf, 1)
	switch v.k {
	case kI64:
		return binary.LittleEndian.AppendUint64(buf, uint64(v.i64[r]))
	case kI32:
		return binary.LittleEndian.AppendUint32(buf, uint32(v.i32[r]))
	case kF64, kF32:
		f := floatAt(v, r)
		switch {
		case f != f:
			f = math.NaN()
		case f == 0:
			f = 0
		}
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(f))
	case kBool:
		return append(buf, byte(b2i(v.b[r])))
	case kStr:
		s := v.str(r)
		buf = binary.LittleEndian.AppendUint32(buf, uint32(len(s)))
		return append(buf, s...)
	}
	return buf
}

func (d *distinctOp) Finish(ctx context.Context) error { return d.next.Finish(ctx) }
func (d *distinctOp) Close()                           { d.seen = nil; d.next.Close() }
