package exec

import "github.com/velo-engine/velo/partition"

// SetBatching turns on the partitions' adaptive batching (no SQL setting
// does yet), for tests that check coalesced batches give the same results.
func SetBatching(p *Partitioned, b partition.Batching) { p.cfg.Batching = b }

// Coalesced returns how many routed batches the partitions coalesced.
func Coalesced(s *PartitionedStream) int64 {
	var n int64
	for _, p := range s.q.Metrics().Partitions {
		n += p.Coalesced
	}
	return n
}

// SetPoolMinBytes sets the smallest float64 result the evaluator recycles
// through its buffer pool and returns the function that restores it.
func SetPoolMinBytes(n int64) (restore func()) {
	old := poolMinBytes.Swap(n)
	return func() { poolMinBytes.Store(old) }
}
