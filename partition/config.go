package partition

import (
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"
)

// Default configuration values.
const (
	// DefaultChannelCapacity is the capacity of a partition's input
	// channel, in messages (batches or watermarks).
	DefaultChannelCapacity = 16
	// DefaultMaxOutOfOrderness is how far behind the largest event time
	// seen a source's watermark trails.
	DefaultMaxOutOfOrderness = 5 * time.Second
	// DefaultIdleTimeout is how long a partition may go without input
	// before it stops holding back the query watermark.
	DefaultIdleTimeout = 10 * time.Second
	// DefaultHotFactor is the multiple of the mean partition throughput
	// above which a partition is reported hot.
	DefaultHotFactor = 2.0
	// DefaultBatchTarget is the adaptive batching's initial target (rows).
	DefaultBatchTarget = 8192
	// DefaultBatchMaxDelay is the longest a row waits in a partition's
	// coalescing buffer.
	DefaultBatchMaxDelay = time.Millisecond
)

// DefaultRouters is the router goroutines of a Config whose Routers is 0.
// It is 1 (route on the caller's goroutine): on the 2-core development
// machine hash routing costs a fraction of what the partitions' pipelines
// do, so extra router goroutines only add hand-offs (see BenchmarkRouters
// and BenchmarkScaling).
var DefaultRouters = 1

// Config configures a partitioned query. The zero value of every field
// except the strategy's key columns selects a default.
type Config struct {
	// Partitions is the number of partitions (worker goroutines); 0 means
	// runtime.GOMAXPROCS(0).
	Partitions int
	// Strategy routes rows to partitions (Hash by default).
	Strategy Strategy
	// KeyColumns names the columns Hash and Smart route by (the GROUP BY or
	// PARTITION BY keys). Required for those strategies.
	KeyColumns []string
	// Stateful and TwoPhase describe the query for ValidateStrategy: Start
	// rejects a strategy that would split one key's state over partitions.
	Stateful, TwoPhase bool
	// WindowSize is the Window strategy's window length, in the
	// event-time column's unit (milliseconds for int64 columns).
	WindowSize int64
	// EventTimeColumn names the event-time column (int64 milliseconds or a
	// timestamp, whose unit is then the watermark's unit). Empty: no
	// watermarks are generated from the data (explicit ones still work).
	EventTimeColumn string
	// MaxOutOfOrderness is how far a source's watermark trails the largest
	// event time it saw: 0 means DefaultMaxOutOfOrderness, a negative value
	// means none (watermark = largest event time).
	MaxOutOfOrderness time.Duration
	// IdleTimeout: a partition without input for this long is idle and is
	// left out of the query watermark. 0 means DefaultIdleTimeout; negative
	// means partitions never become idle.
	IdleTimeout time.Duration
	// ChannelCapacity is each partition's input channel capacity in
	// messages; 0 means DefaultChannelCapacity. A full channel blocks the
	// router (backpressure).
	ChannelCapacity int
	// OutputCapacity is the capacity of the channel from the partitions to
	// the sink; 0 means ChannelCapacity.
	OutputCapacity int
	// LatePolicy is applied to rows below their source's watermark.
	LatePolicy LatePolicy
	// Logger receives the LateWarn warnings (nil: slog.Default()).
	Logger *slog.Logger
	// HotFactor: a partition whose RecordsIn exceeds HotFactor × the mean
	// over partitions is hot; 0 means DefaultHotFactor. With N partitions a
	// factor of N or more can never trigger.
	HotFactor float64
	// Batching configures adaptive batching (off unless Enabled).
	Batching Batching
	// Allocator allocates coalesced records (nil: memory.DefaultAllocator).
	Allocator memory.Allocator
	// Routers is the number of goroutines that route each hash-routed
	// source's records (SourceOptions.Routers overrides it per source;
	// Query.Push uses it for the default source). 0 or 1 routes on the
	// caller's goroutine inside Push (0 means DefaultRouters). R > 1 has Push hand each record to
	// one of R router goroutines that hash and cut records in parallel and
	// deliver them to the partitions in push order (routers.go): for one
	// producer goroutine whose routing, not the partitions, is the
	// bottleneck. Strategies that send whole records never use routers.
	Routers int
}

