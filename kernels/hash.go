package kernels

import (
	"fmt"
	"math"
	"math/bits"
	"unsafe"

	"github.com/cespare/xxhash/v2"
)

// Hash kernels: 64-bit hashes of key columns for hash partitioning and hash
// tables.
//
// Contract (the reference is the Generic body; every level is bit-identical):
//   - A fixed-width key k hashes to xxhash.Sum64 of its 8 little-endian bytes.
//     For 8 bytes XXH64 (seed 0) reduces to
//     h = rotl(((prime5+8) ^ rotl(k*prime2, 31)*prime1), 27)*prime1 + prime4,
//     followed by the avalanche h ^= h>>33; h *= prime2; h ^= h>>29;
//     h *= prime3; h ^= h>>32 (see xxh64Key).
//   - Float keys are canonicalised before hashing, so that keys equal under
//     SQL grouping rules hash alike: -0.0 hashes as +0.0 (bits 0) and every
//     NaN hashes as CanonicalNaNBits (0x7FF8000000000000). This matches the
//     probe kernels' float equality (NaN equals NaN, -0.0 equals 0.0).
//   - Rows whose validity bit is clear hash to NullHash.
//   - Several key columns are combined with HashCombine.
//
// Levels: AVX-512 (VPMULLQ, VPROLQ; 4 zmm = 32 keys per iteration) and AVX2
// (each 64-bit multiply emulated with three VPMULUDQ) on amd64. Measured on
// the Zen 4 development machine, 8192 keys, fastest of repeated runs:
// xxhash.Sum64 per key 3.6 ns, Go body 2.3 ns, AVX2 1.1 ns, AVX-512
// 0.32 ns per key (make bench-kernels; the shared host varies by ±30 %).
//
// arm64 keeps the Go body. NEON has no 64-bit lane multiply: each of the four
// multiplies per key would take XTN + SHRN + UMULL + UMULL + UMLAL + SHL +
// ADD for two lanes, about 20 instructions and six multiply-pipe ops per key
// in all, against about 14 scalar instructions with four MULs,
// so on cores with one NEON multiply pipe (Neoverse N1/N2, Cortex-A7x) it
// loses; and Go's arm64 assembler has no vector integer multiply mnemonic
// (no VMUL/VUMULL/VUMLAL), so it would need WORD encodings. There is no
// arm64 hardware here to measure the opposite (qemu timings say nothing).

// NullHash is the hash of a null key: the ASCII bytes "veloNULL" read as a
// little-endian uint64. It is an arbitrary fixed constant, different from the
// hash of the empty string (0xef46db3751d8e999).
const NullHash uint64 = 0x4c4c554e6f6c6576

// CanonicalNaNBits is the bit pattern every NaN key is replaced by before
// hashing (the positive quiet NaN with an empty payload).
const CanonicalNaNBits uint64 = 0x7FF8000000000000

// The XXH64 primes.
const (
	prime1 uint64 = 11400714785074694791
	prime2 uint64 = 14029467366897019727
	prime3 uint64 = 1609587929392839161
	prime4 uint64 = 9650029242287828579
	prime5 uint64 = 2870177450012600261
)

// Function variables swapped by the per-architecture dispatch (hash_amd64.go).
var (
	hashUint64Impl  = hashUint64Generic
	hashFloat64Impl = hashFloat64Generic
	hashCombineImpl = hashCombineGeneric
)

// xxh64Key is xxhash.Sum64 of the 8 little-endian bytes of k.
func xxh64Key(k uint64) uint64 {
	h := (prime5 + 8) ^ (bits.RotateLeft64(k*prime2, 31) * prime1)
	h = bits.RotateLeft64(h, 27)*prime1 + prime4
	h ^= h >> 33
	h *= prime2
	h ^= h >> 29
	h *= prime3
	h ^= h >> 32
	return h
}

// hashCanonicalFloatBits returns the bits hashed for f: 0 for ±0.0,
// CanonicalNaNBits for any NaN, else math.Float64bits(f).
func hashCanonicalFloatBits(f float64) uint64 {
	switch {
	case f != f:
		return CanonicalNaNBits
	case f == 0:
		return 0
	}
	return math.Float64bits(f)
}

