package server

import (
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc/status"
)

// metrics are the server's Prometheus collectors:
//
//	velo_server_queries_total            counter    queries started by DoGet
//	velo_server_errors_total{code}       counter    calls that failed, by gRPC code
//	velo_server_rows_out_total           counter    result rows sent
//	velo_server_ingested_rows_total      counter    rows appended by bulk ingest
//	velo_server_active_streams           gauge      query streams in flight (continuous ones included)
//	velo_server_query_duration_seconds   histogram  DoGet start → last batch sent (batch queries)
//	velo_server_slow_streams_total       counter    continuous streams stopped for falling behind ingest
type metrics struct {
	slowStreams prometheus.Counter
	queries     prometheus.Counter
	errors      *prometheus.CounterVec
	rowsOut     prometheus.Counter
	ingested    prometheus.Counter
	active      prometheus.Gauge
	latency     prometheus.Histogram
}

func newMetrics() *metrics {
	return &metrics{
		queries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "velo_server_queries_total", Help: "Queries started by Flight SQL DoGet."}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "velo_server_errors_total", Help: "Flight SQL calls that failed, by gRPC status code."}, []string{"code"}),
		rowsOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "velo_server_rows_out_total", Help: "Result rows sent to Flight SQL clients."}),
		ingested: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "velo_server_ingested_rows_total", Help: "Rows appended to tables by Flight SQL bulk ingest."}),
		active: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "velo_server_active_streams", Help: "Query result streams in flight."}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "velo_server_query_duration_seconds", Help: "Time from DoGet to the last result batch sent.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 4, 10)}),
		slowStreams: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "velo_server_slow_streams_total", Help: "Continuous query streams stopped because their client fell behind ingest."}),
	}
}

func (m *metrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{m.queries, m.errors, m.rowsOut, m.ingested, m.active, m.latency, m.slowStreams}
}

// countError counts a failed call by its status code.
func (m *metrics) countError(err error) {
	if err == nil {
		return
	}
	m.errors.WithLabelValues(status.Code(err).String()).Inc()
}
