//go:build !purego

package kernels

import (
	"math"

	"github.com/velo-engine/velo/kernels/asm"
)

func init() {
	onLevel(func(l Level) {
		switch l {
		case AVX512:
			probeEqInt64Impl = probeEqInt64AVX512
			probeEqFloat64Impl = probeEqFloat64AVX512
		case AVX2:
			probeEqInt64Impl = probeEqInt64AVX2
			probeEqFloat64Impl = probeEqFloat64AVX2
		default:
			probeEqInt64Impl = probeEqInt64Generic
			probeEqFloat64Impl = probeEqFloat64Generic
		}
	})
}

// probeAsmOK reports whether the gathers can address the table: at least
// one row (the AVX2 range check uses len-1) and signed 32-bit indices.
func probeAsmOK(tableLen int) bool { return tableLen >= 1 && tableLen <= math.MaxInt32 }

// The assembly returns the rows it compared (a multiple of 8: all whole
// blocks, or fewer when a block holds an out-of-range group id); the Go body
// does the rest and panics on a bad id.

func probeEqInt64AVX512(out []byte, probe, table []int64, groups []uint32) {
	k := 0
	if probeAsmOK(len(table)) {
		k = asm.ProbeEqInt64AVX512(out, probe, table, groups)
	}
	probeEqInt64Generic(out[k>>3:], probe[k:], table, groups[k:])
}

func probeEqFloat64AVX512(out []byte, probe, table []float64, groups []uint32) {
	k := 0
	if probeAsmOK(len(table)) {
		k = asm.ProbeEqFloat64AVX512(out, probe, table, groups)
	}
	probeEqFloat64Generic(out[k>>3:], probe[k:], table, groups[k:])
}

func probeEqInt64AVX2(out []byte, probe, table []int64, groups []uint32) {
	k := 0
	if probeAsmOK(len(table)) {
		k = asm.ProbeEqInt64AVX2(out, probe, table, groups)
	}
	probeEqInt64Generic(out[k>>3:], probe[k:], table, groups[k:])
}

func probeEqFloat64AVX2(out []byte, probe, table []float64, groups []uint32) {
	k := 0
	if probeAsmOK(len(table)) {
		k = asm.ProbeEqFloat64AVX2(out, probe, table, groups)
	}
	probeEqFloat64Generic(out[k>>3:], probe[k:], table, groups[k:])
}
