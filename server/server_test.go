package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/flight"
	"github.com/apache/arrow/go/v17/arrow/flight/flightsql"
	_ "github.com/apache/arrow/go/v17/arrow/flight/flightsql/driver"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	pb "github.com/apache/arrow/go/v17/arrow/flight/gen/flight"
	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/bench"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// testEnv is a server on a loopback port over an engine holding
// market_data (50,000 generated rows, or 10,000 under -short).
type testEnv struct {
	mem  *memory.CheckedAllocator
	eng  *velo.Engine
	srv  *Server
	reg  *prometheus.Registry
	addr string
	rows int64
}

func startServer(t *testing.T, cfg Config, opts ...velo.Option) *testEnv {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	rows := int64(50_000)
	if testing.Short() {
		rows = 10_000
	}
	gen := bench.NewMarketData(mem, bench.MarketDataConfig{Rows: rows, Seed: 42, BatchSize: 8192})
	recs, err := gen.GenerateAll()
	gen.Release()
	require.NoError(t, err)
	eng := velo.New(append([]velo.Option{velo.WithAllocator(mem)}, opts...)...)
	reg := prometheus.NewRegistry()
	cfg.Allocator, cfg.Registerer = mem, reg
	srv, err := New(eng, cfg)
	require.NoError(t, err)
	require.NoError(t, srv.RegisterTable(bench.MarketDataTable, recs))
	releaseAll(recs)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	env := &testEnv{mem: mem, eng: eng, srv: srv, reg: reg, addr: lis.Addr().String(), rows: rows}
	t.Cleanup(func() {
		srv.Shutdown(10 * time.Second)
		require.NoError(t, <-served)
		srv.Close()
		eng.Close()
		mem.AssertSize(t, 0)
	})
	return env
}

func (e *testEnv) client(t *testing.T) *flightsql.Client {
	t.Helper()
	c, err := flightsql.NewClient(e.addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, c.Close()) })
	return c
}

// engineRows runs sql on the engine directly: the oracle.
func (e *testEnv) engineRows(t *testing.T, sql string) []string {
	t.Helper()
	rdr, err := e.eng.Execute(context.Background(), sql)
	require.NoError(t, err)
	defer rdr.Release()
	return readerRows(t, rdr)
}

// readerRows formats every row as its columns' ValueStr joined by '|' and
// sorts the rows (GROUP BY output order is not part of the contract).
func readerRows(t *testing.T, rdr array.RecordReader) []string {
	t.Helper()
	var out []string
	for rdr.Next() {
		rec := rdr.Record()
		for i := 0; i < int(rec.NumRows()); i++ {
			cells := make([]string, rec.NumCols())
			for c := range cells {
				cells[c] = rec.Column(c).ValueStr(i)
			}
			out = append(out, strings.Join(cells, "|"))
		}
	}
	require.NoError(t, rdr.Err())
	sort.Strings(out)
	return out
}

// flightRows runs sql through the Flight SQL client.
func flightRows(ctx context.Context, t *testing.T, c *flightsql.Client, sql string) []string {
	t.Helper()
	info, err := c.Execute(ctx, sql)
	require.NoError(t, err)
	require.Len(t, info.Endpoint, 1)
	rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
	require.NoError(t, err)
	defer rdr.Release()
	return readerRows(t, rdr)
}

// sqlRows formats database/sql rows the way readerRows formats Arrow rows.
func sqlRows(t *testing.T, rows *sql.Rows) []string {
	t.Helper()
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		cells := make([]string, len(cols))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				cells[i] = array.NullValueStr
			case float64:
				cells[i] = strconv.FormatFloat(v, 'g', -1, 64)
			case int64:
				cells[i] = strconv.FormatInt(v, 10)
			case string:
				cells[i] = v
			default:
				t.Fatalf("column %s: unexpected %T", cols[i], v)
			}
		}
		out = append(out, strings.Join(cells, "|"))
	}
	require.NoError(t, rows.Err())
	sort.Strings(out)
	return out
}

// testContext has a deadline: the v17 database/sql driver, given a DSN
// timeout and a context without one, cancels the result stream when
// QueryContext returns (it defers the cancel of its own timeout context),
// so results of more than a few batches fail with Canceled.
func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func (e *testEnv) db(t *testing.T, params string) *sql.DB {
	t.Helper()
	db, err := sql.Open("flightsql", "flightsql://"+e.addr+"?timeout=10s"+params)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	return db
}

func TestQueriesMatchEngine(t *testing.T) {
	for _, parts := range []int{1, 3} {
		t.Run(fmt.Sprintf("partitions=%d", parts), func(t *testing.T) { testQueriesMatchEngine(t, parts) })
	}
}

