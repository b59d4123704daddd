package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/internal/guardmem"
)

// probeTable builds a linear-probing table of nslots slots holding keys
// 0..m-1 mapped to random words, inserted at home slot hash & mask; hash
// keeps only hashBits bits so homes cluster and probes wrap around.
func probeTable(rng *rand.Rand, nslots, m int, hashBits uint) (slots []GroupSlot, words []int64, hashes []uint64) {
	slots = make([]GroupSlot, nslots)
	mask := uint64(nslots - 1)
	seen := map[int64]bool{}
	for g := 0; g < m; g++ {
		w := int64(rng.Uint64())
		if g%5 == 0 {
			w = int64(rng.IntN(64)) // small words, 0 among them
		}
		for seen[w] {
			w++
		}
		seen[w] = true
		h := rng.Uint64() & (1<<hashBits - 1)
		s := h & mask
		for slots[s].Entry != 0 {
			s = (s + 1) & mask
		}
		slots[s] = GroupSlot{Key: w, Entry: h>>32<<32 | uint64(g+1)}
		words, hashes = append(words, w), append(hashes, h)
	}
	return slots, words, hashes
}

func TestGroupProbeWords(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(37, uint64(l)))
		for _, nslots := range []int{1, 2, 8, 64, 4096} {
			for _, fill := range []float64{0, 0.3, 0.75, 0.99} {
				for _, hashBits := range []uint{2, 64} {
					m := min(int(float64(nslots)*fill), nslots-1)
					slots, words, hashes := probeTable(rng, nslots, m, hashBits)
					for _, n := range []int{0, 1, 7, 8, 9, 17, 300} {
						keys, hs := make([]int64, n), make([]uint64, n)
						for j := range keys {
							if m > 0 && rng.IntN(20) > 0 {
								g := rng.IntN(m)
								keys[j], hs[j] = words[g], hashes[g]
							} else {
								keys[j], hs[j] = int64(rng.Uint64()), rng.Uint64()&(1<<hashBits-1) // absent
							}
						}
						// Oracle: ids of the leading present keys, stopping at
						// the first absent one.
						id := map[int64]uint32{}
						for g, w := range words {
							id[w] = uint32(g)
						}
						for _, start := range []int{0, 3} {
							want := make([]uint32, n)
							got := make([]uint32, n)
							for j := range want {
								want[j], got[j] = 0xdead, 0xdead
							}
							wantDone := max(start, n)
							for j := start; j < n; j++ {
								g, ok := id[keys[j]]
								if !ok {
									wantDone = j
									break
								}
								want[j] = g
							}
							what := fmt.Sprintf("slots=%d fill=%v bits=%d n=%d start=%d", nslots, fill, hashBits, n, start)
							done := GroupProbeWords(slots, hs, keys, got, start)
							require.Equal(t, wantDone, done, what)
							require.Equal(t, want, got, what)

							// The same through a selection of every other row,
							// backwards.
							var sel []int32
							for r := n - 1; r >= 0; r -= 2 {
								sel = append(sel, int32(r))
							}
							for j := range want {
								want[j], got[j] = 0xdead, 0xdead
							}
							wantDone = max(start, len(sel))
							for j := start; j < len(sel); j++ {
								r := sel[j]
								g, ok := id[keys[r]]
								if !ok {
									wantDone = j
									break
								}
								want[r] = g
							}
							done = GroupProbeWordsSel(slots, hs, keys, got, sel, start)
							require.Equal(t, wantDone, done, what+" sel")
							require.Equal(t, want, got, what+" sel")
						}
					}
				}
			}
		}
		require.Panics(t, func() {
			GroupProbeWords(make([]GroupSlot, 3), make([]uint64, 1), make([]int64, 1), make([]uint32, 1), 0)
		})
		require.Panics(t, func() { GroupProbeWords(nil, nil, nil, nil, 0) })
		// A selection index out of range panics, after the rows before it.
		slots, words, hashes := probeTable(rng, 16, 5, 64)
		for _, bad := range []int32{5, -1, 1 << 30} {
			keys := append([]int64{}, words...)
			got := make([]uint32, len(keys))
			require.Panics(t, func() {
				GroupProbeWordsSel(slots, hashes, keys, got, []int32{0, 1, bad, 2}, 0)
			})
			require.Equal(t, []uint32{0, 1, 0, 0, 0}, got)
		}
		require.Panics(t, func() { GroupProbeWordsSel(slots, nil, nil, nil, []int32{0}, 0) })
		require.Panics(t, func() {
			GroupProbeWords(make([]GroupSlot, 4), make([]uint64, 1), make([]int64, 2), make([]uint32, 2), 0)
		})
	})
}

// Benchmarks: probes of keys present in a table of 1k or 100k groups at
// the key table's load (slots: the next power of two >= 4/3 groups); 1M
// probes so that the table's lines are not all cached from the last call.
func init() {
	for _, c := range []struct{ n, ng int }{{8192, 1000}, {1 << 20, 100_000}} {
		n, ng := c.n, c.ng
		registerBench(benchCase{
			name:  fmt.Sprintf("grouped/ProbeWords/N=%d/groups=%d", n, ng),
			n:     n,
			bytes: int64(n) * 16, // key word + hash
			big:   n > 8192,
			setup: func() (func(), func()) {
				rng := rand.New(rand.NewPCG(41, uint64(ng)))
				nslots := 1
				for nslots*3 < ng*4 {
					nslots <<= 1
				}
				slots, words, hashes := probeTable(rng, nslots, ng, 64)
				keys, hs, groups := make([]int64, n), make([]uint64, n), make([]uint32, n)
				for j := range keys {
					g := rng.IntN(ng)
					keys[j], hs[j] = words[g], hashes[g]
				}
				return func() {
					if GroupProbeWords(slots, hs, keys, groups, 0) != len(keys) {
						panic("probe stopped")
					}
				}, nil
			},
		})
	}
}

