package server

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/flight"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	velo "github.com/velo-engine/velo"
	"github.com/velo-engine/velo/columnar"
)

// DefaultStreamBuffer is the default Config.StreamBuffer.
const DefaultStreamBuffer = 64

// subscriber is a running continuous query's subscription to the batches
// ingested into its table. Its fields are guarded by Server.mu.
type subscriber struct {
	// in carries the live ingested batches (one reference each) to the
	// query's pusher, in ingest order; bounded by Config.StreamBuffer.
	in chan arrow.Record
	// ended: in is closed (the table was replaced or the server is
	// shutting down) and the query ends cleanly after what it holds.
	ended bool
	// failed: the stream fell behind and was stopped; ingest skips it.
	failed bool
	// fail stops the stream with an error.
	fail context.CancelCauseFunc
}

// errSlowStream is the cause of a continuous stream stopped because its
// client did not keep up with ingest.
var errSlowStream = errors.New("continuous query fell behind ingest")

// streamContinuous serves an EMIT CHANGES query: it starts it with
// Engine.Start, pushes the table's batches as they are at the start and
// then every batch ingested into the table while it runs, and writes the
// result batches to stream as the query produces them. It ends when the
// client cancels (the query stops, nothing leaks), when the stream falls
// behind (ResourceExhausted), or cleanly when the table is replaced or the
// server shuts down (the query is closed and its last changes sent).
func (s *Server) streamContinuous(stream flight.FlightService_DoGetServer, sql string) error {
	ctx, cancel := context.WithCancelCause(stream.Context())
	defer cancel(nil)
	out := make(chan arrow.Record, s.cfg.StreamBuffer)
	sink := func(rec arrow.Record) error {
		select {
		case out <- rec:
			return nil
		case <-ctx.Done():
			rec.Release()
			return context.Cause(ctx)
		}
	}
	q, err := s.eng.Start(ctx, sql, sink)
	if err != nil {
		return statusFor(err, codes.InvalidArgument)
	}
	sub, snap, err := s.subscribe(q.Table(), cancel)
	if err != nil {
		_ = q.Close()
		return err
	}
	defer s.unsubscribe(q.Table(), sub)
	s.metrics.queries.Inc()
	s.metrics.active.Inc()
	defer s.metrics.active.Dec()

	pushed := make(chan error, 1)
	go func() {
		err := s.pushAll(ctx, q, snap, sub)
		if cerr := q.Close(); err == nil {
			err = cerr
		}
		close(out)
		pushed <- err
	}()
	// stop ends the pusher and releases the results it still produced.
	stop := func(cause error) error {
		cancel(cause)
		err := <-pushed
		for rec := range out {
			rec.Release()
		}
		return err
	}

	schema, decode := plainSchema(q.Schema())
	pw := &primedStream{DataStreamWriter: stream}
	wr := flight.NewRecordWriter(pw, ipc.WithSchema(schema), ipc.WithAllocator(s.mem))
	// Send the schema at once: the client's DoGet returns a reader only
	// after it read the schema, which must not wait for the first change.
	empty := emptyRecord(s.mem, schema)
	pw.priming = true
	err = wr.Write(empty)
	pw.priming = false
	empty.Release()
	if err != nil {
		wr.Close()
		_ = stop(err)
		return statusFor(err, codes.Unavailable)
	}
	done := ctx.Done()
	for {
		select {
		case rec, ok := <-out:
			if !ok {
				// The pusher ended: cleanly (table replaced, shutdown) or
				// with the query's or the stream's error.
				if err := <-pushed; err != nil {
					wr.Close()
					return s.continuousError(ctx, err)
				}
				if err := wr.Close(); err != nil {
					return statusFor(err, codes.Unavailable)
				}
				return nil
			}
			if werr := s.writeResult(wr, schema, decode, rec); werr != nil {
				wr.Close()
				_ = stop(werr)
				return statusFor(werr, codes.Unavailable)
			}
		case <-done:
			wr.Close()
			return s.continuousError(ctx, stop(context.Cause(ctx)))
		}
	}
}

// continuousError is the status a continuous stream ends with: why its
// context ended (a slow stream, the client's cancellation), else err.
func (s *Server) continuousError(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); cause != nil {
		err = cause
	}
	if errors.Is(err, errSlowStream) {
		return status.Error(codes.ResourceExhausted, err.Error())
	}
	return statusFor(err, codes.Internal)
}

// writeResult writes one result record (owned; released here) to wr.
func (s *Server) writeResult(wr *flight.Writer, schema *arrow.Schema, decode bool, rec arrow.Record) error {
	defer rec.Release()
	if decode {
		plain, err := plainRecord(s.mem, schema, rec)
		if err != nil {
			return status.Error(codes.Internal, err.Error())
		}
		defer plain.Release()
		rec = plain
	}
	if err := writeChunked(wr, rec); err != nil {
		return err
	}
	s.metrics.rowsOut.Add(float64(rec.NumRows()))
	return nil
}

