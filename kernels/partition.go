package kernels

import (
	"fmt"
	"math"
	"unsafe"
)

// Partition kernels: route rows to N partitions by hash.
//
// The router hashes the key columns (HashInt64 …, HashCombine), maps each
// hash to a partition id with PartitionIDs, counts rows per partition with
// Histogram, turns the counts into start offsets with PartitionStarts and
// then either scatters each column into one buffer laid out partition after
// partition (ScatterInt64, ScatterUint32 …) or builds per-partition selection
// vectors with ScatterIndices. All scatters are stable: within a partition
// rows keep their input order.
//
// A scatter advances cursors in place (cursors[p] starts at partition p's
// first slot and ends one past its last), so a caller that scatters several
// columns copies the starts into the cursors before each one.
//
// For two partitions SplitTwo replaces PartitionIDs + ScatterIndices: it
// reads the hash's top bit (the id at n = 2) and writes each row's index to
// its partition's selection vector in one pass.
//
// Levels: PartitionIDs and SplitTwo have AVX-512 and AVX2 assembly
// (partition_amd64.s). SplitTwo at 8192 rows, medians of 5 (go test -run '^$'
// -bench 'Kernels/partition/SplitTwo' -count 5 ./kernels/): Go 0.72 ns/row,
// AVX2 0.19 (a 256-entry left-pack table per 8 rows), AVX-512 0.13
// (VPCOMPRESSD into a register per 16 rows; without the two stores per 16
// rows it measured 0.12, so the compresses bound it).
// Histogram and the scatters are scalar Go at every level: each row is one
// dependent load-increment-store. Measured on the Zen 4 development machine,
// 8192 rows, fastest of repeated runs: PartitionIDs Go 0.60 ns/row, AVX2 and
// AVX-512 0.11; Histogram 0.36 ns/row (8 partitions) and 0.56 (1024);
// ScatterInt64 0.93 / 0.79, ScatterUint32 0.85 / 0.75, ScatterIndices
// 0.88 / 0.70 ns/row (8 / 1024 partitions). A SIMD scatter would need conflict
// detection (VPCONFLICTD + VPOPCNTD for each row's rank among same-partition
// rows in the vector), a gather of the cursors and scatter stores of the
// values and cursors: about three gathered or scattered elements per row. The
// probe kernels' gathers measured about 1.5 cycles per element here, so that
// alone matches the scalar loop's ~3 cycles per row; it has not been
// attempted. Histogram splits its
// counts over four stack sub-histograms when there are at most 256
// partitions (and 64 rows or more): up to 2-4x faster than one table when
// consecutive rows share a partition (skewed keys) and no slower otherwise.
// arm64 keeps the Go bodies: Go's arm64 assembler has no vector integer
// multiply for PartitionIDs, and SplitTwo has no NEON routine (NEON has no
// compress; a table left-pack like the AVX2 one has not been written).

// Function variables swapped by the per-architecture dispatch.
var (
	partitionIDsImpl = partitionIDsGeneric
	splitTwoImpl     = splitTwoGeneric
)

// partitionIDsGeneric is the reference: the "fastrange" multiply-high of the
// hash's high 32 bits by n.
func partitionIDsGeneric(dst []uint32, hashes []uint64, n uint32) {
	dst = dst[:len(hashes)]
	for i, h := range hashes {
		dst[i] = uint32((h >> 32) * uint64(n) >> 32)
	}
}

// PartitionIDs maps each hash to a partition id in [0, n):
// dst[i] = uint32((uint64(uint32(hashes[i]>>32)) * uint64(n)) >> 32), Lemire's
// multiply-high "fastrange" of the hash's HIGH 32 bits. Using only the high
// bits leaves the low bits independent of the partition, so the hash table
// inside each partition can index with them. n must be in [1, 2^32-1] and dst
// must hold at least len(hashes) elements.
func PartitionIDs(dst []uint32, hashes []uint64, n int) {
	if n < 1 || n > math.MaxUint32 {
		panic(fmt.Sprintf("kernels.PartitionIDs: partition count %d out of range [1, 2^32-1]", n))
	}
	if len(dst) < len(hashes) {
		panic(fmt.Sprintf("kernels.PartitionIDs: dst has %d elements, want at least %d", len(dst), len(hashes)))
	}
	partitionIDsImpl(dst, hashes, uint32(n))
}

