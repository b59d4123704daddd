package columnar

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/ipc"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/apache/arrow/go/v17/parquet"
	"github.com/apache/arrow/go/v17/parquet/pqarrow"
)

// Writer writes records with one schema to a file or stream.
//
// Write rejects a record whose schema differs from the writer's in column
// count, names or types, naming the first differing column; nullability and
// metadata may differ. Writing a 0-row record is allowed. Close flushes and
// finishes the format (footers) and, for CreateFile, closes the file; it must
// be called for the output to be complete, and it is idempotent.
type Writer interface {
	Write(rec arrow.Record) error
	Close() error
}

// CreateFile creates (or truncates) path and returns a writer for it, with
// the format picked from the extension (see FormatFromPath). If creating the
// writer fails, the file is removed.
func CreateFile(path string, schema *arrow.Schema, mem memory.Allocator, opts ...WriteOption) (Writer, error) {
	f, err := FormatFromPath(path)
	if err != nil {
		return nil, err
	}
	fh, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("columnar: create %s: %w", path, err)
	}
	opts = append([]WriteOption{WithWriteName(path)}, opts...)
	w, err := newWriter(fh, f, schema, mem, opts, fh.Close)
	if err != nil {
		_ = fh.Close()
		_ = os.Remove(path)
		return nil, err
	}
	return w, nil
}

// NewWriter returns a writer of format f to w. It does not close w. Output
// is buffered until Close. The IPC file format needs the position of w: an
// io.Seeker is asked for it, any other writer is assumed to be at 0.
func NewWriter(w io.Writer, f Format, schema *arrow.Schema, mem memory.Allocator, opts ...WriteOption) (Writer, error) {
	return newWriter(w, f, schema, mem, opts, nil)
}

func newWriter(w io.Writer, f Format, schema *arrow.Schema, mem memory.Allocator, opts []WriteOption, closer func() error) (Writer, error) {
	cfg := newWriteConfig(f, opts)
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if schema == nil {
		return nil, fmt.Errorf("columnar: %s: writer needs a schema", cfg.name)
	}
	switch f {
	case FormatParquet, FormatIPCFile, FormatIPCStream:
		// The binary writers issue many small writes: buffer them. The
		// wrapper also hides any Close method of w (pqarrow would call it)
		// and tells the IPC file writer its position.
		var start int64
		if sk, ok := w.(io.Seeker); ok {
			pos, err := sk.Seek(0, io.SeekCurrent)
			if err != nil {
				return nil, fmt.Errorf("columnar: %s: %w", cfg.name, err)
			}
			start = pos
		}
		bw := bufio.NewWriterSize(w, 1<<16)
		out := &positionWriter{w: bw, pos: start}
		aw := &arrowWriter{name: cfg.name, schema: schema, flush: bw.Flush, closer: closer}
		switch f {
		case FormatParquet:
			if err := newParquetWriter(aw, out, mem, cfg); err != nil {
				return nil, err
			}
		case FormatIPCFile:
			fw, err := ipc.NewFileWriter(out, ipc.WithSchema(schema), ipc.WithAllocator(mem))
			if err != nil {
				return nil, fmt.Errorf("columnar: %s: arrow IPC file writer: %w", cfg.name, err)
			}
			aw.write, aw.finish = fw.Write, fw.Close
		default:
			sw := ipc.NewWriter(out, ipc.WithSchema(schema), ipc.WithAllocator(mem))
			aw.write, aw.finish = sw.Write, sw.Close
		}
		return aw, nil
	case FormatCSV:
		cw, err := newCSVWriter(w, schema, cfg)
		if err != nil {
			return nil, err
		}
		cw.closer = closer
		return cw, nil
	case FormatJSONL:
		jw := newJSONLWriter(w, schema, cfg)
		jw.closer = closer
		return jw, nil
	}
	return nil, fmt.Errorf("columnar: %s: unsupported format %s", cfg.name, f)
}

// positionWriter lets ipc.FileWriter ask a plain io.Writer for its position.
type positionWriter struct {
	w   io.Writer
	pos int64
}

func (p *positionWriter) Write(b []byte) (int, error) {
	n, err := p.w.Write(b)
	p.pos += int64(n)
	return n, err
}

func (p *positionWriter) Seek(offset int64, whence int) (int64, error) {
	if offset == 0 && whence == io.SeekCurrent {
		return p.pos, nil
	}
	return p.pos, errors.New("columnar: output is not seekable")
}

// arrowWriter adapts the Arrow IPC and Parquet writers: it checks schemas and
// hands them records carrying exactly the writer's schema.
type arrowWriter struct {
	name   string
	schema *arrow.Schema
	write  func(arrow.Record) error
	finish func() error // ends the format (footer)
	flush  func() error // flushes the buffer
	closer func() error // closes the file, for CreateFile
	closed bool
}

func (w *arrowWriter) Write(rec arrow.Record) error {
	if w.closed {
		return fmt.Errorf("columnar: %s: write after close", w.name)
	}
	if err := schemaDiff(rec.Schema(), w.schema); err != nil {
		return fmt.Errorf("columnar: %s: record schema differs from the writer's: %w", w.name, err)
	}
	if !rec.Schema().Equal(w.schema) {
		// Same names and types, other nullability or metadata: the Arrow
		// writers insist on the exact schema, so relabel (zero-copy).
		rec = array.NewRecord(w.schema, rec.Columns(), rec.NumRows())
		defer rec.Release()
	}
	if err := w.write(rec); err != nil {
		return fmt.Errorf("columnar: %s: write: %w", w.name, err)
	}
	return nil
}

func (w *arrowWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := errors.Join(w.finish(), w.flush())
	if w.closer != nil {
		err = errors.Join(err, w.closer())
	}
	if err != nil {
		return fmt.Errorf("columnar: %s: close: %w", w.name, err)
	}
	return nil
}

func newParquetWriter(aw *arrowWriter, out io.Writer, mem memory.Allocator, cfg writeConfig) error {
	props := parquet.NewWriterProperties(
		parquet.WithAllocator(mem),
		parquet.WithCompression(cfg.compression),
		parquet.WithMaxRowGroupLength(cfg.rowGroupRows),
		parquet.WithDictionaryDefault(cfg.dictionary),
	)
	aprops := pqarrow.NewArrowWriterProperties(pqarrow.WithAllocator(mem), pqarrow.WithStoreSchema())
	fw, err := pqarrow.NewFileWriter(aw.schema, out, props, aprops)
	if err != nil {
		return fmt.Errorf("columnar: %s: parquet writer: %w", cfg.name, err)
	}
	aw.finish = fw.Close
	aw.write = func(rec arrow.Record) error {
		if rec.NumRows() == 0 {
			return nil // an empty row group adds nothing a reader can see
		}
		return fw.Write(rec)
	}
	return nil
}
