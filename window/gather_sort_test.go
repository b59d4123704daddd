package window

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
)

// sortParts builds parts of one key column (and a second int64 key) with
// random values and returns orderedConcat's comparison inputs.
func sortParts(t testing.TB, rng *rand.Rand, mem memory.Allocator, nparts, rows int, kind string, nulls bool) ([]rowRef, []int64, [][]sortCol, func(a, b rowRef) int, func()) {
	var arrs []arrow.Array
	ends := make([]int64, nparts)
	scs := make([][]sortCol, nparts)
	var refs []rowRef
	for pi := range nparts {
		ends[pi] = int64(rng.IntN(3)) // equal ends happen (sliding windows, several steps)
		var a arrow.Array
		switch kind {
		case "string":
			b := array.NewStringBuilder(mem)
			for range rows {
				if nulls && rng.IntN(10) == 0 {
					b.AppendNull()
					continue
				}
				// Shared 8-byte prefixes, NUL bytes, empty strings and
				// lengths around 8.
				pool := []string{"", "\x00", "a", "a\x00", "SYM0001", "SYM00010", "SYM0001\x00", "SYM00019", "SYM0002", "zzzzzzzzzz", "zzzzzzzzz"}
				if rng.IntN(2) == 0 {
					b.Append(pool[rng.IntN(len(pool))])
				} else {
					b.Append(fmt.Sprintf("SYM%04d", rng.IntN(1000)))
				}
			}
			a = b.NewArray()
			b.Release()
		default:
			b := array.NewInt64Builder(mem)
			for range rows {
				if nulls && rng.IntN(10) == 0 {
					b.AppendNull()
					continue
				}
				vals := []int64{-1 << 63, -1, 0, 1, 1<<63 - 1}
				if rng.IntN(3) == 0 {
					b.Append(vals[rng.IntN(len(vals))])
				} else {
					b.Append(rng.Int64N(200) - 100)
				}
			}
			a = b.NewArray()
			b.Release()
		}
		b2 := array.NewInt64Builder(mem)
		for range rows {
			b2.Append(rng.Int64N(3))
		}
		second := b2.NewArray()
		b2.Release()
		arrs = append(arrs, a, second)
		scs[pi] = []sortCol{newSortCol(a), newSortCol(second)}
		for r := range rows {
			refs = append(refs, rowRef{int32(pi), int32(r)})
		}
	}
	rng.Shuffle(len(refs), func(i, j int) { refs[i], refs[j] = refs[j], refs[i] })
	order := refOrder(ends, scs)
	return refs, ends, scs, order, func() { releaseArrays(arrs) }
}

// TestSortRefsMatchesOrder: the prefix sort gives exactly the order the
// full comparison gives, for int64 and utf8 first keys (shared prefixes,
// NUL bytes, extreme values, equal ends, a second key breaking ties) and
// for columns with NULLs (which take the full comparison).
func TestSortRefsMatchesOrder(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(3, 5))
	for _, kind := range []string{"string", "int64"} {
		for _, nulls := range []bool{false, true} {
			for _, shape := range [][2]int{{1, 0}, {1, 1}, {1, 300}, {3, 100}, {7, 50}} {
				refs, ends, scs, order, release := sortParts(t, rng, mem, shape[0], shape[1], kind, nulls)
				want := slices.Clone(refs)
				slices.SortFunc(want, order)
				sortRefs(refs, ends, scs, order)
				require.Equal(t, want, refs, "%s nulls=%v parts=%d rows=%d", kind, nulls, shape[0], shape[1])
				release()
			}
		}
	}
}

// BenchmarkSortRefs: one window of S3a's bars (1,000 symbols, shuffled)
// through the prefix sort and through the full comparison alone.
//
//	go test -run '^$' -bench SortRefs -count 5 ./window/
func BenchmarkSortRefs(b *testing.B) {
	mem := memory.NewGoAllocator()
	rng := rand.New(rand.NewPCG(1, 2))
	bld := array.NewStringBuilder(mem)
	for i := range 1000 {
		bld.Append(fmt.Sprintf("SYM%04d", i))
	}
	syms := bld.NewArray()
	defer syms.Release()
	scs := [][]sortCol{{newSortCol(syms)}}
	ends := []int64{0}
	order := func(a, b rowRef) int {
		if c := compareSort(&scs[0][0], int(a.row), &scs[0][0], int(b.row)); c != 0 {
			return c
		}
		return int(a.row - b.row)
	}
	refs := make([]rowRef, 1000)
	for i := range refs {
		refs[i] = rowRef{0, int32(i)}
	}
	rng.Shuffle(len(refs), func(i, j int) { refs[i], refs[j] = refs[j], refs[i] })
	work := make([]rowRef, len(refs))
	for _, v := range []struct {
		name string
		sort func([]rowRef)
	}{
		{"prefix", func(r []rowRef) { sortRefs(r, ends, scs, order) }},
		{"compare", func(r []rowRef) { slices.SortFunc(r, order) }},
	} {
		b.Run(v.name, func(b *testing.B) {
			for b.Loop() {
				copy(work, refs)
				v.sort(work)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(refs)), "ns/row")
		})
	}
}
