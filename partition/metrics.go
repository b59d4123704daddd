package partition

import (
	"fmt"
	"math"
	"sync/atomic"
	"time"
)

// BackpressureState classifies how full a partition's input channel is.
type BackpressureState uint8

const (
	// Healthy: the channel is less than 70 % full.
	Healthy BackpressureState = iota
	// Warning: at least 70 % and less than 85 % full.
	Warning
	// Critical: at least 85 % and less than 95 % full.
	Critical
	// Saturated: at least 95 % full; producers are (about to be) blocked.
	Saturated
)

var backpressureNames = [...]string{Healthy: "healthy", Warning: "warning", Critical: "critical", Saturated: "saturated"}

// String returns the state's lower-case name.
func (s BackpressureState) String() string {
	if int(s) < len(backpressureNames) {
		return backpressureNames[s]
	}
	return fmt.Sprintf("BackpressureState(%d)", uint8(s))
}

// BackpressureFor returns the state of a channel holding depth of capacity
// slots: Healthy below 70 %, Warning below 85 %, Critical below 95 %,
// Saturated from 95 % on. The comparisons are exact (integer arithmetic):
// 7 of 10 slots is Warning, 69 of 100 is Healthy.
func BackpressureFor(depth, capacity int) BackpressureState {
	if capacity <= 0 {
		if depth > 0 {
			return Saturated
		}
		return Healthy
	}
	d := int64(depth) * 100
	c := int64(capacity)
	switch {
	case d < 70*c:
		return Healthy
	case d < 85*c:
		return Warning
	case d < 95*c:
		return Critical
	}
	return Saturated
}

// Latency histogram: bucket i counts latencies in (bound(i-1), bound(i)]
// with bound(i) = 1µs × 2^(i/4) (four buckets per doubling, ≤ 19 % relative
// error), from 1 µs to about 1.2 hours; the last bucket is unbounded.
const (
	latencyBuckets   = 4*32 + 1
	latencyMinNanos  = 1000.0
	latencyPerDouble = 4
)

// latencyBound returns the upper bound of bucket i in nanoseconds (+Inf for
// the last bucket).
func latencyBound(i int) float64 {
	if i >= latencyBuckets-1 {
		return math.Inf(1)
	}
	return latencyMinNanos * math.Exp2(float64(i)/latencyPerDouble)
}

// latencyBucket returns the bucket of a latency of ns nanoseconds.
func latencyBucket(ns int64) int {
	if float64(ns) <= latencyMinNanos {
		return 0
	}
	i := int(math.Ceil(math.Log2(float64(ns)/latencyMinNanos) * latencyPerDouble))
	// Guard against rounding at exact bounds.
	for i > 0 && float64(ns) <= latencyBound(i-1) {
		i--
	}
	for i < latencyBuckets-1 && float64(ns) > latencyBound(i) {
		i++
	}
	return i
}

// latencyHistogram is a fixed-bucket histogram updated with atomics only.
type latencyHistogram struct {
	counts [latencyBuckets]atomic.Int64
	sum    atomic.Int64 // nanoseconds
	max    atomic.Int64
}

func (h *latencyHistogram) observe(ns int64) {
	if ns < 0 {
		ns = 0
	}
	h.counts[latencyBucket(ns)].Add(1)
	h.sum.Add(ns)
	for {
		m := h.max.Load()
		if ns <= m || h.max.CompareAndSwap(m, ns) {
			return
		}
	}
}

// LatencySnapshot summarises a partition's batch latencies: the time from
// the router enqueueing a batch to the pipeline having processed it
// (queueing, coalescing delay and processing).
type LatencySnapshot struct {
	// Count is the number of batches observed.
	Count int64
	// Sum is the total latency.
	Sum time.Duration
	// P50, P95 and P99 are quantiles, each the upper bound of the histogram
	// bucket that holds it (at most 19 % above the true value).
	P50, P95, P99 time.Duration
	// Max is the largest latency observed (exact).
	Max time.Duration
	// Buckets[i] counts latencies at most BucketBounds[i] (and above the
	// previous bound); the last bound is +Inf.
	Buckets []int64
	// BucketBounds are the buckets' upper bounds in seconds.
	BucketBounds []float64
}

func (h *latencyHistogram) snapshot() LatencySnapshot {
	s := LatencySnapshot{Buckets: make([]int64, latencyBuckets), BucketBounds: make([]float64, latencyBuckets)}
	for i := range s.Buckets {
		s.Buckets[i] = h.counts[i].Load()
		s.Count += s.Buckets[i]
		s.BucketBounds[i] = latencyBound(i) / 1e9
	}
	s.Sum = time.Duration(h.sum.Load())
	s.Max = time.Duration(h.max.Load())
	s.P50, s.P95, s.P99 = s.quantile(0.50), s.quantile(0.95), s.quantile(0.99)
	return s
}

