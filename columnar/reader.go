package columnar

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/file"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
)

// Reader reads a sequence of records with one schema. It is an
// array.RecordReader: Next advances, Record returns the current record (valid
// until the next call to Next; Retain what you keep), Err reports the error
// that stopped iteration (nil at a clean end of input). Close releases the
// current record and the resources held (files, decoders) and returns the
// error of closing the file, if any; it is idempotent, and Release closes the
// reader when the last reference goes.
type Reader interface {
	array.RecordReader
	Close() error
}

// OpenFile opens path for reading, picking the format from its extension
// (see FormatFromPath). Errors name the file.
func OpenFile(path string, mem memory.Allocator, opts ...ReadOption) (Reader, error) {
	f, err := FormatFromPath(path)
	if err != nil {
		return nil, err
	}
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("columnar: open %s: %w", path, err)
	}
	opts = append([]ReadOption{WithName(path)}, opts...)
	r, err := newReader(fh, f, mem, opts)
	if err != nil {
		_ = fh.Close()
		return nil, err
	}
	// Closers run last to first: the file closes after the decoders.
	r.closers = append([]func() error{fh.Close}, r.closers...)
	return r, nil
}

// NewReader reads records of format f from r. Parquet and IPC files need
// random access: r is used directly when it implements io.ReaderAt and
// io.Seeker (or io.ReaderAt and Size() int64, like *bytes.Reader), and read
// fully into memory otherwise. NewReader does not close r.
func NewReader(r io.Reader, f Format, mem memory.Allocator, opts ...ReadOption) (Reader, error) {
	rd, err := newReader(r, f, mem, opts)
	if err != nil {
		return nil, err
	}
	return rd, nil
}

func newReader(r io.Reader, f Format, mem memory.Allocator, opts []ReadOption) (*recordReader, error) {
	cfg := newReadConfig(f, opts)
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	var (
		rd    *recordReader
		err   error
		guard *guardAllocator
	)
	switch f {
	case FormatParquet, FormatIPCFile, FormatIPCStream:
		guard = newGuardAllocator(mem)
		mem = guard
		guard.begin()
	}
	// Decoders of corrupt binary input may panic deep inside Arrow; turn that
	// into an error that names the input.
	func() {
		defer func() {
			if p := recover(); p != nil {
				err = fmt.Errorf("columnar: %s: corrupt %s input: %v", cfg.name, f, p)
			}
		}()
		switch f {
		case FormatParquet:
			rd, err = newParquetReader(r, mem, cfg)
		case FormatIPCFile:
			rd, err = newIPCFileReader(r, mem, cfg)
		case FormatIPCStream:
			rd, err = newIPCStreamReader(r, mem, cfg)
		case FormatCSV:
			rd, err = newCSVReader(r, mem, cfg)
		case FormatJSONL:
			rd, err = newJSONLReader(r, mem, cfg)
		default:
			err = fmt.Errorf("columnar: %s: unsupported format %s", cfg.name, f)
		}
	}()
	if err != nil {
		if rd != nil {
			_ = rd.Close()
		}
		if guard != nil {
			guard.fail()
			guard.sweep()
		}
		return nil, err
	}
	if guard != nil {
		guard.commit()
		rd.guard = guard
	}
	return rd, nil
}

// recordReader is the Reader of every format: a format supplies next, which
// returns an owned record, or nil at the end of input.
type recordReader struct {
	refs    atomic.Int64
	name    string
	format  Format
	schema  *arrow.Schema
	next    func() (arrow.Record, error)
	cur     arrow.Record
	err     error
	done    bool
	closed  bool
	closers []func() error
	guard   *guardAllocator // binary formats: frees what a failed decode leaked
}

func newRecordReader(name string, f Format, schema *arrow.Schema) *recordReader {
	r := &recordReader{name: name, format: f, schema: schema}
	r.refs.Store(1)
	return r
}

// Schema returns the schema of the records.
func (r *recordReader) Schema() *arrow.Schema { return r.schema }

// Record returns the current record, valid until the next call to Next.
func (r *recordReader) Record() arrow.Record { return r.cur }

// Err returns the error that stopped iteration, nil at a clean end.
func (r *recordReader) Err() error { return r.err }

// Retain adds a reference to the reader.
func (r *recordReader) Retain() { r.refs.Add(1) }

// Release drops a reference; the last one closes the reader.
func (r *recordReader) Release() {
	if r.refs.Add(-1) == 0 {
		_ = r.Close()
	}
}

// Next advances to the next record.
func (r *recordReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.done || r.closed || r.err != nil {
		return false
	}
	if r.guard != nil {
		r.guard.begin()
	}
	rec, err := r.safeNext()
	if r.guard != nil {
		if err != nil {
			r.guard.fail()
		} else {
			r.guard.commit()
		}
	}
	if err != nil {
		r.err = err
		r.done = true
		if rec != nil {
			rec.Release()
		}
		return false
	}
	if rec == nil {
		r.done = true
		return false
	}
	r.cur = rec
	return true
}