func testQueriesMatchEngine(t *testing.T, partitions int) {
	env := startServer(t, Config{}, velo.WithPartitions(partitions))
	c := env.client(t)
	db := env.db(t, "")
	ctx := testContext(t)
	for _, tc := range []struct{ name, sql string }{
		{"S0", bench.SQLS0},
		{"S2", bench.SQLS2},
		{"empty", "SELECT symbol, price FROM market_data WHERE price < 0.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := env.engineRows(t, tc.sql)
			if tc.name != "empty" {
				require.NotEmpty(t, want)
			}
			requireRows(t, want, flightRows(ctx, t, c, tc.sql), "flightsql client")
			rows, err := db.QueryContext(ctx, tc.sql)
			require.NoError(t, err)
			requireRows(t, want, sqlRows(t, rows), "database/sql driver")
		})
	}
	// S2 has one row per symbol; S0 as many rows as prices above 100.
	require.Len(t, env.engineRows(t, bench.SQLS2), countDistinctSymbols(t, env))
}

// requireRows compares sorted rows, reporting the counts and the first
// difference instead of dumping both sides.
func requireRows(t *testing.T, want, got []string, what string) {
	t.Helper()
	for i := 0; i < min(len(want), len(got)); i++ {
		if want[i] != got[i] {
			t.Fatalf("%s: row %d: got %q, want %q (%d rows, want %d)", what, i, got[i], want[i], len(got), len(want))
		}
	}
	if len(want) != len(got) {
		t.Fatalf("%s: got %d rows, want %d", what, len(got), len(want))
	}
}

func countDistinctSymbols(t *testing.T, env *testEnv) int {
	rows := env.engineRows(t, "SELECT symbol FROM market_data")
	seen := map[string]bool{}
	for _, r := range rows {
		seen[r] = true
	}
	return len(seen)
}

func TestPreparedStatement(t *testing.T) {
	env := startServer(t, Config{})
	ctx := testContext(t)
	const query = "SELECT COUNT(*) AS n, SUM(quantity) AS q FROM market_data WHERE price > ? AND symbol = ? -- ? in a comment"
	want := env.engineRows(t, "SELECT COUNT(*) AS n, SUM(quantity) AS q FROM market_data WHERE price > 100.5 AND symbol = 'SYM0001'")
	require.NotEqual(t, []string{"0|(null)"}, want)

	t.Run("driver", func(t *testing.T) {
		db := env.db(t, "")
		stmt, err := db.PrepareContext(ctx, query)
		require.NoError(t, err)
		defer stmt.Close()
		rows, err := stmt.QueryContext(ctx, 100.5, "SYM0001")
		require.NoError(t, err)
		require.Equal(t, want, sqlRows(t, rows))
		// Rebinding the same statement: a quote in a string parameter is data.
		rows, err = stmt.QueryContext(ctx, 100.5, "SYM0001' OR '1'='1")
		require.NoError(t, err)
		require.Equal(t, []string{"0|(null)"}, sqlRows(t, rows))
	})
	t.Run("client", func(t *testing.T) {
		c := env.client(t)
		p, err := c.Prepare(ctx, "SELECT COUNT(*) AS n FROM market_data WHERE quantity > ?")
		require.NoError(t, err)
		defer func() { require.NoError(t, p.Close(ctx)) }()
		// Executing before binding is an InvalidArgument.
		_, err = p.Execute(ctx)
		require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
		for _, k := range []int64{-5, 0, 500, 1000} {
			b := array.NewInt64Builder(env.mem)
			b.Append(k)
			col := b.NewArray()
			b.Release()
			rec := array.NewRecord(arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}}, nil), []arrow.Array{col}, 1)
			col.Release()
			p.SetParameters(rec)
			rec.Release()
			info, err := p.Execute(ctx)
			require.NoError(t, err)
			rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
			require.NoError(t, err)
			got := readerRows(t, rdr)
			rdr.Release()
			require.Equal(t, env.engineRows(t, fmt.Sprintf("SELECT COUNT(*) AS n FROM market_data WHERE quantity > %d", k)), got, "k=%d", k)
		}
	})
	t.Run("literal forms parse", func(t *testing.T) {
		for _, lit := range []string{"5", "(-7)", "(-9223372036854775807 - 1)", "100.0", "(-2.5)", "1e+300", "(-0.0)", "NULL"} {
			rdr, err := env.eng.Execute(ctx, "SELECT COUNT(*) AS n FROM market_data WHERE quantity > "+lit)
			require.NoError(t, err, lit)
			readerRows(t, rdr)
			rdr.Release()
		}
		for _, lit := range []string{"TRUE", "FALSE", "'it''s'"} {
			rdr, err := env.eng.Execute(ctx, "SELECT COUNT(*) AS n FROM market_data WHERE "+lit+" = "+lit)
			require.NoError(t, err, lit)
			readerRows(t, rdr)
			rdr.Release()
		}
	})
	t.Run("wrong parameter count", func(t *testing.T) {
		db := env.db(t, "")
		stmt, err := db.PrepareContext(ctx, query)
		require.NoError(t, err)
		defer stmt.Close()
		_, err = stmt.QueryContext(ctx, 100.5)
		require.Error(t, err)
		require.Contains(t, err.Error(), "the statement has 2 parameters, got 1")
	})
}

