package server

import (
	"context"
	"net"
	"testing"
	"time"

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
