package partition

import (
	"bytes"
	"context"
	"github.com/prometheus/client_golang/prometheus"
	"math"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/columnar"
)

func TestStrategyNames(t *testing.T) {
	for _, s := range []Strategy{Hash, Smart, Sticky, RoundRobin, FanIn} {
		got, err := ParseStrategy(s.String())
		require.NoError(t, err)
		require.Equal(t, s, got)
	}
	for name, want := range map[string]Strategy{"AlwaysHash": Hash, "smart_repartition": Smart, " ROUND_ROBIN ": RoundRobin, "fan-in": FanIn} {
		got, err := ParseStrategy(name)
		require.NoError(t, err, name)
		require.Equal(t, want, got, name)
	}
	_, err := ParseStrategy("random")
	require.ErrorContains(t, err, `unknown partitioning strategy "random"`)
	require.Equal(t, "Strategy(9)", Strategy(9).String())
	for _, p := range []LatePolicy{LateProcess, LateWarn, LateDrop} {
		got, err := ParseLatePolicy(p.String())
		require.NoError(t, err)
		require.Equal(t, p, got)
	}
	_, err = ParseLatePolicy("ignore")
	require.ErrorContains(t, err, `unknown late data strategy "ignore"`)
}

func TestValidateStrategy(t *testing.T) {
	tests := []struct {
		s                  Strategy
		stateful, twoPhase bool
		ok                 bool
	}{
		{Hash, true, false, true},
		{Hash, false, false, true},
		{Smart, true, false, true},
		{FanIn, true, false, true},
		{Sticky, false, false, true},
		{Sticky, true, false, false},
		{Sticky, true, true, true},
		{RoundRobin, false, false, true},
		{RoundRobin, true, false, false},
		{RoundRobin, true, true, true},
		{Strategy(7), false, false, false},
	}
	for _, tc := range tests {
		err := ValidateStrategy(tc.s, tc.stateful, tc.twoPhase)
		if tc.ok {
			require.NoError(t, err, "%s stateful=%v twoPhase=%v", tc.s, tc.stateful, tc.twoPhase)
		} else {
			require.Error(t, err, "%s stateful=%v twoPhase=%v", tc.s, tc.stateful, tc.twoPhase)
		}
	}
	require.ErrorContains(t, ValidateStrategy(RoundRobin, true, false), "rows of one key reach several partitions")
}

func TestBackpressureThresholds(t *testing.T) {
	tests := []struct {
		depth, capacity int
		want            BackpressureState
	}{
		{0, 100, Healthy}, {69, 100, Healthy}, {70, 100, Warning}, {84, 100, Warning},
		{85, 100, Critical}, {94, 100, Critical}, {95, 100, Saturated}, {100, 100, Saturated},
		// Capacity 16: 70 % = 11.2, 85 % = 13.6, 95 % = 15.2 slots.
		{11, 16, Healthy}, {12, 16, Warning}, {13, 16, Warning}, {14, 16, Critical}, {15, 16, Critical}, {16, 16, Saturated},
		// Capacity 20: exact boundaries 14, 17, 19.
		{13, 20, Healthy}, {14, 20, Warning}, {16, 20, Warning}, {17, 20, Critical}, {18, 20, Critical}, {19, 20, Saturated},
		{0, 0, Healthy}, {1, 0, Saturated},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, BackpressureFor(tc.depth, tc.capacity), "%d of %d", tc.depth, tc.capacity)
	}
	require.Equal(t, "saturated", Saturated.String())
}

func TestLatencyHistogram(t *testing.T) {
	// Bucket bounds are 1µs·2^(i/4); every value lands in the first bucket
	// whose bound is at least the value.
	for _, ns := range []int64{0, 1, 999, 1000, 1001, 1189, 1190, 2000, 2001, 1e6, 1e9, math.MaxInt64} {
		i := latencyBucket(ns)
		require.LessOrEqual(t, float64(ns), latencyBound(i), "ns=%d", ns)
		if i > 0 {
			require.Greater(t, float64(ns), latencyBound(i-1), "ns=%d", ns)
		}
	}
	var h latencyHistogram
	// 100 observations: 1..100 µs.
	for us := int64(1); us <= 100; us++ {
		h.observe(us * 1000)
	}
	s := h.snapshot()
	require.EqualValues(t, 100, s.Count)
	require.Equal(t, 5050*time.Microsecond, s.Sum)
	require.Equal(t, 100*time.Microsecond, s.Max)
	// The q-quantile is the bound of the bucket holding rank ceil(q·100):
	// at most 19 % above the exact value and never below it.
	for _, c := range []struct {
		got   time.Duration
		exact int64
	}{{s.P50, 50}, {s.P95, 95}, {s.P99, 99}} {
		require.GreaterOrEqual(t, c.got, time.Duration(c.exact)*time.Microsecond)
		require.LessOrEqual(t, float64(c.got), 1.19*float64(time.Duration(c.exact)*time.Microsecond))
	}
	// P50 of 1..100 µs: rank 50 sits in bucket (48.5, 57.7] µs → 57.7 µs.
	require.Equal(t, time.Duration(latencyBound(latencyBucket(50_000))), s.P50)
}

