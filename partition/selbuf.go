package partition

import "sync/atomic"

// selBuf is the selection-vector buffer one routed record was scattered
// into: each partition's batch holds a sub-slice of idx. It is reference
// counted — one reference per batch sent — and goes back to the query's
// free list when the last partition releases its batch (after its
// pipeline's Push returned, or when a queued batch is discarded), so
// steady-state routing allocates no selection vectors. Pipelines never see
// a selBuf: they copy Sel if they keep it beyond Push (Pipeline.Push).
type selBuf struct {
	idx  []int32
	refs atomic.Int32
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
	if cap(sb.idx) < n {
		sb.idx = make([]int32, n, n+n/4)
	}
	sb.idx = sb.idx[:n]
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
