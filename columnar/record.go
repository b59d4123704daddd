package columnar

import (
	"fmt"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// MakeRecord is array.NewRecord (it retains cols; rows < 0 takes the first
// column's length) for the engine's hot paths, which assemble a record per
// emitted batch: array.NewRecord checks every column's type with
// arrow.TypeEqual, which goes through reflect.DeepEqual for plain types
// (70 ns and an allocation a column), where MakeRecord compares type IDs
// and only types with parameters (timestamp units, decimals, nested types)
// in full. It panics when the columns do not match the schema, as
// array.NewRecord does.
func MakeRecord(schema *arrow.Schema, cols []arrow.Array, rows int64) arrow.Record {
	if rows < 0 {
		rows = 0
		if len(cols) > 0 {
			rows = int64(cols[0].Len())
		}
	}
	if err := checkColumns(schema, cols, rows); err != nil {
		panic(err)
	}
	r := &record{schema: schema, rows: rows, cols: append([]arrow.Array(nil), cols...)}
	r.refs.Store(1)
	for _, c := range r.cols {
		c.Retain()
	}
	return r
}

// checkColumns is array.NewRecord's validation, with sameType.
func checkColumns(schema *arrow.Schema, cols []arrow.Array, rows int64) error {
	if rows == 0 && len(cols) == 0 {
		return nil
	}
	if len(cols) != schema.NumFields() {
		return fmt.Errorf("columnar: %d columns for a schema of %d fields", len(cols), schema.NumFields())
	}
	for i, c := range cols {
		f := schema.Field(i)
		if int64(c.Len()) < rows {
			return fmt.Errorf("columnar: column %q has %d rows, want %d", f.Name, c.Len(), rows)
		}
		if !sameType(f.Type, c.DataType()) {
			return fmt.Errorf("columnar: column %q is %s, schema says %s", f.Name, c.DataType(), f.Type)
		}
	}
	return nil
}

// sameType is arrow.TypeEqual, answered from the type IDs alone for types
// without parameters.
func sameType(a, b arrow.DataType) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil || a.ID() != b.ID() {
		return false
	}
	switch a.ID() {
	case arrow.NULL, arrow.BOOL, arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64, arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64,
		arrow.STRING, arrow.BINARY, arrow.LARGE_STRING, arrow.LARGE_BINARY, arrow.DATE32, arrow.DATE64,
		arrow.STRING_VIEW, arrow.BINARY_VIEW:
		return true
	}
	return arrow.TypeEqual(a, b)
}

// record is MakeRecord's arrow.Record: array.NewRecord's in-memory record.
type record struct {
	refs   atomic.Int64
	schema *arrow.Schema
	rows   int64
	cols   []arrow.Array
}

var _ arrow.Record = (*record)(nil)

func (r *record) Retain() { r.refs.Add(1) }

// Release drops a reference; the last one releases the columns. Like
// array.NewRecord's, a release too many does nothing.
func (r *record) Release() {
	if r.refs.Add(-1) == 0 {
		for _, c := range r.cols {
			c.Release()
		}
		r.cols = nil
	}
}

func (r *record) Schema() *arrow.Schema    { return r.schema }
func (r *record) NumRows() int64           { return r.rows }
func (r *record) NumCols() int64           { return int64(len(r.cols)) }
func (r *record) Columns() []arrow.Array   { return r.cols }
func (r *record) Column(i int) arrow.Array { return r.cols[i] }
func (r *record) ColumnName(i int) string  { return r.schema.Field(i).Name }

// String prints the record as array.NewRecord's does.
func (r *record) String() string {
	a := array.NewRecord(r.schema, r.cols, r.rows)
	defer a.Release()
	return fmt.Sprint(a)
}

func (r *record) MarshalJSON() ([]byte, error) {
	a := array.NewRecord(r.schema, r.cols, r.rows)
	defer a.Release()
	return a.MarshalJSON()
}

func (r *record) SetColumn(i int, col arrow.Array) (arrow.Record, error) {
	if i < 0 || i >= len(r.cols) {
		return nil, fmt.Errorf("columnar: column index %d out of range [0, %d)", i, len(r.cols))
	}
	if int64(col.Len()) != r.rows {
		return nil, fmt.Errorf("columnar: column %q has %d rows, want %d", r.schema.Field(i).Name, col.Len(), r.rows)
	}
	if f := r.schema.Field(i); !sameType(f.Type, col.DataType()) {
		return nil, fmt.Errorf("columnar: column %q is %s, schema says %s", f.Name, col.DataType(), f.Type)
	}
	cols := append([]arrow.Array(nil), r.cols...)
	cols[i] = col
	return MakeRecord(r.schema, cols, r.rows), nil
}

// NewSlice is array.NewRecord's NewSlice: rows i to j of the columns
// (array.NewSlice panics beyond a column's length).
func (r *record) NewSlice(i, j int64) arrow.Record {
	cols := make([]arrow.Array, len(r.cols))
	for k, c := range r.cols {
		cols[k] = array.NewSlice(c, i, j)
	}
	defer func() {
		for _, c := range cols {
			c.Release()
		}
	}()
	return MakeRecord(r.schema, cols, j-i)
}
