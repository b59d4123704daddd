package columnar

import (
	"bytes"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet/compress"
	"github.com/stretchr/testify/require"
)

var allFormats = []Format{FormatParquet, FormatIPCFile, FormatIPCStream, FormatCSV, FormatJSONL}

// writeBytes writes recs with format f into memory.
func writeBytes(t testing.TB, f Format, schema *arrow.Schema, mem memory.Allocator, recs []arrow.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, f, schema, mem)
	require.NoError(t, err)
	for _, r := range recs {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// expectedValues is what format f reads back from recs: CSV turns empty
// strings into NULL (an empty field is NULL), everything else is exact.
func expectedValues(t testing.TB, f Format, recs []arrow.Record) [][]any {
	vals := tableValues(t, recs)
	if f == FormatCSV {
		for c := range vals {
			for i, v := range vals[c] {
				if v == "" {
					vals[c][i] = nil
				}
			}
		}
	}
	return vals
}

func TestRoundTripAllTypes(t *testing.T) {
	for _, f := range allFormats {
		for _, batch := range []int{DefaultBatchSize, 7} {
			t.Run(f.String()+"/batch="+strconv.Itoa(batch), func(t *testing.T) {
				mem := newMem(t)
				recs := allTypesRecords(mem, 1000)
				defer releaseAll(recs)
				schema := allTypesSchema()
				data := writeBytes(t, f, schema, mem, recs)

				r, err := NewReader(bytes.NewReader(data), f, mem, WithSchema(schema), WithBatchSize(batch))
				require.NoError(t, err)
				require.NoError(t, schemaDiff(r.Schema(), schema))
				got, err := readAll(t, r)
				defer releaseAll(got)
				require.NoError(t, err)
				require.Equal(t, expectedValues(t, f, recs), tableValues(t, got))
				for _, g := range got {
					require.NoError(t, schemaDiff(g.Schema(), schema))
					if f != FormatIPCFile && f != FormatIPCStream {
						require.LessOrEqual(t, g.NumRows(), int64(batch))
					}
				}
				if f == FormatIPCFile || f == FormatIPCStream {
					// IPC keeps the batches as written, the empty one too.
					require.Len(t, got, 3)
					require.Equal(t, int64(0), got[1].NumRows())
				} else if batch == 7 {
					require.Equal(t, (6+6)/7+(1000+6)/7, len(got))
				}
			})
		}
	}
}

func TestFilesOnDisk(t *testing.T) {
	dir := t.TempDir()
	for _, ext := range []string{".parquet", ".arrow", ".feather", ".ipc", ".arrows", ".csv", ".jsonl", ".ndjson"} {
		t.Run(ext, func(t *testing.T) {
			mem := newMem(t)
			recs := allTypesRecords(mem, 100)
			defer releaseAll(recs)
			path := filepath.Join(dir, "data"+ext)
			w, err := CreateFile(path, allTypesSchema(), mem)
			require.NoError(t, err)
			for _, r := range recs {
				require.NoError(t, w.Write(r))
			}
			require.NoError(t, w.Close())
			require.NoError(t, w.Close(), "Close is idempotent")

			r, err := OpenFile(path, mem, WithSchema(allTypesSchema()))
			require.NoError(t, err)
			got, err := readAll(t, r)
			defer releaseAll(got)
			require.NoError(t, err)
			f, err := FormatFromPath(path)
			require.NoError(t, err)
			require.Equal(t, expectedValues(t, f, recs), tableValues(t, got))
		})
	}
}

// TestParquetNonSeekableInput reads Parquet and IPC files from readers that
// offer no random access, which NewReader buffers.
func TestNonSeekableInput(t *testing.T) {
	for _, f := range []Format{FormatParquet, FormatIPCFile} {
		t.Run(f.String(), func(t *testing.T) {
			mem := newMem(t)
			recs := allTypesRecords(mem, 50)
			defer releaseAll(recs)
			data := writeBytes(t, f, allTypesSchema(), mem, recs)
			r, err := NewReader(io.MultiReader(bytes.NewReader(data)), f, mem)
			require.NoError(t, err)
			got, err := readAll(t, r)
			defer releaseAll(got)
			require.NoError(t, err)
			require.Equal(t, tableValues(t, recs), tableValues(t, got))
		})
	}
}

// TestEventTimeMetadataSurvives checks that the binary formats keep the
// event-time declaration in field metadata.
func TestEventTimeMetadataSurvives(t *testing.T) {
	for _, f := range []Format{FormatParquet, FormatIPCFile, FormatIPCStream} {
		t.Run(f.String(), func(t *testing.T) {
			mem := newMem(t)
			schema := arrow.NewSchema([]arrow.Field{
				{Name: "v", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
				EventTimeField("t", arrow.PrimitiveTypes.Int64),
			}, nil)
			rec := NewRecord(schema, []arrow.Array{BuildFloat64(mem, []float64{1, 2}, nil), BuildInt64(mem, []int64{10, 20}, nil)})
			defer rec.Release()
			data := writeBytes(t, f, schema, mem, []arrow.Record{rec})
			r, err := NewReader(bytes.NewReader(data), f, mem)
			require.NoError(t, err)
			idx, err := EventTimeIndex(r.Schema(), "")
			require.NoError(t, err)
			require.Equal(t, 1, idx)
			require.NoError(t, r.Close())
		})
	}
}

func TestInferCSV(t *testing.T) {
	mem := newMem(t)
	in := "id,price,ok,name,blank,mixed\n" +
		"1,1.5,true,a,,1\n" +
		"2,,FALSE,日本語,,x\n" +
		",-2e3,,,,2.5\n" +
		"-4,NaN,true,\"c,d\",,\n"
	r, err := NewReader(strings.NewReader(in), FormatCSV, mem, WithBatchSize(2))
	require.NoError(t, err)
	want := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "price", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "blank", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "mixed", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	require.True(t, want.Equal(r.Schema()), "got %s", r.Schema())
	got, err := readAll(t, r)
	defer releaseAll(got)
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, [][]any{
		{int64(1), int64(2), nil, int64(-4)},
		{f64bits(1.5), nil, f64bits(-2000), "NaN"},
		{true, false, nil, true},
		{"a", "日本語", nil, "c,d"},
		{nil, nil, nil, nil},
		{"1", "x", "2.5", nil},
	}, tableValues(t, got))
}

func f64bits(v float64) any { return math.Float64bits(v) }

// TestInferJSONL checks inference: column order of first use, int/float
// promotion, NaN words, bool, all-null columns and missing keys.
func TestInferJSONL(t *testing.T) {
	mem := newMem(t)
	in := `{"id": 1, "price": 2, "ok": true, "name": "a\u00e9\n"}` + "\n" +
		"\n" +
		`  {"price": 2.5, "id": null, "later": null}` + "\n" +
		`{"price": "NaN", "name": "😀", "id": -3, "ok": false}`
	r, err := NewReader(strings.NewReader(in), FormatJSONL, mem)
	require.NoError(t, err)
	want := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "price", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "ok", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "later", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	require.True(t, want.Equal(r.Schema()), "got %s", r.Schema())
	got, err := readAll(t, r)
	defer releaseAll(got)
	require.NoError(t, err)
	require.Equal(t, [][]any{
		{int64(1), nil, int64(-3)},
		{f64bits(2), f64bits(2.5), "NaN"},
		{true, nil, false},
		{"aé\n", nil, "😀"},
		{nil, nil, nil},
	}, tableValues(t, got))
}

// TestInferRoundTrip writes the types inference can recover and reads them
// back without a schema.
func TestInferRoundTrip(t *testing.T) {
	for _, f := range []Format{FormatCSV, FormatJSONL} {
		t.Run(f.String(), func(t *testing.T) {
			mem := newMem(t)
			schema := NewSchema([]string{"a", "b", "c", "d"},
				[]arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64, arrow.FixedWidthTypes.Boolean, arrow.BinaryTypes.String})
			rec := NewRecord(schema, []arrow.Array{
				BuildInt64(mem, []int64{1, -2, 3}, []bool{true, false, true}),
				BuildFloat64(mem, []float64{0.5, 2, math.Inf(-1)}, nil),
				BuildBool(mem, []bool{true, false, true}, []bool{true, true, false}),
				BuildString(mem, []string{"x", "ÿ", "🚀 y"}, nil),
			})
			defer rec.Release()
			data := writeBytes(t, f, schema, mem, []arrow.Record{rec})
			r, err := NewReader(bytes.NewReader(data), f, mem)
			require.NoError(t, err)
			require.True(t, schema.Equal(r.Schema()), "got %s", r.Schema())
			got, err := readAll(t, r)
			defer releaseAll(got)
			require.NoError(t, err)
			require.Equal(t, tableValues(t, []arrow.Record{rec}), tableValues(t, got))
		})
	}
}