// SplitTwo splits the rows of hashes between two partitions by the hash's
// top bit: it writes, in row order, base+i for every i with hashes[i]>>63 == 0
// to sel0 and for every other i to sel1, and returns how many indices each
// got (n0 + n1 == len(hashes)). The top bit is exactly PartitionIDs' id at
// n = 2, so SplitTwo equals PartitionIDs(ids, hashes, 2) followed by a stable
// scatter of the row indices (ScatterIndices) into one selection vector per
// partition, without the ids, the histogram or the cursors.
//
// sel0 and sel1 must each hold at least len(hashes) elements and must not
// overlap (it panics if one is shorter). SplitTwo may overwrite sel0[n0:] and
// sel1[n1:] up to len(hashes) elements; their contents there are
// unspecified. base lets a caller split a sub-range of a batch: it must be
// non-negative and base+len(hashes) must not exceed 1<<31, so every index
// fits an int32 (it panics otherwise). SplitTwo does not allocate.
func SplitTwo(sel0, sel1 []int32, hashes []uint64, base int32) (n0, n1 int) {
	if len(sel0) < len(hashes) || len(sel1) < len(hashes) {
		panic(fmt.Sprintf("kernels.SplitTwo: sel0 has %d and sel1 %d elements, want at least %d", len(sel0), len(sel1), len(hashes)))
	}
	if base < 0 || int64(base)+int64(len(hashes)) > math.MaxInt32+1 {
		panic(fmt.Sprintf("kernels.SplitTwo: indices from %d for %d rows do not fit int32", base, len(hashes)))
	}
	n1 = splitTwoImpl(sel0, sel1, hashes, base)
	return len(hashes) - n1, n1
}

// splitTwoGeneric is the reference of SplitTwo and returns n1. It is branch
// free: each row's index is written to both selection vectors and only its
// own partition's count advances, so the other copy is overwritten by the
// next row (a count never passes the row number, so the writes stay inside
// the first len(hashes) elements).
func splitTwoGeneric(sel0, sel1 []int32, hashes []uint64, base int32) int {
	sel0 = sel0[:len(hashes)]
	sel1 = sel1[:len(hashes)]
	n0, n1 := 0, 0
	for i, h := range hashes {
		b := int(h >> 63)
		sel0[n0] = base + int32(i)
		sel1[n1] = base + int32(i)
		n1 += b
		n0 += b ^ 1
	}
	return n1
}

// Histogram sets counts[p] to the number of ids equal to p, for every p in
// [0, len(counts)). Every id must be less than len(counts) (it panics
// otherwise, possibly after updating counts).
func Histogram(counts []int32, ids []uint32) {
	clear(counts)
	switch {
	case len(ids) < 64 || len(counts) > 256:
		for _, id := range ids {
			counts[id]++
		}
	case len(counts) <= 16:
		var sub [4][16]int32
		histogramSplit(counts, ids, sub[0][:], sub[1][:], sub[2][:], sub[3][:])
	default:
		var sub [4][256]int32
		histogramSplit(counts, ids, sub[0][:], sub[1][:], sub[2][:], sub[3][:])
	}
}

