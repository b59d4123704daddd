package exec

import (
	"bytes"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/velo-engine/velo/sqlfront"
)

// likeMatch reports whether s matches the SQL LIKE pattern p: % matches any
// run of characters (also empty), _ exactly one character (code point), and
// esc (0: none) makes the next pattern character literal. Matching is
// case-sensitive and runs in O(len(s)·len(p)) worst case (one backtrack
// point, the classic wildcard algorithm).
func likeMatch(s, p []byte, esc rune) bool {
	si, pi := 0, 0
	starP, starS := -1, 0
	for si < len(s) {
		if pi < len(p) {
			c, w := utf8.DecodeRune(p[pi:])
			switch {
			case c == '%' && esc != '%':
				starP, starS = pi+w, si
				pi += w
				continue
			case c == '_' && esc != '_':
				_, sw := utf8.DecodeRune(s[si:])
				si += sw
				pi += w
				continue
			default:
				lit := p[pi : pi+w]
				if esc != 0 && c == esc && pi+w < len(p) {
					_, w2 := utf8.DecodeRune(p[pi+w:])
					lit = p[pi+w : pi+w+w2]
					w += w2
				}
				if bytes.HasPrefix(s[si:], lit) {
					si += len(lit)
					pi += w
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, sw := utf8.DecodeRune(s[starS:])
		starS += sw
		si, pi = starS, starP
	}
	for pi < len(p) && p[pi] == '%' && esc != '%' {
		pi++
	}
	return pi == len(p)
}

func evalLike(e *sqlfront.Like, rs rowSet) (*vec, error) {
	x, err := evalExpr(e.X, rs)
	if err != nil {
		return nil, err
	}
	p, err := evalExpr(e.Pattern, rs)
	if err != nil {
		return nil, err
	}
	n := rs.n
	if x.k == kNull || p.k == kNull {
		return nullVec(arrow.FixedWidthTypes.Boolean, n), nil
	}
	out := boolVec(n)
	out.null = orNulls(x, p, n)
	for i := 0; i < n; i++ {
		if out.null != nil && out.null[i] {
			continue
		}
		out.b[i] = likeMatch(x.str(i), p.str(i), 0) != e.Not
	}
	return out, nil
}

func evalCall(e *sqlfront.Call, rs rowSet) (*vec, error) {
	switch e.Func {
	case "coalesce":
		return evalCoalesce(e, rs)
	}
	args := make([]*vec, len(e.Args))
	for i, a := range e.Args {
		v, err := evalExpr(a, rs)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	n := rs.n
	switch e.Func {
	case "nullif":
		eq, err := compareVecs(args[0], args[1], sqlfront.OpEq)
		if err != nil {
			return nil, err
		}
		out := *args[0]
		if out.k == kNull {
			return nullVec(e.Type, n), nil
		}
		out.null = make([]bool, n)
		for i := range out.null {
			out.null[i] = args[0].isNull(i) || (!eq.isNull(i) && eq.b[i])
		}
		return &out, nil
	case "abs", "floor", "ceil", "round":
		return numericFunc(e, args, n)
	case "lower", "upper":
		return mapStrings(args[0], n, func(dst, s []byte) []byte {
			if e.Func == "lower" {
				return append(dst, bytes.ToLower(s)...)
			}
			return append(dst, bytes.ToUpper(s)...)
		}), nil
	case "length":
		out, _ := newVec(arrow.PrimitiveTypes.Int64, n)
		if args[0].k == kNull {
			return nullVec(e.Type, n), nil
		}
		out.null = args[0].null
		for i := 0; i < n; i++ {
			out.i64[i] = int64(utf8.RuneCount(args[0].str(i)))
		}
		return out, nil
	case "substr":
		return evalSubstr(e, args, n)
	case "concat":
		out, _ := newVec(arrow.BinaryTypes.String, n)
		for i := 0; i < n; i++ {
			for _, a := range args {
				if !a.isNull(i) {
					out.data = append(out.data, a.str(i)...)
				}
			}
			out.offs[i+1] = int32(len(out.data))
		}
		return out, nil
	case "time_bucket":
		return timeBucket(e, args, n)
	}
	return nil, fmt.Errorf("exec: function %s is not supported yet", strings.ToUpper(e.Func))
}

// evalCoalesce evaluates each argument only on the rows still NULL.
func evalCoalesce(e *sqlfront.Call, rs rowSet) (*vec, error) {
	asm := newAssembler(e.Type, rs.n)
	remaining := make([]int32, rs.n)
	for i := range remaining {
		remaining[i] = int32(i)
	}
	for _, a := range e.Args {
		if len(remaining) == 0 {
			break
		}
		v, err := evalExpr(a, rs.sub(remaining))
		if err != nil {
			return nil, err
		}
		var got, rest []int32
		for k, p := range remaining {
			if v.isNull(k) {
				rest = append(rest, p)
			} else {
				got = append(got, int32(k))
			}
		}
		if len(got) > 0 {
			pos := make([]int32, len(got))
			for j, k := range got {
				pos[j] = remaining[k]
			}
			asm.set(pos, v.take(got))
		}
		remaining = rest
	}
	return asm.build()
}

func mapStrings(x *vec, n int, fn func(dst, s []byte) []byte) *vec {
	if x.k == kNull {
		return nullVec(arrow.BinaryTypes.String, n)
	}
	out, _ := newVec(arrow.BinaryTypes.String, n)
	out.null = x.null
	for i := 0; i < n; i++ {
		if !x.isNull(i) {
			out.data = fn(out.data, x.str(i))
		}
		out.offs[i+1] = int32(len(out.data))
	}
	return out
}

func numericFunc(e *sqlfront.Call, args []*vec, n int) (*vec, error) {
	x := args[0]
	if x.k == kNull {
		return nullVec(e.Type, n), nil
	}
	out, err := newVec(e.Type, n)
	if err != nil {
		return nil, err
	}
	out.null = x.null
	digits := int64(0)
	if len(args) > 1 {
		if args[1].k != kI64 || args[1].isNull(0) && n > 0 {
			return nil, fmt.Errorf("exec: ROUND digits must be an integer constant")
		}
		if n > 0 {
			digits = args[1].i64[0]
		}
	}
	switch x.k {
	case kF64:
		for i, v := range x.f64[:n] {
			switch e.Func {
			case "abs":
				out.f64[i] = math.Abs(v)
			case "floor":
				out.f64[i] = math.Floor(v)
			case "ceil":
				out.f64[i] = math.Ceil(v)
			default:
				out.f64[i] = roundFloat(v, digits)
			}
		}
	case kI64:
		for i, v := range x.i64[:n] {
			switch e.Func {
			case "abs":
				if v == math.MinInt64 && !x.isNull(i) {
					return nil, fmt.Errorf("exec: %w: ABS(%d)", ErrOverflow, v)
				}
				if v < 0 {
					v = -v
				}
			case "round":
				if digits < 0 && !x.isNull(i) {
					r, ok := roundInt(v, -digits)
					if !ok {
						return nil, fmt.Errorf("exec: %w: ROUND(%d, %d)", ErrOverflow, v, digits)
					}
					v = r
				}
			}
			out.i64[i] = v
		}
	default:
		return nil, fmt.Errorf("exec: %s of %s is not supported", strings.ToUpper(e.Func), x.t)
	}
	return out, nil
}

// roundFloat rounds half away from zero to d decimal digits (DuckDB).
func roundFloat(v float64, d int64) float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	if d == 0 {
		return math.Round(v)
	}
	if d > 300 || d < -300 {
		if d > 0 {
			return v
		}
		return 0
	}
	p := math.Pow(10, float64(d))
	r := math.Round(v*p) / p
	if math.IsInf(r, 0) || math.IsNaN(r) {
		return v
	}
	return r
}

// roundInt rounds v to a multiple of 10^k, half away from zero.
func roundInt(v int64, k int64) (int64, bool) {
	if k >= 19 {
		return 0, true
	}
	p := int64(1)
	for i := int64(0); i < k; i++ {
		p *= 10
	}
	q, r := v/p, v%p
	if r >= p/2 && p > 1 && r > 0 {
		q++
	} else if -r >= p/2 && p > 1 && r < 0 {
		q--
	}
	res := q * p
	if res/p != q {
		return 0, false
	}
	return res, true
}

// evalSubstr is SUBSTR(s, start[, length]) over code points, 1-based. A
// negative start counts from the end (-1 is the last character), start 0
// is the position before the first character (as DuckDB); a negative length
// is an error.
func evalSubstr(e *sqlfront.Call, args []*vec, n int) (*vec, error) {
	out, _ := newVec(arrow.BinaryTypes.String, n)
	for i := 0; i < n; i++ {
		null := false
		for _, a := range args {
			null = null || a.isNull(i)
		}
		if null {
			if out.null == nil {
				out.null = make([]bool, n)
			}
			out.null[i] = true
			out.offs[i+1] = int32(len(out.data))
			continue
		}
		s := args[0].str(i)
		total := int64(utf8.RuneCount(s))
		start := args[1].i64[i]
		length := int64(math.MaxInt64)
		if len(args) > 2 {
			length = args[2].i64[i]
			if length < 0 {
				return nil, fmt.Errorf("exec: SUBSTR length must not be negative, got %d", length)
			}
		}
		if start < 0 {
			start = total + start + 1
			if start < 1 {
				if length != math.MaxInt64 {
					length += start - 1
				}
				start = 1
			}
		}
		lo := start
		hi := int64(math.MaxInt64)
		if length != math.MaxInt64 && start <= math.MaxInt64-length {
			hi = start + length
		}
		if lo < 1 {
			lo = 1
		}
		if hi > total+1 {
			hi = total + 1
		}
		if lo < hi {
			pos := int64(1)
			for bi := 0; bi < len(s); {
				_, w := utf8.DecodeRune(s[bi:])
				if pos >= lo && pos < hi {
					out.data = append(out.data, s[bi:bi+w]...)
				}
				bi += w
				pos++
			}
		}
		out.offs[i+1] = int32(len(out.data))
	}
	return out, nil
}

// timeBucket is TIME_BUCKET(width, t) / DATE_TRUNC: the binder passes
// (t, width in ms). Buckets are [k·width, (k+1)·width) from the Unix epoch.
func timeBucket(e *sqlfront.Call, args []*vec, n int) (*vec, error) {
	t, w := args[0], args[1]
	if t.k == kNull {
		return nullVec(e.Type, n), nil
	}
	if n == 0 {
		return newVec(e.Type, 0)
	}
	width := w.i64[0]
	if ts, ok := e.Type.(*arrow.TimestampType); ok {
		switch ts.Unit {
		case arrow.Second:
			if width%1000 != 0 {
				return nil, fmt.Errorf("exec: TIME_BUCKET width %dms is finer than the seconds of %s", width, e.Type)
			}
			width /= 1000
		case arrow.Microsecond:
			width *= 1000
		case arrow.Nanosecond:
			width *= 1_000_000
		}
	}
	if width <= 0 {
		return nil, fmt.Errorf("exec: TIME_BUCKET width must be positive")
	}
	out, err := newVec(e.Type, n)
	if err != nil {
		return nil, err
	}
	out.null = t.null
	for i, v := range t.i64[:n] {
		q := v / width
		if v%width < 0 {
			q--
		}
		out.i64[i] = q * width
	}
	return out, nil
}

// castVec converts x to type to. Malformed or out-of-range values are
// errors naming the value.
func castVec(x *vec, to arrow.DataType) (*vec, error) {
	n := x.n
	if arrow.TypeEqual(x.t, to) {
		return x, nil
	}
	if x.k == kNull {
		return nullVec(to, n), nil
	}
	out, err := newVec(to, n)
	if err != nil {
		return nil, err
	}
	out.null = x.null
	valid := func(i int) bool { return !x.isNull(i) }
	convErr := func(i int, val string) error {
		return fmt.Errorf("exec: %w: cannot cast %s %s to %s", ErrConversion, x.t, val, to)
	}
	switch out.k {
	case kStr:
		var buf []byte
		for i := 0; i < n; i++ {
			if valid(i) {
				buf = appendText(buf[:0], x, i)
				out.data = append(out.data, buf...)
			}
			out.offs[i+1] = int32(len(out.data))
		}
		return out, nil
	case kI64, kI32:
		bitsize := 64
		if out.k == kI32 {
			bitsize = 32
		}
		set := func(i int, v int64) {
			if out.k == kI64 {
				out.i64[i] = v
			} else {
				out.i32[i] = int32(v)
			}
		}
		lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
		if bitsize == 32 {
			lo, hi = math.MinInt32, math.MaxInt32
		}
		for i := 0; i < n; i++ {
			if !valid(i) {
				continue
			}
			switch x.k {
			case kI64, kI32:
				v := intAt(x, i)
				if isTemporalToTemporal(x.t, to) {
					r, ok := rescaleTemporal(v, x.t, to)
					if !ok {
						return nil, convErr(i, strconv.FormatInt(v, 10))
					}
					v = r
				}
				if v < lo || v > hi {
					return nil, convErr(i, strconv.FormatInt(v, 10))
				}
				set(i, v)
			case kF64, kF32:
				f := floatAt(x, i)
				r := math.Round(f)
				if math.IsNaN(f) || r < float64(lo) || r >= -float64(lo) {
					return nil, convErr(i, strconv.FormatFloat(f, 'g', -1, 64))
				}
				set(i, int64(r))
			case kBool:
				set(i, int64(b2i(x.b[i])))
			case kStr:
				s := string(x.str(i))
				v, err := parseIntText(s, to)
				if err != nil {
					return nil, convErr(i, strconv.Quote(s))
				}
				if v < lo || v > hi {
					return nil, convErr(i, strconv.Quote(s))
				}
				set(i, v)
			}
		}
		return out, nil
	case kF64, kF32:
		for i := 0; i < n; i++ {
			if !valid(i) {
				continue
			}
			var f float64
			switch x.k {
			case kI64, kI32:
				f = float64(intAt(x, i))
			case kF64, kF32:
				f = floatAt(x, i)
			case kBool:
				f = float64(b2i(x.b[i]))
			case kStr:
				s := strings.TrimSpace(string(x.str(i)))
				v, err := strconv.ParseFloat(s, 64)
				if err != nil {
					return nil, convErr(i, strconv.Quote(string(x.str(i))))
				}
				f = v
			}
			if out.k == kF64 {
				out.f64[i] = f
			} else {
				if !math.IsInf(f, 0) && !math.IsNaN(f) && math.Abs(f) > math.MaxFloat32 {
					return nil, convErr(i, strconv.FormatFloat(f, 'g', -1, 64))
				}
				out.f32[i] = float32(f)
			}
		}
		return out, nil
	case kBool:
		for i := 0; i < n; i++ {
			if !valid(i) {
				continue
			}
			switch x.k {
			case kI64, kI32:
				out.b[i] = intAt(x, i) != 0
			case kF64, kF32:
				out.b[i] = floatAt(x, i) != 0
			case kStr:
				switch strings.ToLower(strings.TrimSpace(string(x.str(i)))) {
				case "true", "t", "1", "yes", "y":
					out.b[i] = true
				case "false", "f", "0", "no", "n":
				default:
					return nil, convErr(i, strconv.Quote(string(x.str(i))))
				}
			default:
				return nil, convErr(i, "")
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("exec: CAST from %s to %s is not supported", x.t, to)
}

func intAt(x *vec, i int) int64 {
	if x.k == kI64 {
		return x.i64[i]
	}
	return int64(x.i32[i])
}

func floatAt(x *vec, i int) float64 {
	if x.k == kF64 {
		return x.f64[i]
	}
	return float64(x.f32[i])
}

func isTemporalType(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.TIMESTAMP, arrow.DATE32, arrow.DURATION:
		return true
	}
	return false
}

func isTemporalToTemporal(from, to arrow.DataType) bool {
	return isTemporalType(from) && isTemporalType(to)
}

// ticksPerSecond of a temporal type (date32 counts days).
func ticksPerSecond(t arrow.DataType) (num, den int64) {
	var u arrow.TimeUnit
	switch t := t.(type) {
	case *arrow.TimestampType:
		u = t.Unit
	case *arrow.DurationType:
		u = t.Unit
	default:
		return 1, 86400 // one tick per 86400 seconds
	}
	switch u {
	case arrow.Second:
		return 1, 1
	case arrow.Millisecond:
		return 1000, 1
	case arrow.Microsecond:
		return 1_000_000, 1
	}
	return 1_000_000_000, 1
}

// rescaleTemporal converts v ticks of from into ticks of to, flooring
// toward -inf (a timestamp before midnight belongs to the previous date).
func rescaleTemporal(v int64, from, to arrow.DataType) (int64, bool) {
	fn, fd := ticksPerSecond(from)
	tn, td := ticksPerSecond(to)
	// v * (tn/td) / (fn/fd) = v * tn * fd / (td * fn)
	num, den := tn*fd, td*fn
	g := gcd(num, den)
	num, den = num/g, den/g
	if num != 1 {
		r := v * num
		if r/num != v {
			return 0, false
		}
		v = r
	}
	if den != 1 {
		q := v / den
		if v%den < 0 {
			q--
		}
		v = q
	}
	return v, true
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

var timestampLayouts = []string{"2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00", "2006-01-02T15:04:05.999999999Z07:00", "2006-01-02 15:04", "2006-01-02"}

// parseIntText parses s as the integer representation of type to: a
// decimal integer, or for timestamps and dates a date/time text.
func parseIntText(s string, to arrow.DataType) (int64, error) {
	s = strings.TrimSpace(s)
	switch to.ID() {
	case arrow.TIMESTAMP, arrow.DATE32:
		for _, layout := range timestampLayouts {
			t, err := time.Parse(layout, s)
			if err != nil {
				continue
			}
			if to.ID() == arrow.DATE32 {
				if layout != "2006-01-02" {
					continue
				}
				return t.Unix() / 86400, nil
			}
			num, _ := ticksPerSecond(to)
			sec := t.Unix()
			if sec > math.MaxInt64/num-1 || sec < math.MinInt64/num+1 {
				return 0, fmt.Errorf("out of range")
			}
			return sec*num + int64(t.Nanosecond())/(1_000_000_000/num), nil
		}
		return 0, fmt.Errorf("malformed")
	}
	return strconv.ParseInt(s, 10, 64)
}

// appendText writes row i of x as text: the CAST(x AS VARCHAR) form.
// Floats use Go's shortest round-trip form, with ".0" added to integral
// values and nan/inf/-inf as DuckDB prints them; timestamps are UTC 'YYYY-MM-DD HH:MM:SS[.f]'.
func appendText(buf []byte, x *vec, i int) []byte {
	switch x.k {
	case kI64, kI32:
		v := intAt(x, i)
		switch t := x.t.(type) {
		case *arrow.TimestampType:
			return append(buf, arrow.Timestamp(v).ToTime(t.Unit).UTC().Format("2006-01-02 15:04:05.999999999")...)
		case *arrow.Date32Type:
			return append(buf, arrow.Date32(v).ToTime().UTC().Format("2006-01-02")...)
		}
		return strconv.AppendInt(buf, v, 10)
	case kF64, kF32:
		bits := 64
		if x.k == kF32 {
			bits = 32
		}
		f := floatAt(x, i)
		switch {
		case math.IsNaN(f):
			return append(buf, "nan"...)
		case math.IsInf(f, 1):
			return append(buf, "inf"...)
		case math.IsInf(f, -1):
			return append(buf, "-inf"...)
		}
		start := len(buf)
		buf = strconv.AppendFloat(buf, f, 'g', -1, bits)
		if !bytes.ContainsAny(buf[start:], ".eIN") {
			buf = append(buf, ".0"...)
		}
		return buf
	case kBool:
		return strconv.AppendBool(buf, x.b[i])
	case kStr:
		return append(buf, x.str(i)...)
	}
	return buf
}
