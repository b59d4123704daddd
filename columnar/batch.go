package columnar

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// Batch is the unit operators pass between each other: an Arrow record plus
// an optional selection vector.
//
// Sel lists the physical row indices of Rec that are part of the batch, in
// order. A nil Sel means every row is selected; a non-nil empty Sel means no
// row is. Filters narrow a batch by producing a new Sel rather than copying
// the record. Indices must be in [0, Rec.NumRows()); Validate checks that.
//
// A Batch holds one reference to Rec. Copying the struct does not add a
// reference: call Retain for each additional owner and Release when done.
type Batch struct {
	// Rec is the underlying record. Its columns are never modified.
	Rec arrow.Record
	// Sel is the selection vector (physical row indices), or nil for all rows.
	Sel []int32
	// Keys, when not nil, carries key hashes of every physical row of Rec
	// that an upstream stage (the partition router) already computed.
	// Operators that keep Rec and only change Sel pass it on; any operator
	// building a new record drops it.
	Keys *KeyHashes
	// Times, when its Col is not nil, is the range of the valid values of
	// the int64 (or timestamp) array Col over every physical row of Rec,
	// computed upstream (the partition router reads it for the event-time
	// watermark). It holds while the record carries that very array: an
	// operator uses it only for a column c with Rec.Column(c) == Times.Col,
	// so operators that build new records from the same arrays may pass it
	// on, and a slice or a copy (new arrays) never matches.
	Times TimeRange
}

// TimeRange is a Batch's precomputed range of one time column (see
// Batch.Times).
type TimeRange struct {
	// Col is the column the range was computed over (nil: no range).
	Col arrow.Array
	// Rows is the record's row count the range covers.
	Rows int64
	// Min and Max are the smallest and largest valid value; Min is
	// math.MaxInt64 and Max math.MinInt64 when no value is valid.
	Min, Max int64
}

// RangeOf returns the range of col when b.Times covers that very array
// over as many rows as b's record has.
func (b Batch) RangeOf(col arrow.Array) (lo, hi int64, ok bool) {
	if b.Times.Col == nil || b.Times.Col != col || b.Rec == nil || b.Times.Rows != b.Rec.NumRows() {
		return 0, 0, false
	}
	return b.Times.Min, b.Times.Max, true
}

// KeyHashes are the group-key hashes of every physical row of a record,
// computed once upstream — by the partition router, which routes by them —
// with agg.KeyHasher (the hash agg.KeyTable uses), so an operator grouping
// by exactly these columns neither reads nor hashes its keys again.
//
// They belong to whoever produced the batch and are valid only during the
// call the batch was passed to (like Sel): an operator never modifies them
// and never keeps them beyond that call.
type KeyHashes struct {
	// Cols are the key columns of the record, in key order.
	Cols []int
	// Hashes[r] is physical row r's key hash; len(Hashes) == Rec.NumRows().
	Hashes []uint64
	// Words, when not nil, holds physical row r's key word (see
	// agg.KeyHasher) of the single key column Cols[0]; it is set only
	// where computing words costs a pass over the data (utf8 keys).
	Words []int64
	// Long tells that some row's key is a string longer than a word holds.
	Long bool
}

// ForColumns returns k when it covers exactly the key columns cols of a
// record with rows rows (same columns, same order), or nil.
func (k *KeyHashes) ForColumns(cols []int, rows int) *KeyHashes {
	if k == nil || len(k.Hashes) != rows || len(k.Cols) != len(cols) {
		return nil
	}
	for i, c := range cols {
		if k.Cols[i] != c {
			return nil
		}
	}
	return k
}

// NewBatch returns a batch over rec with selection sel (nil for all rows).
// It retains rec, so the caller keeps (and must release) its own reference.
func NewBatch(rec arrow.Record, sel []int32) Batch {
	rec.Retain()
	return Batch{Rec: rec, Sel: sel}
}

// Len returns the number of selected rows.
func (b Batch) Len() int {
	if b.Sel != nil {
		return len(b.Sel)
	}
	if b.Rec == nil {
		return 0
	}
	return int(b.Rec.NumRows())
}

// NumRows returns the number of physical rows in the record, selected or not.
func (b Batch) NumRows() int {
	if b.Rec == nil {
		return 0
	}
	return int(b.Rec.NumRows())
}

// Schema returns the record's schema.
func (b Batch) Schema() *arrow.Schema { return b.Rec.Schema() }

// Column returns column i of the underlying record (all physical rows).
func (b Batch) Column(i int) arrow.Array { return b.Rec.Column(i) }

// Row returns the physical row index of the i-th selected row.
func (b Batch) Row(i int) int {
	if b.Sel != nil {
		return int(b.Sel[i])
	}
	return i
}

// Retain adds a reference to the underlying record.
func (b Batch) Retain() {
	if b.Rec != nil {
		b.Rec.Retain()
	}
}

// Release drops a reference to the underlying record.
func (b Batch) Release() {
	if b.Rec != nil {
		b.Rec.Release()
	}
}

// Slice returns the batch of selected rows [i, j) of b (logical positions,
// counted over the selection when there is one). Without a selection it
// slices the record zero-copy; with one it shares the record and sub-slices
// the selection vector. The result holds its own reference: Release it.
// Slice panics when the bounds are out of range, like a Go slice expression.
func (b Batch) Slice(i, j int) Batch {
	if i < 0 || j < i || j > b.Len() {
		panic(fmt.Sprintf("columnar: batch slice [%d:%d] out of range for %d rows", i, j, b.Len()))
	}
	if b.Sel != nil {
		b.Rec.Retain()
		return Batch{Rec: b.Rec, Sel: b.Sel[i:j:j], Keys: b.Keys, Times: b.Times}
	}
	return Batch{Rec: b.Rec.NewSlice(int64(i), int64(j))}
}

// Validate checks that every selection index is inside the record and that
// the indices are strictly increasing (operators rely on row order).
func (b Batch) Validate() error {
	if b.Rec == nil {
		return fmt.Errorf("columnar: batch has no record")
	}
	n := b.Rec.NumRows()
	prev := int32(-1)
	for k, r := range b.Sel {
		if r < 0 || int64(r) >= n {
			return fmt.Errorf("columnar: selection[%d] = %d out of range for %d rows", k, r, n)
		}
		if r <= prev {
			return fmt.Errorf("columnar: selection[%d] = %d is not after selection[%d] = %d", k, r, k-1, prev)
		}
		prev = r
	}
	return nil
}

// SelectAll returns a selection vector 0, 1, ..., n-1, the explicit form of
// a nil selection, for code that wants to narrow it in place.
func SelectAll(n int) []int32 {
	sel := make([]int32, n)
	for i := range sel {
		sel[i] = int32(i)
	}
	return sel
}

// PrepareShared computes what Arrow arrays compute lazily on first use and
// cache in themselves — every column's null count (NullN) and a
// dictionary column's dictionary array — so that goroutines sharing rec
// afterwards only read it. Call it on the goroutine that owns rec before
// handing it to others (partitions, concurrent queries over one table):
// two goroutines asking first would both write the cache, a data race even
// though they write the same value. Nested children are not visited.
func PrepareShared(rec arrow.Record) {
	for _, c := range rec.Columns() {
		c.NullN()
		if d, ok := c.(*array.Dictionary); ok {
			d.Dictionary().NullN()
		}
	}
}
