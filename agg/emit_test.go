package agg

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
)

// TestEmitMatchesBuilders: the states that emit straight into buffers
// (wordArray, emitStrings) give the arrays the builder path (emitGroups,
// one append per value, as every state emitted before) gives, for random
// states with and without NULL groups, over all groups and over id lists
// (empty, subsets, repeats, reversed), and leave no buffer behind.
func TestEmitMatchesBuilders(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(7, 11))
	for _, n := range []int{0, 1, 2, 7, 64, 65, 300, 1000} {
		for _, nullPct := range []int{0, 10, 100} {
			rows := &groupRows{n: make([]int64, n)}
			nulls := make([]int64, n)
			flags := make([]bool, n)
			ints := make([]int64, n)
			floats := make([]float64, n)
			var offs []int32 // as a key table without groups has them
			if n > 0 {
				offs = []int32{0}
			}
			var arena []byte
			words := make([]int64, n)
			for g := range n {
				rows.n[g] = 1 + rng.Int64N(5)
				if rng.IntN(100) < nullPct {
					nulls[g] = rows.n[g]
					flags[g] = true
					words[g] = stringNullWord
				} else {
					nulls[g] = rng.Int64N(rows.n[g])
					s := fmt.Sprintf("k%d", rng.IntN(1<<uint(rng.IntN(40))))
					arena = append(arena, s...)
					words[g] = int64(g)
				}
				offs = append(offs, int32(len(arena)))
				ints[g] = rng.Int64() - math.MaxInt64/2
				floats[g] = rng.NormFloat64() * 1e6
			}
			nonNullRule := func(g int) bool { return !nonNull(rows, nulls, g) }
			ts := &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "UTC"}
			cases := []struct {
				name string
				fast func(ids []uint32) arrow.Array
				ref  func(ids []uint32) arrow.Array
			}{
				{"count_star", func(ids []uint32) arrow.Array { return (&countState{star: true, rows: rows}).emit(mem, ids) },
					func(ids []uint32) arrow.Array {
						return buildInt64(mem, n, ids, func(g int) int64 { return rows.n[g] }, nil)
					}},
				{"count", func(ids []uint32) arrow.Array { return (&countState{rows: rows, nulls: nulls}).emit(mem, ids) },
					func(ids []uint32) arrow.Array {
						return buildInt64(mem, n, ids, func(g int) int64 { return rows.n[g] - nulls[g] }, nil)
					}},
				{"sum_int", func(ids []uint32) arrow.Array {
					return (&sumIntState{rows: rows, sums: ints, nulls: nulls}).emit(mem, ids)
				}, func(ids []uint32) arrow.Array {
					return buildInt64(mem, n, ids, func(g int) int64 { return ints[g] }, nonNullRule)
				}},
				{"sum_float", func(ids []uint32) arrow.Array {
					return (&sumFloatState{rows: rows, sums: floats, nulls: nulls}).emit(mem, ids)
				}, func(ids []uint32) arrow.Array {
					return buildFloat64(mem, n, ids, func(g int) float64 { return floats[g] }, nonNullRule)
				}},
				{"avg", func(ids []uint32) arrow.Array {
					return (&sumFloatState{avg: true, rows: rows, sums: floats, nulls: nulls}).emit(mem, ids)
				}, func(ids []uint32) arrow.Array {
					return buildFloat64(mem, n, ids, func(g int) float64 { return floats[g] / float64(rows.n[g]-nulls[g]) }, nonNullRule)
				}},
				{"min_float", func(ids []uint32) arrow.Array {
					return (&minMaxFloatState{dt: arrow.PrimitiveTypes.Float64, rows: rows, vals: floats, nulls: nulls}).emit(mem, ids)
				}, func(ids []uint32) arrow.Array {
					return buildFloat64(mem, n, ids, func(g int) float64 { return floats[g] }, nonNullRule)
				}},
				{"max_timestamp", func(ids []uint32) arrow.Array {
					return (&minMaxIntState{max: true, dt: ts, rows: rows, vals: ints, nulls: nulls}).emit(mem, ids)
				}, func(ids []uint32) arrow.Array {
					return emitGroups(mem, ts, n, ids, func(b array.Builder, g int) {
						if nonNullRule(g) {
							b.AppendNull()
						} else {
							appendWord(b, ints[g])
						}
					})
				}},
				{"key_int64", func(ids []uint32) arrow.Array {
					return (&wordKey{dt: arrow.PrimitiveTypes.Int64, words: ints, nulls: flags}).emit(mem, ids)
				}, func(ids []uint32) arrow.Array {
					return emitGroups(mem, arrow.PrimitiveTypes.Int64, n, ids, func(b array.Builder, g int) {
						if flags[g] {
							b.AppendNull()
						} else {
							appendWord(b, ints[g])
						}
					})
				}},
				{"key_float64", func(ids []uint32) arrow.Array {
					return (&wordKey{dt: arrow.PrimitiveTypes.Float64, words: ints, nulls: flags}).emit(mem, ids)
				}, func(ids []uint32) arrow.Array {
					return emitGroups(mem, arrow.PrimitiveTypes.Float64, n, ids, func(b array.Builder, g int) {
						if flags[g] {
							b.AppendNull()
						} else {
							b.(*array.Float64Builder).Append(math.Float64frombits(uint64(ints[g])))
						}
					})
				}},
				{"key_string", func(ids []uint32) arrow.Array {
					return (&stringKey{words: words, offs: offs, arena: arena}).emit(mem, ids)
				}, func(ids []uint32) arrow.Array {
					return emitGroups(mem, arrow.BinaryTypes.String, n, ids, func(b array.Builder, g int) {
						if words[g] == stringNullWord {
							b.AppendNull()
						} else {
							b.(*array.StringBuilder).BinaryBuilder.Append(arena[offs[g]:offs[g+1]])
						}
					})
				}},
			}
			idLists := [][]uint32{nil, {}}
			if n > 0 {
				sub, rev, rep := []uint32{}, []uint32{}, []uint32{}
				for g := range n {
					if rng.IntN(3) == 0 {
						sub = append(sub, uint32(g))
					}
					rev = append(rev, uint32(n-1-g))
					rep = append(rep, uint32(rng.IntN(n)))
				}
				idLists = append(idLists, sub, rev, rep)
			}
			for _, c := range cases {
				for li, ids := range idLists {
					got, want := c.fast(ids), c.ref(ids)
					if v, ok := got.(interface{ ValidateFull() error }); ok {
						require.NoError(t, v.ValidateFull(), "%s n=%d nulls=%d%% ids#%d", c.name, n, nullPct, li)
					}
					requireSameArray(t, want, got, fmt.Sprintf("%s n=%d nulls=%d%% ids#%d", c.name, n, nullPct, li))
					if got.DataType().ID() != arrow.STRING {
						// NULL slots are zeroed, like a builder's AppendNull.
						raw := got.Data().Buffers()[1].Bytes()
						for j := range got.Len() {
							if got.IsNull(j) {
								require.Equal(t, make([]byte, 8), raw[8*j:8*j+8], "%s: NULL slot %d", c.name, j)
							}
						}
					}
					got.Release()
					want.Release()
				}
			}
		}
	}
}

// requireSameArray: same type, length and NULLs, and the same value at every
// non-NULL slot (floats bit for bit, so NaN keys compare).
func requireSameArray(t *testing.T, want, got arrow.Array, what string) {
	t.Helper()
	require.True(t, arrow.TypeEqual(want.DataType(), got.DataType()), what)
	require.Equal(t, want.Len(), got.Len(), what)
	require.Equal(t, want.NullN(), got.NullN(), what)
	for j := range want.Len() {
		require.Equal(t, want.IsNull(j), got.IsNull(j), "%s: row %d", what, j)
		if want.IsNull(j) {
			continue
		}
		if w, ok := want.(*array.Float64); ok {
			require.Equal(t, math.Float64bits(w.Value(j)), math.Float64bits(got.(*array.Float64).Value(j)), "%s: row %d", what, j)
		} else {
			require.Equal(t, want.ValueStr(j), got.ValueStr(j), "%s: row %d", what, j)
		}
	}
}
