package server

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Results go out with plain (non-dictionary) columns: the v17 database/sql
// driver, like many Flight SQL clients, cannot read dictionary columns.
// The engine passes a dictionary-encoded source column through projections
// unchanged, so the server decodes top-level dictionary columns before
// sending.

// plainSchema returns s with each top-level dictionary field replaced by its
// value type, and whether any field changed.
func plainSchema(s *arrow.Schema) (*arrow.Schema, bool) {
	var fields []arrow.Field
	for i, f := range s.Fields() {
		dt, ok := f.Type.(*arrow.DictionaryType)
		if !ok {
			continue
		}
		if fields == nil {
			fields = append([]arrow.Field(nil), s.Fields()...)
		}
		fields[i].Type = dt.ValueType
	}
	if fields == nil {
		return s, false
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md), true
}

// plainRecord returns rec with its dictionary columns decoded, with schema
// (from plainSchema); the caller releases the result.
func plainRecord(mem memory.Allocator, schema *arrow.Schema, rec arrow.Record) (arrow.Record, error) {
	cols := make([]arrow.Array, rec.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, c := range rec.Columns() {
		d, ok := c.(*array.Dictionary)
		if !ok {
			c.Retain()
			cols[i] = c
			continue
		}
		plain, err := decodeDictionary(mem, d)
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", schema.Field(i).Name, err)
		}
		cols[i] = plain
	}
	return array.NewRecord(schema, cols, rec.NumRows()), nil
}

// decodeDictionary materialises d's values in row order, in linear time
// (v17's compute.Take is quadratic on strings).
func decodeDictionary(mem memory.Allocator, d *array.Dictionary) (arrow.Array, error) {
	dict := d.Dictionary()
	b := array.NewBuilder(mem, dict.DataType())
	defer b.Release()
	b.Reserve(d.Len())
	for i := 0; i < d.Len(); i++ {
		if d.IsNull(i) {
			b.AppendNull()
			continue
		}
		j := d.GetValueIndex(i)
		if dict.IsNull(j) {
			b.AppendNull()
			continue
		}
		switch dv := dict.(type) {
		case *array.String:
			b.(*array.StringBuilder).Append(dv.Value(j))
		case *array.LargeString:
			b.(*array.LargeStringBuilder).Append(dv.Value(j))
		case *array.Binary:
			b.(*array.BinaryBuilder).Append(dv.Value(j))
		case *array.Int64:
			b.(*array.Int64Builder).Append(dv.Value(j))
		case *array.Int32:
			b.(*array.Int32Builder).Append(dv.Value(j))
		case *array.Float64:
			b.(*array.Float64Builder).Append(dv.Value(j))
		default:
			if err := b.AppendValueFromString(dict.ValueStr(j)); err != nil {
				return nil, fmt.Errorf("decode dictionary of %s: %w", dict.DataType(), err)
			}
		}
	}
	return b.NewArray(), nil
}
