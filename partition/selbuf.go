package partition

import (
	"sync/atomic"

	"github.com/velo-engine/velo/columnar"
)

// selBuf is the selection-vector buffer one routed record was scattered
// into: each partition's batch holds a sub-slice of idx. It is reference
// counted — one reference per batch sent — and goes back to the query's
// free list when the last partition releases its batch (after its
// pipeline's Push returned, or when a queued batch is discarded), so
// steady-state routing allocates no selection vectors. Pipelines see its
// contents only through a batch's Sel and Keys, which they copy (or drop)
// if they keep the batch beyond Push (Pipeline.Push).
//
// Under hash routing it also holds the record's key hashes (and key words)
// that the rows were routed by: each batch passes them on as its
// columnar.Batch.Keys, so the partitions' key tables do not hash again.
type selBuf struct {
	idx    []int32
	hashes []uint64 // per row of the record (hash routing)
	words  []int64  // per row, when the KeyHasher built words (one utf8 key)
	keys   columnar.KeyHashes
	refs   atomic.Int32
}

// setKeys records the record's key columns and hashes (of its n rows) as
// the keys its batches carry.
func (sb *selBuf) setKeys(cols []int, n int, words []int64, long bool) {
	if words != nil {
		sb.words = words
	}
	sb.keys = columnar.KeyHashes{Cols: cols, Hashes: sb.hashes[:n], Words: words, Long: long}
}

// batchKeys is the keys the buffer's batches carry: the record's key
// hashes, or nil when the rows were not hashed (a cut after LateDrop of a
// record sent whole).
func (sb *selBuf) batchKeys() *columnar.KeyHashes {
	if sb.keys.Hashes == nil {
		return nil
	}
	return &sb.keys
}

// getSel returns a buffer of at least n indices from the free list (or a
// new one) with no references.
func (q *Query) getSel(n int) *selBuf {
	var sb *selBuf
	select {
	case sb = <-q.selFree:
	default:
		sb = new(selBuf)
	}
	sb.idx = grow(sb.idx, n)
	sb.keys = columnar.KeyHashes{}
	return sb
}

// putSel returns a buffer whose references are all gone to the free list,
// or drops it when the list is full.
func (q *Query) putSel(sb *selBuf) {
	select {
	case q.selFree <- sb:
	default:
	}
}

// release drops one reference to the selection buffer (nil: none) and
// recycles it when that was the last.
func (q *Query) releaseSel(sb *selBuf) {
	if sb != nil && sb.refs.Add(-1) == 0 {
		q.putSel(sb)
	}
}

// release drops the message's batch: its record reference and its share of
// the selection buffer.
func (m *message) release(q *Query) {
	m.b.Release()
	q.releaseSel(m.sel)
	m.sel = nil
}
