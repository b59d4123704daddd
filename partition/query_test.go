package partition

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/velo-engine/velo/columnar"
)

// genRows returns n rows with v = first..first+n-1, keys from keyOf and
// ts = 1000 + v.
func genRows(first, n int, keyOf func(v int) int64) []row {
	rows := make([]row, n)
	for i := range rows {
		v := first + i
		rows[i] = row{key: keyOf(v), ts: 1000 + int64(v), v: int64(v)}
	}
	return rows
}

func TestExactlyOnceEveryStrategy(t *testing.T) {
	const sources, batches, batchRows = 3, 6, 257
	const total = sources * batches * batchRows
	keyOf := func(v int) int64 {
		if v%97 == 0 {
			return -1 // null key
		}
		return int64(v*7919) % 61
	}
	for _, strategy := range []Strategy{Hash, Smart, Sticky, RoundRobin, FanIn} {
		for _, kind := range []keyKind{keyInt64, keyUTF8, keyDict, keyInt32} {
			for _, n := range []int{1, 2, 4, 7} {
				t.Run(fmt.Sprintf("%s/%s/N=%d", strategy, kind, n), func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					h := newHarness(mem)
					q, err := Start(context.Background(), Config{Partitions: n, Strategy: strategy, KeyColumns: []string{"k"}, ChannelCapacity: 4}, h.factory, h.sink)
					require.NoError(t, err)
					var wg sync.WaitGroup
					errs := make([]error, sources)
					for s := range sources {
						opts := SourceOptions{Partition: s + 10, HasPartition: true}
						if strategy == Smart && s != 0 {
							// Sources 1 and 2 declare they are partitioned by k:
							// smart keeps their partition; source 0 is hashed.
							opts.PartitionedBy = []string{"k"}
						}
						src, err := q.NewSource(opts)
						require.NoError(t, err)
						wg.Add(1)
						go func() {
							defer wg.Done()
							for b := range batches {
								first := (s*batches + b) * batchRows
								rec := makeRecord(t, mem, kind, genRows(first, batchRows, keyOf))
								err := src.Push(rec)
								rec.Release()
								if err != nil {
									errs[s] = err
									return
								}
							}
						}()
					}
					wg.Wait()
					for _, err := range errs {
						require.NoError(t, err)
					}
					require.NoError(t, q.Close())
					h.requireExactlyOnce(t, total)

					m := q.Metrics()
					require.EqualValues(t, total, m.RecordsIn)
					require.EqualValues(t, total, m.RecordsOut)
					var batchesOut, invocations int64
					for p, pm := range m.Partitions {
						require.Equal(t, p, pm.Partition)
						batchesOut += pm.BatchesOut
						invocations += pm.Invocations
						require.EqualValues(t, h.pipe(p).rowsSeen.Load(), pm.RecordsIn)
						require.True(t, h.pipe(p).finished)
						require.EqualValues(t, 1, h.pipe(p).closed.Load())
						require.Equal(t, int64(math.MaxInt64), pm.Watermark)
					}
					require.Equal(t, invocations, batchesOut)
					require.EqualValues(t, len(h.outs), batchesOut)
					// The sink sees each partition's output in emission order.
					for p := range n {
						require.Equal(t, h.pipe(p).vs, h.order[p], "partition %d", p)
					}

					// Where each row went, by strategy.
					batchAt := map[[2]int]int{} // round_robin: (source, batch) → partition
					for p := range n {
						c := h.pipe(p)
						for k := range c.counts {
							switch strategy {
							case Hash:
								want := 0
								if k != "<null>" {
									kv := parseTestKey(t, kind, k)
									want = fastrange(keyHashOracle(kind, kv), n)
								} else {
									want = fastrange(keyHashOracle(kind, -1), n)
								}
								require.Equal(t, want, p, "key %s", k)
							case FanIn:
								require.Equal(t, 0, p)
							}
						}
						for _, v := range c.vs {
							src := int(v) / (batches * batchRows)
							b := (int(v) / batchRows) % batches
							switch {
							case strategy == Sticky, strategy == Smart && src != 0:
								require.Equal(t, (src+10)%n, p, "v=%d from source %d", v, src)
							case strategy == RoundRobin:
								// Whole records, dealt by queue length
								// (TestRoundRobinDeals has the order).
								if prev, ok := batchAt[[2]int{src, b}]; ok {
									require.Equal(t, prev, p, "v=%d from source %d batch %d", v, src, b)
								}
								batchAt[[2]int{src, b}] = p
							case strategy == Smart:
								want := fastrange(keyHashOracle(kind, keyOf(int(v))), n)
								require.Equal(t, want, p, "v=%d hashed by smart", v)
							}
						}
					}
					if strategy == Hash {
						// Each key lives in exactly one partition.
						seen := map[string]int{}
						for p := range n {
							for k := range h.pipe(p).counts {
								prev, dup := seen[k]
								require.False(t, dup, "key %s in partitions %d and %d", k, prev, p)
								seen[k] = p
							}
						}
					}
				})
			}
		}
	}
}

