package partition

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

// nopPipe counts rows and emits nothing: benchmarks measure routing and the
// channel hand-off, not a pipeline.
type nopPipe struct{ rows *atomic.Int64 }

func (p nopPipe) Push(_ context.Context, b columnar.Batch, _ Emitter) error {
	p.rows.Add(int64(b.Len()))
	return nil
}
func (nopPipe) Watermark(context.Context, int64, Emitter) error { return nil }
func (nopPipe) Finish(context.Context, Emitter) error           { return nil }
func (nopPipe) Close()                                          {}

// benchRecords builds count records of rows rows: an int64 or utf8 key
// ("SYM0000" … with 1000 distinct values, like market_data's symbol), and an
// int64 value.
func benchRecords(tb testing.TB, utf8Key bool, count, rows int) []arrow.Record {
	kt := arrow.DataType(arrow.PrimitiveTypes.Int64)
	if utf8Key {
		kt = arrow.BinaryTypes.String
	}
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: kt}, {Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)
	recs := make([]arrow.Record, count)
	x := uint64(42)
	for r := range recs {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for i := range rows {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			k := int64(x % 1000)
			if utf8Key {
				b.Field(0).(*array.StringBuilder).Append(fmt.Sprintf("SYM%04d", k))
			} else {
				b.Field(0).(*array.Int64Builder).Append(k)
			}
			b.Field(1).(*array.Int64Builder).Append(int64(i))
		}
		recs[r] = b.NewRecord()
		b.Release()
	}
	return recs
}

// BenchmarkRoute measures hash routing throughput (rows/s) from one source
// into N partitions whose pipelines only count rows: hashing, partition
// ids, selection vectors and the channel hand-off.
func BenchmarkRoute(b *testing.B) {
	const rows = 8192
	// Pin the best kernel level explicitly: the numbers then do not depend
	// on the dispatch state the kernels' init functions leave behind.
	restore, err := kernels.SetLevel(kernels.Best())
	require.NoError(b, err)
	defer restore()
	for _, utf8Key := range []bool{false, true} {
		recs := benchRecords(b, utf8Key, 16, rows)
		key := "int64"
		if utf8Key {
			key = "utf8"
		}
		for _, n := range []int{1, 2, 4, 8} {
			b.Run(fmt.Sprintf("key=%s/N=%d", key, n), func(b *testing.B) {
				var seen atomic.Int64
				q, err := Start(context.Background(), Config{Partitions: n, KeyColumns: []string{"k"}},
					func(int) (Pipeline, error) { return nopPipe{&seen}, nil },
					func(o Output) error { o.Rec.Release(); return nil })
				require.NoError(b, err)
				src, err := q.NewSource(SourceOptions{})
				require.NoError(b, err)
				b.ResetTimer()
				start := time.Now()
				for i := range b.N {
					if err := src.Push(recs[i%len(recs)]); err != nil {
						b.Fatal(err)
					}
				}
				require.NoError(b, q.Close())
				el := time.Since(start)
				b.StopTimer()
				require.EqualValues(b, int64(b.N)*rows, seen.Load())
				b.ReportMetric(float64(b.N)*rows/el.Seconds(), "rows/s")
				b.ReportMetric(float64(el.Nanoseconds())/(float64(b.N)*rows), "ns/row")
			})
		}
		for _, r := range recs {
			r.Release()
		}
	}
}

// BenchmarkRouteSources measures routing with one source per partition
// pushing concurrently (each source routes on its own goroutine).
func BenchmarkRouteSources(b *testing.B) {
	const rows = 8192
	recs := benchRecords(b, false, 16, rows)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for _, n := range []int{2, 4} {
		b.Run(fmt.Sprintf("key=int64/N=%d/sources=%d", n, n), func(b *testing.B) {
			var seen atomic.Int64
			q, err := Start(context.Background(), Config{Partitions: n, KeyColumns: []string{"k"}},
				func(int) (Pipeline, error) { return nopPipe{&seen}, nil },
				func(o Output) error { o.Rec.Release(); return nil })
			require.NoError(b, err)
			srcs := make([]*Source, n)
			for i := range srcs {
				srcs[i], err = q.NewSource(SourceOptions{})
				require.NoError(b, err)
			}
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for s, src := range srcs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := s; i < b.N; i += n {
						if err := src.Push(recs[i%len(recs)]); err != nil {
							panic(err)
						}
					}
				}()
			}
			wg.Wait()
			require.NoError(b, q.Close())
			el := time.Since(start)
			b.StopTimer()
			require.EqualValues(b, int64(b.N)*rows, seen.Load())
			b.ReportMetric(float64(b.N)*rows/el.Seconds(), "rows/s")
		})
	}
}

