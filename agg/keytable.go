package agg

import (
	"fmt"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/bitutil"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

// MaxKeyColumns is the largest number of key columns a KeyTable takes.
const MaxKeyColumns = 4

// maxLoad is the slot array's maximum load factor, as num/den.
const maxLoadNum, maxLoadDen = 3, 4

// KeyTable maps composite keys to dense uint32 group ids (0, 1, 2, … in
// order of first appearance).
//
// It is an open-addressing table with linear probing over an array of
// 16-byte slots: the group's first key word (see keyColumn.word) and an
// entry whose high 32 bits hold a tag (the key hash's bits 32–63) and low
// 32 bits the group id + 1 (0 marks an empty slot). A row's home slot is
// hash & mask — the low bits, because the partition router uses the high
// bits to choose the partition. For one key column whose word is the whole
// key (fixed-width keys, utf8 of up to 7 bytes) a probe compares the word
// in the slot itself: a hit reads one slot and nothing else, which for a
// table larger than the caches is one cache miss per row instead of two. Group keys live column-wise (see
// keyColumn) together with each group's full hash, so growing the table
// re-inserts stored hashes instead of hashing keys again.
//
// A KeyTable is owned by one goroutine; it takes no locks.
type KeyTable struct {
	types  []arrow.DataType
	cols   []keyColumn
	slots  []slot
	mask   uint64
	hashes []uint64 // per group

	// per-batch scratch, reused
	h, hscratch   []uint64
	cur           []uint64 // the batch's key hashes: h, or InsertHashed's
	pos           []uint64
	cand          []uint32
	pending, cmp  []int32
	eq, eqScratch []byte

	// degradeHash, when set (tests only), replaces every key hash to force
	// collisions.
	degradeHash func(uint64) uint64
}

// NewKeyTable returns an empty table for keys of the given column types.
func NewKeyTable(types []arrow.DataType) (*KeyTable, error) {
	if len(types) == 0 || len(types) > MaxKeyColumns {
		return nil, fmt.Errorf("agg: a key table takes 1 to %d key columns, got %d", MaxKeyColumns, len(types))
	}
	t := &KeyTable{types: append([]arrow.DataType(nil), types...)}
	for i, dt := range types {
		c, err := newKeyColumn(dt)
		if err != nil {
			return nil, fmt.Errorf("agg: key column %d: %w", i, err)
		}
		t.cols = append(t.cols, c)
	}
	t.slots = make([]slot, 64)
	t.mask = 63
	return t, nil
}

// slot is one entry of the slot array: Key is the group's first key word,
// Entry its tag<<32 | group id + 1 (0: empty).
type slot = kernels.GroupSlot

// Len returns the number of groups.
func (t *KeyTable) Len() int { return len(t.hashes) }

// Types returns the key column types.
func (t *KeyTable) Types() []arrow.DataType { return t.types }

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

// Insert finds or creates the group of every selected row (sel nil: every
// row) of the key columns cols and writes its id to groups[row]; groups must
// hold a slot for every row of the batch (unselected rows are left as they
// are). It returns the number of groups created.
func (t *KeyTable) Insert(cols []arrow.Array, sel []int32, groups []uint32) (created int, err error) {
	return t.insert(cols, sel, groups, nil)
}

// InsertHashed is Insert for a batch whose key hashes (and, for a utf8
// key, key words) were computed upstream by a KeyHasher for the same key
// column types (columnar.KeyHashes; pre.Cols is not looked at: cols are
// the columns it covers). The table then neither hashes the batch nor
// builds its key words: each selected row costs its probe alone, whatever
// the record's size. pre nil, or not covering every row of cols, is
// Insert.
func (t *KeyTable) InsertHashed(cols []arrow.Array, sel []int32, groups []uint32, pre *columnar.KeyHashes) (created int, err error) {
	if pre != nil && (len(cols) == 0 || len(pre.Hashes) != cols[0].Len() || t.degradeHash != nil) {
		pre = nil
	}
	return t.insert(cols, sel, groups, pre)
}

func (t *KeyTable) insert(cols []arrow.Array, sel []int32, groups []uint32, pre *columnar.KeyHashes) (created int, err error) {
	if len(cols) != len(t.cols) {
		return 0, fmt.Errorf("agg: got %d key columns, want %d", len(cols), len(t.cols))
	}
	n := cols[0].Len()
	for i, c := range cols {
		if c.Len() != n {
			return 0, fmt.Errorf("agg: key column %d has %d rows, column 0 has %d", i, c.Len(), n)
		}
		var err error
		if sk, ok := t.cols[i].(*stringKey); ok && pre != nil && pre.Words != nil && len(t.cols) == 1 {
			err = sk.loadWords(c, pre.Words, pre.Long)
		} else {
			err = t.cols[i].load(c)
		}
		if err != nil {
			return 0, fmt.Errorf("agg: key column %d: %w", i, err)
		}
	}
	if len(groups) < n {
		return 0, fmt.Errorf("agg: group id buffer holds %d rows, batch has %d", len(groups), n)
	}
	if n == 0 {
		return 0, nil
	}
	rows := len(sel)
	if sel == nil {
		rows = n
	}
	t.reserve(len(t.hashes) + rows)

	// Hash every row's key, unless it came hashed.
	if pre != nil {
		t.cur = pre.Hashes[:n]
	} else {
		t.h = grow(t.h, n)
		t.hscratch = grow(t.hscratch, n)
		for i, c := range t.cols {
			c.hash(t.h, t.hscratch, i == 0)
		}
		if t.degradeHash != nil {
			for i := range t.h {
				t.h[i] = t.degradeHash(t.h[i])
			}
		}
		t.cur = t.h[:n]
	}
	defer t.dropBorrowed()

	before := len(t.hashes)
	if len(t.cols) == 1 {
		switch k := t.cols[0].(type) {
		case *wordKey:
			if k.valid == nil && k.nullCount == 0 {
				t.insertWords(k, sel, n, groups)
				return len(t.hashes) - before, nil
			}
		case *stringKey:
			t.insertStrings(k, sel, n, groups)
			return len(t.hashes) - before, nil
		}
	}

	t.pos = grow(t.pos, n)
	t.cand = grow(t.cand, n)
	t.eq = grow(t.eq, (n+7)/8)
	t.eqScratch = grow(t.eqScratch, len(t.eq))
	t.pending = t.pending[:0]
	if sel == nil {
		for r := 0; r < n; r++ {
			t.pending = append(t.pending, int32(r))
			t.pos[r] = t.cur[r] & t.mask
		}
	} else {
		for _, r := range sel {
			t.pending = append(t.pending, r)
			t.pos[r] = t.cur[r] & t.mask
		}
	}
	slots, mask := t.slots, t.mask
	for len(t.pending) > 0 {
		// Walk each pending row to its first empty slot (a new group) or to
		// the first slot whose tag matches (a candidate to compare).
		t.cmp = t.cmp[:0]
		for _, r := range t.pending {
			h := t.cur[r]
			tag := h >> 32
			s := t.pos[r]
			for {
				e := slots[s].Entry
				if e == 0 {
					g := uint32(len(t.hashes))
					for _, c := range t.cols {
						c.appendRow(int(r))
					}
					t.hashes = append(t.hashes, h)
					slots[s] = slot{Key: t.cols[0].word(g), Entry: tag<<32 | uint64(g+1)}
					groups[r] = g
					break
				}
				if e>>32 == tag {
					t.cand[r] = uint32(e) - 1
					t.pos[r] = s
					t.cmp = append(t.cmp, r)
					break
				}
				s = (s + 1) & mask
			}
		}
		if len(t.cmp) == 0 {
			break
		}
		// Compare the candidates' actual keys, column by column.
		t.cols[0].equal(t.eq, t.cand, t.cmp, n)
		for _, c := range t.cols[1:] {
			c.equal(t.eqScratch, t.cand, t.cmp, n)
			for i := range t.eq {
				t.eq[i] &= t.eqScratch[i]
			}
		}
		t.pending = t.pending[:0]
		for _, r := range t.cmp {
			if bitutil.BitIsSet(t.eq, int(r)) {
				groups[r] = t.cand[r]
			} else {
				t.pos[r] = (t.pos[r] + 1) & mask
				t.pending = append(t.pending, r)
			}
		}
	}
	return len(t.hashes) - before, nil
}

// dropBorrowed forgets the batch's hashes and words, which may be an
// InsertHashed caller's buffers: the table does not keep them.
func (t *KeyTable) dropBorrowed() {
	t.cur = nil
	for _, c := range t.cols {
		if sk, ok := c.(*stringKey); ok {
			sk.row = nil
		}
	}
}

// insertWords is Insert's fast path for one fixed-width key column with no
// NULLs in the batch or the table: the key word is compared with the one in
// the slot, so a row costs one pass and, for a hit, one slot read. It
// visits rows sel, or 0..n-1 when sel is nil; the hits run in
// kernels.GroupProbeWords(Sel), which stops at each new key.
func (t *KeyTable) insertWords(k *wordKey, sel []int32, n int, groups []uint32) {
	for j := 0; ; j++ {
		if j = t.probeWords(k.row[:n], sel, groups, j); j >= groupedLen(sel, n) {
			return
		}
		t.insertWordRows(k, sel, n, groups, j, j+1)
	}
}

// probeWords runs the kernels' word probe over candidates from j on (rows
// sel, or all rows when sel is nil) and returns the first one it stopped
// at (a new key), or the number of candidates.
func (t *KeyTable) probeWords(keys []int64, sel []int32, groups []uint32, j int) int {
	if sel == nil {
		return kernels.GroupProbeWords(t.slots, t.cur, keys, groups, j)
	}
	return kernels.GroupProbeWordsSel(t.slots, t.cur, keys, groups, sel, j)
}

// insertWordRows is insertWords for candidates j..end-1 (rows sel[j], or j
// when sel is nil).
func (t *KeyTable) insertWordRows(k *wordKey, sel []int32, n int, groups []uint32, j, end int) {
	slots, mask := t.slots, t.mask
	hs, row := t.cur[:n], k.row[:n]
	groups = groups[:n]
	for ; j < end; j++ {
		r := j
		if sel != nil {
			r = int(sel[j])
		}
		h := hs[r]
		key := row[r]
		s := h & mask
		for {
			sl := &slots[s]
			if sl.Entry == 0 {
				g := uint32(len(t.hashes))
				k.words = append(k.words, key)
				k.nulls = append(k.nulls, false)
				t.hashes = append(t.hashes, h)
				*sl = slot{Key: key, Entry: h>>32<<32 | uint64(g+1)}
				groups[r] = g
				break
			}
			if sl.Key == key {
				groups[r] = uint32(sl.Entry) - 1
				break
			}
			s = (s + 1) & mask
		}
	}
}

// insertStrings is Insert's fast path for one utf8 key column (plain or
// dictionary-encoded, NULLs allowed): the key word is compared with the one
// in the slot, which decides for strings of up to 7 bytes and NULL; only
// longer strings with equal words and tags also compare length and the
// remaining bytes. It visits rows sel, or 0..n-1 when sel is nil; when no
// row is a long string (so every word decides), the hits run in
// kernels.GroupProbeWords(Sel), which stops at each new key.
func (t *KeyTable) insertStrings(k *stringKey, sel []int32, n int, groups []uint32) {
	if k.long {
		t.insertStringRows(k, sel, n, groups, 0, groupedLen(sel, n))
		return
	}
	for j := 0; ; j++ {
		if j = t.probeWords(k.row[:n], sel, groups, j); j >= groupedLen(sel, n) {
			return
		}
		t.insertStringRows(k, sel, n, groups, j, j+1)
	}
}

// groupedLen is the number of candidates: len(sel), or n when sel is nil.
func groupedLen(sel []int32, n int) int {
	if sel != nil {
		return len(sel)
	}
	return n
}

// insertStringRows is insertStrings for candidates j..end-1 (rows sel[j],
// or j when sel is nil).
func (t *KeyTable) insertStringRows(k *stringKey, sel []int32, n int, groups []uint32, j, end int) {
	slots, mask := t.slots, t.mask
	hs, row := t.cur[:n], k.row[:n]
	groups = groups[:n]
	for ; j < end; j++ {
		r := j
		if sel != nil {
			r = int(sel[j])
		}
		h := hs[r]
		w := row[r]
		s := h & mask
		for {
			sl := &slots[s]
			e := sl.Entry
			if e == 0 {
				g := uint32(len(t.hashes))
				k.appendRow(r)
				t.hashes = append(t.hashes, h)
				*sl = slot{Key: w, Entry: h>>32<<32 | uint64(g+1)}
				groups[r] = g
				break
			}
			if sl.Key == w && (!isLongWord(w) || (e>>32 == h>>32 && k.sameTail(r, uint32(e)-1))) {
				groups[r] = uint32(e) - 1
				break
			}
			s = (s + 1) & mask
		}
	}
}

// reserve grows the slot array so that n groups stay within the load factor.
func (t *KeyTable) reserve(n int) {
	if n*maxLoadDen <= len(t.slots)*maxLoadNum {
		return
	}
	size := 1 << bits.Len(uint(n*maxLoadDen/maxLoadNum))
	t.rebuild(size)
}

// rebuild re-inserts every group's stored hash into a slot array of size
// slots (a power of two).
func (t *KeyTable) rebuild(size int) {
	if cap(t.slots) >= size {
		t.slots = t.slots[:size]
		clear(t.slots)
	} else {
		t.slots = make([]slot, size)
	}
	t.mask = uint64(size - 1)
	first := t.cols[0]
	for g, h := range t.hashes {
		s := h & t.mask
		for t.slots[s].Entry != 0 {
			s = (s + 1) & t.mask
		}
		t.slots[s] = slot{Key: first.word(uint32(g)), Entry: h>>32<<32 | uint64(g+1)}
	}
}

// EmitKeys returns the key columns of groups ids (nil: all groups, in id
// order). The caller releases the arrays.
func (t *KeyTable) EmitKeys(mem memory.Allocator, ids []uint32) []arrow.Array {
	out := make([]arrow.Array, len(t.cols))
	for i, c := range t.cols {
		out[i] = c.emit(mem, ids)
	}
	return out
}

// Compact keeps only the groups keep, renumbered in that order (new group j
// is old group keep[j]); every other group is forgotten.
func (t *KeyTable) Compact(keep []uint32) {
	for _, c := range t.cols {
		c.compact(keep)
	}
	hashes := make([]uint64, len(keep))
	for j, g := range keep {
		hashes[j] = t.hashes[g]
	}
	t.hashes = hashes
	size := 64
	for len(keep)*maxLoadDen > size*maxLoadNum {
		size <<= 1
	}
	t.rebuild(size)
}

// Reset forgets every group, keeping allocated memory for reuse.
func (t *KeyTable) Reset() {
	for _, c := range t.cols {
		c.reset()
	}
	t.hashes = t.hashes[:0]
	clear(t.slots)
}

// Bytes returns the memory the table holds for its groups: slots, hashes and
// stored keys (not the per-batch scratch).
func (t *KeyTable) Bytes() int {
	b := cap(t.slots)*int(unsafe.Sizeof(slot{})) + cap(t.hashes)*8
	for _, c := range t.cols {
		b += c.bytes()
	}
	return b
}
