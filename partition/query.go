package partition

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/velo-engine/velo/columnar"
)

// ErrClosed is returned by Push and Watermark after Close.
var ErrClosed = errors.New("partition: query is closed")

// PanicError is the error of a query whose pipeline panicked.
type PanicError struct {
	// Partition is the partition whose pipeline panicked.
	Partition int
	// Op is the pipeline method that panicked (push, watermark, finish,
	// close).
	Op string
	// Value is the value passed to panic.
	Value any
	// Stack is a summary of the panicking goroutine's stack (its first
	// frames below the panic).
	Stack string
}

// Error names the partition, the operation and the panic value, followed by
// the stack summary.
func (e *PanicError) Error() string {
	return fmt.Sprintf("partition %d: pipeline panicked in %s: %v\n%s", e.Partition, e.Op, e.Value, e.Stack)
}

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// stackSummary returns up to maxFrames frames of the current goroutine's
// stack that sit below the panic (runtime and this package's recovery frames
// removed).
func stackSummary(maxFrames int) string {
	lines := strings.Split(strings.TrimSpace(string(debug.Stack())), "\n")
	// Skip the header and everything up to and including the panic call.
	start := 1
	for i, l := range lines {
		if strings.HasPrefix(l, "panic(") {
			start = i + 2
		}
	}
	var b strings.Builder
	frames := 0
	for i := start; i+1 < len(lines) && frames < maxFrames; i += 2 {
		b.WriteString(lines[i])
		b.WriteByte('\n')
		b.WriteString(lines[i+1])
		b.WriteByte('\n')
		frames++
	}
	return b.String()
}

type msgKind uint8

const (
	msgBatch msgKind = iota
	msgWatermark
	msgFinish
)

// message travels on a partition's input channel.
type message struct {
	kind msgKind
	src  int32
	b    columnar.Batch // msgBatch: owned by the message
	sel  *selBuf        // msgBatch: the buffer b.Sel lies in (nil: none); one reference owned by the message
	wm   int64          // msgWatermark
	enq  int64          // monotonic nanos when sent
}

// clock is the monotonic time base of the package's timestamps.
var clockBase = time.Now()

func now() int64 { return int64(time.Since(clockBase)) }

// partitionState is what routers and the worker share about one partition.
type partitionState struct {
	in chan message
	c  partitionCounters
}

// Query is a running partitioned query: N partition workers, the merge
// goroutine feeding the sink, and the routers of its sources. Start creates
// it; Close (or a failure, or cancelling the context) ends it.
//
// Push, Watermark and NewSource are safe for concurrent use; each Source is
// used by one goroutine at a time, and several sources push concurrently,
// each routing on its own goroutine.
type Query struct {
	cfg     Config
	ctx     context.Context
	cancel  context.CancelCauseFunc
	sink    Sink
	parts   []*partitionState
	out     chan Output
	started int64 // monotonic nanos

	gate    sync.RWMutex // routers hold it shared; closing takes it exclusively
	closing bool

	nsources  atomic.Int32
	defMu     sync.Mutex
	defSource *Source

	errOnce sync.Once
	err     error
	errMu   sync.Mutex

	closeOnce sync.Once
	workers   sync.WaitGroup
	done      chan struct{}

	selFree chan *selBuf // recycled selection buffers (selbuf.go)

	poolMu   sync.Mutex
	pools    []*routerPool // sources' router goroutines (routers.go)
	routerWG sync.WaitGroup

	outWM    atomic.Int64 // monotonic query watermark
	lastWarn atomic.Int64 // monotonic nanos of the last late-row warning
}