// parseTestKey turns the string form of a key back into its int64.
func parseTestKey(t *testing.T, kind keyKind, k string) int64 {
	t.Helper()
	if kind == keyUTF8 || kind == keyDict {
		require.Greater(t, len(k), 4)
		k = k[4:]
	}
	v, err := strconv.ParseInt(k, 10, 64)
	require.NoError(t, err)
	return v
}

func TestMultiColumnKeyHash(t *testing.T) {
	// Routing by (k, v): the hash is HashCombine(H(k), H(v)), computed here
	// from xxhash with the documented formula.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const n = 5
	h := newHarness(mem)
	var routed [n][]int64
	h.hook = func(p int, b columnar.Batch) error {
		vals, err := columnar.Int64Values(b.Column(2))
		if err != nil {
			return err
		}
		for i := range b.Len() {
			routed[p] = append(routed[p], vals[b.Row(i)])
		}
		return nil
	}
	q, err := Start(context.Background(), Config{Partitions: n, KeyColumns: []string{"k", "v"}}, h.factory, h.sink)
	require.NoError(t, err)
	rec := makeRecord(t, mem, keyUTF8, genRows(0, 1000, func(v int) int64 { return int64(v % 13) }))
	require.NoError(t, q.Push(rec))
	rec.Release()
	require.NoError(t, q.Close())
	const prime1 = 0x9E3779B185EBCA87
	for p := range n {
		for _, v := range routed[p] {
			h1 := keyHashOracle(keyUTF8, v%13)
			h2 := keyHashOracle(keyInt64, v)
			comb := ((h1<<27 | h1>>37) ^ h2) * prime1
			require.Equal(t, fastrange(comb, n), p, "v=%d", v)
		}
	}
	h.requireExactlyOnce(t, 1000)
}

func TestOtherKeyTypes(t *testing.T) {
	// bool, float64 and timestamp keys route by the documented hashes:
	// bool as the 8 bytes of 0/1, floats by their canonical bits (-0.0 like
	// 0.0, every NaN alike), timestamps like int64.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const n = 7
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "f", Type: arrow.PrimitiveTypes.Float64},
		{Name: "t", Type: &arrow.TimestampType{Unit: arrow.Millisecond}},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	fvals := []float64{0, math.Copysign(0, -1), math.NaN(), -math.NaN(), 1.5, -2.25, math.Inf(1), 1e300}
	rb := array.NewRecordBuilder(mem, schema)
	for v := range 64 {
		rb.Field(0).(*array.BooleanBuilder).Append(v%3 == 0)
		rb.Field(1).(*array.Float64Builder).Append(fvals[v%len(fvals)])
		rb.Field(2).(*array.TimestampBuilder).Append(arrow.Timestamp(1_700_000_000_000 + v*7))
		rb.Field(3).(*array.Int64Builder).Append(int64(v))
	}
	rec := rb.NewRecord()
	rb.Release()
	defer rec.Release()
	le := func(x uint64) uint64 {
		var buf [8]byte
		binary.LittleEndian.PutUint64(buf[:], x)
		return xxhash.Sum64(buf[:])
	}
	canon := func(f float64) uint64 {
		switch {
		case f == 0:
			return 0
		case math.IsNaN(f):
			return 0x7FF8000000000000
		}
		return math.Float64bits(f)
	}
	oracle := map[string]func(v int) uint64{
		"b": func(v int) uint64 {
			if v%3 == 0 {
				return le(1)
			}
			return le(0)
		},
		"f": func(v int) uint64 { return le(canon(fvals[v%len(fvals)])) },
		"t": func(v int) uint64 { return le(uint64(1_700_000_000_000 + v*7)) },
	}
	for _, col := range []string{"b", "f", "t"} {
		t.Run(col, func(t *testing.T) {
			var mu sync.Mutex
			got := map[int64]int{}
			q, err := Start(context.Background(), Config{Partitions: n, KeyColumns: []string{col}},
				func(p int) (Pipeline, error) {
					return &nopRecorder{fn: func(b columnar.Batch) {
						mu.Lock()
						defer mu.Unlock()
						vals := b.Column(3).(*array.Int64).Int64Values()
						for i := range b.Len() {
							got[vals[b.Row(i)]] = p
						}
					}}, nil
				}, func(o Output) error { o.Rec.Release(); return nil })
			require.NoError(t, err)
			require.NoError(t, q.Push(rec))
			require.NoError(t, q.Close())
			require.Len(t, got, 64)
			for v, p := range got {
				require.Equal(t, fastrange(oracle[col](int(v)), n), p, "v=%d", v)
			}
		})
	}
}

