package velo

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/exec"
	"github.com/velo-engine/velo/partition"
	"github.com/velo-engine/velo/sqlfront"
)

// DefaultBatchSize is the default rows per batch.
const DefaultBatchSize = exec.DefaultBatchSize

// ErrConsumed is returned (wrapped) when a query reads a table registered
// as an array.RecordReader that an earlier query already consumed.
var ErrConsumed = errors.New("table's RecordReader was consumed by an earlier query")

// Engine runs SQL over registered tables. Its methods are safe for
// concurrent use; each query runs on the calling goroutine's reader.
type Engine struct {
	mem        memory.Allocator
	partitions int
	batchSize  int

	mu     sync.Mutex
	tables map[string]*table // keyed by lower-case name

	queries registry // live queries, for Gatherer
}

// table is a registered source: exactly one of reader, records, path.
type table struct {
	name    string
	schema  *arrow.Schema
	reader  array.RecordReader // consumed by the first query that reads it
	records []arrow.Record     // re-readable
	path    string             // opened per query
}

// New returns an engine configured by options.
func New(options ...Option) *Engine {
	e := &Engine{mem: memory.DefaultAllocator, partitions: 1, batchSize: DefaultBatchSize, tables: map[string]*table{}}
	for _, o := range options {
		o(e)
	}
	if e.batchSize <= 0 {
		e.batchSize = DefaultBatchSize
	}
	if e.partitions <= 0 {
		e.partitions = 1
	}
	return e
}

// Partitions returns the configured partition count.
func (e *Engine) Partitions() int { return e.partitions }

// RegisterTable makes src queryable as name (case-insensitive). src is:
//   - a string: a file path (Parquet, Arrow IPC, CSV, JSON lines, by
//     extension), opened afresh by every query;
//   - []arrow.Record or arrow.Record: kept (retained) and re-readable;
//   - an array.RecordReader: consumed by the first query that reads it (a
//     later query fails with ErrConsumed); the engine takes over the
//     caller's reference and releases it.
//
// Registering a name again replaces the previous table.
func (e *Engine) RegisterTable(name string, src any) error {
	if name == "" {
		return errors.New("velo: RegisterTable: empty table name")
	}
	t := &table{name: name}
	switch s := src.(type) {
	case string:
		r, err := columnar.OpenFile(s, e.mem, columnar.WithBatchSize(e.batchSize))
		if err != nil {
			return fmt.Errorf("velo: register table %q: %w", name, err)
		}
		t.schema = r.Schema()
		r.Release()
		t.path = s
	case arrow.Record:
		s.Retain()
		columnar.PrepareShared(s) // concurrent queries read it
		t.schema, t.records = s.Schema(), []arrow.Record{s}
	case []arrow.Record:
		if len(s) == 0 {
			return fmt.Errorf("velo: register table %q: no records (the schema is unknown)", name)
		}
		for i, r := range s {
			if !r.Schema().Equal(s[0].Schema()) {
				return fmt.Errorf("velo: register table %q: record %d has schema %s, record 0 has %s", name, i, r.Schema(), s[0].Schema())
			}
		}
		for _, r := range s {
			r.Retain()
			columnar.PrepareShared(r) // concurrent queries read it
		}
		t.schema, t.records = s[0].Schema(), append([]arrow.Record(nil), s...)
	case array.RecordReader:
		t.schema, t.reader = s.Schema(), s
	default:
		return fmt.Errorf("velo: register table %q: unsupported source %T (want a file path, arrow.Record, []arrow.Record or array.RecordReader)", name, src)
	}
	e.mu.Lock()
	old := e.tables[strings.ToLower(name)]
	e.tables[strings.ToLower(name)] = t
	e.mu.Unlock()
	if old != nil {
		old.release()
	}
	return nil
}

func (t *table) release() {
	for _, r := range t.records {
		r.Release()
	}
	t.records = nil
	if t.reader != nil {
		t.reader.Release()
		t.reader = nil
	}
}

// Close releases every registered table.
func (e *Engine) Close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	for k, t := range e.tables {
		t.release()
		delete(e.tables, k)
	}
}

// catalog is the engine's view for the binder.
type catalog struct{ e *Engine }

func (c catalog) Table(name string) (*arrow.Schema, error) {
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	if t, ok := c.e.tables[strings.ToLower(name)]; ok {
		return t.schema, nil
	}
	return nil, fmt.Errorf("table %q: %w", name, sqlfront.ErrUnknownTable)
}

func (c catalog) TableNames() []string {
	c.e.mu.Lock()
	defer c.e.mu.Unlock()
	names := make([]string, 0, len(c.e.tables))
	for _, t := range c.e.tables {
		names = append(names, t.name)
	}
	sort.Strings(names)
	return names
}