// pushAll pushes the table's batches as they were at subscription
// (snapshot), then the live ingested batches until the subscription ends
// or ctx is done. It releases every batch it was given.
func (s *Server) pushAll(ctx context.Context, q *velo.Query, snap snapshot, sub *subscriber) error {
	err := snap.push(ctx, q)
	snap.release()
	if err != nil {
		return err
	}
	done := ctx.Done()
	for {
		select {
		case rec, ok := <-sub.in:
			if !ok {
				return nil
			}
			err := q.Push(rec)
			rec.Release()
			if err != nil {
				return err
			}
		case <-done:
			return context.Cause(ctx)
		}
	}
}

// snapshot is what a continuous query reads first: the batches of an
// in-memory table (one reference each) or a file table's path.
type snapshot struct {
	records []arrow.Record
	path    string
	schema  *arrow.Schema
	s       *Server
}

func (sn *snapshot) push(ctx context.Context, q *velo.Query) error {
	for i, rec := range sn.records {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		err := q.Push(rec)
		rec.Release()
		sn.records[i] = nil
		if err != nil {
			return err
		}
	}
	if sn.path == "" {
		return nil
	}
	r, err := columnar.OpenFile(sn.path, sn.s.mem, columnar.WithSchema(sn.schema))
	if err != nil {
		return fmt.Errorf("server: read %s: %w", sn.path, err)
	}
	defer r.Release()
	for r.Next() {
		if err := ctx.Err(); err != nil {
			return context.Cause(ctx)
		}
		if err := q.Push(r.Record()); err != nil {
			return err
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("server: read %s: %w", sn.path, err)
	}
	return nil
}

func (sn *snapshot) release() {
	for i, rec := range sn.records {
		if rec != nil {
			rec.Release()
			sn.records[i] = nil
		}
	}
}

// subscribe takes a snapshot of table and subscribes to its later
// ingests, atomically under s.mu: every ingested batch is either in the
// snapshot or delivered to the subscriber, never both, never neither.
func (s *Server) subscribe(table string, fail context.CancelCauseFunc) (*subscriber, snapshot, error) {
	key := strings.ToLower(table)
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.tables[key]
	if t == nil {
		return nil, snapshot{}, status.Errorf(codes.FailedPrecondition, "continuous query over %q: the table is not registered with the server (register it through Server.RegisterTable or ingest)", table)
	}
	snap := snapshot{path: t.path, schema: t.schema, s: s}
	for _, r := range t.records {
		r.Retain()
		snap.records = append(snap.records, r)
	}
	sub := &subscriber{in: make(chan arrow.Record, s.cfg.StreamBuffer), fail: fail}
	if s.closing {
		sub.ended = true
		close(sub.in)
	}
	if s.subs == nil {
		s.subs = map[string][]*subscriber{}
	}
	s.subs[key] = append(s.subs[key], sub)
	return sub, snap, nil
}

// unsubscribe removes sub and releases the batches still queued for it.
// Its pusher has stopped.
func (s *Server) unsubscribe(table string, sub *subscriber) {
	key := strings.ToLower(table)
	s.mu.Lock()
	subs := s.subs[key]
	for i, x := range subs {
		if x == sub {
			subs = append(subs[:i:i], subs[i+1:]...)
			break
		}
	}
	if len(subs) == 0 {
		delete(s.subs, key)
	} else {
		s.subs[key] = subs
	}
	if !sub.ended {
		sub.ended = true
		close(sub.in)
	}
	s.mu.Unlock()
	for rec := range sub.in {
		rec.Release()
	}
}

// fanOutLocked hands every batch just appended to table to its running
// continuous queries, in order, without blocking: a subscriber whose
// buffer is full has fallen Config.StreamBuffer batches behind and is
// stopped with ResourceExhausted (see Config.StreamBuffer). s.mu is held.
func (s *Server) fanOutLocked(key string, recs []arrow.Record) {
	for _, sub := range s.subs[key] {
		if sub.ended || sub.failed {
			continue
		}
		for _, rec := range recs {
			rec.Retain()
			select {
			case sub.in <- rec:
				continue
			default:
			}
			rec.Release()
			sub.failed = true
			s.metrics.slowStreams.Inc()
			sub.fail(fmt.Errorf("%w: %d ingested batches are waiting for it (the server buffers at most %d per stream); read faster or re-run it (it restarts from the table's first row)", errSlowStream, len(sub.in), cap(sub.in)))
			break
		}
	}
}

// endStreamsLocked ends the continuous queries over key (all tables when
// key is ""): their queries close after the batches already queued and
// their streams finish cleanly. s.mu is held.
func (s *Server) endStreamsLocked(key string) {
	for k, subs := range s.subs {
		if key != "" && k != key {
			continue
		}
		for _, sub := range subs {
			if !sub.ended {
				sub.ended = true
				close(sub.in)
			}
		}
	}
}

// primedStream lets the writer send a stream's schema before its first
// batch: while priming, only the first message (the schema; the server
// sends plain types, so no dictionary batch follows it) goes out and the
// zero-row batch written to trigger it is dropped.
type primedStream struct {
	flight.DataStreamWriter
	priming bool
	sent    bool
}

// Send implements flight.DataStreamWriter.
func (p *primedStream) Send(d *flight.FlightData) error {
	if p.priming {
		if p.sent {
			return nil
		}
		p.sent = true
	}
	return p.DataStreamWriter.Send(d)
}
