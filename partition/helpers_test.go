package partition

import (
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/cespare/xxhash/v2"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/velo-engine/velo/columnar"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// keyKind selects the key column's type in test records.
type keyKind int

const (
	keyInt64 keyKind = iota
	keyUTF8
	keyDict
	keyInt32
)

func (k keyKind) String() string {
	return [...]string{"int64", "utf8", "dict", "int32"}[k]
}

// testSchema returns the schema of test records: k (the key), ts (event
// time, int64 ms) and v (a unique row id).
func testSchema(kind keyKind) *arrow.Schema {
	var kt arrow.DataType
	switch kind {
	case keyInt64:
		kt = arrow.PrimitiveTypes.Int64
	case keyUTF8:
		kt = arrow.BinaryTypes.String
	case keyDict:
		kt = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
	case keyInt32:
		kt = arrow.PrimitiveTypes.Int32
	}
	return arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: kt, Nullable: true},
		{Name: "ts", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
}

// row is one test row; key < 0 means a null key.
type row struct {
	key int64
	ts  int64
	v   int64
}

// nullTS marks a row whose event time is null.
const nullTS = math.MinInt64

// keyString is the string form of key k for string key kinds.
func keyString(k int64) string { return "key-" + strconv.FormatInt(k, 10) }

// makeRecord builds a record of rows with the given key kind.
func makeRecord(t testing.TB, mem memory.Allocator, kind keyKind, rows []row) arrow.Record {
	t.Helper()
	b := array.NewRecordBuilder(mem, testSchema(kind))
	defer b.Release()
	for _, r := range rows {
		switch kb := b.Field(0).(type) {
		case *array.Int64Builder:
			if r.key < 0 {
				kb.AppendNull()
			} else {
				kb.Append(r.key)
			}
		case *array.Int32Builder:
			if r.key < 0 {
				kb.AppendNull()
			} else {
				kb.Append(int32(r.key))
			}
		case *array.StringBuilder:
			if r.key < 0 {
				kb.AppendNull()
			} else {
				kb.Append(keyString(r.key))
			}
		case *array.BinaryDictionaryBuilder:
			if r.key < 0 {
				kb.AppendNull()
			} else {
				require.NoError(t, kb.AppendString(keyString(r.key)))
			}
		}
		if r.ts == nullTS {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Int64Builder).Append(r.ts)
		}
		b.Field(2).(*array.Int64Builder).Append(r.v)
	}
	return b.NewRecord()
}

// keyHashOracle is the hash the router must compute for key k, from
// xxhash directly (the kernels' documented contract).
func keyHashOracle(kind keyKind, k int64) uint64 {
	if k < 0 {
		return 0x4c4c554e6f6c6576 // "veloNULL" little-endian
	}
	switch kind {
	case keyUTF8, keyDict:
		return stringHashOracle(keyString(k))
	}
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], uint64(k))
	return xxhash.Sum64(buf[:])
}

// stringHashOracle is the documented routing hash of a utf8 key (agg's
// key hash): up to 7 bytes, the xxhash of the 8 bytes of the value
// zero-padded to 7 bytes followed by its length; longer values, the xxhash
// of their bytes.
func stringHashOracle(v string) uint64 {
	if len(v) > 7 {
		return xxhash.Sum64String(v)
	}
	var buf [8]byte
	copy(buf[:], v)
	buf[7] = byte(len(v))
	return xxhash.Sum64(buf[:])
}

// fastrange is the documented partition of hash h among n partitions.
func fastrange(h uint64, n int) int { return int((h >> 32) * uint64(n) >> 32) }

// countPipe is the test Pipeline: it counts rows and sums v per key, and
// emits, for every pushed batch, a record with the batch's v values.
type countPipe struct {
	p      int
	mem    memory.Allocator
	counts map[string]int64
	sums   map[string]int64
	vs     []int64 // every v seen, in order

	pushes     atomic.Int64
	rowsSeen   atomic.Int64
	watermarks []int64
	finished   bool
	closed     atomic.Int32

	// Hooks (nil: none).
	onPush func(p int, b columnar.Batch) error
}

func (c *countPipe) key(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "<null>"
	}
	switch arr := a.(type) {
	case *array.Int64:
		return strconv.FormatInt(arr.Value(i), 10)
	case *array.Int32:
		return strconv.FormatInt(int64(arr.Value(i)), 10)
	case *array.String:
		return arr.Value(i)
	case *array.Dictionary:
		return arr.Dictionary().(*array.String).Value(arr.GetValueIndex(i))
	case *array.Boolean:
		return strconv.FormatBool(arr.Value(i))
	case *array.Float64:
		return strconv.FormatFloat(arr.Value(i), 'g', -1, 64)
	case *array.Timestamp:
		return strconv.FormatInt(int64(arr.Value(i)), 10)
	}
	panic(fmt.Sprintf("unexpected key type %s", a.DataType()))
}

