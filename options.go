package velo

import "github.com/apache/arrow/go/v17/arrow/memory"

// Option configures an Engine.
type Option func(*Engine)

// WithAllocator sets the allocator for records the engine reads and
// aggregates (default memory.DefaultAllocator).
func WithAllocator(mem memory.Allocator) Option { return func(e *Engine) { e.mem = mem } }

// WithPartitions sets the number of partitions queries run on (default 1;
// a query's 'partitions' setting overrides it). With more than one,
// Execute runs each query on that many partition goroutines (see
// exec.CompilePartitioned).
func WithPartitions(n int) Option { return func(e *Engine) { e.partitions = n } }

// WithBatchSize sets the rows per batch for file reads and for the batches
// aggregate and sort emit (default 8192).
func WithBatchSize(n int) Option { return func(e *Engine) { e.batchSize = n } }
