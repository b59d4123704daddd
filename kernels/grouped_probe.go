package kernels

import "fmt"

// GroupSlot is one slot of an open-addressing group table probed by
// GroupProbeWords: a group's key word and its entry, tag<<32 | id+1 (0: an
// empty slot; the tag is the caller's, GroupProbeWords ignores it).
type GroupSlot struct {
	Key   int64
	Entry uint64
}

// GroupProbeWords is the hit path of a group table with linear probing
// whose keys are single words (agg.KeyTable's single-column fast path): for
// rows j = start, start+1, … it probes from slot hs[j] & (len(slots)-1)
// until a slot with Key == keys[j], whose id (Entry-1, low 32 bits) it
// writes to groups[j], or an empty slot, where it stops and returns j (the
// caller inserts the new group and resumes at j). It returns len(keys) when
// every row was found.
//
// len(slots) must be a power of two and the table must hold an empty slot
// (probing a full table for a missing key would not end); hs and groups
// must have at least len(keys) entries.
//
// At the AVX2 and AVX-512 levels it runs scalar assembly that also
// prefetches the home slot of the row 16 ahead, so that for a table larger
// than the caches the rows' misses overlap. Measured (1M probes into a
// table of 100k groups, 262144 slots; best of 5 on a shared host, ns/row):
// Go 5.3, assembly prefetching 8 / 16 / 32 / 64 rows ahead 4.8 / 4.4 /
// 4.8 / 4.5; 8192 probes into 1k groups: Go 1.4, assembly 1.3.
func GroupProbeWords(slots []GroupSlot, hs []uint64, keys []int64, groups []uint32, start int) (done int) {
	n := len(keys)
	if len(slots)&(len(slots)-1) != 0 || len(slots) == 0 {
		panic(fmt.Sprintf("kernels.GroupProbeWords: %d slots is not a power of two", len(slots)))
	}
	if len(hs) < n || len(groups) < n {
		panic(fmt.Sprintf("kernels.GroupProbeWords: %d keys, %d hashes, %d group ids", n, len(hs), len(groups)))
	}
	if start < 0 || start >= n {
		return max(start, n)
	}
	if groupProbeWordsAsm != nil {
		return groupProbeWordsAsm(slots, hs[:n], keys, groups[:n], start)
	}
	mask := uint64(len(slots) - 1)
	hs, groups = hs[:n], groups[:n]
	for j := start; j < n; j++ {
		key := keys[j]
		s := hs[j] & mask
		for {
			sl := &slots[s]
			if sl.Entry == 0 {
				return j
			}
			if sl.Key == key {
				groups[j] = uint32(sl.Entry) - 1
				break
			}
			s = (s + 1) & mask
		}
	}
	return n
}

// groupProbeWordsAsm is GroupProbeWords' assembly (set by grouped_amd64.go
// at the AVX2 and AVX-512 levels; nil elsewhere).
var groupProbeWordsAsm func(slots []GroupSlot, hs []uint64, keys []int64, groups []uint32, start int) int

// GroupProbeWordsSel is GroupProbeWords over the rows of a selection: for
// candidates j = start, start+1, … < len(sel) it probes row r = sel[j]
// (keys[r], hs[r], writing groups[r]) and returns the first candidate whose
// probe reached an empty slot, or len(sel). A selection index outside
// [0, len(keys)) panics.
//
// The assembly prefetches like GroupProbeWords': the home slot of candidate
// j+16's row (a hash-partitioned GROUP BY hands each partition its rows of
// a shared record as a selection, so the tables are as large as without
// one). Measured (128 batches of 8192 rows, half-density sorted
// selections, random keys; A/B of test binaries, medians of 5, ns per
// selected row, without / with): 100k groups 8.1 / 6.6, 50k 6.8 / 5.5
// (whole batches through GroupProbeWords: 4.9, 4.6).
func GroupProbeWordsSel(slots []GroupSlot, hs []uint64, keys []int64, groups []uint32, sel []int32, start int) (done int) {
	n := len(keys)
	if len(slots)&(len(slots)-1) != 0 || len(slots) == 0 {
		panic(fmt.Sprintf("kernels.GroupProbeWordsSel: %d slots is not a power of two", len(slots)))
	}
	if len(hs) < n || len(groups) < n {
		panic(fmt.Sprintf("kernels.GroupProbeWordsSel: %d keys, %d hashes, %d group ids", n, len(hs), len(groups)))
	}
	if start < 0 || start >= len(sel) {
		return max(start, len(sel))
	}
	if groupProbeWordsSelAsm != nil {
		start = groupProbeWordsSelAsm(slots, hs[:n], keys, groups[:n], sel, start)
		if start == len(sel) || uint(sel[start]) < uint(n) {
			return start // an empty slot: the Go loop would only probe it again
		}
	}
	mask := uint64(len(slots) - 1)
	hs, groups = hs[:n], groups[:n]
	for j := start; j < len(sel); j++ {
		r := sel[j]
		key := keys[r]
		s := hs[r] & mask
		for {
			sl := &slots[s]
			if sl.Entry == 0 {
				return j
			}
			if sl.Key == key {
				groups[r] = uint32(sl.Entry) - 1
				break
			}
			s = (s + 1) & mask
		}
	}
	return len(sel)
}

// groupProbeWordsSelAsm is GroupProbeWordsSel's assembly (set with
// groupProbeWordsAsm); it stops at an empty slot or a bad selection index,
// which the Go loop then meets.
var groupProbeWordsSelAsm func(slots []GroupSlot, hs []uint64, keys []int64, groups []uint32, sel []int32, start int) int