// hashUint64Generic is the reference: dst[i] = xxh64Key(keys[i]).
func hashUint64Generic(dst, keys []uint64) {
	dst = dst[:len(keys)]
	for i, k := range keys {
		dst[i] = xxh64Key(k)
	}
}

// hashFloat64Generic is the reference for float keys: the xxhash of the
// canonical bits.
func hashFloat64Generic(dst []uint64, keys []float64) {
	dst = dst[:len(keys)]
	for i, f := range keys {
		dst[i] = xxh64Key(hashCanonicalFloatBits(f))
	}
}

// hashCombineOne is HashCombine's formula for one row.
func hashCombineOne(acc, h uint64) uint64 {
	return (bits.RotateLeft64(acc, 27) ^ h) * prime1
}

// hashCombineGeneric is the reference: dst[i] = hashCombineOne(dst[i], h[i]).
func hashCombineGeneric(dst, h []uint64) {
	dst = dst[:len(h)]
	for i, x := range h {
		dst[i] = hashCombineOne(dst[i], x)
	}
}

func checkHashArgs(kernel string, nDst, n int, validity []byte, off int) {
	if nDst < n {
		panic(fmt.Sprintf("kernels.%s: dst has %d elements, want at least %d", kernel, nDst, n))
	}
	hashCheckValidity(kernel, validity, off, n)
}

// hashCheckValidity panics unless validity is nil or holds bits off..off+n-1.
func hashCheckValidity(kernel string, validity []byte, off, n int) {
	if validity == nil {
		return
	}
	if off < 0 {
		panic(fmt.Sprintf("kernels.%s: negative validity offset %d", kernel, off))
	}
	if need := (off + n + 7) / 8; len(validity) < need {
		panic(fmt.Sprintf("kernels.%s: validity has %d bytes, want at least %d for %d rows at bit offset %d",
			kernel, len(validity), need, n, off))
	}
}

// HashUint64 writes into dst[i] the xxhash.Sum64 of the 8 little-endian bytes
// of keys[i]. validity is an optional Arrow (LSB-first) bitmap whose bit
// validityOffset+i tells whether row i is valid; rows with a clear bit get
// NullHash. A nil validity means no nulls. dst must hold at least len(keys)
// elements.
func HashUint64(dst, keys []uint64, validity []byte, validityOffset int) {
	checkHashArgs("HashUint64", len(dst), len(keys), validity, validityOffset)
	hashUint64Impl(dst, keys)
	if validity != nil {
		hashApplyNulls(dst[:len(keys)], validity, validityOffset)
	}
}

// HashInt64 is HashUint64 for int64 keys (the same two's-complement bytes).
func HashInt64(dst []uint64, keys []int64, validity []byte, validityOffset int) {
	checkHashArgs("HashInt64", len(dst), len(keys), validity, validityOffset)
	hashUint64Impl(dst, hashInt64sAsUint64s(keys))
	if validity != nil {
		hashApplyNulls(dst[:len(keys)], validity, validityOffset)
	}
}

// HashTimestamp is HashInt64 for timestamp keys stored as int64 ticks
// (Arrow timestamp, date64 and duration columns).
func HashTimestamp(dst []uint64, keys []int64, validity []byte, validityOffset int) {
	checkHashArgs("HashTimestamp", len(dst), len(keys), validity, validityOffset)
	hashUint64Impl(dst, hashInt64sAsUint64s(keys))
	if validity != nil {
		hashApplyNulls(dst[:len(keys)], validity, validityOffset)
	}
}

// HashFloat64 writes into dst[i] the xxhash.Sum64 of the 8 little-endian bytes
// of keys[i]'s canonical bits: -0.0 hashes like +0.0 and every NaN like
// CanonicalNaNBits, so keys that SQL grouping treats as equal hash alike.
// validity and validityOffset work as in HashUint64.
func HashFloat64(dst []uint64, keys []float64, validity []byte, validityOffset int) {
	checkHashArgs("HashFloat64", len(dst), len(keys), validity, validityOffset)
	hashFloat64Impl(dst, keys)
	if validity != nil {
		hashApplyNulls(dst[:len(keys)], validity, validityOffset)
	}
}

