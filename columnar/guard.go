package columnar

import (
	"fmt"
	"sync"

	"github.com/apache/arrow/go/v17/arrow/memory"
)

// maxAlloc caps a single allocation made while decoding a binary file. A
// corrupt length field can ask for exabytes; no valid batch needs a 4 GiB
// buffer.
const maxAlloc = 1 << 32

// guardAllocator wraps the caller's allocator while binary decoders run, so
// that a decoder failing half-way (Arrow's IPC and Parquet readers panic or
// return early on corrupt input and do not free what they allocated in that
// step) leaks nothing.
//
// Allocations are tracked during a step (begin). A successful step commits:
// its buffers now belong to records or decoder state, which free them as
// usual. A failed step keeps its live buffers; once the decoder itself has
// been released (Reader.Close), sweep frees whatever is still live, which can
// only be the failed step's leftovers.
type guardAllocator struct {
	mem memory.Allocator

	mu       sync.Mutex
	tracking bool
	live     map[*byte][]byte // tracked buffers still allocated, by first byte
}

func newGuardAllocator(mem memory.Allocator) *guardAllocator {
	return &guardAllocator{mem: mem, live: map[*byte][]byte{}}
}

// Allocate implements memory.Allocator.
func (g *guardAllocator) Allocate(size int) []byte {
	if size > maxAlloc || size < 0 {
		panic(fmt.Sprintf("allocation of %d bytes refused (corrupt length?)", size))
	}
	b := g.mem.Allocate(size)
	g.mu.Lock()
	if g.tracking && len(b) > 0 {
		g.live[&b[0]] = b
	}
	g.mu.Unlock()
	return b
}

// Reallocate implements memory.Allocator.
func (g *guardAllocator) Reallocate(size int, b []byte) []byte {
	if size > maxAlloc || size < 0 {
		panic(fmt.Sprintf("allocation of %d bytes refused (corrupt length?)", size))
	}
	g.mu.Lock()
	wasTracked := g.untrack(b)
	g.mu.Unlock()
	nb := g.mem.Reallocate(size, b)
	g.mu.Lock()
	if (g.tracking || wasTracked) && len(nb) > 0 {
		g.live[&nb[0]] = nb
	}
	g.mu.Unlock()
	return nb
}

// Free implements memory.Allocator.
func (g *guardAllocator) Free(b []byte) {
	g.mu.Lock()
	g.untrack(b)
	g.mu.Unlock()
	g.mem.Free(b)
}

func (g *guardAllocator) untrack(b []byte) bool {
	if len(b) == 0 || len(g.live) == 0 {
		return false
	}
	_, ok := g.live[&b[0]]
	if ok {
		delete(g.live, &b[0])
	}
	return ok
}

// begin starts tracking a decoding step.
func (g *guardAllocator) begin() {
	g.mu.Lock()
	g.tracking = true
	g.mu.Unlock()
}

// commit ends a successful step: its buffers are owned elsewhere now.
func (g *guardAllocator) commit() {
	g.mu.Lock()
	g.tracking = false
	clear(g.live)
	g.mu.Unlock()
}

// fail ends a failed step, keeping its live buffers for sweep.
func (g *guardAllocator) fail() {
	g.mu.Lock()
	g.tracking = false
	g.mu.Unlock()
}

// sweep frees the buffers a failed step left behind. Call it only after the
// decoder has released everything it holds.
func (g *guardAllocator) sweep() {
	g.mu.Lock()
	live := g.live
	g.live = map[*byte][]byte{}
	g.mu.Unlock()
	for _, b := range live {
		g.mem.Free(b)
	}
}