// Benchmarks of GroupProbeWordsSel against GroupProbeWords on tables
// larger than L2 (50k or 100k groups; 1k: a cached one for comparison):
// 128 batches of 8192 rows per op, each probed whole ("dense", elems =
// rows) or through a half-density sorted selection ("half-sel", elems =
// selected rows), as a two-partition hash cut hands them to each
// partition.
func init() {
	const batch, nbatch = 8192, 128
	for _, ng := range []int{1000, 50_000, 100_000} {
		for _, withSel := range []bool{false, true} {
			shape, elems := "dense", batch*nbatch
			if withSel {
				shape, elems = "half-sel", batch/2*nbatch
			}
			registerBench(benchCase{
				name:  fmt.Sprintf("grouped/batches/ProbeWords/%s/groups=%dk", shape, ng/1000),
				n:     elems,
				bytes: int64(elems) * 16, // key word + hash
				big:   true,
				setup: func() (func(), func()) {
					rng := rand.New(rand.NewPCG(47, uint64(ng)))
					nslots := 1
					for nslots*3 < ng*4 {
						nslots <<= 1
					}
					slots, words, hashes := probeTable(rng, nslots, ng, 64)
					type in struct {
						keys   []int64
						hs     []uint64
						groups []uint32
						sel    []int32
					}
					ins := make([]in, nbatch)
					for i := range ins {
						b := in{make([]int64, batch), make([]uint64, batch), make([]uint32, batch), nil}
						for j := range b.keys {
							g := rng.IntN(ng)
							b.keys[j], b.hs[j] = words[g], hashes[g]
						}
						if withSel {
							b.sel = grpHalfSel(rng, batch)
						}
						ins[i] = b
					}
					return func() {
						for _, b := range ins {
							if b.sel == nil {
								if GroupProbeWords(slots, b.hs, b.keys, b.groups, 0) != batch {
									panic("probe stopped")
								}
							} else if GroupProbeWordsSel(slots, b.hs, b.keys, b.groups, b.sel, 0) != len(b.sel) {
								panic("probe stopped")
							}
						}
					}, nil
				},
			})
		}
	}
}

// TestGroupProbeWordsSelPrefetch covers the look-ahead of
// GroupProbeWordsSel's assembly, which prefetches the home slot of
// candidate j+16's row: a selection index out of range (too large,
// negative, far outside any mapping) at or ahead of the current candidate
// is not read through, and panics when its candidate comes, with the
// candidates before it done; and the selection, hashes, keys and group ids
// ending at a guard page.
func TestGroupProbeWordsSelPrefetch(t *testing.T) {
	forEachLevel(t, func(t *testing.T, l Level) {
		rng := rand.New(rand.NewPCG(59, uint64(l)))
		slots, words, hashes := probeTable(rng, 1<<12, 3000, 64)
		const n = 64
		keys, hs := make([]int64, n), make([]uint64, n)
		ids := make([]uint32, n) // the oracle: row r's group id
		for r := range keys {
			g := rng.IntN(len(words))
			keys[r], hs[r], ids[r] = words[g], hashes[g], uint32(g)
		}
		for _, pos := range []int{0, 1, 15, 16, 17, 40, n - 1} {
			for _, bad := range []int32{n, -1, 1 << 30, math.MaxInt32, math.MinInt32} {
				sel := make([]int32, n)
				for j := range sel {
					sel[j] = int32(n - 1 - j)
				}
				sel[pos] = bad
				got := make([]uint32, n)
				for r := range got {
					got[r] = 0xdead
				}
				require.Panics(t, func() { GroupProbeWordsSel(slots, hs, keys, got, sel, 0) }, "pos %d bad %d", pos, bad)
				for j, r := range sel {
					if j < pos {
						require.Equal(t, ids[r], got[r], "pos %d bad %d: candidate %d before it", pos, bad, j)
					} else if j > pos {
						require.Equal(t, uint32(0xdead), got[r], "pos %d bad %d: candidate %d after it", pos, bad, j)
					}
				}
			}
		}

		for m := 0; m <= 300; m += 1 + m/16 {
			var rows []int32
			for r := 0; r < m; r++ {
				if rng.IntN(2) == 0 {
					rows = append(rows, int32(r))
				}
			}
			sel, f1 := guardmem.Int32s(len(rows))
			copy(sel, rows)
			k, f2 := guardmem.Int64s(m)
			h, f3 := guardmem.Uint64s(m)
			got, f4 := guardmem.Uint32s(m)
			want := make([]uint32, m)
			for r := range k {
				g := rng.IntN(len(words))
				k[r], h[r], want[r] = words[g], hashes[g], uint32(g)
			}
			for _, r := range sel {
				got[r] = want[r] + 1 // rows the probe must overwrite
			}
			for r := range got {
				if got[r] != want[r]+1 {
					got[r], want[r] = 0xdead, 0xdead // rows it must not touch
				}
			}
			require.Equal(t, len(sel), GroupProbeWordsSel(slots, h, k, got, sel, 0), "m=%d", m)
			require.Equal(t, want, []uint32(got), "m=%d", m)
			f1()
			f2()
			f3()
			f4()
		}
	})
}
