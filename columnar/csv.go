package columnar

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// CSV conventions (reader and writer agree, so files round-trip):
//   - the first line is a header with the column names;
//   - an empty field is NULL, for every type, so an empty string reads back
//     as NULL (the writer writes it as "", and so a NULL in a one-column
//     file, since blank lines are skipped);
//   - floats are written in Go's shortest round-trip form (strconv 'g', -1),
//     NaN and ±Inf as NaN, +Inf, -Inf; bools as true/false; timestamps as
//     RFC 3339 in UTC with the unit's fractional digits;
//   - without an explicit schema, types are inferred from the first
//     WithInferRows data rows: int64 if every non-empty value is an integer,
//     else float64 if every one is a number, else bool if every one is
//     true/false, else utf8 (also for columns with no value in the sample).

// csvRow is one CSV record and the line it starts on.
type csvRow struct {
	fields []string
	line   int
}

type csvSource struct {
	name    string
	cr      *csv.Reader
	header  []string
	pending []csvRow // rows read while inferring the schema
	live    bool     // the last row came from cr, so cr.FieldPos describes it
}

// read returns the next row, io.EOF at the end, or an error naming the line.
func (s *csvSource) read() (csvRow, error) {
	if len(s.pending) > 0 {
		r := s.pending[0]
		s.pending = s.pending[1:]
		s.live = false
		return r, nil
	}
	s.live = true
	return s.readRaw()
}

func (s *csvSource) readRaw() (csvRow, error) {
	fields, err := s.cr.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return csvRow{}, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return csvRow{}, fmt.Errorf("columnar: %s: line %d, byte %d: malformed CSV: %w", s.name, pe.Line, pe.Column, pe.Err)
		}
		return csvRow{}, fmt.Errorf("columnar: %s: %w", s.name, err)
	}
	line, _ := s.cr.FieldPos(0)
	if s.header != nil && len(fields) != len(s.header) {
		return csvRow{}, fmt.Errorf("columnar: %s: line %d: %d fields, want %d (header: %s)",
			s.name, line, len(fields), len(s.header), strings.Join(s.header, ", "))
	}
	return csvRow{fields: fields, line: line}, nil
}

func newCSVReader(r io.Reader, mem memory.Allocator, cfg readConfig) (*recordReader, error) {
	cr := csv.NewReader(r)
	cr.Comma = cfg.comma
	cr.FieldsPerRecord = -1 // checked by csvSource with a better message
	cr.ReuseRecord = true
	src := &csvSource{name: cfg.name, cr: cr}
	hdr, err := src.readRaw()
	if errors.Is(err, io.EOF) {
		if cfg.schema == nil {
			return nil, fmt.Errorf("columnar: %s: empty CSV input: no header row", cfg.name)
		}
		hdr.fields = fieldNames(cfg.schema)
	} else if err != nil {
		return nil, err
	}
	header := append([]string(nil), hdr.fields...)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // byte order mark
	}
	src.header = header

	schema := cfg.schema
	inferred := schema == nil
	if inferred {
		schema, err = inferCSVSchema(src, cfg.inferRows)
		if err != nil {
			return nil, err
		}
	} else {
		if err := checkHeader(cfg.name, header, schema); err != nil {
			return nil, err
		}
		if err := checkTextSchema(cfg.name, FormatCSV, schema); err != nil {
			return nil, err
		}
	}

	bld := array.NewRecordBuilder(mem, schema)
	rd := newRecordReader(cfg.name, FormatCSV, schema)
	rd.closers = append(rd.closers, func() error { bld.Release(); return nil })
	appenders := make([]valueAppender, schema.NumFields())
	for i := range appenders {
		appenders[i] = newTextAppender(bld.Field(i))
	}
	hint := ""
	if inferred {
		hint = fmt.Sprintf(" (type inferred from the first %d rows; pass a schema with WithSchema or raise WithInferRows)", cfg.inferRows)
	}
	rd.next = func() (arrow.Record, error) {
		n := 0
		for n < cfg.batchSize {
			row, err := src.read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, err
			}
			for i, v := range row.fields {
				if v == "" {
					bld.Field(i).AppendNull()
					continue
				}
				if err := appenders[i](v); err != nil {
					line := row.line
					if src.live {
						line, _ = cr.FieldPos(i)
					}
					return nil, fmt.Errorf("columnar: %s: line %d, column %q: %w%s", cfg.name, line, schema.Field(i).Name, err, hint)
				}
			}
			n++
		}
		if n == 0 {
			return nil, nil
		}
		return bld.NewRecord(), nil
	}
	return rd, nil
}

// checkHeader compares a CSV header with the names of an explicit schema.
func checkHeader(name string, header []string, schema *arrow.Schema) error {
	want := fieldNames(schema)
	if len(header) != len(want) {
		return fmt.Errorf("columnar: %s: header has %d columns (%s), schema has %d (%s)",
			name, len(header), strings.Join(header, ", "), len(want), strings.Join(want, ", "))
	}
	for i := range header {
		if header[i] != want[i] {
			return fmt.Errorf("columnar: %s: header column %d is %q, schema says %q", name, i+1, header[i], want[i])
		}
	}
	return nil
}

// inferCSVSchema reads up to n data rows into src.pending and picks each
// column's type from them.
func inferCSVSchema(src *csvSource, n int) (*arrow.Schema, error) {
	cols := make([]textInference, len(src.header))
	for len(src.pending) < n {
		row, err := src.readRaw()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		row.fields = append([]string(nil), row.fields...)
		src.pending = append(src.pending, row)
		for i, v := range row.fields {
			cols[i].observe(v)
		}
	}
	fields := make([]arrow.Field, len(cols))
	seen := make(map[string]bool, len(cols))
	for i, c := range cols {
		name := src.header[i]
		if seen[name] {
			return nil, fmt.Errorf("columnar: %s: header names column %q twice", src.name, name)
		}
		seen[name] = true
		fields[i] = arrow.Field{Name: name, Type: c.result(), Nullable: true}
	}
	return arrow.NewSchema(fields, nil), nil
}

