package server

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/flight"
	"github.com/apache/arrow/go/v17/arrow/flight/flightsql"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/bench"
)

// BenchmarkStream measures S0 and S2 over 1 M market_data rows through the
// engine directly and through Flight SQL on loopback (client decoding
// included), in input rows/s.
func BenchmarkStream(b *testing.B) {
	const rows = 1_000_000
	mem := memory.NewGoAllocator()
	gen := bench.NewMarketData(mem, bench.MarketDataConfig{Rows: rows, Seed: 42, BatchSize: 8192})
	recs, err := gen.GenerateAll()
	gen.Release()
	require.NoError(b, err)
	eng := velo.New(velo.WithAllocator(mem))
	defer eng.Close()
	srv, err := New(eng, Config{Allocator: mem})
	require.NoError(b, err)
	defer srv.Close()
	require.NoError(b, srv.RegisterTable(bench.MarketDataTable, recs))
	releaseAll(recs)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(b, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	defer func() { srv.Shutdown(5 * time.Second); <-served }()
	c, err := flightsql.NewClient(lis.Addr().String(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(b, err)
	defer c.Close()
	ctx := context.Background()
	for _, sc := range []struct{ id, sql string }{{"S0", bench.SQLS0}, {"S2", bench.SQLS2}} {
		b.Run(sc.id+"/engine", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				rdr, err := eng.Execute(ctx, sc.sql)
				require.NoError(b, err)
				for rdr.Next() {
				}
				require.NoError(b, rdr.Err())
				rdr.Release()
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
		b.Run(sc.id+"/flightsql", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				info, err := c.Execute(ctx, sc.sql)
				require.NoError(b, err)
				rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
				require.NoError(b, err)
				for rdr.Next() {
				}
				require.NoError(b, rdr.Err())
				rdr.Release()
			}
			b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// BenchmarkContinuous measures ingest over Flight SQL of one 8,192-row
// market_data batch per op: alone ("ingest"), and with an EMIT CHANGES
// stream over the table ("ingest+changes": the op ends when the client
// has received the change record that batch produced, so ns/op is ingest
// plus end-to-end change latency). The table grows by one batch per op;
// run it with a fixed -benchtime (e.g. 2000x).
func BenchmarkContinuous(b *testing.B) {
	mem := memory.NewGoAllocator()
	gen := bench.NewMarketData(mem, bench.MarketDataConfig{Rows: 8192, Seed: 42, BatchSize: 8192})
	recs, err := gen.GenerateAll()
	gen.Release()
	require.NoError(b, err)
	defer releaseAll(recs)
	rec := recs[0]
	for _, mode := range []string{"ingest", "ingest+changes"} {
		b.Run(mode, func(b *testing.B) {
			eng := velo.New(velo.WithAllocator(mem))
			defer eng.Close()
			srv, err := New(eng, Config{Allocator: mem})
			require.NoError(b, err)
			defer srv.Close()
			require.NoError(b, srv.RegisterTable("trades", rec))
			lis, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(b, err)
			served := make(chan error, 1)
			go func() { served <- srv.Serve(lis) }()
			defer func() { srv.Shutdown(5 * time.Second); <-served }()
			c, err := flightsql.NewClient(lis.Addr().String(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
			require.NoError(b, err)
			defer c.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var changes *flight.Reader
			if mode == "ingest+changes" {
				info, err := c.Execute(ctx, "SELECT symbol, COUNT(*) AS trades, SUM(quantity) AS qty FROM trades GROUP BY symbol EMIT CHANGES")
				require.NoError(b, err)
				changes, err = c.DoGet(ctx, info.Endpoint[0].Ticket)
				require.NoError(b, err)
				defer changes.Release()
				require.True(b, changes.Next()) // the table's first batch
			}
			opts := &flightsql.ExecuteIngestOpts{Table: "trades", TableDefinitionOptions: createOrAppend()}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rdr, err := array.NewRecordReader(rec.Schema(), []arrow.Record{rec})
				require.NoError(b, err)
				_, err = c.ExecuteIngest(ctx, rdr, opts)
				rdr.Release()
				require.NoError(b, err)
				if changes != nil {
					require.True(b, changes.Next(), "%v", changes.Err())
				}
			}
			b.ReportMetric(8192*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}