// nopRecorder calls fn for every pushed batch and emits nothing.
type nopRecorder struct{ fn func(columnar.Batch) }

func (r *nopRecorder) Push(_ context.Context, b columnar.Batch, _ Emitter) error {
	r.fn(b)
	return nil
}
func (r *nopRecorder) Watermark(context.Context, int64, Emitter) error { return nil }
func (r *nopRecorder) Finish(context.Context, Emitter) error           { return nil }
func (r *nopRecorder) Close()                                          {}

func TestRoutingShareRecords(t *testing.T) {
	// Hash routing sends selection vectors over the pushed record itself.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h := newHarness(mem)
	rec := makeRecord(t, mem, keyInt64, genRows(0, 4096, func(v int) int64 { return int64(v) }))
	var mu sync.Mutex
	var shared, total int
	h.hook = func(p int, b columnar.Batch) error {
		mu.Lock()
		defer mu.Unlock()
		total++
		if b.Rec == rec {
			shared++
		}
		require.NotNil(t, b.Sel)
		return nil
	}
	q, err := Start(context.Background(), Config{Partitions: 4, KeyColumns: []string{"k"}}, h.factory, h.sink)
	require.NoError(t, err)
	require.NoError(t, q.Push(rec))
	rec.Release()
	require.NoError(t, q.Close())
	require.Equal(t, 4, total)
	require.Equal(t, total, shared)
}

func TestStartErrors(t *testing.T) {
	h := newHarness(memory.NewGoAllocator())
	tests := []struct {
		name string
		cfg  Config
		want string
	}{
		{"round robin single-phase group by", Config{Partitions: 2, Strategy: RoundRobin, Stateful: true}, "round_robin is invalid for a single-phase stateful query"},
		{"sticky single-phase group by", Config{Partitions: 2, Strategy: Sticky, Stateful: true}, "routes by source partition"},
		{"hash without keys", Config{Partitions: 2}, "strategy hash needs key columns"},
		{"negative partitions", Config{Partitions: -1, Strategy: FanIn}, "partition count -1"},
		{"batching bounds", Config{Partitions: 1, Strategy: FanIn, Batching: Batching{Enabled: true, TargetRows: 100, MinRows: 200}}, "invalid batching bounds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Start(context.Background(), tc.cfg, h.factory, h.sink)
			require.ErrorContains(t, err, tc.want)
		})
	}
	// Two-phase round robin is fine.
	q, err := Start(context.Background(), Config{Partitions: 2, Strategy: RoundRobin, Stateful: true, TwoPhase: true}, h.factory, h.sink)
	require.NoError(t, err)
	require.NoError(t, q.Close())

	// A failing factory closes the pipelines already built.
	built := newHarness(memory.NewGoAllocator())
	_, err = Start(context.Background(), Config{Partitions: 3, Strategy: FanIn}, func(p int) (Pipeline, error) {
		if p == 2 {
			return nil, errors.New("no plan")
		}
		return built.factory(p)
	}, built.sink)
	require.ErrorContains(t, err, "partition 2: build pipeline: no plan")
	require.Len(t, built.pipes, 2)
	for _, c := range built.pipes {
		require.EqualValues(t, 1, c.closed.Load())
	}
}

