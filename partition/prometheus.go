package partition

import (
	"math"
	"sort"
	"strconv"

	dto "github.com/prometheus/client_model/go"
)

// Gatherer exports a query's per-partition metrics in the Prometheus data
// model. Its Gather method has the signature of prometheus.Gatherer
// (client_golang), so it plugs into prometheus.Gatherers and
// promhttp.HandlerFor next to a registry, and expfmt encodes its output
// directly. The metric families, each labelled with partition="<id>" plus
// the constant labels:
//
//	velo_partition_records_in_total        counter   rows routed to the partition
//	velo_partition_records_out_total       counter   rows the pipeline emitted
//	velo_partition_batches_total           counter   batches, label direction="in"|"out"
//	velo_partition_invocations_total       counter   Pipeline.Push calls
//	velo_partition_queue_depth             gauge     messages waiting in the input channel
//	velo_partition_channel_utilization     gauge     queue depth / capacity (0..1)
//	velo_partition_batch_latency_seconds   histogram routed → processed, per batch
//	velo_partition_backpressure_state      gauge     0 healthy, 1 warning, 2 critical, 3 saturated
//	velo_late_records_total                counter   rows below their source's watermark
//	velo_dropped_records_total             counter   late rows dropped
//	velo_partition_hot                     gauge     1 when the partition is hot
//	velo_partition_watermark               gauge     the partition's watermark (event-time units)
//	velo_partition_batch_target_rows       gauge     the adaptive batching target (0 when off)
//
// Each Gather takes one Metrics snapshot.
type Gatherer struct {
	q           *Query
	constLabels []*dto.LabelPair
}

// Gatherer returns the query's Prometheus gatherer. constLabels (for
// example {"query": "bars"}) are added to every metric so several queries
// can be exported side by side.
func (q *Query) Gatherer(constLabels map[string]string) *Gatherer {
	g := &Gatherer{q: q}
	for k, v := range constLabels {
		g.constLabels = append(g.constLabels, &dto.LabelPair{Name: ptr(k), Value: ptr(v)})
	}
	sort.Slice(g.constLabels, func(i, j int) bool { return g.constLabels[i].GetName() < g.constLabels[j].GetName() })
	return g
}

func ptr[T any](v T) *T { return &v }

// Gather returns the metric families, sorted by name.
func (g *Gatherer) Gather() ([]*dto.MetricFamily, error) {
	return g.q.Metrics().Families(g.constLabels), nil
}

// Families returns m's per-partition metrics as the families Gatherer
// documents, sorted by name; every metric carries constLabels (sorted by
// name) plus partition="<id>". Exporters of several queries (the engine's
// gatherer) merge the families of each.
func (m Metrics) Families(constLabels []*dto.LabelPair) []*dto.MetricFamily {
	type fam struct {
		name, help string
		typ        dto.MetricType
	}
	fams := map[string]*dto.MetricFamily{}
	add := func(f fam, metric *dto.Metric) {
		mf := fams[f.name]
		if mf == nil {
			mf = &dto.MetricFamily{Name: ptr(f.name), Help: ptr(f.help), Type: f.typ.Enum()}
			fams[f.name] = mf
		}
		mf.Metric = append(mf.Metric, metric)
	}
	labels := func(p string, extra ...string) []*dto.LabelPair {
		ls := append([]*dto.LabelPair{}, constLabels...)
		ls = append(ls, &dto.LabelPair{Name: ptr("partition"), Value: ptr(p)})
		for i := 0; i+1 < len(extra); i += 2 {
			ls = append(ls, &dto.LabelPair{Name: ptr(extra[i]), Value: ptr(extra[i+1])})
		}
		sort.Slice(ls, func(i, j int) bool { return ls[i].GetName() < ls[j].GetName() })
		return ls
	}
	counter := func(name, help, p string, v int64, extra ...string) {
		add(fam{name, help, dto.MetricType_COUNTER}, &dto.Metric{Label: labels(p, extra...), Counter: &dto.Counter{Value: ptr(float64(v))}})
	}
	gauge := func(name, help, p string, v float64) {
		add(fam{name, help, dto.MetricType_GAUGE}, &dto.Metric{Label: labels(p), Gauge: &dto.Gauge{Value: ptr(v)}})
	}
	for _, pm := range m.Partitions {
		p := strconv.Itoa(pm.Partition)
		counter("velo_partition_records_in_total", "Rows routed to the partition.", p, pm.RecordsIn)
		counter("velo_partition_records_out_total", "Rows emitted by the partition's pipeline.", p, pm.RecordsOut)
		const batchesHelp = "Batches routed to (in) and emitted by (out) the partition."
		counter("velo_partition_batches_total", batchesHelp, p, pm.BatchesIn, "direction", "in")
		counter("velo_partition_batches_total", batchesHelp, p, pm.BatchesOut, "direction", "out")
		counter("velo_partition_invocations_total", "Pipeline push invocations.", p, pm.Invocations)
		counter("velo_late_records_total", "Rows that arrived below their source's watermark.", p, pm.LateRecords)
		counter("velo_dropped_records_total", "Late rows dropped by the router.", p, pm.DroppedRecords)
		gauge("velo_partition_queue_depth", "Messages waiting in the partition's input channel.", p, float64(pm.QueueDepth))
		gauge("velo_partition_channel_utilization", "Input channel depth divided by its capacity.", p, pm.Utilization)
		gauge("velo_partition_backpressure_state", "Backpressure state: 0 healthy (<70% full), 1 warning (<85%), 2 critical (<95%), 3 saturated.", p, float64(pm.Backpressure))
		hot := 0.0
		if pm.Hot {
			hot = 1
		}
		gauge("velo_partition_hot", "1 when the partition's throughput exceeds the hot factor times the mean.", p, hot)
		wm := float64(pm.Watermark)
		switch pm.Watermark {
		case math.MinInt64:
			wm = math.Inf(-1)
		case math.MaxInt64:
			wm = math.Inf(1)
		}
		gauge("velo_partition_watermark", "The partition's event-time watermark.", p, wm)
		gauge("velo_partition_batch_target_rows", "The adaptive batching target in rows (0 when off).", p, float64(pm.BatchTarget))

		h := &dto.Histogram{SampleCount: ptr(uint64(pm.Latency.Count)), SampleSum: ptr(pm.Latency.Sum.Seconds())}
		var cum uint64
		// +Inf is implied by SampleCount; a snapshot without a histogram
		// (a one-partition query's) has no buckets.
		for i := 0; i+1 < len(pm.Latency.Buckets) && i < len(pm.Latency.BucketBounds); i++ {
			cum += uint64(pm.Latency.Buckets[i])
			h.Bucket = append(h.Bucket, &dto.Bucket{UpperBound: ptr(pm.Latency.BucketBounds[i]), CumulativeCount: ptr(cum)})
		}
		add(fam{"velo_partition_batch_latency_seconds", "Time from a batch being routed to the partition's pipeline having processed it.", dto.MetricType_HISTOGRAM},
			&dto.Metric{Label: labels(p), Histogram: h})
	}
	out := make([]*dto.MetricFamily, 0, len(fams))
	for _, f := range fams {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].GetName() < out[j].GetName() })
	return out
}
