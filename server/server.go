package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/flight"
	"github.com/apache/arrow/go/v17/arrow/flight/flightsql"
	pb "github.com/apache/arrow/go/v17/arrow/flight/gen/flight"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/prometheus/client_golang/prometheus"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/sqlfront"
)

// Name and Version are what GetSqlInfo reports as the server's name and
// version.
const (
	Name    = "velo"
	Version = "0.1.0-dev"
)

// Catalog and Schema are the single catalog and database schema the
// metadata calls report every table under.
const (
	Catalog = "velo"
	Schema  = "main"
)

// TableType is the only table type the server reports.
const TableType = "TABLE"

// DefaultMaxPrepared is the default bound on open prepared statements.
const DefaultMaxPrepared = 10_000

// Config configures a Server. The zero value serves plain-text gRPC without
// authentication.
type Config struct {
	// Token, when non-empty, is the bearer token every call must carry in
	// its "authorization: Bearer <token>" header.
	Token string
	// TLS, when non-nil, makes the server speak TLS with this configuration.
	TLS *tls.Config
	// Allocator decodes ingested batches and bound parameters (default
	// memory.DefaultAllocator). Ingested batches stay allocated while their
	// table is registered.
	Allocator memory.Allocator
	// Registerer, when non-nil, receives the server's metric collectors.
	Registerer prometheus.Registerer
	// MaxPrepared bounds the open prepared statements (default
	// DefaultMaxPrepared); creating one more fails ResourceExhausted.
	MaxPrepared int
	// MaxRecvMsgSize bounds one incoming gRPC message, i.e. one ingested
	// batch (default DefaultMaxRecvMsgSize; gRPC's own default is 4 MiB).
	MaxRecvMsgSize int
	// StreamBuffer bounds, per continuous (EMIT CHANGES) stream, both the
	// ingested batches waiting to be pushed into its query and the result
	// batches waiting to be sent to its client (default
	// DefaultStreamBuffer). Ingest never waits for a stream: when a
	// stream's client reads too slowly and StreamBuffer ingested batches
	// are waiting for it, that stream fails with ResourceExhausted while
	// ingest and every other stream go on.
	StreamBuffer int
}

// DefaultMaxRecvMsgSize is the default bound on one incoming message.
const DefaultMaxRecvMsgSize = 256 << 20

// targetMessageBytes is the size results are cut to: clients' gRPC
// receive limit defaults to 4 MiB per message, and the engine may return a
// batch far larger (a partitioned or sorted result).
const targetMessageBytes = 2 << 20

// Server is a Flight SQL server over a velo.Engine. Create it with New,
// register tables with RegisterTable, then Serve on a listener.
type Server struct {
	flightsql.BaseServer

	eng     *velo.Engine
	mem     memory.Allocator
	cfg     Config
	metrics *metrics
	grpc    *grpc.Server

	mu       sync.Mutex
	tables   map[string]*tableEntry   // keyed by lower-case name
	prepared map[string]*prepared     // keyed by handle
	subs     map[string][]*subscriber // running continuous queries, by lower-case table name
	closing  bool                     // Shutdown or Close began: continuous queries end
}

// tableEntry is a table registered through the server: its schema and, for
// in-memory tables, the batches the server holds (one reference each).
type tableEntry struct {
	name    string
	schema  *arrow.Schema
	records []arrow.Record // nil for file tables
	path    string
}

