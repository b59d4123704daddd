// Package kernels is Velo's vectorized core: the hash, compare, select,
// reduction, grouped-update and partition kernels that every operator calls
// inside a partition.
//
// Each kernel is one Go function over plain slices ([]int64, []float64,
// Arrow-layout validity bitmaps, []int32 selection vectors) so it can be tested
// without Arrow. Its pure-Go body is the documented reference; where assembly
// measures faster, the routines in kernels/asm (AVX2 and AVX-512 on amd64,
// NEON on arm64) are swapped in once at start-up according to the CPU's
// features, read with klauspost/cpuid. The level can be forced with the
// VELO_KERNELS environment variable (generic, avx2, avx512, neon) and, in
// tests, with SetLevel. Building with -tags purego compiles no assembly at
// all and every kernel runs its reference.
package kernels