func TestPushErrors(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h := newHarness(mem)
	rec := makeRecord(t, mem, keyInt64, genRows(0, 10, func(v int) int64 { return 1 }))
	defer rec.Release()
	for _, n := range []int{1, 2} {
		q, err := Start(context.Background(), Config{Partitions: n, KeyColumns: []string{"nope"}}, h.factory, h.sink)
		require.NoError(t, err)
		require.ErrorContains(t, q.Push(rec), `key column "nope"`, "N=%d", n)
		require.NoError(t, q.Close())
		require.ErrorIs(t, q.Push(rec), ErrClosed)
	}
	// An unsupported key type names the column and the type.
	q, err := Start(context.Background(), Config{Partitions: 2, KeyColumns: []string{"k"}}, h.factory, h.sink)
	require.NoError(t, err)
	boolRec := makeBoolKeyRecord(t, mem)
	defer boolRec.Release()
	require.NoError(t, q.Push(boolRec), "bool keys are supported")
	lst := makeListKeyRecord(t, mem)
	defer lst.Release()
	require.ErrorContains(t, q.Push(lst), `hash key column "k": type list<item: int64, nullable> cannot be a partitioning key`)
	require.NoError(t, q.Close())

	q, err = Start(context.Background(), Config{Partitions: 2, KeyColumns: []string{"ts"}, EventTimeColumn: "k"}, h.factory, h.sink)
	require.NoError(t, err)
	rec2 := makeRecord(t, mem, keyUTF8, genRows(0, 10, func(v int) int64 { return 1 }))
	defer rec2.Release()
	require.ErrorContains(t, q.Push(rec2), `event-time column "k" has type utf8`)
	require.NoError(t, q.Close())
}

func TestPipelinePanicStopsQuery(t *testing.T) {
	for _, mode := range []string{"panic", "error"} {
		t.Run(mode, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			h := newHarness(mem)
			h.hook = func(p int, b columnar.Batch) error {
				if p == 2 {
					if mode == "panic" {
						var idx []int
						_ = idx[b.Len()] // index out of range
					}
					return errors.New("bad row")
				}
				return nil
			}
			q, err := Start(context.Background(), Config{Partitions: 4, KeyColumns: []string{"k"}, ChannelCapacity: 2}, h.factory, h.sink)
			require.NoError(t, err)
			var pushErr error
			for i := range 1000 {
				rec := makeRecord(t, mem, keyInt64, genRows(i*64, 64, func(v int) int64 { return int64(v) }))
				pushErr = q.Push(rec)
				rec.Release()
				if pushErr != nil {
					break
				}
			}
			require.Error(t, pushErr, "pushes must fail once partition 2 failed")
			err = q.Wait()
			require.Error(t, err)
			require.Equal(t, err, pushErr)
			if mode == "panic" {
				var pe *PanicError
				require.ErrorAs(t, err, &pe)
				require.Equal(t, 2, pe.Partition)
				require.Equal(t, "push", pe.Op)
				require.Contains(t, err.Error(), "partition 2: pipeline panicked in push: runtime error: index out of range")
				require.Contains(t, pe.Stack, "countPipe")
			} else {
				require.EqualError(t, err, "partition 2: push: bad row")
			}
			require.Equal(t, err, q.Close())
			for p := range 4 {
				require.EqualValues(t, 1, h.pipe(p).closed.Load(), "partition %d closed once", p)
			}
			goleak.VerifyNone(t, goleak.IgnoreCurrent())
		})
	}
}

func TestSinkPanicStopsQuery(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h := newHarness(mem)
	h.sinkF = func(o Output) error { panic("sink bug") }
	q, err := Start(context.Background(), Config{Partitions: 2, KeyColumns: []string{"k"}}, h.factory, h.sink)
	require.NoError(t, err)
	rec := makeRecord(t, mem, keyInt64, genRows(0, 100, func(v int) int64 { return int64(v) }))
	_ = q.Push(rec) // may already see the failure
	rec.Release()
	err = q.Close()
	require.ErrorContains(t, err, "partition: sink panicked on output of partition")
	require.ErrorContains(t, err, "sink bug")
}

func TestSinkErrorStopsQuery(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h := newHarness(mem)
	h.sinkF = func(o Output) error { return errors.New("disk full") }
	q, err := Start(context.Background(), Config{Partitions: 3, KeyColumns: []string{"k"}, ChannelCapacity: 1, OutputCapacity: 1}, h.factory, h.sink)
	require.NoError(t, err)
	for i := range 200 {
		rec := makeRecord(t, mem, keyInt64, genRows(i*16, 16, func(v int) int64 { return int64(v) }))
		err := q.Push(rec)
		rec.Release()
		if err != nil {
			break
		}
	}
	require.EqualError(t, q.Close(), "partition: sink: disk full")
}