// ingestBatches returns a reader of n rows in batches: id = row number,
// qty = id % 1000, and the sum of qty.
func ingestBatches(mem memory.Allocator, n, batch int) (array.RecordReader, int64) {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "qty", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	var recs []arrow.Record
	var sum int64
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		for i := start; i < end; i++ {
			b.Field(0).(*array.Int64Builder).Append(int64(i))
			b.Field(1).(*array.Int64Builder).Append(int64(i % 1000))
			sum += int64(i % 1000)
		}
		recs = append(recs, b.NewRecord())
	}
	rdr, _ := array.NewRecordReader(schema, recs)
	releaseAll(recs)
	return rdr, sum
}

func createOrAppend() *flightsql.TableDefinitionOptions {
	return &flightsql.TableDefinitionOptions{
		IfNotExist: flightsql.TableDefinitionOptionsTableNotExistOptionCreate,
		IfExists:   flightsql.TableDefinitionOptionsTableExistsOptionAppend,
	}
}

func TestIngest(t *testing.T) {
	env := startServer(t, Config{})
	c := env.client(t)
	ctx := testContext(t)
	n := 1_000_000
	if testing.Short() {
		n = 100_000
	}
	rdr, sum := ingestBatches(env.mem, n, 10_000)
	got, err := c.ExecuteIngest(ctx, rdr, &flightsql.ExecuteIngestOpts{Table: "trades", TableDefinitionOptions: createOrAppend()})
	rdr.Release()
	require.NoError(t, err)
	require.Equal(t, int64(n), got)
	require.Equal(t, []string{fmt.Sprintf("%d|%d|%d", n, sum, n-1)},
		flightRows(ctx, t, c, "SELECT COUNT(*) AS n, SUM(qty) AS s, MAX(id) AS m FROM trades"))

	// Append a second stream, naming the table in another case.
	rdr, sum2 := ingestBatches(env.mem, 1000, 300)
	got, err = c.ExecuteIngest(ctx, rdr, &flightsql.ExecuteIngestOpts{Table: "TRADES", TableDefinitionOptions: &flightsql.TableDefinitionOptions{
		IfExists: flightsql.TableDefinitionOptionsTableExistsOptionAppend}})
	rdr.Release()
	require.NoError(t, err)
	require.Equal(t, int64(1000), got)
	require.Equal(t, []string{fmt.Sprintf("%d|%d", n+1000, sum+sum2)},
		flightRows(ctx, t, c, "SELECT COUNT(*) AS n, SUM(qty) AS s FROM trades"))

	// A schema mismatch names the column and appends nothing.
	bad := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "qty", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	rb := array.NewRecordBuilder(env.mem, bad)
	rb.Field(0).(*array.Int64Builder).Append(1)
	rb.Field(1).(*array.Float64Builder).Append(1.5)
	rec := rb.NewRecord()
	rb.Release()
	badRdr, _ := array.NewRecordReader(bad, []arrow.Record{rec})
	rec.Release()
	_, err = c.ExecuteIngest(ctx, badRdr, &flightsql.ExecuteIngestOpts{Table: "trades", TableDefinitionOptions: createOrAppend()})
	badRdr.Release()
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	require.Contains(t, err.Error(), `column "qty" has type float64 in the batch, int64 in the table`)
	require.Equal(t, []string{strconv.Itoa(n + 1000)}, flightRows(ctx, t, c, "SELECT COUNT(*) AS n FROM trades"))

	// Options: FAIL on an absent table, FAIL on an existing one, REPLACE.
	for _, tc := range []struct {
		table string
		opts  *flightsql.TableDefinitionOptions
		code  codes.Code
	}{
		{"absent", &flightsql.TableDefinitionOptions{IfNotExist: flightsql.TableDefinitionOptionsTableNotExistOptionFail}, codes.NotFound},
		{"trades", &flightsql.TableDefinitionOptions{IfExists: flightsql.TableDefinitionOptionsTableExistsOptionFail}, codes.AlreadyExists},
		{"trades", &flightsql.TableDefinitionOptions{IfExists: flightsql.TableDefinitionOptionsTableExistsOptionReplace}, codes.OK},
	} {
		rdr, _ := ingestBatches(env.mem, 10, 4)
		_, err := c.ExecuteIngest(ctx, rdr, &flightsql.ExecuteIngestOpts{Table: tc.table, TableDefinitionOptions: tc.opts})
		rdr.Release()
		require.Equal(t, tc.code, status.Code(err), "%s %v: %v", tc.table, tc.opts, err)
	}
	require.Equal(t, []string{"10|45"}, flightRows(ctx, t, c, "SELECT COUNT(*) AS n, SUM(qty) AS s FROM trades"))
	_, err = c.Execute(ctx, "SELECT COUNT(*) FROM absent")
	require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
}

