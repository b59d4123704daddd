package columnar

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// benchRecords returns batches shaped like BENCH.md's market_data.
func benchRecords(mem memory.Allocator, batches, rows int) (*arrow.Schema, []arrow.Record) {
	schema := NewSchema([]string{"trade_time", "symbol", "trader_id", "price", "quantity"},
		[]arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64,
			arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int64})
	recs := make([]arrow.Record, batches)
	x := uint64(42)
	next := func() uint64 { x ^= x << 13; x ^= x >> 7; x ^= x << 17; return x }
	for b := range recs {
		tt, tr, q := make([]int64, rows), make([]int64, rows), make([]int64, rows)
		sym, px := make([]string, rows), make([]float64, rows)
		for i := range rows {
			tt[i] = 1_700_000_000_000 + int64(b*rows+i)
			sym[i] = fmt.Sprintf("SYM%04d", next()%1000)
			tr[i] = int64(next() % 100000)
			px[i] = 10 + float64(next()%49000)/100
			q[i] = int64(next()%1000) + 1
		}
		recs[b] = NewRecord(schema, []arrow.Array{
			BuildInt64(mem, tt, nil), BuildString(mem, sym, nil), BuildInt64(mem, tr, nil),
			BuildFloat64(mem, px, nil), BuildInt64(mem, q, nil),
		})
	}
	return schema, recs
}

func BenchmarkWrite(b *testing.B) {
	mem := memory.NewGoAllocator()
	schema, recs := benchRecords(mem, 16, DefaultBatchSize)
	defer releaseAll(recs)
	rows := len(recs) * DefaultBatchSize
	for _, f := range allFormats {
		b.Run(f.String(), func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				w, err := NewWriter(&buf, f, schema, mem)
				if err != nil {
					b.Fatal(err)
				}
				for _, r := range recs {
					if err := w.Write(r); err != nil {
						b.Fatal(err)
					}
				}
				if err := w.Close(); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(buf.Len()))
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

func BenchmarkRead(b *testing.B) {
	mem := memory.NewGoAllocator()
	schema, recs := benchRecords(mem, 16, DefaultBatchSize)
	defer releaseAll(recs)
	rows := len(recs) * DefaultBatchSize
	for _, f := range allFormats {
		data := writeBytes(b, f, schema, mem, recs)
		for _, infer := range []bool{false, true} {
			if infer && f != FormatCSV && f != FormatJSONL {
				continue
			}
			name := f.String()
			opts := []ReadOption{WithSchema(schema)}
			if infer {
				name += "/infer"
				opts = nil
			}
			b.Run(name, func(b *testing.B) {
				b.SetBytes(int64(len(data)))
				for b.Loop() {
					r, err := NewReader(bytes.NewReader(data), f, mem, opts...)
					if err != nil {
						b.Fatal(err)
					}
					n := 0
					for r.Next() {
						n += int(r.Record().NumRows())
					}
					if err := r.Err(); err != nil {
						b.Fatal(err)
					}
					if n != rows {
						b.Fatalf("read %d rows, want %d", n, rows)
					}
					_ = r.Close()
				}
				b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			})
		}
	}
}
