package columnar

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// JSON lines conventions (reader and writer agree, so files round-trip):
//   - one flat JSON object per line, keys are column names; blank lines are
//     skipped; a missing key or null is NULL; nested objects and arrays are
//     rejected;
//   - NaN and ±Inf, which JSON numbers cannot carry, are written as the
//     strings "NaN", "Infinity" and "-Infinity" and read back into float
//     columns; floats with an integral value are written with ".0" so that
//     inference keeps them float;
//   - timestamps are written as RFC 3339 strings in UTC and read from such
//     strings or from integers (counts of the unit);
//   - without an explicit schema, columns appear in order of first use in the
//     first WithInferRows lines; integers give int64, any fractional number
//     float64, true/false bool, strings utf8, a column that is only null
//     utf8. A column holding, say, numbers and strings is an error naming the
//     lines; so is a key that the schema does not have.

type jsonKind uint8

const (
	jsonNull jsonKind = iota
	jsonBool
	jsonNumber
	jsonString
)

var jsonKindNames = [...]string{jsonNull: "null", jsonBool: "bool", jsonNumber: "number", jsonString: "string"}

type jsonField struct {
	key  string
	kind jsonKind
	text string // number text or decoded string
	b    bool
}

// parseJSONObject parses one flat JSON object. Errors give the 1-based byte
// position in the line.
func parseJSONObject(line []byte, out []jsonField) ([]jsonField, error) {
	p := jsonParser{s: line}
	out = out[:0]
	p.ws()
	if !p.eat('{') {
		return out, p.errf("want '{' to start an object")
	}
	p.ws()
	if p.eat('}') {
		return out, p.end()
	}
	for {
		p.ws()
		if p.peek() != '"' {
			return out, p.errf("want a string key")
		}
		key, err := p.str()
		if err != nil {
			return out, err
		}
		p.ws()
		if !p.eat(':') {
			return out, p.errf("want ':' after key %q", key)
		}
		p.ws()
		f := jsonField{key: key}
		switch c := p.peek(); {
		case c == '"':
			f.kind = jsonString
			if f.text, err = p.str(); err != nil {
				return out, err
			}
		case c == '-' || (c >= '0' && c <= '9'):
			f.kind = jsonNumber
			f.text = p.num()
		case c == 't' || c == 'f' || c == 'n':
			switch {
			case p.lit("true"):
				f.kind, f.b = jsonBool, true
			case p.lit("false"):
				f.kind = jsonBool
			case p.lit("null"):
				f.kind = jsonNull
			default:
				return out, p.errf("invalid literal for key %q", key)
			}
		case c == '{' || c == '[':
			return out, p.errf("key %q: nested objects and arrays are not supported", key)
		default:
			return out, p.errf("want a value for key %q", key)
		}
		out = append(out, f)
		p.ws()
		if p.eat(',') {
			continue
		}
		if p.eat('}') {
			return out, p.end()
		}
		return out, p.errf("want ',' or '}' after the value of key %q", key)
	}
}

type jsonParser struct {
	s []byte
	i int
}

func (p *jsonParser) peek() byte {
	if p.i < len(p.s) {
		return p.s[p.i]
	}
	return 0
}

func (p *jsonParser) eat(c byte) bool {
	if p.peek() == c && p.i < len(p.s) {
		p.i++
		return true
	}
	return false
}

func (p *jsonParser) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) lit(w string) bool {
	if bytes.HasPrefix(p.s[p.i:], []byte(w)) {
		p.i += len(w)
		return true
	}
	return false
}

func (p *jsonParser) end() error {
	p.ws()
	if p.i != len(p.s) {
		return p.errf("unexpected data after the object")
	}
	return nil
}

func (p *jsonParser) errf(format string, args ...any) error {
	what := "end of line"
	if p.i < len(p.s) {
		r, _ := utf8.DecodeRune(p.s[p.i:])
		what = strconv.QuoteRune(r)
	}
	return fmt.Errorf("byte %d (%s): %s", p.i+1, what, fmt.Sprintf(format, args...))
}

// num scans a number token; strconv validates it when it is converted.
func (p *jsonParser) num() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E' {
			p.i++
			continue
		}
		break
	}
	return bytesView(p.s[start:p.i])
}