// TestInferIntegralFloats documents a CSV limit: 'g' formatting writes 2.0
// as "2", so a float column whose sampled values are all integral infers as
// int64. JSON lines writes "2.0" and keeps the type.
func TestInferIntegralFloats(t *testing.T) {
	for f, want := range map[Format]arrow.DataType{FormatCSV: arrow.PrimitiveTypes.Int64, FormatJSONL: arrow.PrimitiveTypes.Float64} {
		mem := newMem(t)
		schema := NewSchema([]string{"x"}, []arrow.DataType{arrow.PrimitiveTypes.Float64})
		rec := NewRecord(schema, []arrow.Array{BuildFloat64(mem, []float64{2, -7}, nil)})
		data := writeBytes(t, f, schema, mem, []arrow.Record{rec})
		rec.Release()
		r, err := NewReader(bytes.NewReader(data), f, mem)
		require.NoError(t, err)
		require.Equal(t, want, r.Schema().Field(0).Type, f.String())
		require.NoError(t, r.Close())
	}
}

func TestEmptyInputs(t *testing.T) {
	schema := allTypesSchema()
	for _, f := range allFormats {
		t.Run(f.String(), func(t *testing.T) {
			mem := newMem(t)
			// A file with no batch at all, and one with only an empty batch.
			empty := allTypesRecords(mem, 0)
			defer releaseAll(empty)
			for _, recs := range [][]arrow.Record{nil, empty[1:2]} {
				data := writeBytes(t, f, schema, mem, recs)
				r, err := NewReader(bytes.NewReader(data), f, mem, WithSchema(schema))
				require.NoError(t, err)
				require.NoError(t, schemaDiff(r.Schema(), schema))
				got, err := readAll(t, r)
				require.NoError(t, err)
				rows := int64(0)
				for _, g := range got {
					rows += g.NumRows()
				}
				releaseAll(got)
				require.Zero(t, rows)
			}
		})
	}
	mem := newMem(t)
	// A CSV header alone infers utf8 columns; no input at all is an error.
	r, err := NewReader(strings.NewReader("a,b\n"), FormatCSV, mem)
	require.NoError(t, err)
	require.Equal(t, "a", r.Schema().Field(0).Name)
	require.False(t, r.Next())
	require.NoError(t, r.Err())
	require.NoError(t, r.Close())
	_, err = NewReader(strings.NewReader(""), FormatCSV, mem, WithName("empty.csv"))
	require.ErrorContains(t, err, "empty.csv")
	require.ErrorContains(t, err, "no header")
}

