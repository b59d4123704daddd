package columnar

import (
	"bytes"
	"strconv"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
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

