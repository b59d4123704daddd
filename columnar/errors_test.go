package columnar

import (
	"bytes"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/stretchr/testify/require"
)

// readErr opens in as format f and reads it to the end, returning the first
// error from either step.
func readErr(t *testing.T, in string, f Format, opts ...ReadOption) error {
	t.Helper()
	mem := newMem(t)
	r, err := NewReader(strings.NewReader(in), f, mem, opts...)
	if err != nil {
		return err
	}
	got, err := readAll(t, r)
	releaseAll(got)
	return err
}

func TestMalformedCSV(t *testing.T) {
	schema := NewSchema([]string{"id", "price", "when"},
		[]arrow.DataType{arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Float64, &arrow.TimestampType{Unit: arrow.Millisecond}})
	cases := []struct {
		name string
		in   string
		opts []ReadOption
		want []string
	}{
		{"too few fields", "a,b,c\n1,2,3\n4,5\n", nil,
			[]string{"trades.csv", "line 3", "2 fields, want 3", "a, b, c"}},
		{"too many fields", "a,b\n1,2\n3,4\n5,6,7\n", nil,
			[]string{"trades.csv", "line 4", "3 fields, want 2"}},
		{"bad number under explicit schema", "id,price,when\n1,2.5,\n2,abc,\n", []ReadOption{WithSchema(schema)},
			[]string{"trades.csv", "line 3", `column "price"`, `"abc"`, "float64"}},
		{"int32 overflow", "id,price,when\n1,2.5,\n3000000000,1,\n", []ReadOption{WithSchema(schema)},
			[]string{"line 3", `column "id"`, "out of range", "int32"}},
		{"bad timestamp", "id,price,when\n1,2.5,2024-01-01T00:00:00Z\n1,2.5,yesterday\n", []ReadOption{WithSchema(schema)},
			[]string{"line 3", `column "when"`, `"yesterday"`}},
		{"value after inference sample", "n,s\n1,a\n2,b\nx,c\n", []ReadOption{WithInferRows(2)},
			[]string{"line 4", `column "n"`, `"x"`, "int64", "inferred from the first 2 rows"}},
		{"error in a later batch", "n\n" + strings.Repeat("1\n", 20) + "1.5\n", []ReadOption{WithInferRows(5), WithBatchSize(4)},
			[]string{"line 22", `column "n"`, `"1.5"`}},
		{"quote in field", "a,b\n1,x\"y\n", nil,
			[]string{"trades.csv", "line 2", "malformed CSV"}},
		{"unterminated quote", "a,b\n1,\"abc\n2,3\n", nil,
			[]string{"trades.csv", "malformed CSV"}},
		{"header differs from schema", "id,cost,when\n", []ReadOption{WithSchema(schema)},
			[]string{"trades.csv", `"cost"`, `"price"`}},
		{"duplicate header", "a,a\n1,2\n", nil,
			[]string{`"a" twice`}},
		{"unsupported type in schema", "l\n", []ReadOption{WithSchema(NewSchema([]string{"l"}, []arrow.DataType{arrow.ListOf(arrow.PrimitiveTypes.Int64)}))},
			[]string{`column "l"`, "cannot be read from csv"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := readErr(t, c.in, FormatCSV, append([]ReadOption{WithName("trades.csv")}, c.opts...)...)
			require.Error(t, err)
			for _, w := range c.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

func TestMalformedJSONL(t *testing.T) {
	schema := NewSchema([]string{"id", "name"}, []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String})
	cases := []struct {
		name string
		in   string
		opts []ReadOption
		want []string
	}{
		{"syntax error", "{\"id\": 1}\n{\"id\": 2,}\n", nil,
			[]string{"events.jsonl", "line 2", "malformed JSON", "byte 10"}},
		{"missing brace", "{\"id\": 1}\n\n{\"id\": 2\n", nil,
			[]string{"line 3", "malformed JSON"}},
		{"not an object", "[1,2]\n", nil,
			[]string{"line 1", "want '{'"}},
		{"trailing garbage", "{\"id\": 1} x\n", nil,
			[]string{"line 1", "after the object"}},
		{"bad literal", "{\"id\": tru}\n", nil,
			[]string{"line 1", `key "id"`}},
		{"unterminated string", "{\"name\": \"abc}\n", nil,
			[]string{"line 1", "unterminated string"}},
		{"nested", "{\"id\": {\"x\": 1}}\n", nil,
			[]string{"line 1", `key "id"`, "nested"}},
		{"wrong type under schema", "{\"id\": 1, \"name\": \"a\"}\n{\"id\": \"two\", \"name\": \"b\"}\n", []ReadOption{WithSchema(schema)},
			[]string{"events.jsonl", "line 2", `column "id"`, `string "two"`, "int64"}},
		{"number for a string column", "{\"id\": 1, \"name\": 5}\n", []ReadOption{WithSchema(schema)},
			[]string{"line 1", `column "name"`, "want a string"}},
		{"fraction for an int column", "{\"id\": 1.5}\n", []ReadOption{WithSchema(schema)},
			[]string{"line 1", `column "id"`, `"1.5"`}},
		{"unknown key", "{\"id\": 1, \"nmae\": \"a\"}\n", []ReadOption{WithSchema(schema)},
			[]string{"line 1", `unknown column "nmae"`}},
		{"duplicate key", "{\"id\": 1, \"id\": 2}\n", nil,
			[]string{"line 1", `"id" appears twice`}},
		{"mixed types in sample", "{\"v\": 1}\n{\"v\": \"x\"}\n", nil,
			[]string{"events.jsonl", `column "v"`, "number values (line 1)", "string values (line 2)"}},
		{"wrong type after sample", "{\"v\": 1}\n{\"v\": 2}\n{\"v\": true}\n", []ReadOption{WithInferRows(2)},
			[]string{"line 3", `column "v"`, "got bool", "inferred from the first 2 lines"}},
		{"new key after sample", "{\"v\": 1}\n{\"w\": 2}\n", []ReadOption{WithInferRows(1)},
			[]string{"line 2", `unknown column "w"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := readErr(t, c.in, FormatJSONL, append([]ReadOption{WithName("events.jsonl")}, c.opts...)...)
			require.Error(t, err)
			for _, w := range c.want {
				require.ErrorContains(t, err, w)
			}
		})
	}
}

// TestTruncatedBinaryFiles cuts Parquet and IPC files at several offsets:
// every cut must give an error naming the input, never a panic or a leak.
func TestTruncatedBinaryFiles(t *testing.T) {
	for _, f := range []Format{FormatParquet, FormatIPCFile, FormatIPCStream} {
		t.Run(f.String(), func(t *testing.T) {
			mem := newMem(t)
			recs := allTypesRecords(mem, 3000)
			data := writeBytes(t, f, allTypesSchema(), mem, recs)
			var total int64
			for _, r := range recs {
				total += r.NumRows()
			}
			releaseAll(recs)
			n := len(data)
			for _, cut := range []int{0, 1, 4, 8, 12, 64, 200, n / 3, n / 2, n/2 + 3, 2 * n / 3, n - 50, n - 9, n - 1} {
				r, err := NewReader(bytes.NewReader(data[:cut]), f, mem, WithName("cut.bin"))
				if err != nil {
					require.ErrorContains(t, err, "cut.bin", "cut at %d of %d", cut, n)
					continue
				}
				got, err := readAll(t, r)
				var rows int64
				for _, g := range got {
					rows += g.NumRows()
				}
				releaseAll(got)
				if f == FormatIPCStream && err == nil {
					// A stream cut exactly between messages is a valid,
					// shorter stream; anything else must fail.
					require.Less(t, rows, total, "cut at %d of %d", cut, n)
					continue
				}
				require.Error(t, err, "cut at %d of %d", cut, n)
				require.ErrorContains(t, err, "cut.bin")
			}
		})
	}
}

// TestCorruptBinaryFiles overwrites bytes inside files whose footer is
// intact; the reader may fail or not, but must not panic or leak.
func TestCorruptBinaryFiles(t *testing.T) {
	for _, f := range []Format{FormatParquet, FormatIPCFile, FormatIPCStream} {
		t.Run(f.String(), func(t *testing.T) {
			mem := newMem(t)
			recs := allTypesRecords(mem, 500)
			data := writeBytes(t, f, allTypesSchema(), mem, recs)
			releaseAll(recs)
			for k, pos := 0, 16; pos < len(data)-16; k, pos = k+1, pos+len(data)/61 {
				bad := bytes.Clone(data)
				for i := pos; i < pos+4; i++ {
					if k%2 == 0 {
						bad[i] ^= 0x5a
					} else {
						bad[i] = 0xff
					}
				}
				r, err := NewReader(bytes.NewReader(bad), f, mem, WithName("bad.bin"))
				if err != nil {
					require.ErrorContains(t, err, "bad.bin")
					continue
				}
				got, err := readAll(t, r)
				releaseAll(got)
				if err != nil {
					require.ErrorContains(t, err, "bad.bin")
				}
			}
		})
	}
}

func TestWriterRejectsOtherSchema(t *testing.T) {
	for _, f := range allFormats {
		t.Run(f.String(), func(t *testing.T) {
			mem := newMem(t)
			schema := NewSchema([]string{"a", "b"}, []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String})
			var buf bytes.Buffer
			w, err := NewWriter(&buf, f, schema, mem, WithWriteName("out.file"))
			require.NoError(t, err)

			otherType := NewSchema([]string{"a", "b"}, []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Int64})
			rec := NewRecord(otherType, []arrow.Array{BuildInt64(mem, []int64{1}, nil), BuildInt64(mem, []int64{2}, nil)})
			err = w.Write(rec)
			rec.Release()
			require.ErrorContains(t, err, `column "b" is int64, want utf8`)
			require.ErrorContains(t, err, "out.file")

			otherName := NewSchema([]string{"a", "c"}, []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String})
			rec = NewRecord(otherName, []arrow.Array{BuildInt64(mem, []int64{1}, nil), BuildString(mem, []string{"x"}, nil)})
			err = w.Write(rec)
			rec.Release()
			require.ErrorContains(t, err, `column 1 is "c", want "b"`)

			fewer := NewSchema([]string{"a"}, []arrow.DataType{arrow.PrimitiveTypes.Int64})
			rec = NewRecord(fewer, []arrow.Array{BuildInt64(mem, []int64{1}, nil)})
			err = w.Write(rec)
			rec.Release()
			require.ErrorContains(t, err, `missing column "b"`)

			// Same names and types but non-nullable fields and metadata: accepted.
			strict := arrow.NewSchema([]arrow.Field{
				{Name: "a", Type: arrow.PrimitiveTypes.Int64},
				{Name: "b", Type: arrow.BinaryTypes.String, Metadata: arrow.NewMetadata([]string{"k"}, []string{"v"})},
			}, nil)
			rec = NewRecord(strict, []arrow.Array{BuildInt64(mem, []int64{1}, nil), BuildString(mem, []string{"x"}, nil)})
			require.NoError(t, w.Write(rec))
			rec.Release()
			require.NoError(t, w.Close())
			require.ErrorContains(t, w.Write(rec), "after close")
		})
	}
}

func TestFormats(t *testing.T) {
	for path, want := range map[string]Format{
		"a.parquet": FormatParquet, "b.PQ": FormatParquet, "x/y.arrow": FormatIPCFile, "c.ipc": FormatIPCFile,
		"d.feather": FormatIPCFile, "e.arrows": FormatIPCStream, "f.CSV": FormatCSV, "g.jsonl": FormatJSONL, "h.ndjson": FormatJSONL,
	} {
		got, err := FormatFromPath(path)
		require.NoError(t, err, path)
		require.Equal(t, want, got, path)
		back, err := ParseFormat(got.String())
		require.NoError(t, err)
		require.Equal(t, got, back)
	}
	_, err := FormatFromPath("data.xlsx")
	require.ErrorContains(t, err, `".xlsx"`)
	require.ErrorContains(t, err, ".parquet, .pq, .arrow")
	_, err = FormatFromPath("README")
	require.ErrorContains(t, err, "no file extension")
	_, err = ParseFormat("excel")
	require.ErrorContains(t, err, "parquet, arrow, arrows, csv, jsonl")
	f, err := ParseFormat(" .NDJSON ")
	require.NoError(t, err)
	require.Equal(t, FormatJSONL, f)
	require.Equal(t, "Format(99)", Format(99).String())

	mem := newMem(t)
	_, err = OpenFile("/nonexistent/x.csv", mem)
	require.ErrorContains(t, err, "/nonexistent/x.csv")
	_, err = CreateFile("/nonexistent/x.csv", NewSchema(nil, nil), mem)
	require.ErrorContains(t, err, "/nonexistent/x.csv")
}

// TestReaderSchemaCheck: WithSchema on a binary file checks its schema.
func TestReaderSchemaCheck(t *testing.T) {
	mem := newMem(t)
	recs := allTypesRecords(mem, 10)
	data := writeBytes(t, FormatIPCFile, allTypesSchema(), mem, recs)
	releaseAll(recs)
	other := NewSchema([]string{"i64"}, []arrow.DataType{arrow.PrimitiveTypes.Int64})
	_, err := NewReader(bytes.NewReader(data), FormatIPCFile, mem, WithSchema(other), WithName("t.arrow"))
	require.ErrorContains(t, err, "t.arrow")
	require.ErrorContains(t, err, `extra column "i32"`)
}

// TestCorruptIPCSchemaCounts sets the field count of the schema flatbuffer
// to 2^31-1. Arrow v17 would allocate that many fields (and run out of
// memory); the pre-check must reject it.
func TestCorruptIPCSchemaCounts(t *testing.T) {
	for _, f := range []Format{FormatIPCFile, FormatIPCStream} {
		t.Run(f.String(), func(t *testing.T) {
			mem := newMem(t)
			recs := allTypesRecords(mem, 3)
			data := writeBytes(t, f, allTypesSchema(), mem, recs)
			releaseAll(recs)
			// Locate the schema table: in the footer for files, in the first
			// message for streams.
			var b fbuf
			var base int
			var schemaSlot int
			if f == FormatIPCFile {
				n := int(binary.LittleEndian.Uint32(data[len(data)-10:]))
				base = len(data) - 10 - n
				b = fbuf(data[base : len(data)-10])
				schemaSlot = 1
			} else {
				n := int(binary.LittleEndian.Uint32(data[4:]))
				base = 8
				b = fbuf(data[8 : 8+n])
				schemaSlot = 2
			}
			root, err := b.deref(0)
			require.NoError(t, err)
			sf, err := b.field(root, schemaSlot)
			require.NoError(t, err)
			s, err := b.deref(sf)
			require.NoError(t, err)
			start, n, err := b.vector(s, 1, 4)
			require.NoError(t, err)
			require.Equal(t, uint64(7), n, "the schema has 7 fields")
			bad := bytes.Clone(data)
			binary.LittleEndian.PutUint32(bad[base+int(start)-4:], 0x7fffffff)

			_, err = NewReader(bytes.NewReader(bad), f, mem, WithName("huge.arrow"))
			require.ErrorContains(t, err, "huge.arrow")
			require.ErrorIs(t, err, errCorruptFB)
		})
	}
}