func TestMetricsAndPrometheus(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const n, rows = 3, 5000
	h := newHarness(mem)
	q, err := Start(context.Background(), Config{Partitions: n, KeyColumns: []string{"k"}, EventTimeColumn: "ts", MaxOutOfOrderness: -1, LatePolicy: LateDrop}, h.factory, h.sink)
	require.NoError(t, err)
	for b := 0; b < rows; b += 500 {
		rec := makeRecord(t, mem, keyInt64, genRows(b, 500, func(v int) int64 { return int64(v % 101) }))
		require.NoError(t, q.Push(rec))
		rec.Release()
	}
	late := makeRecord(t, mem, keyInt64, []row{{7, 0, rows}, {8, 0, rows + 1}})
	require.NoError(t, q.Push(late))
	late.Release()
	require.NoError(t, q.Close())
	m := q.Metrics()
	require.EqualValues(t, rows, m.RecordsIn)
	require.EqualValues(t, rows, m.RecordsOut)
	require.EqualValues(t, 2, m.DroppedRecords)
	require.EqualValues(t, 2, m.LateRecords)
	var batchesIn, latencyCount int64
	for _, pm := range m.Partitions {
		batchesIn += pm.BatchesIn
		latencyCount += pm.Latency.Count
		require.Equal(t, pm.BatchesIn, pm.Invocations)
		require.Equal(t, 0, pm.QueueDepth)
		require.Equal(t, Healthy, pm.Backpressure)
		require.Equal(t, DefaultChannelCapacity, pm.QueueCapacity)
		require.LessOrEqual(t, pm.PeakQueueDepth, pm.QueueCapacity)
		require.LessOrEqual(t, pm.Latency.P50, pm.Latency.P99)
		require.LessOrEqual(t, pm.Latency.P99, pm.Latency.Max)
	}
	require.Equal(t, batchesIn, latencyCount)

	var buf bytes.Buffer
	// Through a client_golang registry, as a server exports it (the
	// registry also checks the collected metrics' consistency).
	reg := prometheus.NewRegistry()
	reg.MustRegister(q.Collector(map[string]string{"query": "q1"}))
	fams, err := reg.Gather()
	require.NoError(t, err)
	for _, f := range fams {
		_, err := expfmt.MetricFamilyToText(&buf, f)
		require.NoError(t, err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	parsed, err := parser.TextToMetricFamilies(&buf)
	require.NoError(t, err)
	sum := func(name string, labels map[string]string) float64 {
		f, ok := parsed[name]
		require.True(t, ok, "metric %s missing", name)
		var s float64
	metrics:
		for _, mt := range f.GetMetric() {
			got := map[string]string{}
			for _, l := range mt.GetLabel() {
				got[l.GetName()] = l.GetValue()
			}
			require.Equal(t, "q1", got["query"])
			require.Contains(t, got, "partition")
			for k, v := range labels {
				if got[k] != v {
					continue metrics
				}
			}
			switch {
			case mt.Counter != nil:
				s += mt.Counter.GetValue()
			case mt.Gauge != nil:
				s += mt.Gauge.GetValue()
			case mt.Histogram != nil:
				s += float64(mt.Histogram.GetSampleCount())
			}
		}
		return s
	}
	require.Equal(t, float64(rows), sum("velo_partition_records_in_total", nil))
	require.Equal(t, float64(rows), sum("velo_partition_records_out_total", nil))
	require.Equal(t, float64(batchesIn), sum("velo_partition_batches_total", map[string]string{"direction": "in"}))
	require.Equal(t, float64(batchesIn), sum("velo_partition_batch_latency_seconds", nil))
	require.Equal(t, 2.0, sum("velo_late_records_total", nil))
	require.Equal(t, 2.0, sum("velo_dropped_records_total", nil))
	require.Equal(t, 0.0, sum("velo_partition_queue_depth", nil))
	require.Equal(t, 0.0, sum("velo_partition_channel_utilization", nil))
	require.Equal(t, 0.0, sum("velo_partition_backpressure_state", nil))
	require.Equal(t, 0.0, sum("velo_partition_hot", nil))
	require.Len(t, parsed["velo_partition_records_in_total"].GetMetric(), n)
	require.Contains(t, parsed, "velo_partition_watermark")
	require.Contains(t, parsed, "velo_partition_batch_target_rows")
}

func TestBackpressureStateLive(t *testing.T) {
	// One partition whose pipeline blocks on its first batch: every further
	// push stays queued, so the state follows the queue depth exactly.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	h := newHarness(mem)
	gate := make(chan struct{})
	entered := make(chan struct{}, 1)
	h.hook = func(p int, b columnar.Batch) error {
		select {
		case entered <- struct{}{}:
			<-gate
		default:
		}
		return nil
	}
	q, err := Start(context.Background(), Config{Partitions: 1, Strategy: FanIn, ChannelCapacity: 20}, h.factory, h.sink)
	require.NoError(t, err)
	push := func(v int) {
		rec := makeRecord(t, mem, keyInt64, genRows(v, 1, func(int) int64 { return 1 }))
		require.NoError(t, q.Push(rec))
		rec.Release()
	}
	push(0)
	<-entered
	want := map[int]BackpressureState{0: Healthy, 13: Healthy, 14: Warning, 16: Warning, 17: Critical, 18: Critical, 19: Saturated, 20: Saturated}
	for depth := 0; depth <= 20; depth++ {
		if depth > 0 {
			push(depth)
		}
		pm := q.Metrics().Partitions[0]
		require.Equal(t, depth, pm.QueueDepth)
		require.InDelta(t, float64(depth)/20, pm.Utilization, 1e-12)
		if s, ok := want[depth]; ok {
			require.Equal(t, s, pm.Backpressure, "depth %d", depth)
		}
	}
	require.Equal(t, 20, q.Metrics().Partitions[0].PeakQueueDepth)
	close(gate)
	require.NoError(t, q.Close())
	h.requireExactlyOnce(t, 21)
}