// BenchmarkCoalesce measures adaptive batching of 10-row pushes into one
// partition (routing, coalescing copies and the delay timer).
func BenchmarkCoalesce(b *testing.B) {
	recs := benchRecords(b, true, 1, 8192)
	big := recs[0]
	defer big.Release()
	slices := make([]arrow.Record, 0, 819)
	for i := 0; i+10 <= 8192; i += 10 {
		slices = append(slices, big.NewSlice(int64(i), int64(i+10)))
	}
	defer func() {
		for _, s := range slices {
			s.Release()
		}
	}()
	for _, n := range []int{1, 4} {
		b.Run(fmt.Sprintf("rows=10/N=%d", n), func(b *testing.B) {
			var seen atomic.Int64
			q, err := Start(context.Background(), Config{Partitions: n, KeyColumns: []string{"k"}, Batching: Batching{Enabled: true}},
				func(int) (Pipeline, error) { return nopPipe{&seen}, nil },
				func(o Output) error { o.Rec.Release(); return nil })
			require.NoError(b, err)
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				if err := q.Push(slices[i%len(slices)]); err != nil {
					b.Fatal(err)
				}
			}
			require.NoError(b, q.Close())
			el := time.Since(start)
			b.StopTimer()
			var inv int64
			for _, pm := range q.Metrics().Partitions {
				inv += pm.Invocations
			}
			b.ReportMetric(float64(b.N)*10/el.Seconds(), "rows/s")
			b.ReportMetric(float64(b.N)/float64(max(inv, 1)), "pushes/invocation")
		})
	}
}

// TestMemoryBounded50M pushes 50 M rows through four partitions whose sink
// is slower than the producer and checks that the heap stays bounded: the
// bounded channels, not the input size, decide how much is in flight.
func TestMemoryBounded50M(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("50 M rows: run without -short and -race")
	}
	const rows, total, n = 8192, 50_000_000, 4
	recs := benchRecords(t, false, 8, rows)
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	var seen atomic.Int64
	var emitted atomic.Int64
	q, err := Start(context.Background(), Config{Partitions: n, KeyColumns: []string{"k"}},
		func(int) (Pipeline, error) { return emitPipe{rows: &seen}, nil },
		func(o Output) error {
			defer o.Rec.Release()
			if emitted.Add(1)%64 == 0 {
				time.Sleep(50 * time.Microsecond) // a slow sink
			}
			return nil
		})
	require.NoError(t, err)
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
		}
	}()
	start := time.Now()
	pushed := 0
	for i := 0; pushed < total; i++ {
		require.NoError(t, q.Push(recs[i%len(recs)]))
		pushed += rows
	}
	require.NoError(t, q.Close())
	el := time.Since(start)
	close(stop)
	<-sampled
	require.EqualValues(t, pushed, seen.Load())
	growth := int64(peak.Load()) - int64(base.HeapInuse)
	t.Logf("%d rows in %s (%.1f M rows/s); heap in use %d MiB at start, peak %d MiB (growth %d MiB)",
		pushed, el, float64(pushed)/el.Seconds()/1e6, base.HeapInuse>>20, peak.Load()>>20, growth>>20)
	// In flight at most: 4 × 16 queued batches (a selection vector of ≤ 32
	// KiB each plus small headers) and 16 output records; 64 MiB leaves room
	// for garbage not yet collected.
	require.Less(t, growth, int64(64<<20))
}

// emitPipe counts rows and emits a one-row record per batch.
type emitPipe struct{ rows *atomic.Int64 }

func (p emitPipe) Push(_ context.Context, b columnar.Batch, out Emitter) error {
	p.rows.Add(int64(b.Len()))
	ib := array.NewInt64Builder(memory.DefaultAllocator)
	defer ib.Release()
	ib.Append(int64(b.Len()))
	arr := ib.NewArray()
	defer arr.Release()
	return out.Emit(array.NewRecord(outSchema, []arrow.Array{arr}, 1))
}
func (emitPipe) Watermark(context.Context, int64, Emitter) error { return nil }
func (emitPipe) Finish(context.Context, Emitter) error           { return nil }
func (emitPipe) Close()                                          {}