// str scans a string token and returns it decoded. Like encoding/json,
// which decodes escaped strings here, invalid UTF-8 becomes U+FFFD.
func (p *jsonParser) str() (string, error) {
	start := p.i
	p.i++ // opening quote
	slow, nonASCII := false, false
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '"':
			p.i++
			raw := p.s[start+1 : p.i-1]
			if !slow && (!nonASCII || utf8.Valid(raw)) {
				return bytesView(raw), nil
			}
			var s string
			if err := json.Unmarshal(p.s[start:p.i], &s); err != nil {
				p.i = start
				return "", p.errf("invalid string: %v", err)
			}
			return s, nil
		case c == '\\':
			slow = true
			p.i += 2
		case c < 0x20:
			return "", p.errf("control character in string")
		default:
			nonASCII = nonASCII || c >= utf8.RuneSelf
			p.i++
		}
	}
	p.i = start
	return "", p.errf("unterminated string")
}

// bytesView returns b as a string without copying. Parsed fields alias the
// line buffer this way and are only valid until the next line is read: the
// reader consumes them (builders copy strings) before that, and the
// inference sample parses private copies of its lines.
func bytesView(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

// lineSource reads lines and parses the non-blank ones as objects.
type lineSource struct {
	name string
	br   *bufio.Reader
	line int
	buf  []byte
}

// next returns the fields of the next non-blank line and its number, or
// io.EOF. The fields alias the line buffer unless keep is set.
func (s *lineSource) next(fields []jsonField, keep bool) ([]jsonField, int, error) {
	for {
		b, err := s.readLine()
		if err != nil {
			return fields, s.line, err
		}
		if keep {
			b = bytes.Clone(b)
		}
		b = bytes.TrimSuffix(bytes.TrimSuffix(b, []byte{'\n'}), []byte{'\r'})
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		fields, err = parseJSONObject(b, fields)
		if err != nil {
			return fields, s.line, fmt.Errorf("columnar: %s: line %d: malformed JSON: %w", s.name, s.line, err)
		}
		return fields, s.line, nil
	}
}

func (s *lineSource) readLine() ([]byte, error) {
	b, err := s.br.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.buf = append(s.buf[:0], b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			b, err = s.br.ReadSlice('\n')
			s.buf = append(s.buf, b...)
		}
		b = s.buf
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("columnar: %s: %w", s.name, err)
	}
	if len(b) == 0 && err != nil {
		return nil, io.EOF
	}
	s.line++
	return b, nil
}

type jsonRow struct {
	fields []jsonField
	line   int
}

