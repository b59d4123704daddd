package server

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/flight"
	"github.com/apache/arrow/go/v17/arrow/flight/flightsql"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/columnar"
)

func eventsSchema() *arrow.Schema {
	return arrow.NewSchema([]arrow.Field{
		{Name: "ts", Type: arrow.PrimitiveTypes.Int64},
		{Name: "k", Type: arrow.BinaryTypes.String},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
}

// eventBatch builds batch i of an event stream: rows rows with event times
// rising across batches (no late rows), keys cycling over keys groups.
func eventBatch(mem memory.Allocator, i, rows, keys int, keyPad string) arrow.Record {
	b := array.NewRecordBuilder(mem, eventsSchema())
	defer b.Release()
	for j := 0; j < rows; j++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i*4000 + j*4000/rows))
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("k%d%s", (i*7+j)%keys, keyPad))
		b.Field(2).(*array.Int64Builder).Append(int64(i*100 + j))
	}
	return b.NewRecord()
}

// ingest appends rec to table through the Flight SQL client.
func ingest(ctx context.Context, t *testing.T, c *flightsql.Client, table string, rec arrow.Record) {
	t.Helper()
	rdr, err := array.NewRecordReader(rec.Schema(), []arrow.Record{rec})
	require.NoError(t, err)
	defer rdr.Release()
	n, err := c.ExecuteIngest(ctx, rdr, &flightsql.ExecuteIngestOpts{Table: table, TableDefinitionOptions: createOrAppend()})
	require.NoError(t, err)
	require.Equal(t, rec.NumRows(), n)
}

// recordRowsOf formats rec's rows as readerRows does (unsorted).
func recordRowsOf(rec arrow.Record) []string {
	out := make([]string, rec.NumRows())
	for i := range out {
		cells := make([]string, rec.NumCols())
		for c := range cells {
			cells[c] = rec.Column(c).ValueStr(i)
		}
		out[i] = strings.Join(cells, "|")
	}
	return out
}

// changeState keeps the latest change per key (the first nKey columns).
type changeState struct {
	nKey   int
	latest map[string]string
	all    []string
}

func (s *changeState) add(rows []string) {
	for _, r := range rows {
		cells := strings.Split(r, "|")
		s.latest[strings.Join(cells[:s.nKey], "|")] = r
		s.all = append(s.all, r)
	}
}