func TestConcurrentClients(t *testing.T) {
	env := startServer(t, Config{}, velo.WithPartitions(2))
	clients, perClient := 16, 200
	if testing.Short() {
		clients, perClient = 4, 25
	}
	thresholds := []int{1, 250, 500, 750, 999}
	want := make([][]string, len(thresholds))
	for i, k := range thresholds {
		want[i] = env.engineRows(t, fmt.Sprintf("SELECT COUNT(*) AS n, SUM(quantity) AS q FROM market_data WHERE quantity > %d", k))
	}
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make(chan error, clients)
	for w := 0; w < clients; w++ {
		c := env.client(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for q := 0; q < perClient; q++ {
				i := (w + q) % len(thresholds)
				got, err := queryRows(ctx, c, fmt.Sprintf("SELECT COUNT(*) AS n, SUM(quantity) AS q FROM market_data WHERE quantity > %d", thresholds[i]))
				if err == nil && strings.Join(got, ";") != strings.Join(want[i], ";") {
					err = fmt.Errorf("threshold %d: got %v, want %v", thresholds[i], got, want[i])
				}
				if err != nil {
					errs <- fmt.Errorf("client %d query %d: %w", w, q, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.Equal(t, float64(clients*perClient), counterValue(t, env.reg, "velo_server_queries_total"))
}

// queryRows is flightRows without testing.T, for goroutines.
// TestIngestWhileQuerying appends batches in one goroutine while others
// count the table: every count is a whole number of batches and never
// decreases for a reader.
func TestIngestWhileQuerying(t *testing.T) {
	env := startServer(t, Config{})
	ctx := testContext(t)
	ingester := env.client(t)
	const batch = 1000
	rounds := 40
	if testing.Short() {
		rounds = 10
	}
	rdr, _ := ingestBatches(env.mem, batch, batch)
	_, err := ingester.ExecuteIngest(ctx, rdr, &flightsql.ExecuteIngestOpts{Table: "live", TableDefinitionOptions: createOrAppend()})
	rdr.Release()
	require.NoError(t, err)
	done := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := 0; w < 4; w++ {
		c := env.client(t)
		wg.Add(1)
		go func() {
			defer wg.Done()
			last := int64(0)
			for {
				select {
				case <-done:
					return
				default:
				}
				got, err := queryRows(ctx, c, "SELECT COUNT(*) AS n FROM live")
				if err != nil {
					errs <- err
					return
				}
				n, _ := strconv.ParseInt(got[0], 10, 64)
				if n%batch != 0 || n < last {
					errs <- fmt.Errorf("count %d after %d", n, last)
					return
				}
				last = n
			}
		}()
	}
	for i := 1; i < rounds; i++ {
		rdr, _ := ingestBatches(env.mem, batch, 250)
		_, err := ingester.ExecuteIngest(ctx, rdr, &flightsql.ExecuteIngestOpts{Table: "live", TableDefinitionOptions: createOrAppend()})
		rdr.Release()
		require.NoError(t, err)
	}
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	require.Equal(t, []string{strconv.Itoa(rounds * batch)}, flightRows(ctx, t, ingester, "SELECT COUNT(*) AS n FROM live"))
	require.Equal(t, float64(rounds*batch), counterValue(t, env.reg, "velo_server_ingested_rows_total"))
}

func queryRows(ctx context.Context, c *flightsql.Client, sql string) ([]string, error) {
	info, err := c.Execute(ctx, sql)
	if err != nil {
		return nil, err
	}
	rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		return nil, err
	}
	defer rdr.Release()
	var out []string
	for rdr.Next() {
		rec := rdr.Record()
		for i := 0; i < int(rec.NumRows()); i++ {
			cells := make([]string, rec.NumCols())
			for c := range cells {
				cells[c] = rec.Column(c).ValueStr(i)
			}
			out = append(out, strings.Join(cells, "|"))
		}
	}
	return out, rdr.Err()
}

func counterValue(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	fams, err := g.Gather()
	require.NoError(t, err)
	for _, f := range fams {
		if f.GetName() == name {
			var v float64
			for _, m := range f.GetMetric() {
				v += m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
			return v
		}
	}
	return 0
}

func TestBadRequestsLeaveServerServing(t *testing.T) {
	env := startServer(t, Config{})
	c := env.client(t)
	ctx := testContext(t)
	check := func(t *testing.T) {
		t.Helper()
		require.Equal(t, []string{strconv.FormatInt(env.rows, 10)}, flightRows(ctx, t, c, "SELECT COUNT(*) AS n FROM market_data"))
	}
	for _, tc := range []struct {
		name, sql string
		code      codes.Code
		text      string
	}{
		{"malformed", "SELEC symbol FROM market_data", codes.InvalidArgument, "1:1"},
		{"bad expression", "SELECT symbol FROM market_data WHERE", codes.InvalidArgument, "1:"},
		{"unknown table", "SELECT * FROM nope", codes.NotFound, "nope"},
		{"unknown column", "SELECT nope FROM market_data", codes.InvalidArgument, "nope"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Execute(ctx, tc.sql)
			require.Equal(t, tc.code, status.Code(err), "%v", err)
			require.Contains(t, err.Error(), tc.text)
			// The same query in a hand-made ticket fails the same way in DoGet.
			ticket, terr := flightsql.CreateStatementQueryTicket([]byte(tc.sql))
			require.NoError(t, terr)
			_, err = readAll(ctx, c, &flight.Ticket{Ticket: ticket})
			require.Equal(t, tc.code, status.Code(err), "%v", err)
			check(t)
		})
	}
	t.Run("garbage descriptor", func(t *testing.T) {
		for _, cmd := range [][]byte{nil, []byte("garbage"), {0x0a, 0xff, 0xff}} {
			_, err := c.Client.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: cmd})
			require.Error(t, err)
			_, err = c.Client.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorPATH, Path: []string{"x"}})
			require.Error(t, err)
		}
		check(t)
	})
	t.Run("garbage ticket", func(t *testing.T) {
		for _, tk := range [][]byte{nil, []byte("garbage"), {0x0a, 0x03, 'a', 'b'}} {
			_, err := readAll(ctx, c, &flight.Ticket{Ticket: tk})
			require.Error(t, err)
		}
		check(t)
	})
	t.Run("unknown prepared handle", func(t *testing.T) {
		_, err := readAll(ctx, c, preparedTicket(t, "no-such-handle"))
		require.Equal(t, codes.NotFound, status.Code(err), "%v", err)
		check(t)
	})
	t.Run("client disconnects mid-stream", func(t *testing.T) {
		// A large result (a cross join would be too; here S0 over several
		// batches with tiny reads) abandoned after its first batch.
		for i := 0; i < 5; i++ {
			cctx, cancel := context.WithCancel(ctx)
			info, err := c.Execute(cctx, "SELECT * FROM market_data")
			require.NoError(t, err)
			rdr, err := c.DoGet(cctx, info.Endpoint[0].Ticket)
			require.NoError(t, err)
			require.True(t, rdr.Next())
			cancel()
			rdr.Release()
		}
		// A client whose connection closes outright.
		c2, err := flightsql.NewClient(env.addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
		require.NoError(t, err)
		info, err := c2.Execute(ctx, "SELECT * FROM market_data")
		require.NoError(t, err)
		rdr, err := c2.DoGet(ctx, info.Endpoint[0].Ticket)
		require.NoError(t, err)
		require.True(t, rdr.Next())
		require.NoError(t, c2.Close())
		rdr.Release()
		require.Eventually(t, func() bool {
			return counterValue(t, env.reg, "velo_server_active_streams") == 0
		}, 10*time.Second, 10*time.Millisecond)
		check(t)
	})
}

func preparedTicket(t *testing.T, handle string) *flight.Ticket {
	t.Helper()
	a, err := anypb.New(&pb.CommandPreparedStatementQuery{PreparedStatementHandle: []byte(handle)})
	require.NoError(t, err)
	b, err := proto.Marshal(a)
	require.NoError(t, err)
	return &flight.Ticket{Ticket: b}
}

// readAll reads a DoGet stream to the end and returns its rows.
func readAll(ctx context.Context, c *flightsql.Client, tk *flight.Ticket) (int64, error) {
	rdr, err := c.DoGet(ctx, tk)
	if err != nil {
		return 0, err
	}
	defer rdr.Release()
	var n int64
	for rdr.Next() {
		n += rdr.Record().NumRows()
	}
	return n, rdr.Err()
}

func TestDoGetStatementProducerStopsOnCancel(t *testing.T) {
	env := startServer(t, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	schema, ch, err := env.srv.DoGetStatement(ctx, ticketHandle("SELECT * FROM market_data"))
	require.NoError(t, err)
	require.Equal(t, fieldNames(bench.MarketDataSchema()), fieldNames(schema))
	first := <-ch
	require.NoError(t, first.Err)
	require.Positive(t, first.Data.NumRows())
	first.Data.Release()
	cancel()
	// The producer stops (the channel closes) without anyone reading the
	// remaining batches; at most one more is delivered, which we release.
	for c := range ch {
		if c.Data != nil {
			c.Data.Release()
		}
	}
	// Run to the end on a live context: every batch arrives.
	schema, ch, err = env.srv.DoGetStatement(context.Background(), ticketHandle("SELECT quantity FROM market_data"))
	require.NoError(t, err)
	require.Equal(t, 1, schema.NumFields())
	var n int64
	for c := range ch {
		require.NoError(t, c.Err)
		n += c.Data.NumRows()
		c.Data.Release()
	}
	require.Equal(t, env.rows, n)
}

type ticketHandle string

func (h ticketHandle) GetStatementHandle() []byte { return []byte(h) }

func TestAuth(t *testing.T) {
	const token = "s3cret-token"
	env := startServer(t, Config{Token: token})
	c := env.client(t)
	good := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer "+token)
	bad := metadata.AppendToOutgoingContext(context.Background(), "authorization", "Bearer wrong")
	none := context.Background()
	// A ticket obtained legitimately, to check DoGet itself is guarded.
	info, err := c.Execute(good, "SELECT COUNT(*) AS n FROM market_data")
	require.NoError(t, err)
	calls := map[string]func(ctx context.Context) error{
		"Execute": func(ctx context.Context) error {
			_, err := c.Execute(ctx, "SELECT 1 AS x FROM market_data")
			return err
		},
		"DoGet": func(ctx context.Context) error { _, err := readAll(ctx, c, info.Endpoint[0].Ticket); return err },
		"GetTables": func(ctx context.Context) error {
			_, err := c.GetTables(ctx, &flightsql.GetTablesOpts{})
			return err
		},
		"GetSqlInfo": func(ctx context.Context) error {
			_, err := c.GetSqlInfo(ctx, []flightsql.SqlInfo{flightsql.SqlInfoFlightSqlServerName})
			return err
		},
		"GetCatalogs": func(ctx context.Context) error { _, err := c.GetCatalogs(ctx); return err },
		"Prepare": func(ctx context.Context) error {
			p, err := c.Prepare(ctx, "SELECT COUNT(*) FROM market_data")
			if err == nil {
				return p.Close(ctx)
			}
			return err
		},
		"ExecuteIngest": func(ctx context.Context) error {
			rdr, _ := ingestBatches(env.mem, 10, 10)
			defer rdr.Release()
			_, err := c.ExecuteIngest(ctx, rdr, &flightsql.ExecuteIngestOpts{Table: "auth_ingest", TableDefinitionOptions: createOrAppend()})
			return err
		},
		"ListFlights": func(ctx context.Context) error {
			s, err := c.Client.ListFlights(ctx, &flight.Criteria{})
			if err != nil {
				return err
			}
			_, err = s.Recv()
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			for _, ctx := range []context.Context{none, bad} {
				err := call(ctx)
				require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
			}
			err := call(good)
			if name == "ListFlights" {
				require.Equal(t, codes.Unimplemented, status.Code(err), "%v", err)
				return
			}
			require.NoError(t, err)
		})
	}
	t.Run("driver", func(t *testing.T) {
		_, err := env.db(t, "").QueryContext(testContext(t), "SELECT COUNT(*) AS n FROM market_data")
		require.Error(t, err)
		require.Contains(t, err.Error(), "Unauthenticated")
		rows, err := env.db(t, "&token="+token).QueryContext(testContext(t), "SELECT COUNT(*) AS n FROM market_data")
		require.NoError(t, err)
		require.Equal(t, []string{strconv.FormatInt(env.rows, 10)}, sqlRows(t, rows))
	})
}

func TestMetadata(t *testing.T) {
	env := startServer(t, Config{})
	c := env.client(t)
	ctx := testContext(t)
	fetch := func(info *flight.FlightInfo, err error) []string {
		t.Helper()
		require.NoError(t, err)
		rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
		require.NoError(t, err)
		defer rdr.Release()
		return readerRows(t, rdr)
	}
	require.Equal(t, []string{"velo"}, fetch(c.GetCatalogs(ctx)))
	require.Equal(t, []string{"velo|main"}, fetch(c.GetDBSchemas(ctx, &flightsql.GetDBSchemasOpts{})))
	pat := "ma%"
	require.Equal(t, []string{"velo|main"}, fetch(c.GetDBSchemas(ctx, &flightsql.GetDBSchemasOpts{DbSchemaFilterPattern: &pat})))
	require.Equal(t, []string{"TABLE"}, fetch(c.GetTableTypes(ctx)))
	require.Equal(t, []string{"velo|main|market_data|TABLE"}, fetch(c.GetTables(ctx, &flightsql.GetTablesOpts{})))
	for _, p := range []string{"market%", "MARKET_DATA", "m_rket%", "%data"} {
		require.Equal(t, []string{"velo|main|market_data|TABLE"}, fetch(c.GetTables(ctx, &flightsql.GetTablesOpts{TableNameFilterPattern: &p})), p)
	}
	for _, p := range []string{"nomatch", "market", "_arket"} {
		require.Empty(t, fetch(c.GetTables(ctx, &flightsql.GetTablesOpts{TableNameFilterPattern: &p})), p)
	}
	other := "other"
	require.Empty(t, fetch(c.GetTables(ctx, &flightsql.GetTablesOpts{Catalog: &other})))
	require.Empty(t, fetch(c.GetTables(ctx, &flightsql.GetTablesOpts{TableTypes: []string{"VIEW"}})))

	// With schemas: the serialized schema is market_data's.
	info, err := c.GetTables(ctx, &flightsql.GetTablesOpts{IncludeSchema: true})
	require.NoError(t, err)
	rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
	require.NoError(t, err)
	require.True(t, rdr.Next())
	rec := rdr.Record()
	require.Equal(t, int64(1), rec.NumRows())
	got, err := flight.DeserializeSchema(rec.Column(4).(*array.Binary).Value(0), env.mem)
	require.NoError(t, err)
	require.True(t, got.Equal(bench.MarketDataSchema()), "%s", got)
	rdr.Release()

	// SqlInfo: name, version, read-only.
	info, err = c.GetSqlInfo(ctx, []flightsql.SqlInfo{flightsql.SqlInfoFlightSqlServerName, flightsql.SqlInfoFlightSqlServerVersion, flightsql.SqlInfoFlightSqlServerReadOnly})
	require.NoError(t, err)
	rdr, err = c.DoGet(ctx, info.Endpoint[0].Ticket)
	require.NoError(t, err)
	defer rdr.Release()
	require.True(t, rdr.Next())
	rec = rdr.Record()
	vals := map[uint32]string{}
	for i := 0; i < int(rec.NumRows()); i++ {
		vals[rec.Column(0).(*array.Uint32).Value(i)] = rec.Column(1).ValueStr(i)
	}
	require.Contains(t, vals[uint32(flightsql.SqlInfoFlightSqlServerName)], Name)
	require.Contains(t, vals[uint32(flightsql.SqlInfoFlightSqlServerVersion)], Version)
	require.Contains(t, vals[uint32(flightsql.SqlInfoFlightSqlServerReadOnly)], "false")

	// The dataset schema of a query.
	sr, err := c.GetExecuteSchema(ctx, bench.SQLS2)
	require.NoError(t, err)
	s2, err := flight.DeserializeSchema(sr.GetSchema(), env.mem)
	require.NoError(t, err)
	require.Equal(t, []string{"symbol", "trade_count", "avg_price", "min_price", "max_price", "total_quantity"}, fieldNames(s2))
}

func fieldNames(s *arrow.Schema) []string {
	out := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		out[i] = f.Name
	}
	return out
}

