package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/flight/flightsql"
	"github.com/apache/arrow/go/v17/arrow/flight/flightsql/driver"
	"github.com/apache/arrow/go/v17/arrow/memory"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/columnar"
)

// syncBuffer is a bytes.Buffer safe for the server's log writes while the
// test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs runServe on loopback ports until the returned stop is
// called; stop returns runServe's error.
func startServe(t *testing.T, o serveOptions) (flightAddr, metricsAddr string, log *syncBuffer, stop func() error) {
	t.Helper()
	o.flight = "127.0.0.1:0"
	if o.metrics == "" {
		o.metrics = "127.0.0.1:0"
	}
	if o.partitions == 0 {
		o.partitions = 1
	}
	if o.shutdownTimeout == 0 {
		o.shutdownTimeout = 10 * time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	log = &syncBuffer{}
	type addrs struct{ f, m string }
	ready := make(chan addrs, 1)
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, log, o, func(f, m string) { ready <- addrs{f, m} }) }()
	select {
	case a := <-ready:
		flightAddr, metricsAddr = a.f, a.m
	case err := <-done:
		cancel()
		t.Fatalf("runServe: %v (log: %s)", err, log.String())
	}
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() {
			cancel()
			err = <-done
		})
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return flightAddr, metricsAddr, log, stop
}

func queryInt(t *testing.T, db *sql.DB, query string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var n int64
	require.NoError(t, db.QueryRowContext(ctx, query).Scan(&n))
	return n
}

func TestServeEndToEnd(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "md.arrow")
	writeMarketData(t, path, 20000)

	const token = "tok-123"
	flightAddr, metricsAddr, log, stop := startServe(t, serveOptions{
		tables: []string{"md=" + path}, gen: "market_data:5000", token: token, registerDefaults: true,
	})
	require.Contains(t, log.String(), "Flight SQL on grpc+tcp://"+flightAddr)

	db, err := sql.Open("flightsql", "flightsql://"+flightAddr+"?timeout=10s&token="+token)
	require.NoError(t, err)
	defer db.Close()
	require.Equal(t, int64(5000), queryInt(t, db, "SELECT COUNT(*) AS n FROM market_data"))
	require.Equal(t, int64(20000), queryInt(t, db, "SELECT COUNT(*) AS n FROM md"))

	noToken, err := sql.Open("flightsql", "flightsql://"+flightAddr+"?timeout=10s")
	require.NoError(t, err)
	defer noToken.Close()
	_, err = noToken.Query("SELECT COUNT(*) AS n FROM md")
	require.ErrorContains(t, err, "Unauthenticated")

	resp, err := http.Get("http://" + metricsAddr + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	require.Equal(t, 2.0, fams["velo_server_queries_total"].GetMetric()[0].GetCounter().GetValue())
	require.Equal(t, 2.0, fams["velo_server_rows_out_total"].GetMetric()[0].GetCounter().GetValue())
	require.Contains(t, fams, "go_goroutines", "Go runtime collector")
	var unauth float64
	for _, m := range fams["velo_server_errors_total"].GetMetric() {
		if m.GetLabel()[0].GetValue() == "Unauthenticated" {
			unauth = m.GetCounter().GetValue()
		}
	}
	require.Positive(t, unauth)

	require.NoError(t, stop())
	_, err = net.DialTimeout("tcp", flightAddr, time.Second)
	require.Error(t, err, "the listener is closed after shutdown")
}

func TestServeShutdownFinishesInFlightStream(t *testing.T) {
	flightAddr, _, _, stop := startServe(t, serveOptions{gen: "market_data:100000"})
	c, err := flightsql.NewClient(flightAddr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer c.Close()
	ctx := context.Background()
	info, err := c.Execute(ctx, "SELECT trade_time, symbol, price FROM market_data")
	require.NoError(t, err)
	rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
	require.NoError(t, err)
	defer rdr.Release()
	require.True(t, rdr.Next())
	rows := rdr.Record().NumRows()

	stopped := make(chan error, 1)
	go func() { stopped <- stop() }() // SIGINT arrives mid-stream
	for rdr.Next() {
		rows += rdr.Record().NumRows()
	}
	require.NoError(t, rdr.Err())
	require.Equal(t, int64(100000), rows, "the in-flight stream finishes")
	require.NoError(t, <-stopped)
}

func TestServeTLS(t *testing.T) {
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	require.NoError(t, os.WriteFile(certFile, certPEM, 0o600))
	require.NoError(t, os.WriteFile(keyFile, keyPEM, 0o600))
	flightAddr, _, log, _ := startServe(t, serveOptions{gen: "market_data:1000", tlsCert: certFile, tlsKey: keyFile, token: "tls-token"})
	require.Contains(t, log.String(), "grpc+tls://")

	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(certPEM))
	require.NoError(t, driver.RegisterTLSConfig("velo-serve-test", &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}))
	defer func() { require.NoError(t, driver.UnregisterTLSConfig("velo-serve-test")) }()
	db, err := sql.Open("flightsql", "flightsql://"+flightAddr+"?timeout=10s&tls=velo-serve-test&token=tls-token")
	require.NoError(t, err)
	defer db.Close()
	require.Equal(t, int64(1000), queryInt(t, db, "SELECT COUNT(*) AS n FROM "+bench.MarketDataTable))

	plain, err := sql.Open("flightsql", "flightsql://"+flightAddr+"?timeout=1s&token=tls-token")
	require.NoError(t, err)
	defer plain.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_, err = plain.QueryContext(ctx, "SELECT COUNT(*) AS n FROM market_data")
	require.Error(t, err, "plain-text clients cannot talk to a TLS server")
}