// quantile returns the bucket bound holding the q-quantile, capped by Max.
func (s LatencySnapshot) quantile(q float64) time.Duration {
	if s.Count == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(s.Count)))
	var cum int64
	for i, c := range s.Buckets {
		cum += c
		if cum >= rank {
			b := latencyBound(i)
			if math.IsInf(b, 1) || time.Duration(b) > s.Max {
				return s.Max
			}
			return time.Duration(b)
		}
	}
	return s.Max
}

// partitionCounters are one partition's live metrics. Routers (any number
// of goroutines) and the partition's worker update them with atomics only.
type partitionCounters struct {
	recordsIn, batchesIn   atomic.Int64 // routed to the partition
	recordsOut, batchesOut atomic.Int64 // emitted by the pipeline
	invocations            atomic.Int64 // Pipeline.Push calls
	late, dropped          atomic.Int64
	peakDepth              atomic.Int64
	coalesced, split       atomic.Int64 // input batches merged / split by adaptive batching
	target                 atomic.Int64 // current adaptive batch target (rows)
	maxHold                atomic.Int64 // longest coalescing wait (nanos)
	lastInput              atomic.Int64 // monotonic nanos of the last batch received
	watermark              atomic.Int64
	finished               atomic.Bool
	latency                latencyHistogram
	_                      [64]byte // keep partitions' hot counters on separate cache lines
}

func (c *partitionCounters) notePeak(depth int64) {
	for {
		p := c.peakDepth.Load()
		if depth <= p || c.peakDepth.CompareAndSwap(p, depth) {
			return
		}
	}
}

func (c *partitionCounters) noteHold(ns int64) {
	for {
		m := c.maxHold.Load()
		if ns <= m || c.maxHold.CompareAndSwap(m, ns) {
			return
		}
	}
}

// PartitionMetrics is a snapshot of one partition's metrics.
type PartitionMetrics struct {
	// Partition is the partition id.
	Partition int
	// RecordsIn and BatchesIn count rows and batches routed to the
	// partition (late rows dropped by the router are not included).
	RecordsIn, BatchesIn int64
	// RecordsOut and BatchesOut count rows and records the pipeline emitted.
	RecordsOut, BatchesOut int64
	// Invocations counts Pipeline.Push calls (fewer than BatchesIn when
	// adaptive batching coalesces small batches).
	Invocations int64
	// LateRecords counts rows that arrived below their source's watermark
	// (whatever the policy); DroppedRecords those of them that LateDrop
	// dropped.
	LateRecords, DroppedRecords int64
	// QueueDepth is the number of messages waiting in the input channel,
	// QueueCapacity its capacity and PeakQueueDepth the largest depth a
	// router saw after sending.
	QueueDepth, QueueCapacity, PeakQueueDepth int
	// Utilization is QueueDepth / QueueCapacity.
	Utilization float64
	// Backpressure classifies Utilization (BackpressureFor).
	Backpressure BackpressureState
	// Latency summarises batch latencies.
	Latency LatencySnapshot
	// Watermark is the partition's watermark (math.MinInt64 before the
	// first, math.MaxInt64 after Finish).
	Watermark int64
	// Idle reports that no batch arrived for Config.IdleTimeout; an idle
	// partition does not hold back the query watermark.
	Idle bool
	// Hot reports throughput above Config.HotFactor × the mean over
	// partitions (cumulative RecordsIn).
	Hot bool
	// BatchTarget is the adaptive batching target in rows (0 when adaptive
	// batching is off); Coalesced counts input batches merged into larger
	// ones and Split the input batches cut into several.
	BatchTarget      int
	Coalesced, Split int64
	// MaxHold is the longest time a batch waited in the coalescing buffer
	// (from the worker taking it off the channel to the flush that ran
	// it): Batching.MaxDelay plus at most the handling of one message,
	// unless the worker goroutine was not scheduled. Time spent queued in
	// the channel is backpressure and shows in Latency instead.
	MaxHold time.Duration
}

// Metrics is a snapshot of a query's partition metrics.
type Metrics struct {
	// Partitions holds one entry per partition, by id.
	Partitions []PartitionMetrics
	// Watermark is the query watermark: the minimum over non-idle
	// partitions.
	Watermark int64
	// Hot lists the hot partitions' ids.
	Hot []int
	// RecordsIn, RecordsOut, LateRecords and DroppedRecords are totals over
	// the partitions.
	RecordsIn, RecordsOut, LateRecords, DroppedRecords int64
}