// BenchmarkStringKeyHash compares the router's utf8 key hash (agg's key
// words, one per value of at most 7 bytes, hashed by kernels.HashInt64)
// with a byte hash per value (kernels.HashStrings, xxhash.Sum64 of each
// value) on market_data-like "SYM0000" keys, in the same binary.
func BenchmarkStringKeyHash(b *testing.B) {
	const rows = 8192
	recs := benchRecords(b, true, 1, rows)
	defer recs[0].Release()
	offsets, data, err := columnar.StringData(recs[0].Column(0))
	require.NoError(b, err)
	dst := make([]uint64, rows)
	bind := &binding{schema: recs[0].Schema(), keyIdx: []int{0}}
	for _, impl := range []string{"xxhash-per-value", "word"} {
		b.Run(impl, func(b *testing.B) {
			var h keyHasher
			var sb selBuf
			for b.Loop() {
				if impl == "word" {
					if err := h.hash(&sb, recs[0], bind); err != nil {
						b.Fatal(err)
					}
				} else {
					kernels.HashStrings(dst, offsets, data, nil, 0)
				}
			}
			b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkRouters measures hash routing from one producer goroutine into
// two partitions that only count rows, with routing on the producer
// (routers=1) or spread over router goroutines delivering in push order.
func BenchmarkRouters(b *testing.B) {
	const rows = 8192
	restore, err := kernels.SetLevel(kernels.Best())
	require.NoError(b, err)
	defer restore()
	for _, utf8Key := range []bool{false, true} {
		recs := benchRecords(b, utf8Key, 16, rows)
		key := "int64"
		if utf8Key {
			key = "utf8"
		}
		for _, routers := range []int{1, 2, 3} {
			b.Run(fmt.Sprintf("key=%s/N=2/routers=%d", key, routers), func(b *testing.B) {
				var seen atomic.Int64
				q, err := Start(context.Background(), Config{Partitions: 2, KeyColumns: []string{"k"}, Routers: routers},
					func(int) (Pipeline, error) { return nopPipe{&seen}, nil },
					func(o Output) error { o.Rec.Release(); return nil })
				require.NoError(b, err)
				b.ResetTimer()
				start := time.Now()
				for i := range b.N {
					if err := q.Push(recs[i%len(recs)]); err != nil {
						b.Fatal(err)
					}
				}
				require.NoError(b, q.Close())
				el := time.Since(start)
				b.StopTimer()
				require.EqualValues(b, int64(b.N)*rows, seen.Load())
				b.ReportMetric(float64(b.N)*rows/el.Seconds(), "rows/s")
			})
		}
		for _, r := range recs {
			r.Release()
		}
	}
}

// BenchmarkCutTwo compares cutting 8192 hashed rows into two partitions'
// selection vectors with PartitionIDs and the histogram and scatter kernels
// (cut, any partition count) and with cutTwo (kernels.SplitTwo), in one binary.
func BenchmarkCutTwo(b *testing.B) {
	const rows = 8192
	q, err := Start(context.Background(), Config{Partitions: 2, KeyColumns: []string{"k"}},
		func(int) (Pipeline, error) { return nopPipe{new(atomic.Int64)}, nil },
		func(o Output) error { o.Rec.Release(); return nil })
	require.NoError(b, err)
	defer func() { require.NoError(b, q.Close()) }()
	s, err := q.NewSource(SourceOptions{})
	require.NoError(b, err)
	recs := benchRecords(b, false, 1, rows)
	defer recs[0].Release()
	sb := q.getSel(2 * rows)
	sb.hashes = make([]uint64, rows)
	x := uint64(7)
	for i := range sb.hashes {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		sb.hashes[i] = x
	}
	for _, impl := range []string{"ids+histogram+scatter", "cutTwo"} {
		b.Run(impl, func(b *testing.B) {
			for b.Loop() {
				r := routed{rec: recs[0], target: -1, sb: sb}
				if impl == "cutTwo" {
					s.cutTwo(&s.scr, &r)
				} else {
					r.ids = s.partitionIDs(&s.scr, &r)
					s.cut(&s.scr, &r)
				}
			}
			b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkDictKeyHash compares hashing a dictionary<int32, utf8> key column
// of 8192 rows over 1000 "SYM0000"-like values the way the router does
// (word hash of the dictionary, typed index gather) with the previous way
// (xxhash of each dictionary value, GetValueIndex per row), in one binary.
func BenchmarkDictKeyHash(b *testing.B) {
	const rows = 8192
	db := array.NewDictionaryBuilder(memory.DefaultAllocator, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}).(*array.BinaryDictionaryBuilder)
	defer db.Release()
	x := uint64(42)
	for range rows {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		require.NoError(b, db.AppendString(fmt.Sprintf("SYM%04d", x%1000)))
	}
	arr := db.NewDictionaryArray()
	defer arr.Release()
	dst := make([]uint64, rows)
	b.Run("previous", func(b *testing.B) {
		dict := arr.Dictionary().(*array.String)
		dh := make([]uint64, dict.Len())
		for b.Loop() {
			offsets, data, err := columnar.StringData(dict)
			if err != nil {
				b.Fatal(err)
			}
			kernels.HashStrings(dh, offsets, data, nil, 0)
			for i := range dst {
				dst[i] = dh[arr.GetValueIndex(i)]
			}
		}
		b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
	})
	b.Run("router", func(b *testing.B) {
		schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arr.DataType()}}, nil)
		rec := array.NewRecord(schema, []arrow.Array{arr}, rows)
		defer rec.Release()
		bind := &binding{schema: schema, keyIdx: []int{0}}
		var h keyHasher
		var sb selBuf
		for b.Loop() {
			if err := h.hash(&sb, rec, bind); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)*rows/b.Elapsed().Seconds(), "rows/s")
	})
}
