package kernels

import (
	"fmt"
	"math"
)

// Probe kernels: key equality of probe rows against hash-table rows.
//
// A hash-table probe hashes the probe keys, finds a candidate group id per
// row (groups[i]) and then compares the actual keys, column by column:
// bit i of the result says whether probe[i] equals table[groups[i]]. The
// per-column bitmaps are ANDed for multi-column keys; rows whose bit is clear
// continue probing (or insert).
//
// Output is an Arrow-layout (LSB-first) bitmap: bit i is out[i/8]>>(i%8)&1.
// The kernels write every byte of out[:(n+7)/8], n = len(probe); the bits
// past n in the last byte are cleared.
//
// Float equality follows SQL grouping: NaN equals NaN (any payload, any
// sign) and -0.0 equals +0.0, which is exactly the equivalence under which
// HashFloat64 canonicalises keys, so equal keys always land in the same
// group. Otherwise values compare with IEEE ==.
//
// Every groups[i] (of the compared rows) must be less than len(table); an
// out-of-range group id panics (the assembly checks the ids of each block
// before gathering and hands the block to the Go body, which panics).
//
// Levels: AVX-512 (VPGATHERDQ with a k-mask, VPCMPEQQ/VCMPPD into k-masks
// that are stored as bitmap bytes) and AVX2 (VPGATHERDQ + VMOVMSKPD) for the
// unselected kernels when len(table) < 2^31 (the gathers take signed 32-bit
// indices). Measured on the Zen 4 development machine, 8192 rows against a
// 1024-row table, fastest of repeated runs: int64 Go 0.85 ns/row, AVX2 0.43,
// AVX-512 0.40; float64 Go 1.70, AVX2 0.48, AVX-512 0.44.
// The selection-vector variants are Go at every level (0.94 ns per selected
// row): each
// selected row needs three dependent loads and a read-modify-write of its
// bitmap byte, which a gather does not shorten. arm64 keeps the Go bodies:
// NEON has no gather, so the table loads stay scalar either way.

// Function variables swapped by the per-architecture dispatch.
var (
	probeEqInt64Impl   = probeEqInt64Generic
	probeEqFloat64Impl = probeEqFloat64Generic
)

// probeEqInt64Generic is the reference. It builds each output byte in a
// register from eight comparisons.
func probeEqInt64Generic(out []byte, probe, table []int64, groups []uint32) {
	n := len(probe)
	groups = groups[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		var b byte
		for j := 0; j < 8; j++ {
			b |= probeB2u(probe[i+j] == table[groups[i+j]]) << j
		}
		out[i>>3] = b
	}
	if i < n {
		var b byte
		for j := 0; i+j < n; j++ {
			b |= probeB2u(probe[i+j] == table[groups[i+j]]) << j
		}
		out[i>>3] = b
	}
}

// probeFloatEq is SQL grouping equality: IEEE == plus NaN equals NaN.
func probeFloatEq(a, b float64) bool {
	return a == b || (a != a && b != b)
}

// probeFloatEqBit is probeFloatEq as 0 or 1, without branches (random
// match patterns would mispredict).
func probeFloatEqBit(a, b float64) byte {
	return probeB2u(a == b) | probeB2u(a != a)&probeB2u(b != b)
}

// probeEqFloat64Generic is the reference for float64 keys.
func probeEqFloat64Generic(out []byte, probe, table []float64, groups []uint32) {
	n := len(probe)
	groups = groups[:n]
	i := 0
	for ; i+8 <= n; i += 8 {
		var b byte
		for j := 0; j < 8; j++ {
			b |= probeFloatEqBit(probe[i+j], table[groups[i+j]]) << j
		}
		out[i>>3] = b
	}
	if i < n {
		var b byte
		for j := 0; i+j < n; j++ {
			b |= probeB2u(probeFloatEq(probe[i+j], table[groups[i+j]])) << j
		}
		out[i>>3] = b
	}
}

func probeB2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func checkProbe(kernel string, nOut, n, nGroups int) {
	if nGroups < n {
		panic(fmt.Sprintf("kernels.%s: groups has %d elements for %d probe rows", kernel, nGroups, n))
	}
	if need := (n + 7) / 8; nOut < need {
		panic(fmt.Sprintf("kernels.%s: out has %d bytes, want at least %d for %d rows", kernel, nOut, need, n))
	}
}

// ProbeEqInt64 sets bit i of the LSB-first bitmap out to
// probe[i] == table[groups[i]] for every i in [0, len(probe)) and clears the
// padding bits of the last byte. groups must hold at least len(probe) ids,
// each less than len(table); out at least (len(probe)+7)/8 bytes.
func ProbeEqInt64(out []byte, probe, table []int64, groups []uint32) {
	checkProbe("ProbeEqInt64", len(out), len(probe), len(groups))
	probeEqInt64Impl(out, probe, table, groups)
}

// ProbeEqFloat64 is ProbeEqInt64 for float64 keys under SQL grouping
// equality: NaN equals NaN, -0.0 equals +0.0, otherwise IEEE ==.
func ProbeEqFloat64(out []byte, probe, table []float64, groups []uint32) {
	checkProbe("ProbeEqFloat64", len(out), len(probe), len(groups))
	probeEqFloat64Impl(out, probe, table, groups)
}

func checkProbeSel(kernel string, nOut, n, nGroups int) {
	checkProbe(kernel, nOut, n, nGroups)
	if n > math.MaxInt32 {
		panic(fmt.Sprintf("kernels.%s: %d rows do not fit int32 selection indices", kernel, n))
	}
}

// ProbeEqInt64Sel compares only the rows listed in sel (row indices into
// probe and groups, in any order): bit sel[j] of out is set when
// probe[sel[j]] == table[groups[sel[j]]]. Every other bit of
// out[:(len(probe)+7)/8] is cleared. A selected row outside
// [0, len(probe)) panics.
func ProbeEqInt64Sel(out []byte, probe, table []int64, groups []uint32, sel []int32) {
	checkProbeSel("ProbeEqInt64Sel", len(out), len(probe), len(groups))
	out = out[:(len(probe)+7)/8]
	clear(out)
	groups = groups[:len(probe)]
	for _, i := range sel {
		if probe[i] == table[groups[i]] {
			out[i>>3] |= 1 << (i & 7)
		}
	}
}

// ProbeEqFloat64Sel is ProbeEqInt64Sel for float64 keys under SQL grouping
// equality (NaN equals NaN, -0.0 equals +0.0).
func ProbeEqFloat64Sel(out []byte, probe, table []float64, groups []uint32, sel []int32) {
	checkProbeSel("ProbeEqFloat64Sel", len(out), len(probe), len(groups))
	out = out[:(len(probe)+7)/8]
	clear(out)
	groups = groups[:len(probe)]
	for _, i := range sel {
		if probeFloatEq(probe[i], table[groups[i]]) {
			out[i>>3] |= 1 << (i & 7)
		}
	}
}
