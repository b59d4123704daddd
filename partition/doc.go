// Package partition runs a query's operator pipeline in parallel over N
// partitions: it is the "router → partitions → merge" stage of Velo's data
// flow (DESIGN.md, Data flow):
//
//	source(s) ──► router ──► partition 0: Pipeline ─┐
//	  Arrow        (Source)   partition 1: Pipeline ─┼─► merge ──► Sink
//	  records                 ...                   ─┘
//
// exec compiles one Pipeline per partition (through a Factory) and hands it
// to Start; this package never imports exec. Each Source routes the records
// pushed to it on the caller's goroutine — several sources route
// concurrently — or, with Config.Routers / SourceOptions.Routers > 1, on
// router goroutines that hash and cut records in parallel and deliver them
// in push order (routers.go), for a single producer whose routing is the
// bottleneck. With the Hash strategy the router hashes the key columns with
// the kernels (kernels.HashInt64, HashUint64 …, HashCombine; a utf8 value of
// at most 8 bytes is hashed as one little-endian word with its length, a
// longer one with xxhash — routing only needs each value to map to one
// partition), maps hashes to partition ids with kernels.PartitionIDs
// (fastrange on the high hash bits, leaving the low bits to the
// partition's hash table) and builds one selection vector per partition
// (kernels.Histogram, PartitionStarts, ScatterIndices; one pass for two
// partitions): every partition receives a columnar.Batch that shares the
// pushed record's columns, so routing copies no column. The selection
// buffers are reference counted and recycled once every partition has
// released its batch, so steady-state routing allocates nothing. The other
// strategies (Smart, Sticky, RoundRobin, FanIn) send whole records.
//
// Each partition is one goroutine that owns its Pipeline and all of its
// state; it reads a bounded channel (Config.ChannelCapacity messages). A
// full channel blocks the router: backpressure travels to the producer,
// nothing is dropped and memory stays bounded. Pipelines emit records
// through an Emitter into one output channel; a single merge goroutine
// hands them to the Sink in emission order per partition, with the query
// watermark (the minimum over partitions that are not idle).
//
// Watermarks: each source tracks the largest event time it routed and
// broadcasts watermark = that − Config.MaxOutOfOrderness (monotonic) to
// every partition, or an explicit one (Source.Watermark). A partition's
// watermark is the minimum over the sources; when it advances the pipeline
// sees Watermark(wm). Rows below their source's watermark are late and are
// counted per partition; LateDrop drops them at the router, LateWarn also
// logs (at most once per second). Close ends the input: each partition
// runs Finish (watermark +inf) and Close.
//
// An error or panic in any pipeline, a sink error or the cancellation of
// the context stops the whole query: every goroutine selects on the query's
// context in every channel operation, queued batches are released, and
// Wait/Close return the first error (a *PanicError for panics, naming the
// partition).
//
// Metrics (Query.Metrics, Query.Gatherer for Prometheus) are atomics
// updated on the hot path without locks: records and batches in/out, queue
// depth and channel utilisation with a backpressure state, a batch latency
// histogram, late and dropped rows, hot-partition detection and the
// adaptive batching target. Adaptive batching (Config.Batching) coalesces
// tiny routed batches into records of a target size under a latency bound
// and splits huge ones, so a trickle of small pushes still runs vectorized.
package partition
