//go:build !purego && amd64

package kernels

// takeLimit is the largest index the gather routines accept for a source of
// n elements (they compare unsigned, so negative indices fail too); n > 0.
func takeLimit(n int) uint32 {
	if n > 1<<31 {
		return 1<<31 - 1
	}
	return uint32(n - 1)
}