func (c *countPipe) Push(ctx context.Context, b columnar.Batch, out Emitter) error {
	if err := b.Validate(); err != nil {
		return err
	}
	if c.onPush != nil {
		if err := c.onPush(c.p, b); err != nil {
			return err
		}
	}
	keys := b.Column(0)
	vals := b.Column(2).(*array.Int64).Int64Values()
	ob := array.NewInt64Builder(c.mem)
	defer ob.Release()
	for i := range b.Len() {
		r := b.Row(i)
		k := c.key(keys, r)
		c.counts[k]++
		c.sums[k] += vals[r]
		c.vs = append(c.vs, vals[r])
		ob.Append(vals[r])
	}
	c.pushes.Add(1)
	c.rowsSeen.Add(int64(b.Len()))
	arr := ob.NewArray()
	defer arr.Release()
	rec := array.NewRecord(outSchema, []arrow.Array{arr}, int64(arr.Len()))
	return out.Emit(rec)
}

var outSchema = arrow.NewSchema([]arrow.Field{{Name: "v", Type: arrow.PrimitiveTypes.Int64}}, nil)

func (c *countPipe) Watermark(ctx context.Context, wm int64, out Emitter) error {
	c.watermarks = append(c.watermarks, wm)
	return nil
}

func (c *countPipe) Finish(ctx context.Context, out Emitter) error {
	c.finished = true
	return nil
}

func (c *countPipe) Close() { c.closed.Add(1) }

// harness builds countPipes and collects the sink's output.
type harness struct {
	mem   memory.Allocator
	pipes []*countPipe
	mu    sync.Mutex
	got   map[int64]int   // v → times delivered
	outs  []int           // partition of each output record
	order map[int][]int64 // v values in output order, per partition
	wms   []int64         // Output.Watermark of each output
	hook  func(p int, b columnar.Batch) error
	sinkF func(o Output) error
}

func newHarness(mem memory.Allocator) *harness {
	return &harness{mem: mem, got: map[int64]int{}}
}

func (h *harness) factory(p int) (Pipeline, error) {
	c := &countPipe{p: p, mem: h.mem, counts: map[string]int64{}, sums: map[string]int64{}, onPush: h.hook}
	h.mu.Lock()
	h.pipes = append(h.pipes, c)
	h.mu.Unlock()
	return c, nil
}

func (h *harness) sink(o Output) error {
	defer o.Rec.Release()
	h.outs = append(h.outs, o.Partition)
	h.wms = append(h.wms, o.Watermark)
	if h.order == nil {
		h.order = map[int][]int64{}
	}
	for _, v := range o.Rec.Column(0).(*array.Int64).Int64Values() {
		h.got[v]++
		h.order[o.Partition] = append(h.order[o.Partition], v)
	}
	if h.sinkF != nil {
		return h.sinkF(o)
	}
	return nil
}

// pipe returns partition p's pipeline.
func (h *harness) pipe(p int) *countPipe {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, c := range h.pipes {
		if c.p == p {
			return c
		}
	}
	return nil
}

// requireExactlyOnce checks that v = 0..n-1 were each delivered once.
func (h *harness) requireExactlyOnce(t *testing.T, n int) {
	t.Helper()
	for v := range int64(n) {
		if h.got[v] != 1 {
			require.Failf(t, "row not delivered exactly once", "v=%d delivered %d times (%d distinct rows delivered, want %d)", v, h.got[v], len(h.got), n)
		}
	}
	require.Len(t, h.got, n, "rows outside 0..n-1 delivered")
}

// makeBoolKeyRecord returns rows v = 0..9 with bool key k = v%3 == 0.
func makeBoolKeyRecord(t testing.TB, mem memory.Allocator) arrow.Record {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
		{Name: "ts", Type: arrow.PrimitiveTypes.Int64},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for v := range 10 {
		b.Field(0).(*array.BooleanBuilder).Append(v%3 == 0)
		b.Field(1).(*array.Int64Builder).Append(int64(v))
		b.Field(2).(*array.Int64Builder).Append(int64(v))
	}
	return b.NewRecord()
}

// makeListKeyRecord returns a record whose key column is a list (not a
// supported key type).
func makeListKeyRecord(t testing.TB, mem memory.Allocator) arrow.Record {
	t.Helper()
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.ListOf(arrow.PrimitiveTypes.Int64)},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	lb := b.Field(0).(*array.ListBuilder)
	lb.Append(true)
	lb.ValueBuilder().(*array.Int64Builder).Append(1)
	b.Field(1).(*array.Int64Builder).Append(0)
	return b.NewRecord()
}