func newJSONLReader(r io.Reader, mem memory.Allocator, cfg readConfig) (*recordReader, error) {
	src := &lineSource{name: cfg.name, br: bufio.NewReaderSize(r, 1<<16)}
	schema := cfg.schema
	var pending []jsonRow
	if schema == nil {
		var err error
		schema, pending, err = inferJSONSchema(src, cfg.inferRows)
		if err != nil {
			return nil, err
		}
	} else if err := checkTextSchema(cfg.name, FormatJSONL, schema); err != nil {
		return nil, err
	}
	index := make(map[string]int, schema.NumFields())
	for i, f := range schema.Fields() {
		index[f.Name] = i
	}
	bld := array.NewRecordBuilder(mem, schema)
	rd := newRecordReader(cfg.name, FormatJSONL, schema)
	rd.closers = append(rd.closers, func() error { bld.Release(); return nil })
	appenders := make([]valueAppender, schema.NumFields())
	for i := range appenders {
		appenders[i] = newTextAppender(bld.Field(i))
	}
	hint := ""
	if cfg.schema == nil {
		hint = fmt.Sprintf(" (schema inferred from the first %d lines; pass one with WithSchema or raise WithInferRows)", cfg.inferRows)
	}
	filled := make([]int, schema.NumFields()) // row stamp of the last row that set each column
	stamp := 0
	var scratch []jsonField
	rd.next = func() (arrow.Record, error) {
		n := 0
		for n < cfg.batchSize {
			var (
				fields []jsonField
				line   int
				err    error
			)
			if len(pending) > 0 {
				fields, line = pending[0].fields, pending[0].line
				pending = pending[1:]
			} else {
				scratch, line, err = src.next(scratch, false)
				fields = scratch
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					return nil, err
				}
			}
			stamp++
			for _, f := range fields {
				i, ok := index[f.key]
				if !ok {
					return nil, fmt.Errorf("columnar: %s: line %d: unknown column %q (columns: %s)%s",
						cfg.name, line, f.key, joinNames(schema), hint)
				}
				if filled[i] == stamp {
					return nil, fmt.Errorf("columnar: %s: line %d: column %q appears twice", cfg.name, line, f.key)
				}
				filled[i] = stamp
				if err := appendJSONValue(bld.Field(i), appenders[i], f); err != nil {
					return nil, fmt.Errorf("columnar: %s: line %d, column %q: %w%s", cfg.name, line, f.key, err, hint)
				}
			}
			for i := range filled {
				if filled[i] != stamp {
					bld.Field(i).AppendNull()
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

func joinNames(s *arrow.Schema) string {
	names := fieldNames(s)
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

// isFloatWord reports the strings the writer uses for NaN and ±Inf.
func isFloatWord(s string) bool {
	switch s {
	case "NaN", "Infinity", "-Infinity", "+Infinity", "Inf", "-Inf", "+Inf", "inf", "-inf", "nan":
		return true
	}
	return false
}

func appendJSONValue(b array.Builder, app valueAppender, f jsonField) error {
	if f.kind == jsonNull {
		b.AppendNull()
		return nil
	}
	want := "a number"
	switch b.Type().ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		if f.kind == jsonNumber {
			return app(f.text)
		}
	case arrow.FLOAT32, arrow.FLOAT64:
		if f.kind == jsonNumber || (f.kind == jsonString && isFloatWord(f.text)) {
			return app(f.text)
		}
	case arrow.BOOL:
		if f.kind == jsonBool {
			b.(*array.BooleanBuilder).Append(f.b)
			return nil
		}
		want = "true or false"
	case arrow.STRING, arrow.LARGE_STRING:
		if f.kind == jsonString {
			return app(f.text)
		}
		want = "a string"
	case arrow.TIMESTAMP:
		if f.kind == jsonString || f.kind == jsonNumber {
			return app(f.text)
		}
		want = "a timestamp string or an integer"
	}
	got := jsonKindNames[f.kind]
	if f.kind == jsonString {
		got = "string " + strconv.Quote(f.text)
	} else if f.kind == jsonNumber {
		got = "number " + f.text
	}
	return fmt.Errorf("got %s, want %s for %s", got, want, b.Type())
}

// inferJSONSchema parses up to n lines and picks the columns and their types.
func inferJSONSchema(src *lineSource, n int) (*arrow.Schema, []jsonRow, error) {
	type colInfo struct {
		name string
		// first line where each kind of value was seen, 0 if never
		intLine, floatLine, floatWordLine, boolLine, strLine int
	}
	var (
		cols  []*colInfo
		index = map[string]*colInfo{}
		rows  []jsonRow
	)
	for len(rows) < n {
		fields, line, err := src.next(nil, true)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		rows = append(rows, jsonRow{fields: fields, line: line})
		for _, f := range fields {
			c := index[f.key]
			if c == nil {
				c = &colInfo{name: f.key}
				index[f.key] = c
				cols = append(cols, c)
			}
			set := func(p *int) {
				if *p == 0 {
					*p = line
				}
			}
			switch f.kind {
			case jsonNumber:
				if _, err := strconv.ParseInt(f.text, 10, 64); err == nil {
					set(&c.intLine)
				} else {
					set(&c.floatLine)
				}
			case jsonString:
				if isFloatWord(f.text) {
					set(&c.floatWordLine)
				} else {
					set(&c.strLine)
				}
			case jsonBool:
				set(&c.boolLine)
			}
		}
	}
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		num := c.intLine
		if num == 0 || (c.floatLine != 0 && c.floatLine < num) {
			num = c.floatLine
		}
		var t arrow.DataType
		conflict := func(a string, la int, b string, lb int) error {
			return fmt.Errorf("columnar: %s: column %q has %s values (line %d) and %s values (line %d); pass a schema with WithSchema",
				src.name, c.name, a, la, b, lb)
		}
		switch {
		case num != 0 && c.strLine != 0:
			return nil, nil, conflict("number", num, "string", c.strLine)
		case num != 0 && c.boolLine != 0:
			return nil, nil, conflict("number", num, "bool", c.boolLine)
		case c.boolLine != 0 && c.strLine != 0:
			return nil, nil, conflict("bool", c.boolLine, "string", c.strLine)
		case c.boolLine != 0 && c.floatWordLine != 0:
			return nil, nil, conflict("bool", c.boolLine, "string", c.floatWordLine)
		case num != 0 && (c.floatLine != 0 || c.floatWordLine != 0):
			t = arrow.PrimitiveTypes.Float64
		case num != 0:
			t = arrow.PrimitiveTypes.Int64
		case c.boolLine != 0:
			t = arrow.FixedWidthTypes.Boolean
		default:
			t = arrow.BinaryTypes.String
		}
		fields[i] = arrow.Field{Name: c.name, Type: t, Nullable: true}
	}
	return arrow.NewSchema(fields, nil), rows, nil
}

// jsonlWriter writes records as JSON lines (see the conventions above).
type jsonlWriter struct {
	name   string
	schema *arrow.Schema
	keys   [][]byte // `"name":` per column, the first with '{', the rest with ','
	bw     *bufio.Writer
	buf    []byte
	closer func() error
	closed bool
}

func newJSONLWriter(w io.Writer, schema *arrow.Schema, cfg writeConfig) *jsonlWriter {
	jw := &jsonlWriter{name: cfg.name, schema: schema, bw: bufio.NewWriterSize(w, 1<<16)}
	for i, f := range schema.Fields() {
		sep := byte(',')
		if i == 0 {
			sep = '{'
		}
		k := appendJSONString([]byte{sep}, f.Name)
		jw.keys = append(jw.keys, append(k, ':'))
	}
	return jw
}

func (w *jsonlWriter) Write(rec arrow.Record) error {
	if w.closed {
		return fmt.Errorf("columnar: %s: write after close", w.name)
	}
	if err := schemaDiff(rec.Schema(), w.schema); err != nil {
		return fmt.Errorf("columnar: %s: record schema differs from the writer's: %w", w.name, err)
	}
	cols := rec.Columns()
	for row := 0; row < int(rec.NumRows()); row++ {
		buf := w.buf[:0]
		if len(cols) == 0 {
			buf = append(buf, '{')
		}
		for c, col := range cols {
			buf = append(buf, w.keys[c]...)
			if col.IsNull(row) {
				buf = append(buf, "null"...)
				continue
			}
			var err error
			if buf, err = appendJSONValueText(buf, col, row); err != nil {
				return fmt.Errorf("columnar: %s: column %q: %w", w.name, w.schema.Field(c).Name, err)
			}
		}
		buf = append(buf, '}', '\n')
		w.buf = buf
		if _, err := w.bw.Write(buf); err != nil {
			return fmt.Errorf("columnar: %s: write JSON lines: %w", w.name, err)
		}
	}
	return nil
}

func appendJSONFloat(buf []byte, v float64, bits int) []byte {
	switch {
	case math.IsNaN(v):
		return append(buf, `"NaN"`...)
	case math.IsInf(v, 1):
		return append(buf, `"Infinity"`...)
	case math.IsInf(v, -1):
		return append(buf, `"-Infinity"`...)
	}
	start := len(buf)
	buf = appendFloat(buf, v, bits)
	if !bytes.ContainsAny(buf[start:], ".eE") {
		buf = append(buf, '.', '0')
	}
	return buf
}

func appendJSONValueText(buf []byte, col arrow.Array, row int) ([]byte, error) {
	switch a := col.(type) {
	case *array.Int64:
		return strconv.AppendInt(buf, a.Value(row), 10), nil
	case *array.Int32:
		return strconv.AppendInt(buf, int64(a.Value(row)), 10), nil
	case *array.Float64:
		return appendJSONFloat(buf, a.Value(row), 64), nil
	case *array.Float32:
		return appendJSONFloat(buf, float64(a.Value(row)), 32), nil
	case *array.Boolean:
		return strconv.AppendBool(buf, a.Value(row)), nil
	case *array.String:
		return appendJSONString(buf, a.Value(row)), nil
	case *array.LargeString:
		return appendJSONString(buf, a.Value(row)), nil
	case *array.Timestamp:
		buf = append(buf, '"')
		buf = appendTimestamp(buf, int64(a.Value(row)), a.DataType().(*arrow.TimestampType).Unit)
		return append(buf, '"'), nil
	}
	b, err := json.Marshal(col.GetOneForMarshal(row))
	if err != nil {
		return buf, err
	}
	return append(buf, b...), nil
}

// appendJSONString appends s as a JSON string literal; invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(buf []byte, s string) []byte {
	const hex = "0123456789abcdef"
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

func (w *jsonlWriter) Close() error {
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
