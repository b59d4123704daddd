package exec

import (
	"math/bits"
	"sync"
	"sync/atomic"
	"unsafe"
)

// poolMinBytes is the smallest value buffer the evaluator recycles: Go
// allocates smaller ones cheaply from its size classes, while a large one
// (an 8,192-row float64 column is 64 KiB) costs a heap span, zeroing and
// GC work per batch — more than computing price * quantity over it.
// Tests lower it to recycle every result.
var poolMinBytes atomic.Int64

func init() { poolMinBytes.Store(16 << 10) }

// maxPoolClass is the largest size class (1 << maxPoolClass bytes) kept.
const maxPoolClass = 30

// bufPool recycles the value buffers of large float64 results (see
// vec.pooled). It is a memory.Allocator, so a buffer wrapped in an Arrow
// array comes back when the array's last reference is released: buffers
// are kept in sync.Pools by power-of-two capacity. Allocate does not zero.
type bufPool struct {
	classes [maxPoolClass + 1]sync.Pool // of *[]byte with cap 1 << class
}

// resultPool is the evaluator's pool, shared by every pipeline (sync.Pool
// is safe across partition goroutines).
var resultPool bufPool

func poolClass(size int) int { return bits.Len(uint(size - 1)) }

// Allocate implements memory.Allocator: size bytes, not zeroed.
func (p *bufPool) Allocate(size int) []byte {
	c := poolClass(size)
	if size <= 0 || c > maxPoolClass {
		return make([]byte, size)
	}
	if b, ok := p.classes[c].Get().(*[]byte); ok {
		return (*b)[:size]
	}
	return make([]byte, size, 1<<c)
}

// Reallocate implements memory.Allocator.
func (p *bufPool) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		return b[:size]
	}
	nb := p.Allocate(size)
	copy(nb, b)
	p.Free(b)
	return nb
}

// Free implements memory.Allocator: b returns to its class when its
// capacity is one (it came from Allocate).
func (p *bufPool) Free(b []byte) {
	c := cap(b)
	if c == 0 || c&(c-1) != 0 || bits.Len(uint(c-1)) > maxPoolClass {
		return
	}
	b = b[:c]
	p.classes[bits.Len(uint(c-1))].Put(&b)
}

// newFloat64Result returns a float64 vector of n rows whose every value
// the caller writes (the values are not zeroed). With recycle (the result
// set becomes arrays through toArrayRecycled) large ones take their buffer
// from resultPool, which the array hands back when released.
func newFloat64Result(n int, recycle bool) *vec {
	v := &vec{t: float64Type, k: kF64, n: n}
	if !recycle || int64(n)*8 < poolMinBytes.Load() {
		v.f64 = make([]float64, n)
		return v
	}
	v.pooled = resultPool.Allocate(n * 8)
	v.f64 = unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(v.pooled))), n)
	return v
}