func TestCancelMidStream(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h := newHarness(mem)
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan struct{})
	var once sync.Once
	h.hook = func(p int, b columnar.Batch) error {
		once.Do(func() { close(started) })
		time.Sleep(100 * time.Microsecond) // a slow pipeline keeps the channels full
		return nil
	}
	q, err := Start(ctx, Config{Partitions: 3, KeyColumns: []string{"k"}, ChannelCapacity: 2}, h.factory, h.sink)
	require.NoError(t, err)
	pushed := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			rec := makeRecord(t, mem, keyInt64, genRows(i*32, 32, func(v int) int64 { return int64(v) }))
			err := q.Push(rec)
			rec.Release()
			if err != nil {
				pushed <- err
				return
			}
		}
	}()
	<-started
	cancel()
	require.ErrorIs(t, <-pushed, context.Canceled)
	require.ErrorIs(t, q.Wait(), context.Canceled)
	require.ErrorIs(t, q.Close(), context.Canceled)
	for p := range 3 {
		require.EqualValues(t, 1, h.pipe(p).closed.Load())
		require.False(t, h.pipe(p).finished)
	}
	// Everything delivered was delivered once.
	for v, c := range h.got {
		require.Equal(t, 1, c, "v=%d", v)
	}
}

func TestSlowSinkBlocksProducer(t *testing.T) {
	in := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer in.AssertSize(t, 0)
	out := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer out.AssertSize(t, 0)
	const n, capacity, outCap, rowsPer = 4, 4, 8, 256
	batches := 400
	if testing.Short() {
		batches = 100
	}
	h := newHarness(out)
	gate := make(chan struct{})
	h.sinkF = func(o Output) error {
		<-gate
		return nil
	}
	q, err := Start(context.Background(), Config{Partitions: n, Strategy: RoundRobin, ChannelCapacity: capacity, OutputCapacity: outCap}, h.factory, h.sink)
	require.NoError(t, err)

	probe := makeRecord(t, in, keyInt64, genRows(0, rowsPer, func(v int) int64 { return int64(v) }))
	recBytes := in.CurrentAlloc()
	probe.Release()

	var peak int
	var pushes sync.WaitGroup
	var done int64
	var mu sync.Mutex
	pushes.Add(1)
	go func() {
		defer pushes.Done()
		for i := range batches {
			rec := makeRecord(t, in, keyInt64, genRows(i*rowsPer, rowsPer, func(v int) int64 { return int64(v) }))
			err := q.Push(rec)
			rec.Release()
			mu.Lock()
			peak = max(peak, in.CurrentAlloc())
			done = int64(i + 1)
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	// With the sink blocked the producer stalls: its count stops moving
	// while a partition's channel is saturated.
	var stalled int64 = -1
	unchanged := 0
	require.Eventually(t, func() bool {
		mu.Lock()
		d := done
		mu.Unlock()
		if d != stalled {
			stalled, unchanged = d, 0
			return false
		}
		unchanged++
		saturated := false
		for _, pm := range q.Metrics().Partitions {
			saturated = saturated || pm.Backpressure == Saturated
		}
		return unchanged >= 5 && saturated
	}, 10*time.Second, 5*time.Millisecond)
	// Records alive: the queued ones, one in each worker, one being pushed.
	bound := n*capacity + n + 1
	require.Less(t, stalled, int64(batches))
	close(gate)
	pushes.Wait()
	require.NoError(t, q.Close())
	h.requireExactlyOnce(t, batches*rowsPer)
	require.LessOrEqual(t, peak, bound*recBytes, "input memory in flight: %d records' worth", peak/recBytes)
	t.Logf("pushed %d batches; stalled after %d; peak input memory %d bytes = %.1f records (bound %d)", batches, stalled, peak, float64(peak)/float64(recBytes), bound)
}

func TestSkewedKeysHotPartition(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const n, rows = 4, 40000
	keyOf := func(v int) int64 {
		if v%10 != 0 {
			return 42 // 90 % of the rows share one key
		}
		return int64(v % 1000)
	}
	h := newHarness(mem)
	q, err := Start(context.Background(), Config{Partitions: n, KeyColumns: []string{"k"}}, h.factory, h.sink)
	require.NoError(t, err)
	for b := 0; b < rows; b += 4000 {
		rec := makeRecord(t, mem, keyInt64, genRows(b, 4000, keyOf))
		require.NoError(t, q.Push(rec))
		rec.Release()
	}
	require.NoError(t, q.Close())
	h.requireExactlyOnce(t, rows)
	hotP := fastrange(keyHashOracle(keyInt64, 42), n)
	m := q.Metrics()
	require.Equal(t, []int{hotP}, m.Hot)
	require.True(t, m.Partitions[hotP].Hot)
	// Per-key results against an oracle.
	wantCount, wantSum := map[string]int64{}, map[string]int64{}
	for v := range rows {
		k := strconv.FormatInt(keyOf(v), 10)
		wantCount[k]++
		wantSum[k] += int64(v)
	}
	gotCount, gotSum := map[string]int64{}, map[string]int64{}
	for p := range n {
		for k, c := range h.pipe(p).counts {
			gotCount[k] += c
			gotSum[k] += h.pipe(p).sums[k]
		}
	}
	require.Equal(t, wantCount, gotCount)
	require.Equal(t, wantSum, gotSum)
}

// nullCountPipe asks every column of each batch for its null count, as
// exec's operators do, on the partition's goroutine.
type nullCountPipe struct{ nulls atomic.Int64 }

func (p *nullCountPipe) Push(_ context.Context, b columnar.Batch, _ Emitter) error {
	for _, c := range b.Rec.Columns() {
		p.nulls.Add(int64(c.NullN()))
		if d, ok := c.(*array.Dictionary); ok {
			p.nulls.Add(int64(d.Dictionary().NullN()))
		}
	}
	return nil
}
func (p *nullCountPipe) Watermark(context.Context, int64, Emitter) error { return nil }
func (p *nullCountPipe) Finish(context.Context, Emitter) error           { return nil }
func (p *nullCountPipe) Close()                                          {}

// TestSharedColumnsLazyFields: partitions sharing a record's columns may
// all ask for their null counts (which Arrow computes lazily and caches in
// the array) without a data race (run with -race), with plain and
// dictionary columns, and with one and several routers.
func TestSharedColumnsLazyFields(t *testing.T) {
	keyOf := func(v int) int64 {
		if v%5 == 0 {
			return -1 // null key
		}
		return int64(v % 13)
	}
	for _, kind := range []keyKind{keyInt64, keyDict} {
		for _, routers := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/routers=%d", kind, routers), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				pipes := make([]*nullCountPipe, 4)
				q, err := Start(context.Background(), Config{Partitions: 4, KeyColumns: []string{"k"}, Routers: routers},
					func(i int) (Pipeline, error) { pipes[i] = &nullCountPipe{}; return pipes[i], nil },
					func(o Output) error { o.Rec.Release(); return nil })
				require.NoError(t, err)
				for b := range 20 {
					rows := genRows(b*100, 100, keyOf)
					for i := range rows {
						if i%3 == 0 {
							rows[i].ts = nullTS // a nullable column the router does not read
						}
					}
					full := makeRecord(t, mem, kind, rows)
					// A slice's null count is unknown until asked.
					rec := full.NewSlice(1, 100)
					full.Release()
					require.NoError(t, q.Push(rec))
					rec.Release()
				}
				require.NoError(t, q.Close())
				var nulls int64
				for _, p := range pipes {
					nulls += p.nulls.Load()
				}
				require.Positive(t, nulls)
			})
		}
	}
}