// Start starts a partitioned query: it validates cfg, builds one Pipeline
// per partition with factory and starts the partition workers and the merge
// goroutine that calls sink. The query stops when Close has flushed
// everything, when a pipeline or the sink fails, or when ctx is cancelled;
// Wait reports why.
func Start(ctx context.Context, cfg Config, factory Factory, sink Sink) (*Query, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	if factory == nil || sink == nil {
		return nil, errors.New("partition: Start needs a pipeline factory and a sink")
	}
	pipes := make([]Pipeline, cfg.Partitions)
	for p := range pipes {
		pipe, err := factory(p)
		if err == nil && pipe == nil {
			err = errors.New("factory returned a nil pipeline")
		}
		if err != nil {
			for _, built := range pipes[:p] {
				built.Close()
			}
			return nil, fmt.Errorf("partition %d: build pipeline: %w", p, err)
		}
		pipes[p] = pipe
	}
	q := &Query{
		cfg:     cfg,
		sink:    sink,
		parts:   make([]*partitionState, cfg.Partitions),
		out:     make(chan Output, cfg.OutputCapacity),
		started: now(),
		done:    make(chan struct{}),
		// Enough free buffers for every queued batch of every partition to
		// have come from a different record, plus a few being routed.
		selFree: make(chan *selBuf, cfg.Partitions*(cfg.ChannelCapacity+2)+8),
	}
	q.ctx, q.cancel = context.WithCancelCause(ctx)
	q.outWM.Store(math.MinInt64)
	q.lastWarn.Store(math.MinInt64)
	for p := range q.parts {
		ps := &partitionState{in: make(chan message, cfg.ChannelCapacity)}
		ps.c.watermark.Store(math.MinInt64)
		ps.c.lastInput.Store(q.started)
		if cfg.Batching.Enabled {
			ps.c.target.Store(int64(cfg.Batching.TargetRows))
		}
		q.parts[p] = ps
	}
	mergeDone := make(chan struct{})
	go q.merge(mergeDone)
	for p, pipe := range pipes {
		q.workers.Add(1)
		go func() {
			defer q.workers.Done()
			if err := q.runWorker(p, pipe); err != nil {
				q.fail(err)
			}
		}()
	}
	go func() {
		q.workers.Wait()
		close(q.out)
		<-mergeDone
		// No worker reads the channels any more: refuse new pushes and
		// sources, wait for the pushes in flight and the routers (both
		// give up on the cancelled context) and release what is still
		// queued.
		q.cancel(nil)
		q.gate.Lock()
		q.closing = true
		q.routerWG.Wait()
		for _, ps := range q.parts {
			for len(ps.in) > 0 {
				m := <-ps.in
				m.release(q)
			}
		}
		q.discardRouted()
		q.gate.Unlock()
		close(q.done)
	}()
	return q, nil
}

// fail records the query's first error and stops everything.
func (q *Query) fail(err error) {
	q.errOnce.Do(func() {
		q.errMu.Lock()
		q.err = err
		q.errMu.Unlock()
		q.cancel(err)
	})
}

// Err returns the error that stopped the query, or nil (still running, or
// closed cleanly).
func (q *Query) Err() error {
	q.errMu.Lock()
	defer q.errMu.Unlock()
	return q.err
}

// closedErr is what a router returns after the query closed: the query's
// error when it failed, else ErrClosed.
func (q *Query) closedErr() error {
	if err := q.Err(); err != nil {
		return err
	}
	return ErrClosed
}

// stopErr is what a router returns when the query stopped under it.
func (q *Query) stopErr() error {
	if err := q.Err(); err != nil {
		return err
	}
	if err := context.Cause(q.ctx); err != nil {
		return err
	}
	return ErrClosed
}

// Done is closed when every goroutine of the query has exited and every
// queued batch has been released.
func (q *Query) Done() <-chan struct{} { return q.done }

// Wait blocks until the query has stopped and returns Err.
func (q *Query) Wait() error {
	<-q.done
	return q.Err()
}

// Close ends the input: every partition flushes its coalescing buffer and
// its pipeline's Finish runs (watermark +inf), the outputs drain into the
// sink, then every pipeline is closed. It returns the query's error, if any.
// Pushes after Close fail with ErrClosed. Close is idempotent.
func (q *Query) Close() error {
	q.closeOnce.Do(func() {
		q.gate.Lock()
		already := q.closing
		q.closing = true
		q.gate.Unlock()
		if already {
			return
		}
		// Router goroutines deliver what they hold before the partitions
		// finish.
		q.flushRouters()
		for _, ps := range q.parts {
			select {
			case ps.in <- message{kind: msgFinish, enq: now()}:
			case <-q.ctx.Done():
				return
			}
		}
	})
	return q.Wait()
}

// Push routes rec through the query's default source (source partition 0).
// rec is borrowed: Push retains what it keeps, the caller still releases
// its reference. Push blocks while the target partitions' channels are full
// and returns the query's error once it stopped. Calls to Push are
// serialised; use NewSource for concurrent routing.
func (q *Query) Push(rec arrow.Record) error {
	s, err := q.defaultSource()
	if err != nil {
		return err
	}
	q.defMu.Lock()
	defer q.defMu.Unlock()
	return s.Push(rec)
}

// Watermark advances the default source's watermark to ts explicitly (see
// Source.Watermark).
func (q *Query) Watermark(ts int64) error {
	s, err := q.defaultSource()
	if err != nil {
		return err
	}
	q.defMu.Lock()
	defer q.defMu.Unlock()
	return s.Watermark(ts)
}

func (q *Query) defaultSource() (*Source, error) {
	q.defMu.Lock()
	defer q.defMu.Unlock()
	if q.defSource == nil {
		s, err := q.NewSource(SourceOptions{})
		if err != nil {
			return nil, err
		}
		q.defSource = s
	}
	return q.defSource, nil
}

