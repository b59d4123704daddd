package partition

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow"
)

// Parallel routing: a source with R > 1 router goroutines (Config.Routers,
// SourceOptions.Routers) lets one producer goroutine — Query.Push from a
// single reader, as exec's Execute does — have its records hashed and cut
// by R goroutines.
//
// Source.Push checks the schema, retains the record and deals it to the
// routers in rotation (record k to router k mod R) through bounded queues
// (routerQueue records each). Each router owns its scratch (hash, ids,
// counts, selection buffer) and prepares its record — hashes, partition
// ids, histogram and selection vectors, event-time range — in parallel
// with the others. Delivery then takes turns: a token passes around the
// ring of routers in dealing order, and only its holder delivers (counts
// late rows against the source's watermark, sends the partition batches,
// advances the watermark). So every partition receives a source's batches
// and watermarks in exactly the order they were pushed, as with routing on
// the caller: per-key row order, late-row decisions and watermarks are the
// same. What changes: Push returns once the record is queued (it still
// blocks when the queue is full, so backpressure reaches the producer), and
// an error while routing stops the query (Wait returns it) rather than
// being returned by Push.

// routerQueue is the capacity of each router's input queue, in records.
const routerQueue = 2

type itemKind uint8

const (
	itemPush      itemKind = iota
	itemWatermark          // Watermark, and Close with +inf
)

// routeItem is one call handed to a router.
type routeItem struct {
	kind itemKind
	rec  arrow.Record // itemPush: retained for the router
	b    *binding
	wm   int64 // itemWatermark
}

// routerPool is a source's router goroutines.
type routerPool struct {
	s       *Source
	routers []*router
	next    int // the router that gets the next item (producer side)

	closeOnce sync.Once
	live      atomic.Int32
	done      chan struct{} // closed when every router has exited
}

// router is one router goroutine's state.
type router struct {
	pool *routerPool
	in   chan routeItem
	turn chan struct{} // holds the delivery token when it is this router's turn
	succ *router
	scr  routeScratch
}

// startRouters starts n router goroutines for s.
func (q *Query) startRouters(s *Source, n int) *routerPool {
	pool := &routerPool{s: s, routers: make([]*router, n), done: make(chan struct{})}
	for i := range pool.routers {
		pool.routers[i] = &router{
			pool: pool,
			in:   make(chan routeItem, routerQueue),
			turn: make(chan struct{}, 1),
			scr:  newRouteScratch(len(q.parts)),
		}
	}
	for i, r := range pool.routers {
		r.succ = pool.routers[(i+1)%n]
	}
	pool.routers[0].turn <- struct{}{}
	pool.live.Store(int32(n))
	q.poolMu.Lock()
	q.pools = append(q.pools, pool)
	q.poolMu.Unlock()
	q.routerWG.Add(n)
	for _, r := range pool.routers {
		go r.run()
	}
	return pool
}

// hand gives it to the next router, blocking while that router's queue is
// full. The caller holds the query's gate (shared) and checked that the
// query is running.
func (pool *routerPool) hand(it routeItem) error {
	q := pool.s.q
	r := pool.routers[pool.next]
	pool.next = (pool.next + 1) % len(pool.routers)
	if it.rec != nil {
		it.rec.Retain()
	}
	select {
	case r.in <- it:
		return nil
	case <-q.ctx.Done():
		if it.rec != nil {
			it.rec.Release()
		}
		return q.stopErr()
	}
}

// closeInput ends the routers' input: they deliver what is queued and exit.
// The caller guarantees no hand runs concurrently (it holds the gate
// exclusively, or is the source's goroutine after marking it closed).
func (pool *routerPool) closeInput() {
	pool.closeOnce.Do(func() {
		for _, r := range pool.routers {
			close(r.in)
		}
	})
}

// discard releases the records still queued (after every router exited).
func (pool *routerPool) discard() {
	for _, r := range pool.routers {
		for len(r.in) > 0 {
			it, ok := <-r.in
			if !ok {
				break
			}
			if it.rec != nil {
				it.rec.Release()
			}
		}
	}
}

func (r *router) run() {
	q := r.pool.s.q
	defer func() {
		if r.pool.live.Add(-1) == 0 {
			close(r.pool.done)
		}
		q.routerWG.Done()
	}()
	for {
		select {
		case it, ok := <-r.in:
			if !ok {
				return
			}
			if err := r.handle(it); err != nil {
				if q.ctx.Err() == nil && !errors.Is(err, ErrClosed) {
					q.fail(err)
				}
				return
			}
		case <-q.ctx.Done():
			return
		}
	}
}

// handle prepares one item, waits for its turn, delivers it and passes the
// turn on.
func (r *router) handle(it routeItem) (err error) {
	s := r.pool.s
	q := s.q
	var rt routed
	if it.kind == itemPush {
		defer it.rec.Release()
		rt = routed{rec: it.rec, target: -1}
		err = s.prepare(&r.scr, it.b, &rt)
		if rt.sb != nil {
			defer func() {
				if rt.sb != nil { // not delivered
					q.putSel(rt.sb)
				}
			}()
		}
	}
	select {
	case <-r.turn:
	case <-q.ctx.Done():
		return context.Cause(q.ctx)
	}
	if err != nil {
		return err
	}
	// Routers take no part in the query's gate: a producer blocked in
	// hand holds it shared, and Close waiting for it exclusively would
	// otherwise stop the routers that drain that producer's queue. The
	// shutdown instead waits for every router to exit before it releases
	// what is queued (Start).
	switch {
	case q.ctx.Err() != nil:
		err = q.stopErr()
	case it.kind == itemPush:
		err = s.deliver(&r.scr, it.b, &rt)
	default:
		err = s.watermark(it.wm)
	}
	if err != nil {
		return err
	}
	r.succ.turn <- struct{}{}
	return nil
}

// flushRouters ends every router pool's input and waits until the routers
// delivered what was queued and exited (or the query stopped). Close calls
// it before the partitions finish.
func (q *Query) flushRouters() {
	q.poolMu.Lock()
	pools := slices.Clone(q.pools)
	q.poolMu.Unlock()
	for _, pool := range pools {
		pool.closeInput()
	}
	for _, pool := range pools {
		select {
		case <-pool.done:
		case <-q.ctx.Done():
			return
		}
	}
}

// discardRouted releases what the router queues still hold once every
// router has exited.
func (q *Query) discardRouted() {
	q.poolMu.Lock()
	defer q.poolMu.Unlock()
	for _, pool := range q.pools {
		pool.discard()
	}
}