// HashStrings hashes variable-length (utf8 or binary) keys in Arrow layout:
// value i is data[offsets[i]:offsets[i+1]] and dst[i] is its xxhash.Sum64, so
// a string key hashes like the same bytes anywhere else. len(offsets) must be
// len(dst)+1 or more; dst receives len(offsets)-1 hashes. For an Arrow
// *array.String a, pass a.ValueOffsets() with the whole data buffer
// a.Data().Buffers()[2].Bytes(): a.ValueBytes() is rebased to the slice's
// first value, so it matches the offsets only when a.ValueOffsets()[0] == 0. validity and
// validityOffset work as in HashUint64. It runs in Go at every level: the
// per-value cost is xxhash's own (which has its own amd64 and arm64
// assembly for long values).
func HashStrings(dst []uint64, offsets []int32, data []byte, validity []byte, validityOffset int) {
	if len(offsets) == 0 {
		return
	}
	n := len(offsets) - 1
	checkHashArgs("HashStrings", len(dst), n, validity, validityOffset)
	dst = dst[:n]
	for i := range dst {
		dst[i] = xxhash.Sum64(data[offsets[i]:offsets[i+1]])
	}
	if validity != nil {
		hashApplyNulls(dst, validity, validityOffset)
	}
}

// HashCombine folds the hashes h of the next key column into the running row
// hashes dst: dst[i] = (rotl(dst[i], 27) ^ h[i]) * prime1, with prime1 =
// 0x9E3779B185EBCA87 (XXH64's first prime) and arithmetic modulo 2^64. A
// multi-column key (a, b, c) hashes as HashCombine(HashCombine(H(a), H(b)),
// H(c)); the rotation makes the order matter, so (a, b) and (b, a) hash
// differently, and the multiply by an odd constant is a bijection that
// spreads the mix into the high bits used for partitioning. dst must hold at
// least len(h) elements.
func HashCombine(dst, h []uint64) {
	if len(dst) < len(h) {
		panic(fmt.Sprintf("kernels.HashCombine: dst has %d elements, want at least %d", len(dst), len(h)))
	}
	hashCombineImpl(dst, h)
}

// hashApplyNulls sets dst[i] = NullHash where bit off+i of validity is clear.
// It reads the bitmap 64 rows at a time and skips all-valid words.
func hashApplyNulls(dst []uint64, validity []byte, off int) {
	n := len(dst)
	for base := 0; base < n; base += 64 {
		w := hashValidityBits(validity, off+base, min(64, n-base))
		if w == ^uint64(0) {
			continue
		}
		m := min(64, n-base)
		inv := ^w
		if m < 64 {
			inv &= 1<<uint(m) - 1
		}
		for inv != 0 {
			j := bits.TrailingZeros64(inv)
			dst[base+j] = NullHash
			inv &= inv - 1
		}
	}
}

// hashValidityBits returns bits off..off+m-1 of an LSB-first bitmap (1 <= m <= 64) in
// the low m bits of the result; the bits above m are set to 1. It reads only
// the bytes that hold those bits.
func hashValidityBits(bm []byte, off, m int) uint64 {
	first := off >> 3
	last := (off + m - 1) >> 3
	var w uint64
	if last-first >= 7 { // 8 or 9 bytes

		w = uint64(bm[first]) | uint64(bm[first+1])<<8 | uint64(bm[first+2])<<16 | uint64(bm[first+3])<<24 |
			uint64(bm[first+4])<<32 | uint64(bm[first+5])<<40 | uint64(bm[first+6])<<48 | uint64(bm[first+7])<<56
		w >>= uint(off & 7)
		if last-first == 8 {
			w |= uint64(bm[last]) << (64 - uint(off&7))
		}
	} else {
		for b := first; b <= last; b++ {
			w |= uint64(bm[b]) << (uint(b-first) * 8)
		}
		w >>= uint(off & 7)
	}
	if m < 64 {
		w |= ^uint64(0) << uint(m)
	}
	return w
}

func hashInt64sAsUint64s(s []int64) []uint64 {
	return unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
