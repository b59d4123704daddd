//go:build !purego

package kernels

// detectLevels: Advanced SIMD (NEON) is mandatory in ARMv8-A, the baseline
// Go requires on arm64, so it is always available.
func detectLevels() []Level { return []Level{Generic, NEON} }