// TestRoundRobinDeals: round_robin deals whole records in rotation while
// the partitions' input queues are even, and to the first partition with
// the shortest queue (from the rotation's next) when they are not.
func TestRoundRobinDeals(t *testing.T) {
	const np = 3
	q := &Query{}
	for range np {
		q.parts = append(q.parts, &partitionState{in: make(chan message, 8)})
	}
	fill := func(lens ...int) {
		for p, l := range lens {
			for len(q.parts[p].in) > 0 {
				<-q.parts[p].in
			}
			for range l {
				q.parts[p].in <- message{}
			}
		}
	}
	for _, c := range []struct {
		id   int   // source id (the rotation starts at it)
		lens []int // queue lengths, held while dealing
		want []int // the partitions of consecutive records
	}{
		{0, []int{0, 0, 0}, []int{0, 1, 2, 0, 1}},
		{1, []int{0, 0, 0}, []int{1, 2, 0, 1}},
		{0, []int{2, 2, 2}, []int{0, 1, 2, 0}},
		{0, []int{3, 1, 2}, []int{1, 1, 1}},    // partition 1 has the shortest queue
		{0, []int{1, 0, 0}, []int{1, 1, 2, 1}}, // from 0: 1; from 1: 1; from 2: 2; from 0: 1
		{2, []int{0, 5, 5}, []int{0, 0, 0}},
	} {
		fill(c.lens...)
		s := &Source{q: q, id: c.id}
		var got []int
		for range c.want {
			got = append(got, s.dealTarget())
		}
		require.Equal(t, c.want, got, "source %d, queues %v", c.id, c.lens)
	}
}
