package columnar

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/parquet/compress"
)

// Format is a file format the readers and writers understand.
type Format int

// The supported formats.
const (
	// FormatParquet is Apache Parquet (.parquet, .pq).
	FormatParquet Format = iota
	// FormatIPCFile is the Arrow IPC file format, a.k.a. Feather v2 (.arrow, .ipc, .feather).
	FormatIPCFile
	// FormatIPCStream is the Arrow IPC streaming format (.arrows).
	FormatIPCStream
	// FormatCSV is comma-separated values with a header row (.csv).
	FormatCSV
	// FormatJSONL is JSON lines: one JSON object per line (.jsonl, .ndjson).
	FormatJSONL
)

var formatNames = [...]string{
	FormatParquet:   "parquet",
	FormatIPCFile:   "arrow",
	FormatIPCStream: "arrows",
	FormatCSV:       "csv",
	FormatJSONL:     "jsonl",
}

// extensions maps file extensions (lower case, with the dot) to formats.
var extensions = []struct {
	ext string
	f   Format
}{
	{".parquet", FormatParquet},
	{".pq", FormatParquet},
	{".arrow", FormatIPCFile},
	{".ipc", FormatIPCFile},
	{".feather", FormatIPCFile},
	{".arrows", FormatIPCStream},
	{".csv", FormatCSV},
	{".jsonl", FormatJSONL},
	{".ndjson", FormatJSONL},
}

// String returns the format's name as accepted by ParseFormat.
func (f Format) String() string {
	if f >= 0 && int(f) < len(formatNames) {
		return formatNames[f]
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// ParseFormat parses a format name: parquet, arrow (or ipc, feather),
// arrows (or ipc-stream), csv, jsonl (or ndjson, json). Case is ignored and a
// leading dot is allowed, so extensions parse too.
func ParseFormat(name string) (Format, error) {
	n := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(name)), ".")
	for i, fn := range formatNames {
		if n == fn {
			return Format(i), nil
		}
	}
	switch n {
	case "pq":
		return FormatParquet, nil
	case "ipc", "feather", "ipc-file", "arrow-file":
		return FormatIPCFile, nil
	case "ipc-stream", "arrow-stream", "stream":
		return FormatIPCStream, nil
	case "ndjson", "json":
		return FormatJSONL, nil
	}
	return 0, fmt.Errorf("columnar: unknown format %q (want one of %s)", name, strings.Join(formatNames[:], ", "))
}

// FormatFromPath picks the format from the file name's extension
// (case-insensitive).
func FormatFromPath(path string) (Format, error) {
	ext := strings.ToLower(filepath.Ext(path))
	for _, e := range extensions {
		if e.ext == ext {
			return e.f, nil
		}
	}
	exts := make([]string, len(extensions))
	for i, e := range extensions {
		exts[i] = e.ext
	}
	if ext == "" {
		return 0, fmt.Errorf("columnar: %s: no file extension to pick a format from (supported: %s)", path, strings.Join(exts, ", "))
	}
	return 0, fmt.Errorf("columnar: %s: unsupported file extension %q (supported: %s)", path, ext, strings.Join(exts, ", "))
}

// DefaultBatchSize is the number of rows per record the readers produce
// unless WithBatchSize says otherwise (IPC files keep the batches they hold).
const DefaultBatchSize = 8192

// DefaultInferRows is how many rows CSV and JSON lines readers sample to
// infer a schema unless WithInferRows says otherwise.
const DefaultInferRows = 1000

type readConfig struct {
	schema    *arrow.Schema
	batchSize int
	inferRows int
	name      string
	comma     rune
}

// ReadOption configures OpenFile and NewReader.
type ReadOption func(*readConfig)

// WithSchema gives the schema of a CSV or JSON lines input instead of
// inferring it. For CSV the header must name the same columns in the same
// order. Parquet and IPC files carry their own schema; for them the option is
// a check: reading fails when the file's schema has other names or types.
func WithSchema(s *arrow.Schema) ReadOption { return func(c *readConfig) { c.schema = s } }

// WithBatchSize sets the number of rows per record for Parquet, CSV and JSON
// lines (default DefaultBatchSize). IPC files keep their own batches.
func WithBatchSize(n int) ReadOption {
	return func(c *readConfig) {
		if n > 0 {
			c.batchSize = n
		}
	}
}

// WithInferRows sets how many data rows CSV and JSON lines readers sample to
// infer the schema (default DefaultInferRows). A value that does not fit the
// inferred type later in the file is an error naming the line and column.
func WithInferRows(n int) ReadOption {
	return func(c *readConfig) {
		if n > 0 {
			c.inferRows = n
		}
	}
}

// WithName sets the name used in error messages for NewReader input
// (OpenFile uses the path).
func WithName(name string) ReadOption { return func(c *readConfig) { c.name = name } }

// WithDelimiter sets the CSV field delimiter (default ',').
func WithDelimiter(r rune) ReadOption { return func(c *readConfig) { c.comma = r } }

func newReadConfig(f Format, opts []ReadOption) readConfig {
	c := readConfig{batchSize: DefaultBatchSize, inferRows: DefaultInferRows, comma: ','}
	for _, o := range opts {
		o(&c)
	}
	if c.name == "" {
		c.name = "<" + f.String() + " input>"
	}
	return c
}

type writeConfig struct {
	dictionary   bool
	compression  compress.Compression
	rowGroupRows int64
	comma        rune
	name         string
}

// WriteOption configures CreateFile and NewWriter.
type WriteOption func(*writeConfig)

// WithCompression sets the Parquet compression codec (default Snappy).
func WithCompression(c compress.Compression) WriteOption {
	return func(w *writeConfig) { w.compression = c }
}

// WithDictionary turns Parquet dictionary encoding on or off (default off).
// Arrow Go v17's dictionary encoders allocate per value, which makes writing
// 2.5x slower, and for high-cardinality columns the files are not smaller.
func WithDictionary(on bool) WriteOption {
	return func(w *writeConfig) { w.dictionary = on }
}

// WithRowGroupRows caps the rows per Parquet row group (default 1 Mi rows).
// Each Write starts a new row group; larger records are split.
func WithRowGroupRows(n int64) WriteOption {
	return func(w *writeConfig) {
		if n > 0 {
			w.rowGroupRows = n
		}
	}
}

// WithWriteDelimiter sets the CSV field delimiter of a writer (default ',').
func WithWriteDelimiter(r rune) WriteOption { return func(w *writeConfig) { w.comma = r } }

// WithWriteName sets the name used in a writer's error messages (CreateFile
// uses the path).
func WithWriteName(name string) WriteOption { return func(w *writeConfig) { w.name = name } }

func newWriteConfig(f Format, opts []WriteOption) writeConfig {
	c := writeConfig{compression: compress.Codecs.Snappy, rowGroupRows: 1 << 20, comma: ','}
	for _, o := range opts {
		o(&c)
	}
	if c.name == "" {
		c.name = "<" + f.String() + " output>"
	}
	return c
}