// histogramSplit counts ids into four interleaved sub-histograms (stack
// arrays of the caller, at least len(counts) long) and sums them into
// counts. The split breaks the store-to-load dependency when consecutive
// rows share a partition (skewed keys).
func histogramSplit(counts []int32, ids []uint32, s0, s1, s2, s3 []int32) {
	i := 0
	for ; i+4 <= len(ids); i += 4 {
		s0[ids[i]]++
		s1[ids[i+1]]++
		s2[ids[i+2]]++
		s3[ids[i+3]]++
	}
	for ; i < len(ids); i++ {
		s0[ids[i]]++
	}
	var total int
	for p := range counts {
		counts[p] = s0[p] + s1[p] + s2[p] + s3[p]
		total += int(counts[p])
	}
	if total != len(ids) {
		// Some id in [len(counts), len(s0)) was counted but not copied
		// (ids beyond that already panicked on the bound): find it and
		// panic like the plain loop.
		for _, id := range ids {
			_ = counts[id]
		}
	}
}

// PartitionStarts writes the exclusive prefix sum of counts into starts
// (starts[p] = counts[0] + … + counts[p-1], the first slot of partition p in
// a partition-ordered buffer) and returns the total. starts must hold at least
// len(counts) elements.
func PartitionStarts(starts, counts []int32) int32 {
	starts = starts[:len(counts)]
	var sum int32
	for p, c := range counts {
		starts[p] = sum
		sum += c
	}
	return sum
}

func checkScatter(kernel string, nDst, nSrc, nIDs int) {
	if nSrc < nIDs {
		panic(fmt.Sprintf("kernels.%s: src has %d elements for %d ids", kernel, nSrc, nIDs))
	}
	_ = nDst // cursors address dst; out-of-range cursors panic in the loop
}

// ScatterInt64 writes src[i] to dst[cursors[ids[i]]] and increments that
// cursor, for i in [0, len(ids)), in row order (stable). With cursors set to
// PartitionStarts of the Histogram of ids, dst ends up holding partition 0's
// rows, then partition 1's, and so on, and cursors[p] ends at partition p's
// end. src must hold at least len(ids) elements; a cursor outside dst panics.
func ScatterInt64(dst, src []int64, ids []uint32, cursors []int32) {
	checkScatter("ScatterInt64", len(dst), len(src), len(ids))
	src = src[:len(ids)]
	for i, p := range ids {
		c := cursors[p]
		dst[c] = src[i]
		cursors[p] = c + 1
	}
}

// ScatterFloat64 is ScatterInt64 for float64 columns (the bits are moved
// unchanged).
func ScatterFloat64(dst, src []float64, ids []uint32, cursors []int32) {
	ScatterInt64(partitionF64AsI64(dst), partitionF64AsI64(src), ids, cursors)
}

// ScatterUint32 is ScatterInt64 for 4-byte columns.
func ScatterUint32(dst, src []uint32, ids []uint32, cursors []int32) {
	checkScatter("ScatterUint32", len(dst), len(src), len(ids))
	src = src[:len(ids)]
	for i, p := range ids {
		c := cursors[p]
		dst[c] = src[i]
		cursors[p] = c + 1
	}
}

// ScatterInt32 is ScatterUint32 for int32 columns.
func ScatterInt32(dst, src []int32, ids []uint32, cursors []int32) {
	ScatterUint32(partitionI32AsU32(dst), partitionI32AsU32(src), ids, cursors)
}

// ScatterIndices writes each row's index i to dst[cursors[ids[i]]] and
// increments that cursor (stable). With cursors set to PartitionStarts,
// dst[starts[p]:cursors[p]] afterwards is partition p's selection vector, in
// row order, ready for a gather of each column.
func ScatterIndices(dst []int32, ids []uint32, cursors []int32) {
	if len(ids) > math.MaxInt32 {
		panic(fmt.Sprintf("kernels.ScatterIndices: %d rows do not fit int32 indices", len(ids)))
	}
	for i, p := range ids {
		c := cursors[p]
		dst[c] = int32(i)
		cursors[p] = c + 1
	}
}

func partitionF64AsI64(s []float64) []int64 {
	return unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}

func partitionI32AsU32(s []int32) []uint32 {
	return unsafe.Slice((*uint32)(unsafe.Pointer(unsafe.SliceData(s))), len(s))
}
