package columnar

import (
	"fmt"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// The Build* helpers make an Arrow column from Go slices. valid marks which
// rows are non-null; nil means all rows are valid, otherwise it must have the
// same length as vals (a mismatch panics: it is a programming error). The
// caller owns the returned array and must Release it (or hand it to
// NewRecord, which takes ownership).

// BuildInt64 builds an int64 column.
func BuildInt64(mem memory.Allocator, vals []int64, valid []bool) arrow.Array {
	checkValid(len(vals), valid)
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

// BuildInt32 builds an int32 column.
func BuildInt32(mem memory.Allocator, vals []int32, valid []bool) arrow.Array {
	checkValid(len(vals), valid)
	b := array.NewInt32Builder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

// BuildFloat64 builds a float64 column.
func BuildFloat64(mem memory.Allocator, vals []float64, valid []bool) arrow.Array {
	checkValid(len(vals), valid)
	b := array.NewFloat64Builder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

// BuildFloat32 builds a float32 column.
func BuildFloat32(mem memory.Allocator, vals []float32, valid []bool) arrow.Array {
	checkValid(len(vals), valid)
	b := array.NewFloat32Builder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

// BuildBool builds a boolean column.
func BuildBool(mem memory.Allocator, vals []bool, valid []bool) arrow.Array {
	checkValid(len(vals), valid)
	b := array.NewBooleanBuilder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

// BuildString builds a utf8 column.
func BuildString(mem memory.Allocator, vals []string, valid []bool) arrow.Array {
	checkValid(len(vals), valid)
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.AppendValues(vals, valid)
	return b.NewArray()
}

// BuildTimestamp builds a timestamp column of the given unit (no time zone)
// from counts of that unit since the Unix epoch.
func BuildTimestamp(mem memory.Allocator, unit arrow.TimeUnit, vals []int64, valid []bool) arrow.Array {
	checkValid(len(vals), valid)
	b := array.NewTimestampBuilder(mem, &arrow.TimestampType{Unit: unit})
	defer b.Release()
	b.AppendValues(unsafe.Slice((*arrow.Timestamp)(unsafe.SliceData(vals)), len(vals)), valid)
	return b.NewArray()
}

func checkValid(n int, valid []bool) {
	if valid != nil && len(valid) != n {
		panic(fmt.Sprintf("columnar: %d validity flags for %d values", len(valid), n))
	}
}

// NewRecord assembles a record from schema and columns, taking ownership of
// the columns: the record holds the only reference the caller had, so do not
// Release the columns yourself, Release the record. The number of rows is the
// length of the first column (0 without columns). It panics when the columns
// do not match the schema in number, type or length, as array.NewRecord does.
func NewRecord(schema *arrow.Schema, cols []arrow.Array) arrow.Record {
	if len(cols) != schema.NumFields() {
		panic(fmt.Sprintf("columnar: %d columns for a schema of %d fields", len(cols), schema.NumFields()))
	}
	var rows int64
	if len(cols) > 0 {
		rows = int64(cols[0].Len())
	}
	for i, c := range cols {
		if int64(c.Len()) != rows {
			panic(fmt.Sprintf("columnar: column %q has %d rows, want %d", schema.Field(i).Name, c.Len(), rows))
		}
	}
	rec := MakeRecord(schema, cols, rows) // checks the types
	for _, c := range cols {
		c.Release()
	}
	return rec
}

// NewSchema is a shorthand for a schema of nullable fields with the given
// names and types, in order (len(names) must equal len(types)).
func NewSchema(names []string, types []arrow.DataType) *arrow.Schema {
	if len(names) != len(types) {
		panic(fmt.Sprintf("columnar: %d names for %d types", len(names), len(types)))
	}
	fields := make([]arrow.Field, len(names))
	for i := range names {
		fields[i] = arrow.Field{Name: names[i], Type: types[i], Nullable: true}
	}
	return arrow.NewSchema(fields, nil)
}