// Explain returns the logical plan of sql as EXPLAIN prints it: at more
// than one partition followed by a line "Partitions: " and how they run it
// (exec.PartitionPlan, e.g. "hash(symbol) (two-phase if few groups) × 4").
func (e *Engine) Explain(sql string) (string, error) {
	q, err := sqlfront.Plan(sql, catalog{e})
	if err != nil {
		return "", err
	}
	return e.explain(q)
}

// partitionsFor is the partition count q runs on: its 'partitions'
// setting, else the engine's.
func (e *Engine) partitionsFor(q *sqlfront.Query) int {
	if q.Settings.Partitions > 0 {
		return q.Settings.Partitions
	}
	return e.partitions
}

// explain is Explain for a planned query.
func (e *Engine) explain(q *sqlfront.Query) (string, error) {
	text := q.Explain()
	n := e.partitionsFor(q)
	if n <= 1 {
		return text, nil
	}
	plan, err := exec.PlanPartitions(q, exec.Options{BatchSize: e.batchSize, Partitions: e.partitions})
	if err != nil {
		return "", err
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	return text + "Partitions: " + plan.String() + "\n", nil
}

// Execute runs a batch query and returns its result as a lazy reader; the
// caller releases it. With more than one partition (WithPartitions, or the
// query's 'partitions' setting) the query runs partitioned
// (exec.CompilePartitioned) on partition worker goroutines that the
// reader's first Next starts and Release stops; the groups of an
// aggregation without ORDER BY may then come in another order than on one
// partition. An EXPLAIN statement returns one utf8 column "plan"
// with one row per line. Errors from the SQL front end carry line:column;
// the reader's Err reports run-time errors (overflow, casts, ctx.Err()).
// The query shows in the engine's metrics (Gatherer) until its reader is
// exhausted or released; the reader's Metrics() partition.Metrics method
// snapshots them (on one partition as Query.Metrics describes).
func (e *Engine) Execute(ctx context.Context, sql string) (array.RecordReader, error) {
	q, err := sqlfront.Plan(sql, catalog{e})
	if err != nil {
		return nil, err
	}
	if q.ExplainOnly {
		text, err := e.explain(q)
		if err != nil {
			return nil, err
		}
		return explainReader(e.mem, text), nil
	}
	opts := exec.Options{BatchSize: e.batchSize, Partitions: e.partitions}
	n := e.partitionsFor(q)
	if n > 1 {
		p, err := exec.CompilePartitioned(e.mem, q, opts)
		if err != nil {
			return nil, err
		}
		src, err := e.open(p.Table())
		if err != nil {
			return nil, err
		}
		c := newQueryCounters()
		return e.track(p.Run(ctx, &countingReader{src, c}), &runningQuery{name: settingName(q), c: c, window: p}), nil
	}
	if q.Settings.PartitioningStrategy != "" {
		// A strategy that cannot run the query is an error at every
		// partition count.
		if _, err := exec.PlanPartitions(q, opts); err != nil {
			return nil, err
		}
	}
	p, err := exec.Compile(e.mem, q, opts)
	if err != nil {
		return nil, err
	}
	src, err := e.open(p.Table())
	if err != nil {
		return nil, err
	}
	c := newQueryCounters()
	rq := &runningQuery{name: settingName(q), c: c, window: p}
	rq.metrics = func() partition.Metrics { return onePartition(c, p) }
	return e.track(p.Run(ctx, &countingReader{src, c}), rq), nil
}

// settingName returns the query's 'name' setting ("" without one).
func settingName(q *sqlfront.Query) string { return q.Settings.Values["name"] }

// open returns a fresh reader over a table.
func (e *Engine) open(name string) (array.RecordReader, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t, ok := e.tables[strings.ToLower(name)]
	if !ok {
		return nil, fmt.Errorf("velo: table %q: %w", name, sqlfront.ErrUnknownTable)
	}
	switch {
	case t.path != "":
		r, err := columnar.OpenFile(t.path, e.mem, columnar.WithBatchSize(e.batchSize), columnar.WithSchema(t.schema))
		if err != nil {
			return nil, fmt.Errorf("velo: table %q: %w", name, err)
		}
		return r, nil
	case t.records != nil:
		r, err := array.NewRecordReader(t.schema, t.records)
		if err != nil {
			return nil, fmt.Errorf("velo: table %q: %w", name, err)
		}
		return r, nil
	case t.reader != nil:
		r := t.reader
		t.reader = nil
		return r, nil
	}
	return nil, fmt.Errorf("velo: table %q: %w", name, ErrConsumed)
}

func explainReader(mem memory.Allocator, text string) array.RecordReader {
	lines := strings.Split(strings.TrimRight(text, "\n"), "\n")
	schema := arrow.NewSchema([]arrow.Field{{Name: "plan", Type: arrow.BinaryTypes.String}}, nil)
	col := columnar.BuildString(mem, lines, nil)
	rec := array.NewRecord(schema, []arrow.Array{col}, int64(len(lines)))
	col.Release()
	r, _ := array.NewRecordReader(schema, []arrow.Record{rec})
	rec.Release()
	return r
}