func (s *changeState) rows() []string {
	out := make([]string, 0, len(s.latest))
	for _, r := range s.latest {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

// TestContinuousEmitChanges is issue #9's acceptance: a Flight SQL DoGet on
// an EMIT CHANGES query delivers changes while rows are ingested into its
// table. The stream first sees the rows already in the table, then every
// ingested batch as it arrives; after each ingest the latest change per
// group equals the engine's batch GROUP BY over the table so far; on one
// partition the whole sequence of changes equals Engine.Execute of the
// EMIT CHANGES query over the same batches. A cancelled stream leaves the
// server serving, with no query and no goroutine left (TestMain: goleak).
func TestContinuousEmitChanges(t *testing.T) {
	for _, tc := range []struct {
		name, sql, final string
		nKey             int
	}{
		{"group by", "SELECT k, COUNT(*) AS n, SUM(v) AS s FROM events GROUP BY k EMIT CHANGES",
			"SELECT k, COUNT(*) AS n, SUM(v) AS s FROM events GROUP BY k", 1},
		{"tumbling window", "SELECT k, window_start, COUNT(*) AS n, MAX(v) AS m FROM events GROUP BY k WINDOW TUMBLING(ts, INTERVAL '5' SECOND) EMIT CHANGES",
			"SELECT k, window_start, COUNT(*) AS n, MAX(v) AS m FROM events GROUP BY k WINDOW TUMBLING(ts, INTERVAL '5' SECOND)", 2},
	} {
		for _, parts := range []int{1, 3} {
			t.Run(fmt.Sprintf("%s/partitions=%d", tc.name, parts), func(t *testing.T) {
				testContinuous(t, tc.sql, tc.final, tc.nKey, parts)
			})
		}
	}
}

func testContinuous(t *testing.T, sql, final string, nKey, parts int) {
	env := startServer(t, Config{}, velo.WithPartitions(parts))
	ctx := testContext(t)
	c := env.client(t)
	const batches, rows, keys = 6, 300, 17
	first := eventBatch(env.mem, 0, rows, keys, "")
	ingest(ctx, t, c, "events", first)
	first.Release()
	// Every goroutine from here on belongs to the stream.
	before := goleak.IgnoreCurrent()

	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	info, err := c.Execute(sctx, sql)
	require.NoError(t, err)
	rdr, err := c.DoGet(sctx, info.Endpoint[0].Ticket)
	require.NoError(t, err)
	st := &changeState{nKey: nKey, latest: map[string]string{}}
	// readUntil reads changes until the latest per group equals want.
	readUntil := func(want []string, what string) {
		t.Helper()
		for !slices.Equal(st.rows(), want) {
			require.True(t, rdr.Next(), "%s: the stream ended (%v) with %v, want %v", what, rdr.Err(), st.rows(), want)
			st.add(recordRowsOf(rdr.Record()))
		}
	}
	// The rows already in the table come first.
	readUntil(env.engineRows(t, final), "the table's rows at the start")
	for i := 1; i < batches; i++ {
		rec := eventBatch(env.mem, i, rows, keys, "")
		ingest(ctx, t, c, "events", rec)
		rec.Release()
		readUntil(env.engineRows(t, final), fmt.Sprintf("after ingest %d", i))
	}
	if parts == 1 {
		// Exactly the changes the batch engine computes over the same
		// batches, in the same order.
		want, err := env.eng.Execute(ctx, sql)
		require.NoError(t, err)
		var seq []string
		for want.Next() {
			seq = append(seq, recordRowsOf(want.Record())...)
		}
		require.NoError(t, want.Err())
		want.Release()
		require.Equal(t, seq, st.all)
	}
	t.Logf("%d changes", len(st.all))
	require.Equal(t, 1.0, counterValue(t, env.reg, "velo_server_active_streams"))
	require.Equal(t, 1, env.eng.RunningQueries())

	cancel()
	rdr.Release()
	require.Eventually(t, func() bool {
		return counterValue(t, env.reg, "velo_server_active_streams") == 0 && env.eng.RunningQueries() == 0
	}, 10*time.Second, 5*time.Millisecond)
	goleak.VerifyNone(t, before)
	// The server still serves, ingest included.
	rec := eventBatch(env.mem, batches, rows, keys, "")
	ingest(ctx, t, c, "events", rec)
	rec.Release()
	require.Equal(t, []string{fmt.Sprint((batches + 1) * rows)}, flightRows(ctx, t, c, "SELECT COUNT(*) AS n FROM events"))
}

// TestContinuousSlowClient: a client that stops reading fails its own
// stream with ResourceExhausted once Config.StreamBuffer ingested batches
// wait for it; ingest never blocks and the server keeps serving.
func TestContinuousSlowClient(t *testing.T) {
	env := startServer(t, Config{StreamBuffer: 2})
	ctx := testContext(t)
	c := env.client(t)
	pad := strings.Repeat("x", 64)
	first := eventBatch(env.mem, 0, 10, 10, pad)
	ingest(ctx, t, c, "events", first)
	first.Release()
	info, err := c.Execute(ctx, "SELECT k, COUNT(*) AS n FROM events GROUP BY k EMIT CHANGES")
	require.NoError(t, err)
	rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
	require.NoError(t, err)
	defer rdr.Release()
	// Each batch changes 5,000 groups of ~70-byte keys (~400 KB of
	// changes): gRPC's flow-control window soon stops the server's sends.
	ingested := 0
	for i := 1; i <= 200 && counterValue(t, env.reg, "velo_server_slow_streams_total") == 0; i++ {
		rec := eventBatch(env.mem, i, 5000, 5000, pad)
		ingest(ctx, t, c, "events", rec)
		rec.Release()
		ingested++
	}
	t.Logf("stream failed after %d ingests", ingested)
	require.Equal(t, 1.0, counterValue(t, env.reg, "velo_server_slow_streams_total"), "after %d ingests", ingested)
	// The client gets what was sent, then the error.
	for rdr.Next() {
	}
	require.Equal(t, codes.ResourceExhausted, status.Code(rdr.Err()), "%v", rdr.Err())
	require.Contains(t, rdr.Err().Error(), "fell behind")
	require.Eventually(t, func() bool {
		return counterValue(t, env.reg, "velo_server_active_streams") == 0 && env.eng.RunningQueries() == 0
	}, 10*time.Second, 5*time.Millisecond)
	// Ingest and queries go on.
	rec := eventBatch(env.mem, 0, 10, 10, pad)
	ingest(ctx, t, c, "events", rec)
	rec.Release()
	require.Equal(t, []string{fmt.Sprint(20 + 5000*ingested)}, flightRows(ctx, t, c, "SELECT COUNT(*) AS n FROM events"))
}

// TestContinuousEnds: a continuous stream ends cleanly — its query closed,
// its last changes sent — when its table is replaced and when the server
// shuts down.
func TestContinuousEnds(t *testing.T) {
	env := startServer(t, Config{})
	ctx := testContext(t)
	c := env.client(t)
	rec := eventBatch(env.mem, 0, 50, 5, "")
	ingest(ctx, t, c, "events", rec)
	const sql = "SELECT k, COUNT(*) AS n FROM events GROUP BY k EMIT CHANGES"
	start := func() *flight.Reader {
		info, err := c.Execute(ctx, sql)
		require.NoError(t, err)
		rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
		require.NoError(t, err)
		return rdr
	}
	drain := func(rdr *flight.Reader) int64 {
		var n int64
		for rdr.Next() {
			n += rdr.Record().NumRows()
		}
		require.NoError(t, rdr.Err())
		rdr.Release()
		return n
	}

	rdr := start()
	require.True(t, rdr.Next()) // the table's rows
	replace, err := array.NewRecordReader(rec.Schema(), []arrow.Record{rec})
	require.NoError(t, err)
	_, err = c.ExecuteIngest(ctx, replace, &flightsql.ExecuteIngestOpts{Table: "events", TableDefinitionOptions: &flightsql.TableDefinitionOptions{
		IfExists: flightsql.TableDefinitionOptionsTableExistsOptionReplace}})
	replace.Release()
	require.NoError(t, err)
	drain(rdr)

	rdr = start()
	require.True(t, rdr.Next())
	ended := make(chan struct{})
	go func() {
		env.srv.Shutdown(10 * time.Second)
		close(ended)
	}()
	drain(rdr)
	<-ended
	rec.Release()
}

// TestContinuousFileTable: a continuous query over a file table reads the
// file's rows (such a table takes no ingest, so nothing follows).
func TestContinuousFileTable(t *testing.T) {
	env := startServer(t, Config{})
	ctx := testContext(t)
	c := env.client(t)
	path := filepath.Join(t.TempDir(), "events.arrow")
	w, err := columnar.CreateFile(path, eventsSchema(), env.mem)
	require.NoError(t, err)
	for i := range 3 {
		rec := eventBatch(env.mem, i, 100, 7, "")
		require.NoError(t, w.Write(rec))
		rec.Release()
	}
	require.NoError(t, w.Close())
	require.NoError(t, env.srv.RegisterTable("events", path))

	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	info, err := c.Execute(sctx, "SELECT k, SUM(v) AS s FROM events GROUP BY k EMIT CHANGES")
	require.NoError(t, err)
	rdr, err := c.DoGet(sctx, info.Endpoint[0].Ticket)
	require.NoError(t, err)
	st := &changeState{nKey: 1, latest: map[string]string{}}
	want := env.engineRows(t, "SELECT k, SUM(v) AS s FROM events GROUP BY k")
	for !slices.Equal(st.rows(), want) {
		require.True(t, rdr.Next(), "%v", rdr.Err())
		st.add(recordRowsOf(rdr.Record()))
	}
	cancel()
	rdr.Release()
	require.Eventually(t, func() bool { return env.eng.RunningQueries() == 0 }, 10*time.Second, 5*time.Millisecond)
}

// TestContinuousConcurrentIngest: streams that start while several clients
// ingest concurrently each see every batch exactly once (in the snapshot
// or live, never both): at the end every stream's latest change per group
// equals the batch GROUP BY over the whole table — COUNT(*) would be off
// for a batch seen twice or missed. A prepared EMIT CHANGES statement
// streams the same way.
func TestContinuousConcurrentIngest(t *testing.T) {
	env := startServer(t, Config{}, velo.WithPartitions(2))
	ctx := testContext(t)
	c := env.client(t)
	first := eventBatch(env.mem, 0, 100, 11, "")
	ingest(ctx, t, c, "events", first)
	first.Release()
	const sql = "SELECT k, COUNT(*) AS n, SUM(v) AS s FROM events GROUP BY k EMIT CHANGES"
	const final = "SELECT k, COUNT(*) AS n, SUM(v) AS s FROM events GROUP BY k"
	sctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	type stream struct {
		rdr *flight.Reader
		st  *changeState
	}
	var streams []stream
	open := func(prepared bool) {
		var info *flight.FlightInfo
		var err error
		if prepared {
			stmt, perr := c.Prepare(sctx, sql)
			require.NoError(t, perr)
			defer func() { require.NoError(t, stmt.Close(ctx)) }()
			info, err = stmt.Execute(sctx)
		} else {
			info, err = c.Execute(sctx, sql)
		}
		require.NoError(t, err)
		rdr, err := c.DoGet(sctx, info.Endpoint[0].Ticket)
		require.NoError(t, err)
		streams = append(streams, stream{rdr, &changeState{nKey: 1, latest: map[string]string{}}})
	}
	const writers, perWriter = 3, 20
	errs := make(chan error, writers)
	for w := range writers {
		wc := env.client(t)
		go func() {
			for i := range perWriter {
				rec := eventBatch(env.mem, 1+w*perWriter+i, 50+w, 11, "")
				rdr, err := array.NewRecordReader(rec.Schema(), []arrow.Record{rec})
				rec.Release()
				if err == nil {
					_, err = wc.ExecuteIngest(ctx, rdr, &flightsql.ExecuteIngestOpts{Table: "events", TableDefinitionOptions: createOrAppend()})
					rdr.Release()
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	open(false)
	open(true)
	open(false)
	for range writers {
		require.NoError(t, <-errs)
	}
	want := env.engineRows(t, final)
	for i, s := range streams {
		for !slices.Equal(s.st.rows(), want) {
			require.True(t, s.rdr.Next(), "stream %d: %v; got %v, want %v", i, s.rdr.Err(), s.st.rows(), want)
			s.st.add(recordRowsOf(s.rdr.Record()))
		}
	}
	cancel()
	for _, s := range streams {
		s.rdr.Release()
	}
	require.Eventually(t, func() bool { return env.eng.RunningQueries() == 0 }, 10*time.Second, 5*time.Millisecond)
}
