package partition

import (
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Collector returns the query's per-partition metrics (the families listed
// on Gatherer) as a prometheus.Collector, to register with a
// prometheus.Registry beside other collectors:
//
//	reg.MustRegister(q.Collector(map[string]string{"query": "bars"}))
//
// It is an unchecked collector (it describes no metrics up front) because
// the set of partitions is only known once the query runs.
func (q *Query) Collector(constLabels map[string]string) prometheus.Collector {
	return &collector{g: q.Gatherer(constLabels)}
}

type collector struct{ g *Gatherer }

// Describe sends nothing: the collector is unchecked.
func (c *collector) Describe(chan<- *prometheus.Desc) {}

// Collect sends one metric per partition and family from a fresh snapshot.
func (c *collector) Collect(ch chan<- prometheus.Metric) {
	fams, err := c.g.Gather()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(prometheus.NewDesc("velo_partition_error", "gathering partition metrics failed", nil, nil), err)
		return
	}
	for _, f := range fams {
		for _, m := range f.Metric {
			names := make([]string, len(m.Label))
			for i, l := range m.Label {
				names[i] = l.GetName()
			}
			ch <- &dtoMetric{desc: prometheus.NewDesc(f.GetName(), f.GetHelp(), names, nil), m: m}
		}
	}
}

// dtoMetric is a metric already in the Prometheus data model.
type dtoMetric struct {
	desc *prometheus.Desc
	m    *dto.Metric
}

func (d *dtoMetric) Desc() *prometheus.Desc { return d.desc }

func (d *dtoMetric) Write(out *dto.Metric) error {
	out.Label = d.m.Label
	out.Counter, out.Gauge, out.Histogram = d.m.Counter, d.m.Gauge, d.m.Histogram
	return nil
}