// selfSigned returns a PEM certificate and key for 127.0.0.1.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "velo test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	kder, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func TestServeFlagErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    serveOptions
		want string
	}{
		{"partitions", serveOptions{partitions: -1}, "--partitions -1"},
		{"tls pair", serveOptions{tlsCert: "c.pem"}, "--tls-cert and --tls-key go together"},
		{"tls files", serveOptions{tlsCert: "/nonexistent/c.pem", tlsKey: "/nonexistent/k.pem"}, "--tls-cert /nonexistent/c.pem"},
		{"table spec", serveOptions{tables: []string{"nopath"}}, `--table "nopath": want NAME=PATH`},
		{"table file", serveOptions{tables: []string{"t=/nonexistent/t.parquet"}}, "/nonexistent/t.parquet"},
		{"gen", serveOptions{gen: "other:10"}, "only market_data[:rows]"},
		{"flight addr", serveOptions{flight: "256.0.0.1:1"}, "--flight 256.0.0.1:1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.o
			if o.partitions == 0 {
				o.partitions = 1
			}
			if o.flight == "" {
				o.flight = "127.0.0.1:0"
			}
			o.metrics = ""
			err := runServe(context.Background(), &bytes.Buffer{}, o, nil)
			require.ErrorContains(t, err, tc.want)
		})
	}
	// Through cobra: flags reach runServe.
	root := newRootCmd()
	root.SetArgs([]string{"serve", "--tls-key", "k.pem", "--metrics", ""})
	root.SetOut(&bytes.Buffer{})
	root.SetErr(&bytes.Buffer{})
	require.ErrorContains(t, root.Execute(), "--tls-cert and --tls-key go together")
}

// writeMarketData writes rows of generated market_data to an Arrow IPC file
// in-process (the test binary cannot re-execute itself under qemu-user).
func writeMarketData(t *testing.T, path string, rows int64) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	g := bench.NewMarketData(mem, bench.MarketDataConfig{Rows: rows, Seed: 1, BatchSize: 4096})
	defer g.Release()
	w, err := columnar.CreateFile(path, bench.MarketDataSchema(), mem)
	require.NoError(t, err)
	for g.Next() {
		require.NoError(t, w.Write(g.Record()))
	}
	require.NoError(t, g.Err())
	require.NoError(t, w.Close())
}

// TestServeMetricsPartitions: /metrics carries the partition metrics of the
// queries running on the server — here two continuous EMIT CHANGES
// streams, one on the engine's two partitions and one on a single
// partition — next to the server metrics, each under its query label;
// they leave /metrics when their streams are cancelled.
func TestServeMetricsPartitions(t *testing.T) {
	const rows = 20000
	flightAddr, metricsAddr, _, _ := startServe(t, serveOptions{gen: "market_data:20000", partitions: 2})
	c, err := flightsql.NewClient(flightAddr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const sql = "SELECT symbol, COUNT(*) AS n FROM market_data GROUP BY symbol EMIT CHANGES"
	for _, q := range []string{sql, sql + " WITH ('partitions' = '1')"} {
		info, err := c.Execute(ctx, q)
		require.NoError(t, err)
		rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
		require.NoError(t, err)
		defer rdr.Release()
		require.True(t, rdr.Next())
	}
	scrape := func() map[string]*dto.MetricFamily {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		require.NoError(t, err)
		defer resp.Body.Close()
		p := expfmt.NewTextParser(model.UTF8Validation)
		fams, err := p.TextToMetricFamilies(resp.Body)
		require.NoError(t, err)
		return fams
	}
	sum := func(fams map[string]*dto.MetricFamily, name string, want map[string]string) (v float64, n int) {
	metrics:
		for _, m := range fams[name].GetMetric() {
			for _, l := range m.GetLabel() {
				if w, ok := want[l.GetName()]; ok && w != l.GetValue() {
					continue metrics
				}
			}
			n++
			v += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
		return v, n
	}
	// Both queries have read the whole table (the stream reads the table's
	// rows first), and their routers have handed every row to a partition
	// (a partition counts a batch once it is sent, after the query counted
	// its rows).
	var fams map[string]*dto.MetricFamily
	require.Eventually(t, func() bool {
		fams = scrape()
		v, n := sum(fams, "velo_query_records_in_total", map[string]string{"kind": "continuous"})
		pv, _ := sum(fams, "velo_partition_records_in_total", nil)
		return n == 2 && v == 2*rows && pv == 2*rows
	}, 30*time.Second, 10*time.Millisecond)
	v, _ := sum(fams, "velo_queries_running", nil)
	require.Equal(t, 2.0, v)
	v, _ = sum(fams, "velo_server_active_streams", nil)
	require.Equal(t, 2.0, v)
	// The one-partition query's partition 0 counted every row, and so did
	// the partitioned query's two partitions together: rows × 2 in all.
	v, n := sum(fams, "velo_partition_records_in_total", nil)
	require.Equal(t, 3, n, "velo_partition_records_in_total series: one + two partitions")
	require.Equal(t, float64(2*rows), v)
	require.Contains(t, fams, "velo_partition_batch_latency_seconds")
	for _, m := range fams["velo_query_records_in_total"].GetMetric() {
		var query string
		for _, l := range m.GetLabel() {
			if l.GetName() == "query" {
				query = l.GetValue()
			}
		}
		require.NotEmpty(t, query, "every query metric has a query label")
	}

	cancel()
	require.Eventually(t, func() bool {
		v, _ := sum(scrape(), "velo_queries_running", nil)
		return v == 0
	}, 10*time.Second, 10*time.Millisecond)
}