// New returns a server over eng. The caller keeps ownership of eng and
// closes it after the server has stopped.
func New(eng *velo.Engine, cfg Config) (*Server, error) {
	if eng == nil {
		return nil, errors.New("server: nil engine")
	}
	if cfg.Allocator == nil {
		cfg.Allocator = memory.DefaultAllocator
	}
	if cfg.MaxPrepared <= 0 {
		cfg.MaxPrepared = DefaultMaxPrepared
	}
	if cfg.MaxRecvMsgSize <= 0 {
		cfg.MaxRecvMsgSize = DefaultMaxRecvMsgSize
	}
	if cfg.StreamBuffer <= 0 {
		cfg.StreamBuffer = DefaultStreamBuffer
	}
	s := &Server{
		eng:      eng,
		mem:      cfg.Allocator,
		cfg:      cfg,
		metrics:  newMetrics(),
		tables:   map[string]*tableEntry{},
		prepared: map[string]*prepared{},
	}
	// BaseServer lazily sets Alloc on the first GetSqlInfo, a data race
	// under concurrent calls; setting it here keeps it read-only. SqlInfo
	// results are tiny: they use the Go-managed default allocator.
	s.Alloc = memory.DefaultAllocator
	if err := s.registerSqlInfo(); err != nil {
		return nil, err
	}
	if cfg.Registerer != nil {
		for _, c := range s.metrics.collectors() {
			if err := cfg.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("server: register metrics: %w", err)
			}
		}
	}
	opts := []grpc.ServerOption{
		grpc.ChainUnaryInterceptor(s.unaryInterceptor),
		grpc.ChainStreamInterceptor(s.streamInterceptor),
		grpc.MaxRecvMsgSize(cfg.MaxRecvMsgSize),
	}
	if cfg.TLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg.TLS)))
	}
	s.grpc = grpc.NewServer(opts...)
	flight.RegisterFlightServiceServer(s.grpc, &service{FlightServer: flightsql.NewFlightServerWithAllocator(s, s.mem), s: s})
	return s, nil
}

// Collectors returns the server's Prometheus collectors (the ones New
// registers with Config.Registerer).
func (s *Server) Collectors() []prometheus.Collector { return s.metrics.collectors() }

// Serve accepts Flight SQL connections on lis until Stop or Shutdown; it
// returns nil after a Stop or Shutdown.
func (s *Server) Serve(lis net.Listener) error {
	if err := s.grpc.Serve(lis); err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("server: serve %s: %w", lis.Addr(), err)
	}
	return nil
}

// Shutdown stops accepting connections and waits for in-flight calls
// (streams included) to finish; after timeout it cancels the remaining ones.
// Continuous (EMIT CHANGES) streams end: each query takes no more input,
// closes, and its last changes are sent before its stream finishes.
func (s *Server) Shutdown(timeout time.Duration) {
	s.endStreams()
	done := make(chan struct{})
	go func() {
		s.grpc.GracefulStop()
		close(done)
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		s.grpc.Stop()
		<-done
	}
}

// Stop closes every connection and listener at once.
func (s *Server) Stop() {
	s.endStreams()
	s.grpc.Stop()
}

// endStreams ends every continuous query and makes new ones end at once.
func (s *Server) endStreams() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	s.endStreamsLocked("")
}

// Close releases the batches the server holds (ingested and registered
// in-memory tables) and forgets prepared statements. Call it after the
// server has stopped; the engine's own references stay until Engine.Close.
func (s *Server) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	s.endStreamsLocked("")
	for k, t := range s.tables {
		releaseAll(t.records)
		delete(s.tables, k)
	}
	clear(s.prepared)
}

func releaseAll(recs []arrow.Record) {
	for _, r := range recs {
		r.Release()
	}
}

// RegisterTable registers src with the engine as name and records it for
// the metadata calls (GetTables) and ingest. src is a file path (Parquet,
// Arrow IPC, CSV, JSON lines), an arrow.Record, a []arrow.Record (the caller
// keeps its references) or an array.RecordReader, which is read to the end
// here and released, so the table stays re-readable by every query.
func (s *Server) RegisterTable(name string, src any) error {
	if name == "" {
		return errors.New("server: RegisterTable: empty table name")
	}
	switch v := src.(type) {
	case string:
		r, err := columnar.OpenFile(v, s.mem)
		if err != nil {
			return fmt.Errorf("server: register table %q: %w", name, err)
		}
		schema := r.Schema()
		r.Release()
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.eng.RegisterTable(name, v); err != nil {
			return err
		}
		s.replaceLocked(&tableEntry{name: name, schema: schema, path: v})
		return nil
	case arrow.Record:
		return s.registerRecords(name, v.Schema(), []arrow.Record{v})
	case []arrow.Record:
		if len(v) == 0 {
			return fmt.Errorf("server: register table %q: no records (the schema is unknown)", name)
		}
		return s.registerRecords(name, v[0].Schema(), v)
	case array.RecordReader:
		defer v.Release()
		var recs []arrow.Record
		defer func() { releaseAll(recs) }()
		for v.Next() {
			r := v.Record()
			r.Retain()
			recs = append(recs, r)
		}
		if err := v.Err(); err != nil {
			return fmt.Errorf("server: register table %q: read: %w", name, err)
		}
		return s.registerRecords(name, v.Schema(), recs)
	}
	return fmt.Errorf("server: register table %q: unsupported source %T (want a file path, arrow.Record, []arrow.Record or array.RecordReader)", name, src)
}

