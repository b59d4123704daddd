package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/bench"
	"github.com/velo-engine/velo/server"
)

// tokenEnv names the environment variable that supplies --token's default,
// so the token need not appear in the process list.
const tokenEnv = "VELO_FLIGHT_TOKEN"

type serveOptions struct {
	flight, metrics  string
	tables           []string
	partitions       int
	token            string
	tlsCert, tlsKey  string
	gen              string
	shutdownTimeout  time.Duration
	registerDefaults bool // Go runtime and process collectors on /metrics
}

func newServeCmd() *cobra.Command {
	o := serveOptions{registerDefaults: true}
	cmd := &cobra.Command{
		Use:   "serve [flags]",
		Short: "Serve registered tables over Arrow Flight SQL, with Prometheus /metrics",
		Long: `serve registers each --table NAME=PATH (Parquet, Arrow IPC, CSV or JSON lines,
by extension) and --gen data, then answers Arrow Flight SQL clients (the Go
database/sql driver, JDBC, ADBC, DBeaver) on --flight and serves Prometheus
metrics on --metrics (http://ADDR/metrics): server counters plus every running
query's partition metrics, labelled query="<id>". Both bind to loopback by
default. A DoGet on an EMIT CHANGES query streams changes continuously: the
table's rows first, then every batch ingested into it, until the client
cancels.
With --token (or $` + tokenEnv + `) every call must carry "authorization: Bearer
TOKEN"; with --tls-cert/--tls-key the server speaks TLS. Clients can append
batches to in-memory tables with Flight SQL bulk ingest. SIGINT or SIGTERM
stops accepting calls and lets in-flight streams finish (up to
--shutdown-timeout).`,
		Example: `  velo serve --gen market_data:1000000
  velo serve --table md=md.parquet --token s3cret --tls-cert cert.pem --tls-key key.pem
  velo serve --flight 127.0.0.1:32010 --metrics 127.0.0.1:9464 --partitions 4 --table md=md.arrow`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if o.token == "" {
				o.token = os.Getenv(tokenEnv)
			}
			return runServe(ctx, cmd.ErrOrStderr(), o, nil)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.flight, "flight", "127.0.0.1:32010", "Flight SQL listen address (host:port)")
	f.StringVar(&o.metrics, "metrics", "127.0.0.1:9464", `Prometheus /metrics listen address ("" disables it)`)
	f.StringArrayVar(&o.tables, "table", nil, "register a table: NAME=PATH (repeatable)")
	f.IntVar(&o.partitions, "partitions", 1, "partitions queries run on")
	f.StringVar(&o.token, "token", "", "bearer token every call must carry (default $"+tokenEnv+")")
	f.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate file (PEM); needs --tls-key")
	f.StringVar(&o.tlsKey, "tls-key", "", "TLS private key file (PEM); needs --tls-cert")
	f.StringVar(&o.gen, "gen", "", "register generated data in memory: market_data[:rows] (default 1000000 rows)")
	f.DurationVar(&o.shutdownTimeout, "shutdown-timeout", 30*time.Second, "how long in-flight calls may run after SIGINT/SIGTERM")
	return cmd
}

// runServe serves until ctx is done, then shuts down gracefully. ready, if
// not nil, is called with the bound addresses once both listeners are up
// (metricsAddr is "" when metrics are off).
func runServe(ctx context.Context, log io.Writer, o serveOptions, ready func(flightAddr, metricsAddr string)) error {
	if o.partitions < 1 {
		return fmt.Errorf("--partitions %d: must be at least 1", o.partitions)
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return errors.New("--tls-cert and --tls-key go together")
	}
	cfg := server.Config{Token: o.token, Allocator: memory.DefaultAllocator}
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return fmt.Errorf("--tls-cert %s --tls-key %s: %w", o.tlsCert, o.tlsKey, err)
		}
		cfg.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	reg := prometheus.NewRegistry()
	if o.registerDefaults {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	cfg.Registerer = reg

	eng := velo.New(velo.WithAllocator(cfg.Allocator), velo.WithPartitions(o.partitions))
	defer eng.Close()
	srv, err := server.New(eng, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()
	for _, t := range o.tables {
		name, path, ok := strings.Cut(t, "=")
		if !ok || name == "" || path == "" {
			return fmt.Errorf("--table %q: want NAME=PATH", t)
		}
		if err := srv.RegisterTable(name, path); err != nil {
			return fmt.Errorf("--table %q: %w", t, err)
		}
	}
	if o.gen != "" {
		if err := serveGenerated(srv, cfg.Allocator, o.gen); err != nil {
			return err
		}
	}

	lis, err := net.Listen("tcp", o.flight)
	if err != nil {
		return fmt.Errorf("--flight %s: %w", o.flight, err)
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()

	var hs *http.Server
	metricsAddr := ""
	httpErr := make(chan error, 1)
	if o.metrics != "" {
		mlis, err := net.Listen("tcp", o.metrics)
		if err != nil {
			srv.Stop()
			<-served
			return fmt.Errorf("--metrics %s: %w", o.metrics, err)
		}
		mux := http.NewServeMux()
		// The server's collectors (and the Go runtime's) from the
		// registry, next to every live query's partition metrics.
		mux.Handle("/metrics", promhttp.HandlerFor(prometheus.Gatherers{reg, eng.Gatherer()}, promhttp.HandlerOpts{}))
		hs = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		metricsAddr = mlis.Addr().String()
		go func() {
			if err := hs.Serve(mlis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				httpErr <- err
			}
		}()
	}
	scheme := "grpc+tcp"
	if cfg.TLS != nil {
		scheme = "grpc+tls"
	}
	fmt.Fprintf(log, "velo: Flight SQL on %s://%s", scheme, lis.Addr())
	if metricsAddr != "" {
		fmt.Fprintf(log, ", metrics on http://%s/metrics", metricsAddr)
	}
	fmt.Fprintln(log)
	if o.token == "" && !isLoopback(lis.Addr()) {
		fmt.Fprintln(log, "velo: warning: serving beyond loopback without --token: anyone who can connect can query and ingest")
	}
	if ready != nil {
		ready(lis.Addr().String(), metricsAddr)
	}

	var runErr error
	select {
	case <-ctx.Done():
		fmt.Fprintln(log, "velo: shutting down: waiting for in-flight calls")
	case runErr = <-served:
		if runErr == nil {
			runErr = errors.New("flight server stopped unexpectedly")
		}
	case runErr = <-httpErr:
		runErr = fmt.Errorf("metrics server: %w", runErr)
	}
	srv.Shutdown(o.shutdownTimeout)
	if hs != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = hs.Shutdown(sctx)
		cancel()
	}
	if runErr == nil {
		runErr = <-served
	}
	return runErr
}

func isLoopback(a net.Addr) bool {
	tcp, ok := a.(*net.TCPAddr)
	return ok && tcp.IP.IsLoopback()
}

// serveGenerated registers generated market_data with the server.
func serveGenerated(srv *server.Server, mem memory.Allocator, spec string) error {
	recs, err := generateSpec(mem, spec)
	if err != nil {
		return err
	}
	defer releaseRecords(recs)
	return srv.RegisterTable(bench.MarketDataTable, recs)
}
