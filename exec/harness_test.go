package exec_test

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/exec"
	"github.com/velo-engine/velo/sqlfront"
)

// testTables builds the fixed golden-test tables: t (every type, NULLs,
// NaN, ±0, ±Inf, unicode) and trades (a small market_data). Each table is
// split into two records so that operators see several batches.
func testTables(mem memory.Allocator) map[string][]arrow.Record {
	ms := func(s string) int64 {
		tm, err := time.Parse("2006-01-02 15:04:05.999", s)
		if err != nil {
			panic(err)
		}
		return tm.UnixMilli()
	}
	tSchema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "i", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Millisecond}, Nullable: true},
		{Name: "n32", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	}, nil)
	id := []int64{1, 2, 3, 4, 5, 6, 7, 8}
	iv := []int64{10, 0, 30, -5, 0, 30, math.MaxInt64, 0}
	iok := []bool{true, false, true, true, true, true, true, false}
	fv := []float64{1.5, -2.25, 0, math.NaN(), 0.0, 100.5, math.Inf(1), math.Copysign(0, -1)}
	fok := []bool{true, true, false, true, true, true, true, true}
	sv := []string{"apple", "Banana", "cherry", "", "día_ñ", "ünï%cödé", "", "apple"}
	sok := []bool{true, true, true, false, true, true, true, true}
	bv := []bool{true, false, false, true, false, true, false, false}
	bok := []bool{true, true, false, true, true, true, false, true}
	tsv := []int64{ms("2024-01-01 00:00:00"), ms("2024-01-01 00:00:30.5"), ms("2024-01-01 00:01:00"), ms("2024-01-01 00:02:59.999"),
		0, ms("2024-01-01 01:00:00"), ms("2024-01-02 00:00:00"), ms("1969-12-31 23:59:59")}
	tsok := []bool{true, true, true, true, false, true, true, true}
	n32 := []int32{7, -7, 100, 2147483647, 0, 5, -2147483648, 3}
	n32ok := []bool{true, true, true, true, true, false, true, true}
	part := func(lo, hi int) arrow.Record {
		return columnar.NewRecord(tSchema, []arrow.Array{
			columnar.BuildInt64(mem, id[lo:hi], nil),
			columnar.BuildInt64(mem, iv[lo:hi], iok[lo:hi]),
			columnar.BuildFloat64(mem, fv[lo:hi], fok[lo:hi]),
			columnar.BuildString(mem, sv[lo:hi], sok[lo:hi]),
			columnar.BuildBool(mem, bv[lo:hi], bok[lo:hi]),
			columnar.BuildTimestamp(mem, arrow.Millisecond, tsv[lo:hi], tsok[lo:hi]),
			columnar.BuildInt32(mem, n32[lo:hi], n32ok[lo:hi]),
		})
	}
	trSchema := arrow.NewSchema([]arrow.Field{
		{Name: "trade_time", Type: arrow.PrimitiveTypes.Int64},
		{Name: "symbol", Type: arrow.BinaryTypes.String},
		{Name: "price", Type: arrow.PrimitiveTypes.Float64},
		{Name: "quantity", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	tt := []int64{1_700_000_000_000, 1_700_000_010_000, 1_700_000_059_999, 1_700_000_060_000, 1_700_000_061_000, 1_700_000_125_000}
	sym := []string{"AAA", "BBB", "AAA", "BBB", "AAA", "CCC"}
	px := []float64{99.5, 250, 101, 249.75, 102.5, 10}
	qty := []int64{10, 5, 20, 7, 1, 1000}
	tpart := func(lo, hi int) arrow.Record {
		return columnar.NewRecord(trSchema, []arrow.Array{
			columnar.BuildInt64(mem, tt[lo:hi], nil),
			columnar.BuildString(mem, sym[lo:hi], nil),
			columnar.BuildFloat64(mem, px[lo:hi], nil),
			columnar.BuildInt64(mem, qty[lo:hi], nil),
		})
	}
	return map[string][]arrow.Record{
		"t":      {part(0, 3), part(3, 8)},
		"trades": {tpart(0, 4), tpart(4, 6)},
	}
}

func releaseTables(tables map[string][]arrow.Record) {
	for _, recs := range tables {
		for _, r := range recs {
			r.Release()
		}
	}
}

func catalogOf(tables map[string][]arrow.Record) sqlfront.MapCatalog {
	cat := sqlfront.MapCatalog{}
	for name, recs := range tables {
		cat[name] = recs[0].Schema()
	}
	return cat
}

// runSQL plans, compiles and runs sql over in-memory tables, returning the
// result records (retained) or the first error.
func runSQL(ctx context.Context, mem memory.Allocator, tables map[string][]arrow.Record, sql string, batchSize int) ([]arrow.Record, *arrow.Schema, error) {
	q, err := sqlfront.Plan(sql, catalogOf(tables))
	if err != nil {
		return nil, nil, err
	}
	p, err := exec.Compile(mem, q, exec.Options{BatchSize: batchSize})
	if err != nil {
		return nil, nil, err
	}
	src, err := array.NewRecordReader(tables[strings.ToLower(p.Table())][0].Schema(), tables[strings.ToLower(p.Table())])
	if err != nil {
		return nil, nil, err
	}
	rdr := p.Run(ctx, src)
	defer rdr.Release()
	var out []arrow.Record
	for rdr.Next() {
		r := rdr.Record()
		r.Retain()
		out = append(out, r)
	}
	if err := rdr.Err(); err != nil {
		for _, r := range out {
			r.Release()
		}
		return nil, nil, err
	}
	return out, rdr.Schema(), nil
}

// formatValue prints one cell for golden files: NULL, floats in Go's
// shortest round-trip form, timestamps as UTC text, strings as they are
// (” for the empty string).
func formatValue(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	switch a := a.(type) {
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(i)), 'g', -1, 32)
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).UTC().Format("2006-01-02 15:04:05.999999999")
	case *array.String:
		if a.Value(i) == "" {
			return "''" // an empty line would end the case in a golden file
		}
		return a.Value(i)
	}
	return a.ValueStr(i)
}

func formatResult(schema *arrow.Schema, recs []arrow.Record) string {
	var b strings.Builder
	names := make([]string, schema.NumFields())
	for i, f := range schema.Fields() {
		names[i] = f.Name + ":" + f.Type.String()
	}
	b.WriteString(strings.Join(names, " | ") + "\n")
	for _, r := range recs {
		for row := 0; row < int(r.NumRows()); row++ {
			cells := make([]string, r.NumCols())
			for c := range cells {
				cells[c] = formatValue(r.Column(c), row)
			}
			b.WriteString(strings.Join(cells, " | ") + "\n")
		}
	}
	return b.String()
}