func TestMetricsScrape(t *testing.T) {
	env := startServer(t, Config{})
	c := env.client(t)
	ctx := testContext(t)
	var rowsOut int
	for i := 0; i < 3; i++ {
		rowsOut += len(flightRows(ctx, t, c, bench.SQLS2))
	}
	_, err := c.Execute(ctx, "SELECT * FROM nope")
	require.Error(t, err)

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	hs := &http.Server{Handler: promhttp.HandlerFor(env.reg, promhttp.HandlerOpts{}), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(lis) }()
	defer hs.Close()
	resp, err := http.Get("http://" + lis.Addr().String() + "/metrics")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(t, err)
	value := func(name string, labels map[string]string) float64 {
		f, ok := fams[name]
		require.True(t, ok, "metric %s missing", name)
		for _, m := range f.GetMetric() {
			if labelsMatch(m, labels) {
				switch f.GetType() {
				case dto.MetricType_COUNTER:
					return m.GetCounter().GetValue()
				case dto.MetricType_GAUGE:
					return m.GetGauge().GetValue()
				case dto.MetricType_HISTOGRAM:
					return float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
		t.Fatalf("metric %s%v missing", name, labels)
		return 0
	}
	require.Equal(t, 3.0, value("velo_server_queries_total", nil))
	require.Equal(t, float64(rowsOut), value("velo_server_rows_out_total", nil))
	require.Equal(t, 3.0, value("velo_server_query_duration_seconds", nil))
	require.Equal(t, 0.0, value("velo_server_active_streams", nil))
	require.Equal(t, 1.0, value("velo_server_errors_total", map[string]string{"code": "NotFound"}))
}

func labelsMatch(m *dto.Metric, want map[string]string) bool {
	got := map[string]string{}
	for _, l := range m.GetLabel() {
		got[l.GetName()] = l.GetValue()
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func TestPanicInHandlerIsInternal(t *testing.T) {
	env := startServer(t, Config{})
	_, err := env.srv.unaryInterceptor(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/test/Panic"},
		func(context.Context, any) (any, error) { panic("boom") })
	require.Equal(t, codes.Internal, status.Code(err))
	require.Contains(t, err.Error(), "boom")
	err = env.srv.streamInterceptor(nil, fakeStream{}, &grpc.StreamServerInfo{FullMethod: "/test/PanicStream"},
		func(any, grpc.ServerStream) error { panic("bang") })
	require.Equal(t, codes.Internal, status.Code(err))
	require.Contains(t, err.Error(), "bang")
}

// fakeStream is a grpc.ServerStream with a background context.
type fakeStream struct{ grpc.ServerStream }

func (fakeStream) Context() context.Context { return context.Background() }

func TestXdbcTypeInfo(t *testing.T) {
	env := startServer(t, Config{})
	c := env.client(t)
	ctx := testContext(t)
	names := func(code *int32) []string {
		t.Helper()
		info, err := c.GetXdbcTypeInfo(ctx, code)
		require.NoError(t, err)
		rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
		require.NoError(t, err)
		defer rdr.Release()
		var out []string
		for rdr.Next() {
			rec := rdr.Record()
			for i := 0; i < int(rec.NumRows()); i++ {
				out = append(out, rec.Column(0).ValueStr(i)+"|"+rec.Column(1).ValueStr(i))
			}
		}
		require.NoError(t, rdr.Err())
		return out
	}
	require.Equal(t, []string{"BIGINT|-5", "INTEGER|4", "REAL|7", "DOUBLE|8", "VARCHAR|12", "BOOLEAN|16", "DATE|91", "TIMESTAMP|93"}, names(nil))
	varchar := int32(12)
	require.Equal(t, []string{"VARCHAR|12"}, names(&varchar))
	none := int32(2004) // BLOB
	require.Empty(t, names(&none))
	// Every listed name is a type the engine's CAST accepts.
	for _, ty := range xdbcTypes {
		_, err := env.eng.Explain("SELECT CAST(symbol AS " + ty.name + ") AS x FROM market_data")
		require.NoError(t, err, ty.name)
	}
}

// TestLargeBatches ingests one 6.4 MB batch (over gRPC's default 4 MiB
// message limit) and reads it back: the server accepts large messages and
// cuts large result batches to sizes clients accept by default.
func TestLargeBatches(t *testing.T) {
	env := startServer(t, Config{}, velo.WithBatchSize(1<<20))
	c := env.client(t)
	ctx := testContext(t)
	const n = 400_000
	rdr, sum := ingestBatches(env.mem, n, n)
	got, err := c.ExecuteIngest(ctx, rdr, &flightsql.ExecuteIngestOpts{Table: "big", TableDefinitionOptions: createOrAppend()})
	rdr.Release()
	require.NoError(t, err)
	require.Equal(t, int64(n), got)
	info, err := c.Execute(ctx, "SELECT id, qty FROM big")
	require.NoError(t, err)
	fr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
	require.NoError(t, err)
	defer fr.Release()
	var rows, gotSum, batches int64
	next := int64(0)
	for fr.Next() {
		rec := fr.Record()
		batches++
		ids := rec.Column(0).(*array.Int64)
		qty := rec.Column(1).(*array.Int64)
		for i := 0; i < ids.Len(); i++ {
			require.Equal(t, next, ids.Value(i))
			next++
			gotSum += qty.Value(i)
		}
		rows += rec.NumRows()
	}
	require.NoError(t, fr.Err())
	require.Equal(t, int64(n), rows)
	require.Equal(t, sum, gotSum)
	require.Greater(t, batches, int64(1), "a 6.4 MB batch goes out in slices")
}

func TestMaxRecvMsgSize(t *testing.T) {
	env := startServer(t, Config{MaxRecvMsgSize: 1 << 20})
	c := env.client(t)
	rdr, _ := ingestBatches(env.mem, 100_000, 100_000) // 1.6 MB in one message
	_, err := c.ExecuteIngest(testContext(t), rdr, &flightsql.ExecuteIngestOpts{Table: "big", TableDefinitionOptions: createOrAppend()})
	rdr.Release()
	require.Equal(t, codes.ResourceExhausted, status.Code(err), "%v", err)
	require.Equal(t, []string{strconv.FormatInt(env.rows, 10)}, flightRows(testContext(t), t, c, "SELECT COUNT(*) AS n FROM market_data"))
}