func (r *recordReader) safeNext() (rec arrow.Record, err error) {
	defer func() {
		if p := recover(); p != nil {
			rec, err = nil, fmt.Errorf("columnar: %s: corrupt %s input: %v", r.name, r.format, p)
		}
	}()
	return r.next()
}

// Close releases the current record and everything the reader holds.
func (r *recordReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	var errs []error
	for i := len(r.closers) - 1; i >= 0; i-- {
		if err := r.closers[i](); err != nil {
			errs = append(errs, err)
		}
	}
	r.closers = nil
	if r.guard != nil {
		r.guard.sweep()
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("columnar: close %s: %w", r.name, err)
	}
	return nil
}

// readerAtSeeker returns random access to r, reading it into memory when it
// offers none. The result never closes r.
func readerAtSeeker(r io.Reader) (ipc.ReadAtSeeker, error) {
	switch rr := r.(type) {
	case ipc.ReadAtSeeker:
		return struct{ ipc.ReadAtSeeker }{rr}, nil
	case interface {
		io.ReaderAt
		Size() int64
	}:
		return io.NewSectionReader(rr, 0, rr.Size()), nil
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(b), nil
}

// checkSchema compares the schema a file carries with the one the caller
// expects (WithSchema), by column names and types.
func checkSchema(name string, got, want *arrow.Schema) error {
	if want == nil {
		return nil
	}
	if err := schemaDiff(got, want); err != nil {
		return fmt.Errorf("columnar: %s: file schema differs from the expected one: %w", name, err)
	}
	return nil
}

// schemaDiff describes the first difference between two schemas in column
// count, names or types; nil when they agree on all three.
func schemaDiff(got, want *arrow.Schema) error {
	n := min(got.NumFields(), want.NumFields())
	for i := 0; i < n; i++ {
		g, w := got.Field(i), want.Field(i)
		if g.Name != w.Name {
			return fmt.Errorf("column %d is %q, want %q", i, g.Name, w.Name)
		}
		if !arrow.TypeEqual(g.Type, w.Type) {
			return fmt.Errorf("column %q is %s, want %s", g.Name, g.Type, w.Type)
		}
	}
	switch {
	case got.NumFields() > n:
		return fmt.Errorf("extra column %q (%d columns, want %d)", got.Field(n).Name, got.NumFields(), want.NumFields())
	case want.NumFields() > n:
		return fmt.Errorf("missing column %q (%d columns, want %d)", want.Field(n).Name, got.NumFields(), want.NumFields())
	}
	return nil
}

func newParquetReader(r io.Reader, mem memory.Allocator, cfg readConfig) (*recordReader, error) {
	ras, err := readerAtSeeker(r)
	if err != nil {
		return nil, fmt.Errorf("columnar: read %s: %w", cfg.name, err)
	}
	pf, err := file.NewParquetReader(ras, file.WithReadProps(parquet.NewReaderProperties(mem)))
	if err != nil {
		return nil, fmt.Errorf("columnar: %s: not a readable parquet file: %w", cfg.name, err)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: int64(cfg.batchSize)}, mem)
	if err != nil {
		_ = pf.Close()
		return nil, fmt.Errorf("columnar: %s: parquet schema: %w", cfg.name, err)
	}
	rr, err := fr.GetRecordReader(context.Background(), nil, nil)
	if err != nil {
		_ = pf.Close()
		return nil, fmt.Errorf("columnar: %s: parquet reader: %w", cfg.name, err)
	}
	rd := newRecordReader(cfg.name, FormatParquet, rr.Schema())
	rd.closers = append(rd.closers, pf.Close, func() error { rr.Release(); return nil })
	if err := checkSchema(cfg.name, rr.Schema(), cfg.schema); err != nil {
		return rd, err
	}
	if rr.Schema().NumFields() == 0 {
		// pqarrow would return empty records forever.
		rd.next = func() (arrow.Record, error) { return nil, nil }
		return rd, nil
	}
	rd.next = func() (arrow.Record, error) {
		if !rr.Next() {
			if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("columnar: %s: reading parquet: %w", cfg.name, err)
			}
			return nil, nil
		}
		rec := rr.Record()
		rec.Retain()
		return rec, nil
	}
	return rd, nil
}

func newIPCFileReader(r io.Reader, mem memory.Allocator, cfg readConfig) (*recordReader, error) {
	ras, err := readerAtSeeker(r)
	if err != nil {
		return nil, fmt.Errorf("columnar: read %s: %w", cfg.name, err)
	}
	size, err := ras.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, fmt.Errorf("columnar: %s: %w", cfg.name, err)
	}
	if err := checkIPCFooter(ras, size); err != nil {
		return nil, fmt.Errorf("columnar: %s: not a readable arrow IPC file: %w", cfg.name, err)
	}
	fr, err := ipc.NewFileReader(ras, ipc.WithAllocator(mem))
	if err != nil {
		return nil, fmt.Errorf("columnar: %s: not a readable arrow IPC file: %w", cfg.name, err)
	}
	rd := newRecordReader(cfg.name, FormatIPCFile, fr.Schema())
	rd.closers = append(rd.closers, fr.Close)
	if err := checkSchema(cfg.name, fr.Schema(), cfg.schema); err != nil {
		return rd, err
	}
	i, n := 0, fr.NumRecords()
	rd.next = func() (arrow.Record, error) {
		if i >= n {
			return nil, nil
		}
		rec, err := fr.RecordAt(i)
		if err != nil {
			return nil, fmt.Errorf("columnar: %s: arrow IPC record batch %d: %w", cfg.name, i, err)
		}
		i++
		if err := validateRecord(rec); err != nil {
			rec.Release()
			return nil, fmt.Errorf("columnar: %s: arrow IPC record batch %d: %w", cfg.name, i-1, err)
		}
		return rec, nil
	}
	return rd, nil
}

