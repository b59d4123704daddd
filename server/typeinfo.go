package server

import (
	"context"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/flight"
	"github.com/apache/arrow/go/v17/arrow/flight/flightsql"
	"github.com/apache/arrow/go/v17/arrow/flight/flightsql/schema_ref"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// xdbcType is one SQL type the engine's CAST accepts, with its JDBC/ODBC
// type code (java.sql.Types).
type xdbcType struct {
	name     string
	code     int32
	size     int32 // column size: precision for numbers, characters for text
	quoted   bool  // literals are written '...'
	caseSens bool
	radix    int32 // 10 or 2 for numeric types, 0 otherwise
}

// xdbcTypes is sorted by code, as GetXdbcTypeInfo requires.
var xdbcTypes = []xdbcType{
	{name: "BIGINT", code: -5, size: 19, radix: 10},
	{name: "INTEGER", code: 4, size: 10, radix: 10},
	{name: "REAL", code: 7, size: 24, radix: 2},
	{name: "DOUBLE", code: 8, size: 53, radix: 2},
	{name: "VARCHAR", code: 12, size: 1 << 30, quoted: true, caseSens: true},
	{name: "BOOLEAN", code: 16, size: 1},
	{name: "DATE", code: 91, size: 10, quoted: true},
	{name: "TIMESTAMP", code: 93, size: 29, quoted: true},
}

// GetFlightInfoXdbcTypeInfo implements flightsql.Server.
func (s *Server) GetFlightInfoXdbcTypeInfo(_ context.Context, _ flightsql.GetXdbcTypeInfo, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.metaInfo(desc, schema_ref.XdbcTypeInfo), nil
}

// DoGetXdbcTypeInfo lists the SQL types the engine's CAST accepts (all of
// them, or those with the requested type code).
func (s *Server) DoGetXdbcTypeInfo(ctx context.Context, cmd flightsql.GetXdbcTypeInfo) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema_ref.XdbcTypeInfo)
	defer b.Release()
	str := func(i int) *array.StringBuilder { return b.Field(i).(*array.StringBuilder) }
	i32 := func(i int) *array.Int32Builder { return b.Field(i).(*array.Int32Builder) }
	boolean := func(i int) *array.BooleanBuilder { return b.Field(i).(*array.BooleanBuilder) }
	for _, t := range xdbcTypes {
		if want := cmd.GetDataType(); want != nil && *want != t.code {
			continue
		}
		str(0).Append(t.name)
		i32(1).Append(t.code)
		i32(2).Append(t.size)
		if t.quoted {
			str(3).Append("'")
			str(4).Append("'")
		} else {
			str(3).AppendNull()
			str(4).AppendNull()
		}
		b.Field(5).(*array.ListBuilder).AppendNull()
		i32(6).Append(1) // nullable
		boolean(7).Append(t.caseSens)
		i32(8).Append(3) // searchable: in WHERE with any operator
		if t.radix != 0 {
			boolean(9).Append(false)
		} else {
			boolean(9).AppendNull()
		}
		boolean(10).Append(false)
		boolean(11).Append(false)
		str(12).Append(t.name)
		i32(13).Append(0)
		i32(14).Append(0)
		i32(15).Append(t.code)
		i32(16).AppendNull()
		if t.radix != 0 {
			i32(17).Append(t.radix)
		} else {
			i32(17).AppendNull()
		}
		i32(18).AppendNull()
	}
	return schema_ref.XdbcTypeInfo, stream(ctx, b.NewRecord()), nil
}
