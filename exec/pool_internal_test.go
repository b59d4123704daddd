package exec

import (
	"testing"

	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/stretchr/testify/require"
)

// TestBufPool checks the pool's allocator contract: sizes, capacities by
// power-of-two class, Reallocate keeping the bytes, and Free ignoring
// buffers that did not come from Allocate.
func TestBufPool(t *testing.T) {
	var p bufPool
	for _, tc := range []struct{ size, cap int }{{1, 1}, {7, 8}, {8, 8}, {9, 16}, {65536, 65536}, {65537, 131072}} {
		b := p.Allocate(tc.size)
		require.Len(t, b, tc.size)
		require.Equal(t, tc.cap, cap(b), "size %d", tc.size)
		p.Free(b)
	}
	b := p.Allocate(10)
	copy(b, "0123456789")
	b = p.Reallocate(40, b)
	require.Len(t, b, 40)
	require.Equal(t, "0123456789", string(b[:10]))
	require.Equal(t, 64, cap(b))
	require.Equal(t, "0123", string(p.Reallocate(4, b)))
	// A buffer of another capacity is dropped, never handed out again.
	p.Free(make([]byte, 24))
	for range 100 {
		require.Equal(t, 32, cap(p.Allocate(24)))
	}
	require.Len(t, p.Allocate(0), 0)
}

// TestFloat64ResultRecycled: a large float64 result is taken from the pool
// and its array hands the buffer back when released; toArray leaves it to
// the garbage collector, and a recycled vector drops its values.
func TestFloat64ResultRecycled(t *testing.T) {
	defer func(old int64) { poolMinBytes.Store(old) }(poolMinBytes.Swap(64))
	small := newFloat64Result(7, true)
	require.Nil(t, small.pooled)
	require.Len(t, small.f64, 7)
	v := newFloat64Result(100, true)
	require.NotNil(t, v.pooled)
	require.Len(t, v.f64, 100)
	for i := range v.f64 {
		v.f64[i] = float64(i) / 4
	}
	a := v.toArrayRecycled(float64Type)
	require.Nil(t, v.f64)
	require.Nil(t, v.pooled)
	require.Equal(t, 100, a.Len())
	require.Equal(t, 24.75, a.(*array.Float64).Value(99))
	require.Equal(t, 0, a.NullN())
	a.Release()

	w := newFloat64Result(100, true)
	for i := range w.f64 {
		w.f64[i] = 1
	}
	b := w.toArray(float64Type)
	require.NotNil(t, w.f64, "toArray keeps the vector usable")
	require.Equal(t, 1.0, b.(*array.Float64).Value(50))
	b.Release()
	require.Nil(t, newFloat64Result(100, false).pooled, "results that do not go through toArrayRecycled stay on the Go heap")
}
