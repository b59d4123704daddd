//go:build linux || darwin

package guardmem

import (
	"os"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

func TestBytesEndAtGuard(t *testing.T) {
	for _, n := range []int{0, 1, 7, 8, 4095, 4096, 4097, 70000} {
		b, free := Bytes(n)
		require.Len(t, b, n)
		for i := range b {
			b[i] = byte(i)
		}
		if n > 0 {
			end := uintptr(unsafe.Pointer(unsafe.SliceData(b))) + uintptr(n)
			require.Zero(t, end%uintptr(os.Getpagesize()), "n=%d must end at a page boundary", n)
		}
		free()
	}
	x, free := Int64s(100)
	require.Len(t, x, 100)
	x[99] = 1
	free()
}