// TestCSVOneColumnNulls: a NULL in a one-column CSV must not become a blank
// line, which readers skip.
func TestCSVOneColumnNulls(t *testing.T) {
	mem := newMem(t)
	schema := NewSchema([]string{"x"}, []arrow.DataType{arrow.PrimitiveTypes.Int64})
	rec := NewRecord(schema, []arrow.Array{BuildInt64(mem, []int64{1, 0, 3}, []bool{true, false, true})})
	defer rec.Release()
	data := writeBytes(t, FormatCSV, schema, mem, []arrow.Record{rec})
	require.Equal(t, "x\n1\n\"\"\n3\n", string(data))
	r, err := NewReader(bytes.NewReader(data), FormatCSV, mem)
	require.NoError(t, err)
	got, err := readAll(t, r)
	defer releaseAll(got)
	require.NoError(t, err)
	require.Equal(t, [][]any{{int64(1), nil, int64(3)}}, tableValues(t, got))
}

// TestTextLineEndings reads CRLF files, a UTF-8 byte order mark and a
// last line without a newline.
func TestTextLineEndings(t *testing.T) {
	mem := newMem(t)
	r, err := NewReader(strings.NewReader("\ufeffa,b\r\n1,x\r\n2,\"y\r\nz\"\r\n3,w"), FormatCSV, mem)
	require.NoError(t, err)
	require.Equal(t, "a", r.Schema().Field(0).Name)
	got, err := readAll(t, r)
	require.NoError(t, err)
	require.Equal(t, [][]any{{int64(1), int64(2), int64(3)}, {"x", "y\nz", "w"}}, tableValues(t, got))
	releaseAll(got)

	r, err = NewReader(strings.NewReader("{\"a\":1}\r\n\r\n{\"a\":2}"), FormatJSONL, mem)
	require.NoError(t, err)
	got, err = readAll(t, r)
	require.NoError(t, err)
	require.Equal(t, [][]any{{int64(1), int64(2)}}, tableValues(t, got))
	releaseAll(got)
}

