package partition

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/columnar"
)

// stringKeyValues are utf8 keys of every length from 0 to 20 bytes (both
// sides of the 8-byte word limit), values that differ only by trailing NUL
// bytes, and non-ASCII bytes; nil entries are nulls.
func stringKeyValues() []*string {
	var vals []*string
	add := func(s string) { vals = append(vals, &s) }
	for l := range 21 {
		add(strings.Repeat(string(rune('a'+l%26)), l))
	}
	add("a\x00")
	add("a")
	add("SYM0042")
	add("SYM0042\x00")
	add("héllo wörld")
	vals = append(vals, nil)
	add("12345678")
	add("123456789")
	add("x") // the last value: its word load runs past the data buffer's end
	return vals
}

func TestStringKeyHash(t *testing.T) {
	// Every encoding of a utf8 key (plain, sliced, dictionary with each
	// index type) routes by the documented hash (stringHashOracle).
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	vals := stringKeyValues()
	want := make([]uint64, len(vals))
	for i, v := range vals {
		if v == nil {
			want[i] = 0x4c4c554e6f6c6576
			continue
		}
		want[i] = stringHashOracle(*v)
	}

	sb := array.NewStringBuilder(mem)
	for _, v := range vals {
		if v == nil {
			sb.AppendNull()
		} else {
			sb.Append(*v)
		}
	}
	plain := sb.NewStringArray()
	sb.Release()
	defer plain.Release()

	// The dictionary holds the distinct non-null values in reverse order.
	db := array.NewStringBuilder(mem)
	dictPos := map[string]int{}
	for i := len(vals) - 1; i >= 0; i-- {
		if v := vals[i]; v != nil {
			if _, ok := dictPos[*v]; !ok {
				dictPos[*v] = len(dictPos)
				db.Append(*v)
			}
		}
	}
	dict := db.NewStringArray()
	db.Release()
	defer dict.Release()
	dictArray := func(it arrow.DataType) arrow.Array {
		ib := array.NewBuilder(mem, it)
		defer ib.Release()
		for _, v := range vals {
			if v == nil {
				ib.AppendNull()
				continue
			}
			k := dictPos[*v]
			switch b := ib.(type) {
			case *array.Int8Builder:
				b.Append(int8(k))
			case *array.Int16Builder:
				b.Append(int16(k))
			case *array.Int32Builder:
				b.Append(int32(k))
			case *array.Int64Builder:
				b.Append(int64(k))
			case *array.Uint8Builder:
				b.Append(uint8(k))
			case *array.Uint16Builder:
				b.Append(uint16(k))
			case *array.Uint32Builder:
				b.Append(uint32(k))
			case *array.Uint64Builder:
				b.Append(uint64(k))
			}
		}
		idx := ib.NewArray()
		defer idx.Release()
		return array.NewDictionaryArray(&arrow.DictionaryType{IndexType: it, ValueType: arrow.BinaryTypes.String}, idx, dict)
	}

	cases := []struct {
		name string
		arr  func() arrow.Array
		lo   int // the array covers vals[lo:]
	}{
		{"plain", func() arrow.Array { plain.Retain(); return plain }, 0},
		{"sliced", func() arrow.Array { return array.NewSlice(plain, 3, int64(plain.Len())) }, 3},
	}
	for _, it := range []arrow.DataType{
		arrow.PrimitiveTypes.Int8, arrow.PrimitiveTypes.Int16, arrow.PrimitiveTypes.Int32, arrow.PrimitiveTypes.Int64,
		arrow.PrimitiveTypes.Uint8, arrow.PrimitiveTypes.Uint16, arrow.PrimitiveTypes.Uint32, arrow.PrimitiveTypes.Uint64,
	} {
		cases = append(cases, struct {
			name string
			arr  func() arrow.Array
			lo   int
		}{"dict-" + it.String(), func() arrow.Array { return dictArray(it) }, 0})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := tc.arr()
			defer a.Release()
			require.Equal(t, want[tc.lo:], routeHashes(t, a))
		})
	}
}

// routeHashes is the router's key hash of every row of the one-column key a.
func routeHashes(tb testing.TB, a arrow.Array) []uint64 {
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: a.DataType(), Nullable: true}}, nil)
	rec := array.NewRecord(schema, []arrow.Array{a}, int64(a.Len()))
	defer rec.Release()
	var h keyHasher
	var sb selBuf
	require.NoError(tb, h.hash(&sb, rec, &binding{schema: schema, keyIdx: []int{0}}))
	require.Equal(tb, sb.hashes[:a.Len()], sb.keys.Hashes)
	return sb.keys.Hashes
}