// send delivers m to partition p, blocking while its channel is full. On
// failure m's batch is released.
func (q *Query) send(p int, m message) error {
	ps := q.parts[p]
	select {
	case ps.in <- m:
	default:
		select {
		case ps.in <- m:
		case <-q.ctx.Done():
			m.release(q)
			return q.stopErr()
		}
	}
	ps.c.notePeak(int64(len(ps.in)))
	return nil
}

// OutputWatermark returns the query watermark: the minimum watermark over
// the partitions that are not idle (all partitions when every one is idle),
// never decreasing.
func (q *Query) OutputWatermark() int64 {
	t := now()
	wm, wmAll := int64(math.MaxInt64), int64(math.MaxInt64)
	active := false
	for _, ps := range q.parts {
		w := ps.c.watermark.Load()
		wmAll = min(wmAll, w)
		if !q.idle(ps, t) {
			wm = min(wm, w)
			active = true
		}
	}
	if !active {
		wm = wmAll
	}
	for {
		cur := q.outWM.Load()
		if wm <= cur {
			return cur
		}
		if q.outWM.CompareAndSwap(cur, wm) {
			return wm
		}
	}
}

// idle reports whether partition ps has had no input for the idle timeout
// (a finished partition is never idle: its watermark is +inf).
func (q *Query) idle(ps *partitionState, t int64) bool {
	if q.cfg.IdleTimeout < 0 || ps.c.finished.Load() {
		return false
	}
	return t-ps.c.lastInput.Load() >= int64(q.cfg.IdleTimeout)
}

// merge hands the partitions' outputs to the sink until the output channel
// closes; after a failure it only releases them.
func (q *Query) merge(done chan<- struct{}) {
	defer close(done)
	for o := range q.out {
		if q.ctx.Err() != nil {
			o.Rec.Release()
			continue
		}
		o.Watermark = q.OutputWatermark()
		if err := q.callSink(o); err != nil {
			q.fail(err)
		}
	}
}

// callSink hands o to the sink, turning a sink error or panic into the
// query's error.
func (q *Query) callSink(o Output) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("partition: sink panicked on output of partition %d: %v\n%s", o.Partition, r, stackSummary(8))
		}
	}()
	if err := q.sink(o); err != nil {
		return fmt.Errorf("partition: sink: %w", err)
	}
	return nil
}

// warnLate logs a late-row warning unless one was logged in the last second.
func (q *Query) warnLate(src int, rows int64, wm int64) {
	t := now()
	last := q.lastWarn.Load()
	if last != math.MinInt64 && t-last < int64(time.Second) {
		return
	}
	if !q.lastWarn.CompareAndSwap(last, t) {
		return
	}
	q.cfg.Logger.Warn("partition: late rows", "source", src, "rows", rows, "watermark", wm, "policy", q.cfg.LatePolicy.String())
}

// Metrics returns a snapshot of every partition's metrics.
func (q *Query) Metrics() Metrics {
	t := now()
	m := Metrics{Partitions: make([]PartitionMetrics, len(q.parts))}
	for p, ps := range q.parts {
		c := &ps.c
		depth := len(ps.in)
		pm := PartitionMetrics{
			Partition:      p,
			RecordsIn:      c.recordsIn.Load(),
			BatchesIn:      c.batchesIn.Load(),
			RecordsOut:     c.recordsOut.Load(),
			BatchesOut:     c.batchesOut.Load(),
			Invocations:    c.invocations.Load(),
			LateRecords:    c.late.Load(),
			DroppedRecords: c.dropped.Load(),
			QueueDepth:     depth,
			QueueCapacity:  cap(ps.in),
			PeakQueueDepth: int(c.peakDepth.Load()),
			Backpressure:   BackpressureFor(depth, cap(ps.in)),
			Latency:        c.latency.snapshot(),
			Watermark:      c.watermark.Load(),
			Idle:           q.idle(ps, t),
			BatchTarget:    int(c.target.Load()),
			Coalesced:      c.coalesced.Load(),
			Split:          c.split.Load(),
			MaxHold:        time.Duration(c.maxHold.Load()),
		}
		if cap(ps.in) > 0 {
			pm.Utilization = float64(depth) / float64(cap(ps.in))
		}
		m.Partitions[p] = pm
		m.RecordsIn += pm.RecordsIn
		m.RecordsOut += pm.RecordsOut
		m.LateRecords += pm.LateRecords
		m.DroppedRecords += pm.DroppedRecords
	}
	mean := float64(m.RecordsIn) / float64(len(q.parts))
	for p := range m.Partitions {
		if mean > 0 && float64(m.Partitions[p].RecordsIn) > q.cfg.HotFactor*mean {
			m.Partitions[p].Hot = true
			m.Hot = append(m.Hot, p)
		}
	}
	m.Watermark = q.OutputWatermark()
	return m
}