func newIPCStreamReader(r io.Reader, mem memory.Allocator, cfg readConfig) (*recordReader, error) {
	r, err := checkIPCStreamSchema(r)
	if err != nil {
		return nil, fmt.Errorf("columnar: %s: not a readable arrow IPC stream: %w", cfg.name, err)
	}
	sr, err := ipc.NewReader(r, ipc.WithAllocator(mem))
	if err != nil {
		return nil, fmt.Errorf("columnar: %s: not a readable arrow IPC stream: %w", cfg.name, err)
	}
	rd := newRecordReader(cfg.name, FormatIPCStream, sr.Schema())
	rd.closers = append(rd.closers, func() error { sr.Release(); return nil })
	if err := checkSchema(cfg.name, sr.Schema(), cfg.schema); err != nil {
		return rd, err
	}
	batch := 0
	rd.next = func() (arrow.Record, error) {
		if !sr.Next() {
			if err := sr.Err(); err != nil {
				return nil, fmt.Errorf("columnar: %s: arrow IPC stream record batch %d: %w", cfg.name, batch, err)
			}
			return nil, nil
		}
		rec := sr.Record()
		if err := validateRecord(rec); err != nil {
			return nil, fmt.Errorf("columnar: %s: arrow IPC stream record batch %d: %w", cfg.name, batch, err)
		}
		batch++
		rec.Retain()
		return rec, nil
	}
	return rd, nil
}

// validateRecord checks the buffers of a decoded record against its lengths
// and offsets, so a corrupt file fails here instead of in a later kernel.
func validateRecord(rec arrow.Record) error {
	for i, c := range rec.Columns() {
		if int64(c.Len()) != rec.NumRows() {
			return fmt.Errorf("column %q has %d rows, record has %d", rec.Schema().Field(i).Name, c.Len(), rec.NumRows())
		}
		if err := validateArray(c.Data()); err != nil {
			return fmt.Errorf("column %q: %w", rec.Schema().Field(i).Name, err)
		}
	}
	return nil
}

// validateArray checks validity bitmaps, fixed-width value buffers and the
// offsets of utf8/binary arrays (Arrow Go v17 has no general validation).
func validateArray(d arrow.ArrayData) error {
	end := d.Offset() + d.Len()
	bufs := d.Buffers()
	if d.NullN() > 0 && len(bufs) > 0 && bufs[0] != nil && bufs[0].Len()*8 < end {
		return fmt.Errorf("validity bitmap of %d bytes is too short for %d rows", bufs[0].Len(), end)
	}
	switch dt := d.DataType().(type) {
	case arrow.FixedWidthDataType:
		if dt.ID() == arrow.BOOL || d.Len() == 0 {
			if dt.ID() == arrow.BOOL && d.Len() > 0 && (len(bufs) < 2 || bufs[1] == nil || bufs[1].Len()*8 < end) {
				return fmt.Errorf("boolean value bitmap is too short for %d rows", end)
			}
			return nil
		}
		w := dt.BitWidth() / 8
		if w > 0 && (len(bufs) < 2 || bufs[1] == nil || bufs[1].Len() < end*w) {
			return fmt.Errorf("value buffer is too short for %d rows of %s", end, dt)
		}
	case *arrow.StringType, *arrow.BinaryType:
		if d.Len() == 0 {
			return nil
		}
		if len(bufs) < 3 || bufs[1] == nil || bufs[1].Len() < (end+1)*4 {
			return fmt.Errorf("offsets buffer is too short for %d rows", end)
		}
		offs := arrow.Int32Traits.CastFromBytes(bufs[1].Bytes())[d.Offset() : end+1]
		dataLen := 0
		if bufs[2] != nil {
			dataLen = bufs[2].Len()
		}
		if offs[0] < 0 {
			return fmt.Errorf("negative offset %d", offs[0])
		}
		for i := 1; i < len(offs); i++ {
			if offs[i] < offs[i-1] {
				return fmt.Errorf("offsets decrease at row %d (%d < %d)", i-1, offs[i], offs[i-1])
			}
		}
		if int(offs[len(offs)-1]) > dataLen {
			return fmt.Errorf("offset %d is past the end of %d data bytes", offs[len(offs)-1], dataLen)
		}
	}
	return nil
}