// registerRecords registers recs (not consumed: the server takes its own
// references) as an in-memory table.
func (s *Server) registerRecords(name string, schema *arrow.Schema, recs []arrow.Record) error {
	own := make([]arrow.Record, 0, len(recs)+1)
	for _, r := range recs {
		if !r.Schema().Equal(schema) {
			releaseAll(own)
			return fmt.Errorf("server: register table %q: record schema %s differs from %s", name, r.Schema(), schema)
		}
		r.Retain()
		own = append(own, r)
	}
	if len(own) == 0 {
		own = append(own, emptyRecord(s.mem, schema))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.eng.RegisterTable(name, own); err != nil {
		releaseAll(own)
		return err
	}
	s.replaceLocked(&tableEntry{name: name, schema: schema, records: own})
	return nil
}

// replaceLocked installs t, releasing the entry it replaces and ending
// the continuous queries over it (see RegisterTable). s.mu is held.
func (s *Server) replaceLocked(t *tableEntry) {
	key := strings.ToLower(t.name)
	if old := s.tables[key]; old != nil {
		releaseAll(old.records)
		s.endStreamsLocked(key)
	}
	s.tables[key] = t
}

// emptyRecord returns a zero-row record of schema.
func emptyRecord(mem memory.Allocator, schema *arrow.Schema) arrow.Record {
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	return b.NewRecord()
}

// service wraps the flightsql dispatcher to run query tickets itself: it
// writes the engine's batches straight to the stream, so a client that
// goes away mid-stream costs neither a goroutine nor a batch (v17's DoGet
// neither drains its chunk channel nor releases the chunk it failed to
// write).
type service struct {
	flight.FlightServer
	s *Server
}

// DoGet implements flight.FlightServer.
func (w *service) DoGet(t *flight.Ticket, stream flight.FlightService_DoGetServer) error {
	var anyCmd anypb.Any
	if err := proto.Unmarshal(t.GetTicket(), &anyCmd); err == nil {
		if msg, err := anyCmd.UnmarshalNew(); err == nil {
			switch m := msg.(type) {
			case *pb.TicketStatementQuery:
				return w.s.streamQuery(stream, string(m.GetStatementHandle()))
			case *pb.CommandPreparedStatementQuery:
				sql, err := w.s.boundSQL(m.GetPreparedStatementHandle())
				if err != nil {
					return err
				}
				return w.s.streamQuery(stream, sql)
			}
		}
	}
	return w.FlightServer.DoGet(t, stream)
}

// streamQuery runs sql and writes its result to stream batch by batch; an
// EMIT CHANGES query runs continuously (streamContinuous).
func (s *Server) streamQuery(stream flight.FlightService_DoGetServer, sql string) error {
	if emitChanges(sql) {
		return s.streamContinuous(stream, sql)
	}
	ctx := stream.Context()
	start := time.Now()
	s.metrics.queries.Inc()
	s.metrics.active.Inc()
	defer s.metrics.active.Dec()
	rdr, err := s.execute(ctx, sql)
	if err != nil {
		return err
	}
	defer rdr.Release()
	schema, decode := plainSchema(rdr.Schema())
	wr := flight.NewRecordWriter(stream, ipc.WithSchema(schema), ipc.WithAllocator(s.mem))
	for rdr.Next() {
		rec := rdr.Record()
		if decode {
			if rec, err = plainRecord(s.mem, schema, rec); err != nil {
				wr.Close()
				return status.Error(codes.Internal, err.Error())
			}
		}
		n := rec.NumRows()
		werr := writeChunked(wr, rec)
		if decode {
			rec.Release()
		}
		if werr != nil {
			wr.Close()
			return statusFor(werr, codes.Unavailable)
		}
		s.metrics.rowsOut.Add(float64(n))
	}
	if err := rdr.Err(); err != nil {
		wr.Close()
		return statusFor(err, codes.Internal)
	}
	if err := wr.Close(); err != nil {
		return statusFor(err, codes.Unavailable)
	}
	s.metrics.latency.Observe(time.Since(start).Seconds())
	return nil
}

// writeChunked writes rec as slices of about targetMessageBytes each.
func writeChunked(wr *flight.Writer, rec arrow.Record) error {
	n, size := rec.NumRows(), int64(0)
	for _, c := range rec.Columns() {
		size += dataBytes(c.Data())
	}
	if size <= targetMessageBytes || n <= 1 {
		return wr.Write(rec)
	}
	step := max(1, n*targetMessageBytes/size)
	for off := int64(0); off < n; off += step {
		part := rec.NewSlice(off, min(off+step, n))
		err := wr.Write(part)
		part.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// dataBytes is the size of an array's buffers (whole buffers, also for
// a slice: an over-estimate only cuts smaller messages).
func dataBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, b := range d.Buffers() {
		if b != nil {
			n += int64(b.Len())
		}
	}
	for _, c := range d.Children() {
		n += dataBytes(c)
	}
	if d.DataType().ID() == arrow.DICTIONARY {
		n += dataBytes(d.Dictionary())
	}
	return n
}

// execute checks sql is a batch query and starts it.
func (s *Server) execute(ctx context.Context, sql string) (array.RecordReader, error) {
	if emitChanges(sql) {
		return nil, status.Error(codes.Unimplemented, "EMIT CHANGES: continuous queries stream through the server's DoGet on a statement ticket, not through the flightsql dispatcher")
	}
	return s.plan(ctx, sql)
}

// plan starts sql with Engine.Execute (an EMIT CHANGES query too: its
// reader gives the result schema; nothing is read).
func (s *Server) plan(ctx context.Context, sql string) (array.RecordReader, error) {
	rdr, err := s.eng.Execute(ctx, sql)
	if err != nil {
		return nil, statusFor(err, codes.InvalidArgument)
	}
	return rdr, nil
}

// schemaOf plans sql and returns its result schema without reading rows.
func (s *Server) schemaOf(ctx context.Context, sql string) (*arrow.Schema, error) {
	rdr, err := s.plan(ctx, sql)
	if err != nil {
		return nil, err
	}
	defer rdr.Release()
	schema, _ := plainSchema(rdr.Schema())
	return schema, nil
}

// emitChanges reports whether sql has an EMIT CHANGES clause.
func emitChanges(sql string) bool {
	toks, err := sqlfront.Tokenize(sql)
	if err != nil {
		return false
	}
	for i := 0; i+1 < len(toks); i++ {
		a, b := toks[i], toks[i+1]
		if a.Kind != sqlfront.TokString && b.Kind != sqlfront.TokString && a.Kind != sqlfront.TokQuotedIdent && b.Kind != sqlfront.TokQuotedIdent &&
			strings.EqualFold(a.Value, "EMIT") && strings.EqualFold(b.Value, "CHANGES") {
			return true
		}
	}
	return false
}

// queryInfo returns the FlightInfo of a query: one endpoint whose ticket
// carries the query text.
func (s *Server) queryInfo(ctx context.Context, sql string, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	schema, err := s.schemaOf(ctx, sql)
	if err != nil {
		return nil, err
	}
	ticket, err := flightsql.CreateStatementQueryTicket([]byte(sql))
	if err != nil {
		return nil, status.Errorf(codes.Internal, "encode ticket: %s", err)
	}
	return s.info(desc, ticket, schema), nil
}

func (s *Server) info(desc *flight.FlightDescriptor, ticket []byte, schema *arrow.Schema) *flight.FlightInfo {
	return &flight.FlightInfo{
		Endpoint:         []*flight.FlightEndpoint{{Ticket: &flight.Ticket{Ticket: ticket}}},
		FlightDescriptor: desc,
		Schema:           flight.SerializeSchema(schema, memory.DefaultAllocator),
		TotalRecords:     -1,
		TotalBytes:       -1,
	}
}

// GetFlightInfoStatement plans the query (errors surface here) and returns
// one endpoint whose ticket carries the query text.
func (s *Server) GetFlightInfoStatement(ctx context.Context, cmd flightsql.StatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	if len(cmd.GetTransactionId()) > 0 {
		return nil, status.Error(codes.InvalidArgument, "transactions are not supported")
	}
	return s.queryInfo(ctx, cmd.GetQuery(), desc)
}

// GetSchemaStatement returns the result schema of a query.
func (s *Server) GetSchemaStatement(ctx context.Context, cmd flightsql.StatementQuery, _ *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	schema, err := s.schemaOf(ctx, cmd.GetQuery())
	if err != nil {
		return nil, err
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(schema, memory.DefaultAllocator)}, nil
}

// DoGetStatement runs the query in the ticket and returns its batches on a
// channel. The server's own DoGet streams query tickets directly; this is
// the flightsql.Server entry point for callers that use the dispatcher. Its
// producer stops and releases its batch when ctx is done.
func (s *Server) DoGetStatement(ctx context.Context, ticket flightsql.StatementQueryTicket) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	rdr, err := s.execute(ctx, string(ticket.GetStatementHandle()))
	if err != nil {
		return nil, nil, err
	}
	ch := make(chan flight.StreamChunk)
	schema, _ := plainSchema(rdr.Schema())
	go s.produce(ctx, rdr, ch)
	return schema, ch, nil
}

// produce sends rdr's batches on ch until the end, an error or ctx is
// done; it releases rdr and closes ch.
func (s *Server) produce(ctx context.Context, rdr array.RecordReader, ch chan<- flight.StreamChunk) {
	defer close(ch)
	defer rdr.Release()
	send := func(c flight.StreamChunk) bool {
		select {
		case ch <- c:
			return true
		case <-ctx.Done():
			if c.Data != nil {
				c.Data.Release()
			}
			return false
		}
	}
	defer func() {
		if r := recover(); r != nil {
			send(flight.StreamChunk{Err: status.Errorf(codes.Internal, "query panicked: %v", r)})
		}
	}()
	schema, decode := plainSchema(rdr.Schema())
	for rdr.Next() {
		rec := rdr.Record()
		if decode {
			var err error
			if rec, err = plainRecord(s.mem, schema, rec); err != nil {
				send(flight.StreamChunk{Err: status.Error(codes.Internal, err.Error())})
				return
			}
		} else {
			rec.Retain()
		}
		if !send(flight.StreamChunk{Data: rec}) {
			return
		}
	}
	if err := rdr.Err(); err != nil {
		send(flight.StreamChunk{Err: statusFor(err, codes.Internal)})
	}
}

// guard forwards in to a new channel and, once ctx is done, drains in
// (releasing its batches) so in's producer can finish.
func guard(ctx context.Context, in <-chan flight.StreamChunk) <-chan flight.StreamChunk {
	out := make(chan flight.StreamChunk)
	go func() {
		defer close(out)
		for c := range in {
			select {
			case out <- c:
				continue
			case <-ctx.Done():
			}
			if c.Data != nil {
				c.Data.Release()
			}
			for c := range in {
				if c.Data != nil {
					c.Data.Release()
				}
			}
			return
		}
	}()
	return out
}

// prepared is an open prepared statement.
type prepared struct {
	sql    string
	params []int  // byte offsets of the ? placeholders
	bound  string // the text with parameters substituted, once bound
	isSet  bool
}

// CreatePreparedStatement records the statement under a new handle. A
// statement without parameters is planned now (errors surface here) and
// reports its result schema.
func (s *Server) CreatePreparedStatement(ctx context.Context, req flightsql.ActionCreatePreparedStatementRequest) (flightsql.ActionCreatePreparedStatementResult, error) {
	var res flightsql.ActionCreatePreparedStatementResult
	if len(req.GetTransactionId()) > 0 {
		return res, status.Error(codes.InvalidArgument, "transactions are not supported")
	}
	sql := req.GetQuery()
	params := placeholders(sql)
	if len(params) == 0 {
		schema, err := s.schemaOf(ctx, sql)
		if err != nil {
			return res, err
		}
		res.DatasetSchema = schema
	}
	var id [16]byte
	if _, err := rand.Read(id[:]); err != nil {
		return res, status.Errorf(codes.Internal, "prepared statement handle: %s", err)
	}
	handle := hex.EncodeToString(id[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.prepared) >= s.cfg.MaxPrepared {
		return res, status.Errorf(codes.ResourceExhausted, "too many open prepared statements (%d): close some", len(s.prepared))
	}
	s.prepared[handle] = &prepared{sql: sql, params: params}
	res.Handle = []byte(handle)
	return res, nil
}

// ClosePreparedStatement forgets a prepared statement.
func (s *Server) ClosePreparedStatement(_ context.Context, req flightsql.ActionClosePreparedStatementRequest) error {
	h := string(req.GetPreparedStatementHandle())
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.prepared[h]; !ok {
		return status.Errorf(codes.NotFound, "prepared statement %q is not open", h)
	}
	delete(s.prepared, h)
	return nil
}

// DoPutPreparedStatementQuery binds the parameters: exactly one row whose
// columns are the parameters in order.
func (s *Server) DoPutPreparedStatementQuery(_ context.Context, cmd flightsql.PreparedStatementQuery, rdr flight.MessageReader, _ flight.MetadataWriter) ([]byte, error) {
	h := cmd.GetPreparedStatementHandle()
	s.mu.Lock()
	p, ok := s.prepared[string(h)]
	var sql string
	var params []int
	if ok {
		sql, params = p.sql, p.params
	}
	s.mu.Unlock()
	if !ok {
		return nil, status.Errorf(codes.NotFound, "prepared statement %q is not open", h)
	}
	var lits []string
	rows := 0
	for rdr.Next() {
		rec := rdr.Record()
		for i := 0; i < int(rec.NumRows()); i++ {
			rows++
			if rows > 1 {
				return nil, status.Error(codes.InvalidArgument, "bind parameters: more than one parameter row (batch execution is not supported)")
			}
			if int(rec.NumCols()) != len(params) {
				return nil, status.Errorf(codes.InvalidArgument, "bind parameters: the statement has %d parameters, got %d", len(params), rec.NumCols())
			}
			lits = make([]string, len(params))
			for c := range lits {
				lit, err := literal(rec.Column(c), i)
				if err != nil {
					return nil, status.Errorf(codes.InvalidArgument, "bind parameter %d (%s): %s", c+1, rec.Schema().Field(c).Name, err)
				}
				lits[c] = lit
			}
		}
	}
	if err := rdr.Err(); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "bind parameters: read: %s", err)
	}
	if rows == 0 && len(params) > 0 {
		return nil, status.Errorf(codes.InvalidArgument, "bind parameters: the statement has %d parameters, got no row", len(params))
	}
	bound := substitute(sql, params, lits)
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok = s.prepared[string(h)]; !ok {
		return nil, status.Errorf(codes.NotFound, "prepared statement %q was closed while binding", h)
	}
	p.bound, p.isSet = bound, true
	return h, nil
}