// TestCSVDelimiter writes and reads tab-separated values.
func TestCSVDelimiter(t *testing.T) {
	mem := newMem(t)
	schema := NewSchema([]string{"a", "b"}, []arrow.DataType{arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64})
	rec := NewRecord(schema, []arrow.Array{BuildString(mem, []string{"x,y", "tab\there"}, nil), BuildFloat64(mem, []float64{0.25, 1e300}, nil)})
	defer rec.Release()
	var buf bytes.Buffer
	w, err := NewWriter(&buf, FormatCSV, schema, mem, WithWriteDelimiter('\t'))
	require.NoError(t, err)
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())
	require.Equal(t, "a\tb\nx,y\t0.25\n\"tab\there\"\t1e+300\n", buf.String())
	r, err := NewReader(&buf, FormatCSV, mem, WithDelimiter('\t'))
	require.NoError(t, err)
	got, err := readAll(t, r)
	defer releaseAll(got)
	require.NoError(t, err)
	require.Equal(t, tableValues(t, []arrow.Record{rec}), tableValues(t, got))
	_, err = NewWriter(&buf, FormatCSV, schema, mem, WithWriteDelimiter('"'))
	require.ErrorContains(t, err, "invalid CSV delimiter")
}

// TestParquetOptions writes with dictionary encoding and small row groups.
func TestParquetOptions(t *testing.T) {
	mem := newMem(t)
	recs := allTypesRecords(mem, 700)
	defer releaseAll(recs)
	var buf bytes.Buffer
	w, err := NewWriter(&buf, FormatParquet, allTypesSchema(), mem, WithDictionary(true), WithRowGroupRows(100), WithCompression(compress.Codecs.Zstd))
	require.NoError(t, err)
	for _, r := range recs {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Close())
	r, err := NewReader(bytes.NewReader(buf.Bytes()), FormatParquet, mem)
	require.NoError(t, err)
	got, err := readAll(t, r)
	defer releaseAll(got)
	require.NoError(t, err)
	require.Equal(t, tableValues(t, recs), tableValues(t, got))
}

// TestInvalidUTF8 becomes U+FFFD in utf8 columns, in CSV as in JSON lines.
func TestInvalidUTF8(t *testing.T) {
	mem := newMem(t)
	for f, in := range map[Format]string{
		FormatCSV:   "s\nok\xffend\n",
		FormatJSONL: "{\"s\": \"ok\xffend\"}\n",
	} {
		r, err := NewReader(strings.NewReader(in), f, mem)
		require.NoError(t, err)
		got, err := readAll(t, r)
		require.NoError(t, err)
		require.Equal(t, [][]any{{"ok\uFFFDend"}}, tableValues(t, got), f.String())
		releaseAll(got)
	}
}