// textInference tracks which types every non-empty value seen so far fits.
type textInference struct {
	seen                   bool
	notInt, notFloat, notB bool
}

func (t *textInference) observe(v string) {
	if v == "" {
		return
	}
	t.seen = true
	if !t.notInt {
		if _, err := strconv.ParseInt(v, 10, 64); err != nil {
			t.notInt = true
		}
	}
	if !t.notFloat {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			t.notFloat = true
		}
	}
	if !t.notB && !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
		t.notB = true
	}
}

func (t *textInference) result() arrow.DataType {
	switch {
	case !t.seen:
		return arrow.BinaryTypes.String
	case !t.notInt:
		return arrow.PrimitiveTypes.Int64
	case !t.notFloat:
		return arrow.PrimitiveTypes.Float64
	case !t.notB:
		return arrow.FixedWidthTypes.Boolean
	}
	return arrow.BinaryTypes.String
}

// csvWriter writes records as CSV (see the conventions above).
type csvWriter struct {
	name   string
	schema *arrow.Schema
	bw     *bufio.Writer
	comma  byte
	buf    []byte
	closer func() error
	closed bool
}

func newCSVWriter(w io.Writer, schema *arrow.Schema, cfg writeConfig) (*csvWriter, error) {
	if cfg.comma >= utf8.RuneSelf || cfg.comma == '"' || cfg.comma == '\r' || cfg.comma == '\n' {
		return nil, fmt.Errorf("columnar: %s: invalid CSV delimiter %q", cfg.name, cfg.comma)
	}
	cw := &csvWriter{name: cfg.name, schema: schema, bw: bufio.NewWriterSize(w, 1<<16), comma: byte(cfg.comma)}
	for i, f := range schema.Fields() {
		if i > 0 {
			cw.buf = append(cw.buf, cw.comma)
		}
		cw.buf = cw.appendQuoted(cw.buf, f.Name, true)
	}
	cw.buf = append(cw.buf, '\n')
	if _, err := cw.bw.Write(cw.buf); err != nil {
		return nil, fmt.Errorf("columnar: %s: write CSV header: %w", cfg.name, err)
	}
	return cw, nil
}

// appendQuoted appends s, quoted when it contains the delimiter, a quote, a
// line break or surrounding space, or (with quoteEmpty) when it is empty.
func (w *csvWriter) appendQuoted(buf []byte, s string, quoteEmpty bool) []byte {
	need := s == "" && quoteEmpty
	if !need && s != "" {
		need = s[0] == ' ' || s[0] == '\t' || s[len(s)-1] == ' ' || s[len(s)-1] == '\t'
		for i := 0; i < len(s) && !need; i++ {
			c := s[i]
			need = c == w.comma || c == '"' || c == '\n' || c == '\r'
		}
	}
	if !need {
		return append(buf, s...)
	}
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			buf = append(buf, '"')
		}
		buf = append(buf, s[i])
	}
	return append(buf, '"')
}

func (w *csvWriter) Write(rec arrow.Record) error {
	if w.closed {
		return fmt.Errorf("columnar: %s: write after close", w.name)
	}
	if err := schemaDiff(rec.Schema(), w.schema); err != nil {
		return fmt.Errorf("columnar: %s: record schema differs from the writer's: %w", w.name, err)
	}
	cols := rec.Columns()
	for row := 0; row < int(rec.NumRows()); row++ {
		buf := w.buf[:0]
		for c, col := range cols {
			if c > 0 {
				buf = append(buf, w.comma)
			}
			if col.IsNull(row) {
				if len(cols) == 1 {
					// A blank line would be skipped by readers: write "",
					// which reads back as NULL too.
					buf = append(buf, '"', '"')
				}
				continue
			}
			buf = w.appendValue(buf, col, row)
		}
		buf = append(buf, '\n')
		w.buf = buf
		if _, err := w.bw.Write(buf); err != nil {
			return fmt.Errorf("columnar: %s: write CSV: %w", w.name, err)
		}
	}
	return nil
}

func (w *csvWriter) appendValue(buf []byte, col arrow.Array, row int) []byte {
	switch a := col.(type) {
	case *array.Int64:
		return strconv.AppendInt(buf, a.Value(row), 10)
	case *array.Int32:
		return strconv.AppendInt(buf, int64(a.Value(row)), 10)
	case *array.Float64:
		return appendFloat(buf, a.Value(row), 64)
	case *array.Float32:
		return appendFloat(buf, float64(a.Value(row)), 32)
	case *array.Boolean:
		return strconv.AppendBool(buf, a.Value(row))
	case *array.String:
		return w.appendQuoted(buf, a.Value(row), true)
	case *array.LargeString:
		return w.appendQuoted(buf, a.Value(row), true)
	case *array.Timestamp:
		return appendTimestamp(buf, int64(a.Value(row)), a.DataType().(*arrow.TimestampType).Unit)
	}
	return w.appendQuoted(buf, col.ValueStr(row), false)
}

func (w *csvWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.bw.Flush()
	if w.closer != nil {
		err = errors.Join(err, w.closer())
	}
	if err != nil {
		return fmt.Errorf("columnar: %s: close: %w", w.name, err)
	}
	return nil
}