// TestRoutedBatchesCarryKeyHashes checks what hash routing hands each
// partition besides its rows: the record's key columns and the key hash of
// every row (the documented hash, by which the row was routed), the key
// words for a utf8 key, also when a record goes whole to one partition, at
// 2 partitions (cutTwo) and 5 (cut), with one and with several routers.
func TestRoutedBatchesCarryKeyHashes(t *testing.T) {
	for _, kind := range []keyKind{keyInt64, keyUTF8, keyDict, keyInt32} {
		for _, n := range []int{2, 5} {
			for _, routers := range []int{1, 2} {
				t.Run(fmt.Sprintf("%s/partitions=%d/routers=%d", kind, n, routers), func(t *testing.T) {
					mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
					defer mem.AssertSize(t, 0)
					h := newHarness(mem)
					var mu sync.Mutex
					batches, whole := 0, 0
					h.hook = func(p int, b columnar.Batch) error {
						keys := b.Keys
						if keys == nil {
							return fmt.Errorf("partition %d: batch without key hashes", p)
						}
						if !slices.Equal(keys.Cols, []int{0}) || len(keys.Hashes) != b.NumRows() {
							return fmt.Errorf("partition %d: keys cover columns %v and %d rows, want [0] and %d", p, keys.Cols, len(keys.Hashes), b.NumRows())
						}
						if (kind == keyUTF8) != (keys.Words != nil) {
							return fmt.Errorf("partition %d: %s key with words %v", p, kind, keys.Words != nil)
						}
						k := b.Column(0)
						for i := range b.Len() {
							r := b.Row(i)
							key := int64(-1)
							if k.IsValid(r) {
								key = parseKeyValue(k, r)
							}
							if want := keyHashOracle(kind, key); keys.Hashes[r] != want {
								return fmt.Errorf("partition %d row %d (key %d): hash %#x, want %#x", p, r, key, keys.Hashes[r], want)
							}
							if fastrange(keys.Hashes[r], n) != p {
								return fmt.Errorf("row %d routed to %d, its hash says %d", r, p, fastrange(keys.Hashes[r], n))
							}
						}
						mu.Lock()
						batches++
						if b.Sel == nil {
							whole++
						}
						mu.Unlock()
						return nil
					}
					q, err := Start(context.Background(), Config{Partitions: n, KeyColumns: []string{"k"}, Routers: routers}, h.factory, h.sink)
					require.NoError(t, err)
					pushed := 0
					for i, keys := range [][]int64{{-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {3, 3, 3, 3}, {7, -1, 7, 11, 400}} {
						rows := make([]row, len(keys))
						for j, k := range keys {
							rows[j] = row{key: k, ts: int64(i), v: int64(pushed + j)}
						}
						rec := makeRecord(t, mem, kind, rows)
						require.NoError(t, q.Push(rec))
						rec.Release()
						pushed += len(keys)
					}
					require.NoError(t, q.Close())
					h.requireExactlyOnce(t, pushed)
					require.Greater(t, batches, 2)
					require.Positive(t, whole, "the record of one key goes whole, with its hashes")
				})
			}
		}
	}
}

// parseKeyValue is the test key of row r of a key column (see makeRecord).
func parseKeyValue(a arrow.Array, r int) int64 {
	switch a := a.(type) {
	case *array.Int64:
		return a.Value(r)
	case *array.Int32:
		return int64(a.Value(r))
	case *array.String:
		v, _ := strconv.ParseInt(strings.TrimPrefix(a.Value(r), "key-"), 10, 64)
		return v
	case *array.Dictionary:
		s := a.Dictionary().(*array.String).Value(a.GetValueIndex(r))
		v, _ := strconv.ParseInt(strings.TrimPrefix(s, "key-"), 10, 64)
		return v
	}
	panic(fmt.Sprintf("key type %s", a.DataType()))
}

// TestRoutedBatchesCarryTimeRange checks the event-time range every routed
// batch carries (columnar.Batch.Times): the very event-time array of its
// record and the min and max of its valid values over every physical row —
// with NULL event times, late rows dropped by the router, a record going
// whole to one partition, under hash (cutTwo and cut) and round_robin —
// and no range without an event-time column.
func TestRoutedBatchesCarryTimeRange(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
	}{
		{"hash/2", Config{Partitions: 2, KeyColumns: []string{"k"}, EventTimeColumn: "ts", LatePolicy: LateDrop}},
		{"hash/5", Config{Partitions: 5, KeyColumns: []string{"k"}, EventTimeColumn: "ts", LatePolicy: LateDrop, Routers: 2}},
		{"round_robin", Config{Partitions: 3, Strategy: RoundRobin, EventTimeColumn: "ts", LatePolicy: LateProcess}},
		{"no event time", Config{Partitions: 2, KeyColumns: []string{"k"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			h := newHarness(mem)
			var mu sync.Mutex
			batches := 0
			h.hook = func(p int, b columnar.Batch) error {
				mu.Lock()
				batches++
				mu.Unlock()
				ts := b.Column(1).(*array.Int64)
				if tc.cfg.EventTimeColumn == "" {
					if b.Times.Col != nil {
						return fmt.Errorf("partition %d: a time range without an event-time column", p)
					}
					return nil
				}
				lo, hi, ok := b.RangeOf(ts)
				if !ok {
					return fmt.Errorf("partition %d: batch without the range of its event-time column", p)
				}
				wantLo, wantHi := int64(math.MaxInt64), int64(math.MinInt64)
				for r := range ts.Len() {
					if ts.IsValid(r) {
						wantLo, wantHi = min(wantLo, ts.Value(r)), max(wantHi, ts.Value(r))
					}
				}
				if lo != wantLo || hi != wantHi {
					return fmt.Errorf("partition %d: range [%d, %d], the record's is [%d, %d]", p, lo, hi, wantLo, wantHi)
				}
				return nil
			}
			q, err := Start(context.Background(), tc.cfg, h.factory, h.sink)
			require.NoError(t, err)
			for _, rows := range [][]row{
				{{key: 1, ts: 100}, {key: 2, ts: 50}, {key: 3, ts: nullTS}, {key: 4, ts: 70}},
				{{key: 3, ts: 3}, {key: 3, ts: 4000}}, // one key: the whole record to one partition; ts 3 is late
				{{key: 5, ts: nullTS}, {key: 6, ts: nullTS}},
				{{key: 7, ts: 5000}, {key: -1, ts: 4990}, {key: 8, ts: 10}, {key: 9, ts: 6000}},
			} {
				rec := makeRecord(t, mem, keyInt64, rows)
				require.NoError(t, q.Push(rec))
				rec.Release()
			}
			require.NoError(t, q.Close())
			require.GreaterOrEqual(t, batches, 4)
		})
	}
}

// TestWindowRouting checks the Window strategy: every row reaches the
// partition of its event-time window (⌊ts ÷ size⌋ mod N, negative times
// included; NULL times partition 0) exactly once, a record inside one
// window goes whole (no selection; NULL event times go along), also with a
// late row dropped by the router; and the strategy needs an event-time
// column and a window size.
func TestWindowRouting(t *testing.T) {
	for _, n := range []int{2, 3} {
		for _, late := range []LatePolicy{LateProcess, LateDrop} {
			t.Run(fmt.Sprintf("partitions=%d/%s", n, late), func(t *testing.T) {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				defer mem.AssertSize(t, 0)
				h := newHarness(mem)
				var mu sync.Mutex
				whole := 0
				h.hook = func(p int, b columnar.Batch) error {
					ts := b.Column(1).(*array.Int64)
					for i := range b.Len() {
						r := b.Row(i)
						if !ts.IsValid(r) {
							// With its record when that goes whole, else to 0.
							if b.Sel != nil && p != 0 {
								return fmt.Errorf("row %d without an event time cut to partition %d", r, p)
							}
							continue
						}
						want := int(floorMod(columnar.FloorDiv(ts.Value(r), 100), int64(n)))
						if p != want {
							return fmt.Errorf("row %d (ts %d) reached partition %d, its window's is %d", r, ts.Value(r), p, want)
						}
					}
					if b.Sel == nil {
						mu.Lock()
						whole++
						mu.Unlock()
					}
					return nil
				}
				q, err := Start(context.Background(), Config{Partitions: n, Strategy: Window, WindowSize: 100, EventTimeColumn: "ts", MaxOutOfOrderness: -1, LatePolicy: late}, h.factory, h.sink)
				require.NoError(t, err)
				pushed := 0
				for _, rows := range [][]row{
					{{key: 1, ts: -250}, {key: 2, ts: -1}, {key: 3, ts: 0}, {key: 4, ts: 99}, {key: 5, ts: 100}, {key: 6, ts: nullTS}},
					{{key: 1, ts: 410}, {key: 2, ts: 499}, {key: 3, ts: 400}},                // one window: whole
					{{key: 1, ts: 510}, {key: 2, ts: nullTS}, {key: 3, ts: 599}},             // one window and a NULL: whole
					{{key: 1, ts: 700}, {key: 2, ts: 700 + 100*int64(n)}, {key: 3, ts: 710}}, // windows 7 and 7+n: cut, all to one partition
					{{key: 1, ts: nullTS}, {key: 2, ts: nullTS}},
					{{key: 1, ts: 1000}, {key: 3, ts: 1100}, {key: 4, ts: 1250}, {key: 2, ts: 20}}, // ts 20 is late (the last row)
				} {
					for j := range rows {
						rows[j].v = int64(pushed + j) // the row's identity for requireExactlyOnce
					}
					rec := makeRecord(t, mem, keyInt64, rows)
					require.NoError(t, q.Push(rec))
					rec.Release()
					pushed += len(rows)
				}
				require.NoError(t, q.Close())
				if late == LateDrop {
					pushed--
				}
				h.requireExactlyOnce(t, pushed)
				require.Equal(t, 4, whole, "records of one window (or one partition's windows) and the all-NULL one go whole")
			})
		}
	}
	for _, cfg := range []Config{{Partitions: 2, Strategy: Window, WindowSize: 100}, {Partitions: 2, Strategy: Window, EventTimeColumn: "ts"}} {
		_, err := Start(context.Background(), cfg, newHarness(memory.DefaultAllocator).factory, newHarness(memory.DefaultAllocator).sink)
		require.ErrorContains(t, err, "strategy window needs an event-time column and a positive window size")
	}
}