// Batching configures adaptive batching: each partition coalesces routed
// batches smaller than a quarter of its current target into one record of
// about the target size (copying their rows), holding no row longer than
// MaxDelay, and cuts batches larger than MaxRows into target-sized
// zero-copy slices. After each pipeline invocation the target adapts: it
// shrinks by a quarter when the invocation took longer than MaxDelay and
// grows by a quarter (up to MaxRows) when a full-size invocation took less
// than a quarter of MaxDelay.
type Batching struct {
	// Enabled turns adaptive batching on.
	Enabled bool
	// TargetRows is the initial target; 0 means DefaultBatchTarget.
	TargetRows int
	// MinRows and MaxRows bound the target; 0 means TargetRows/8 and
	// TargetRows*8.
	MinRows, MaxRows int
	// MaxDelay bounds how long a row waits in the coalescing buffer; 0
	// means DefaultBatchMaxDelay.
	MaxDelay time.Duration
}

// withDefaults fills in defaults and checks the configuration.
func (c Config) withDefaults() (Config, error) {
	if c.Partitions == 0 {
		c.Partitions = runtime.GOMAXPROCS(0)
	}
	if c.Partitions < 0 || c.Partitions > 1<<16 {
		return c, fmt.Errorf("partition: partition count %d out of range [1, 65536]", c.Partitions)
	}
	if err := ValidateStrategy(c.Strategy, c.Stateful, c.TwoPhase); err != nil {
		return c, err
	}
	if (c.Strategy == Hash || c.Strategy == Smart) && len(c.KeyColumns) == 0 {
		return c, fmt.Errorf("partition: strategy %s needs key columns", c.Strategy)
	}
	if c.Strategy == Window && (c.EventTimeColumn == "" || c.WindowSize <= 0) {
		return c, fmt.Errorf("partition: strategy window needs an event-time column and a positive window size (have %q, %d)", c.EventTimeColumn, c.WindowSize)
	}
	if c.LatePolicy > LateDrop {
		return c, fmt.Errorf("partition: unknown late policy %s", c.LatePolicy)
	}
	switch {
	case c.MaxOutOfOrderness == 0:
		c.MaxOutOfOrderness = DefaultMaxOutOfOrderness
	case c.MaxOutOfOrderness < 0:
		c.MaxOutOfOrderness = 0
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.ChannelCapacity == 0 {
		c.ChannelCapacity = DefaultChannelCapacity
	}
	if c.ChannelCapacity < 0 {
		return c, fmt.Errorf("partition: channel capacity %d is negative", c.ChannelCapacity)
	}
	if c.OutputCapacity == 0 {
		c.OutputCapacity = c.ChannelCapacity
	}
	if c.OutputCapacity < 0 {
		return c, fmt.Errorf("partition: output capacity %d is negative", c.OutputCapacity)
	}
	if c.Routers == 0 {
		c.Routers = DefaultRouters
	}
	if c.Routers < 0 {
		return c, fmt.Errorf("partition: %d router goroutines is negative", c.Routers)
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.HotFactor == 0 {
		c.HotFactor = DefaultHotFactor
	}
	if c.Allocator == nil {
		c.Allocator = memory.DefaultAllocator
	}
	b := &c.Batching
	if b.TargetRows == 0 {
		b.TargetRows = DefaultBatchTarget
	}
	if b.MinRows == 0 {
		b.MinRows = max(1, b.TargetRows/8)
	}
	if b.MaxRows == 0 {
		b.MaxRows = b.TargetRows * 8
	}
	if b.MaxDelay == 0 {
		b.MaxDelay = DefaultBatchMaxDelay
	}
	if b.TargetRows < 1 || b.MinRows < 1 || b.MinRows > b.TargetRows || b.MaxRows < b.TargetRows || b.MaxDelay < 0 {
		return c, fmt.Errorf("partition: invalid batching bounds (min %d, target %d, max %d rows, max delay %s)", b.MinRows, b.TargetRows, b.MaxRows, b.MaxDelay)
	}
	return c, nil
}