// boundSQL returns the executable text of a prepared statement.
func (s *Server) boundSQL(handle []byte) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.prepared[string(handle)]
	switch {
	case !ok:
		return "", status.Errorf(codes.NotFound, "prepared statement %q is not open", handle)
	case len(p.params) == 0:
		return p.sql, nil
	case !p.isSet:
		return "", status.Errorf(codes.InvalidArgument, "prepared statement has %d parameters and none are bound", len(p.params))
	}
	return p.bound, nil
}

// GetFlightInfoPreparedStatement snapshots the bound statement into a
// statement ticket, so rebinding later does not change this execution.
func (s *Server) GetFlightInfoPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	sql, err := s.boundSQL(cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	return s.queryInfo(ctx, sql, desc)
}

// GetSchemaPreparedStatement returns the result schema of the bound
// statement.
func (s *Server) GetSchemaPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, _ *flight.FlightDescriptor) (*flight.SchemaResult, error) {
	sql, err := s.boundSQL(cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, err
	}
	schema, err := s.schemaOf(ctx, sql)
	if err != nil {
		return nil, err
	}
	return &flight.SchemaResult{Schema: flight.SerializeSchema(schema, memory.DefaultAllocator)}, nil
}

// DoGetPreparedStatement runs the bound statement (the dispatcher's entry
// point; see DoGetStatement).
func (s *Server) DoGetPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	sql, err := s.boundSQL(cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, nil, err
	}
	rdr, err := s.execute(ctx, sql)
	if err != nil {
		return nil, nil, err
	}
	ch := make(chan flight.StreamChunk)
	schema, _ := plainSchema(rdr.Schema())
	go s.produce(ctx, rdr, ch)
	return schema, ch, nil
}
