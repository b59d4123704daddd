package exec

import (
	"bytes"
	"errors"
	"fmt"
	"math"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/velo-engine/velo/sqlfront"
)

// ErrOverflow is wrapped by every integer-overflow error of the evaluator.
var ErrOverflow = errors.New("integer overflow")

// ErrConversion is wrapped by every failed CAST of a value (malformed or
// out-of-range input).
var ErrConversion = errors.New("conversion error")

// rowSet is the set of physical rows an expression is evaluated on: the
// record and a selection (nil: every row). Results are dense: row k of a
// result belongs to physical row sel[k].
type rowSet struct {
	rec arrow.Record
	sel []int32
	n   int
	// cols caches gathered columns for this exact row set (nil: no cache),
	// so a column read by several expressions is gathered once.
	cols []*vec
	// recycle: the results become arrays through toArrayRecycled
	// (inputBatch), so large float64 results take pooled buffers.
	recycle bool
	// only, when set, holds the rows whose values the caller reads (the
	// selection inputBatch keeps over a record evaluated whole): float64
	// arithmetic computes those rows only and leaves the others'
	// values unspecified. Only total expressions are evaluated so
	// (totalExpr), so unspecified values can raise no error.
	only []int32
}

func allRows(rec arrow.Record) rowSet { return rowSet{rec: rec, n: int(rec.NumRows())} }

func selRows(rec arrow.Record, sel []int32) rowSet {
	if sel == nil {
		return allRows(rec)
	}
	return rowSet{rec: rec, sel: sel, n: len(sel)}
}

// sub returns the rows at positions pos (indices into rs's dense order).
func (rs rowSet) sub(pos []int32) rowSet {
	phys := make([]int32, len(pos))
	for k, p := range pos {
		if rs.sel != nil {
			phys[k] = rs.sel[p]
		} else {
			phys[k] = p
		}
	}
	return rowSet{rec: rs.rec, sel: phys, n: len(pos)}
}

// evalExpr evaluates a bound expression over the rows rs. It never panics
// on data: overflow, malformed casts and unsupported types are errors.
func evalExpr(e sqlfront.BoundExpr, rs rowSet) (*vec, error) {
	switch e := e.(type) {
	case *sqlfront.ColRef:
		if e.Index < 0 || e.Index >= int(rs.rec.NumCols()) {
			return nil, fmt.Errorf("exec: column %s#%d out of range for a %d-column input", e.Name, e.Index, rs.rec.NumCols())
		}
		if rs.cols != nil && rs.cols[e.Index] != nil {
			return rs.cols[e.Index], nil
		}
		v, err := fromArray(rs.rec.Column(e.Index), rs.sel)
		if err != nil {
			return nil, fmt.Errorf("exec: column %q: %w", e.Name, err)
		}
		if rs.cols != nil {
			rs.cols[e.Index] = v
		}
		return v, nil
	case *sqlfront.Const:
		return constVec(e, rs.n)
	case *sqlfront.Unary:
		x, err := evalExpr(e.X, rs)
		if err != nil {
			return nil, err
		}
		if e.Op == sqlfront.OpNot {
			return not3(x), nil
		}
		return negate(x, e)
	case *sqlfront.Binary:
		return evalBinary(e, rs)
	case *sqlfront.IsNull:
		x, err := evalExpr(e.X, rs)
		if err != nil {
			return nil, err
		}
		out := &vec{t: arrow.FixedWidthTypes.Boolean, k: kBool, n: rs.n, b: make([]bool, rs.n)}
		for i := range out.b {
			out.b[i] = x.isNull(i) != e.Not
		}
		return out, nil
	case *sqlfront.In:
		return evalIn(e, rs)
	case *sqlfront.Between:
		x, err := evalExpr(e.X, rs)
		if err != nil {
			return nil, err
		}
		lo, err := evalExpr(e.Lo, rs)
		if err != nil {
			return nil, err
		}
		hi, err := evalExpr(e.Hi, rs)
		if err != nil {
			return nil, err
		}
		ge, err := compareVecs(x, lo, sqlfront.OpGe)
		if err != nil {
			return nil, err
		}
		le, err := compareVecs(x, hi, sqlfront.OpLe)
		if err != nil {
			return nil, err
		}
		out := and3(ge, le)
		if e.Not {
			out = not3(out)
		}
		return out, nil
	case *sqlfront.Like:
		return evalLike(e, rs)
	case *sqlfront.Case:
		return evalCase(e, rs)
	case *sqlfront.Cast:
		x, err := evalExpr(e.X, rs)
		if err != nil {
			return nil, err
		}
		return castVec(x, e.Type)
	case *sqlfront.Call:
		return evalCall(e, rs)
	}
	return nil, fmt.Errorf("exec: expression %s (%T) is not supported yet", e.String(), e)
}

// constVec broadcasts a constant to n rows.
func constVec(c *sqlfront.Const, n int) (*vec, error) {
	if c.Value == nil {
		return nullVec(c.Type, n), nil
	}
	v, err := newVec(c.Type, n)
	if err != nil {
		return nil, err
	}
	ok := true
	switch x := c.Value.(type) {
	case int64:
		ok = v.k == kI64
		if ok {
			for i := range v.i64 {
				v.i64[i] = x
			}
		}
	case int32:
		ok = v.k == kI32
		if ok {
			for i := range v.i32 {
				v.i32[i] = x
			}
		}
	case float64:
		ok = v.k == kF64
		if ok {
			for i := range v.f64 {
				v.f64[i] = x
			}
		}
	case float32:
		ok = v.k == kF32
		if ok {
			for i := range v.f32 {
				v.f32[i] = x
			}
		}
	case bool:
		ok = v.k == kBool
		if ok {
			for i := range v.b {
				v.b[i] = x
			}
		}
	case string:
		ok = v.k == kStr
		if ok {
			v.data = bytes.Repeat([]byte(x), n)
			for i := range v.offs {
				v.offs[i] = int32(i * len(x))
			}
		}
	default:
		ok = false
	}
	if !ok {
		return nil, fmt.Errorf("exec: constant %s of Go type %T does not fit type %s", c.String(), c.Value, c.Type)
	}
	return v, nil
}

func orNulls(a, b *vec, n int) []bool {
	if a.null == nil && b.null == nil {
		return nil
	}
	out := make([]bool, n)
	for i := range out {
		out[i] = a.isNull(i) || b.isNull(i)
	}
	return out
}

func negate(x *vec, e *sqlfront.Unary) (*vec, error) {
	if x.k == kNull {
		return nullVec(e.Type, x.n), nil
	}
	out, err := newVec(x.t, x.n)
	if err != nil {
		return nil, err
	}
	out.null = x.null
	switch x.k {
	case kI64:
		for i, a := range x.i64 {
			if a == math.MinInt64 && !x.isNull(i) {
				return nil, fmt.Errorf("exec: %w in -(%d) of %s", ErrOverflow, a, e.String())
			}
			out.i64[i] = -a
		}
	case kI32:
		for i, a := range x.i32 {
			if a == math.MinInt32 && !x.isNull(i) {
				return nil, fmt.Errorf("exec: %w in -(%d) of %s", ErrOverflow, a, e.String())
			}
			out.i32[i] = -a
		}
	case kF64:
		for i, a := range x.f64 {
			out.f64[i] = -a
		}
	case kF32:
		for i, a := range x.f32 {
			out.f32[i] = -a
		}
	default:
		return nil, fmt.Errorf("exec: cannot negate %s in %s", x.t, e.String())
	}
	return out, nil
}

func evalBinary(e *sqlfront.Binary, rs rowSet) (*vec, error) {
	if e.Op == sqlfront.OpAnd || e.Op == sqlfront.OpOr {
		l, err := evalExpr(e.L, rs)
		if err != nil {
			return nil, err
		}
		r, err := evalExpr(e.R, rs)
		if err != nil {
			return nil, err
		}
		if e.Op == sqlfront.OpAnd {
			return and3(l, r), nil
		}
		return or3(l, r), nil
	}
	if v, ok, err := mixedArith(e, rs); ok || err != nil {
		return v, err
	}
	l, err := evalExpr(e.L, rs)
	if err != nil {
		return nil, err
	}
	r, err := evalExpr(e.R, rs)
	if err != nil {
		return nil, err
	}
	if e.Op.IsComparison() {
		return compareVecs(l, r, e.Op)
	}
	if e.Op == sqlfront.OpConcat {
		return concatOp(l, r)
	}
	return arith(e, l, r, rs.recycle, rs.only)
}

// arith evaluates + - * / % on two vectors of one numeric type (or
// timestamp ± duration in the timestamp's unit). With only (rowSet.only)
// float64 + - * / compute those rows only; recycle: see newFloat64Result.
func arith(e *sqlfront.Binary, l, r *vec, recycle bool, only []int32) (*vec, error) {
	n := l.n
	if l.k == kNull || r.k == kNull {
		return nullVec(e.Type, n), nil
	}
	var out *vec
	if e.Type.ID() == arrow.FLOAT64 && l.k == kF64 && r.k == kF64 {
		out = newFloat64Result(n, recycle) // every value read is written below
	} else {
		var err error
		if out, err = newVec(e.Type, n); err != nil {
			return nil, err
		}
	}
	out.null = orNulls(l, r, n)
	switch {
	case out.k == kF64 && l.k == kF64 && r.k == kF64:
		a, b, o := l.f64[:n], r.f64[:n], out.f64[:n]
		if only != nil && e.Op >= sqlfront.OpAdd && e.Op <= sqlfront.OpDiv {
			arithFloat64At(o, a, b, only, e.Op)
			return out, nil
		}
		switch e.Op {
		case sqlfront.OpAdd:
			for i := range o {
				o[i] = a[i] + b[i]
			}
		case sqlfront.OpSub:
			for i := range o {
				o[i] = a[i] - b[i]
			}
		case sqlfront.OpMul:
			for i := range o {
				o[i] = a[i] * b[i]
			}
		case sqlfront.OpDiv:
			for i := range o {
				o[i] = a[i] / b[i]
			}
		case sqlfront.OpMod:
			for i := range o {
				o[i] = math.Mod(a[i], b[i])
			}
		default:
			return nil, fmt.Errorf("exec: operator %s on float64 in %s", e.Op, e.String())
		}
		return out, nil
	case out.k == kI64 && l.k == kI64 && r.k == kI64:
		return arithInt64(e, l, r, out)
	}
	return nil, fmt.Errorf("exec: operator %s on %s and %s (result %s) is not supported in %s", e.Op, l.t, r.t, e.Type, e.String())
}

func arithInt64(e *sqlfront.Binary, l, r, out *vec) (*vec, error) {
	n := l.n
	a, b, o := l.i64[:n], r.i64[:n], out.i64[:n]
	nulls := out.null
	overflow := func(i int) error {
		return fmt.Errorf("exec: %w: %d %s %d in %s", ErrOverflow, a[i], e.Op, b[i], e.String())
	}
	switch e.Op {
	case sqlfront.OpAdd:
		for i := range o {
			s := a[i] + b[i]
			if (a[i]^s)&(b[i]^s) < 0 && (nulls == nil || !nulls[i]) {
				return nil, overflow(i)
			}
			o[i] = s
		}
	case sqlfront.OpSub:
		for i := range o {
			s := a[i] - b[i]
			if (a[i]^b[i])&(a[i]^s) < 0 && (nulls == nil || !nulls[i]) {
				return nil, overflow(i)
			}
			o[i] = s
		}
	case sqlfront.OpMul:
		for i := range o {
			x, y := a[i], b[i]
			p := x * y
			if (x > math.MaxInt32 || x < math.MinInt32 || y > math.MaxInt32 || y < math.MinInt32) && x != 0 &&
				(p/x != y || (x == -1 && y == math.MinInt64)) && (nulls == nil || !nulls[i]) {
				return nil, overflow(i)
			}
			o[i] = p
		}
	case sqlfront.OpMod:
		// DuckDB: integer % 0 is NULL.
		for i := range o {
			if b[i] == 0 {
				if out.null == nil {
					out.null = make([]bool, n)
				}
				out.null[i] = true
				continue
			}
			if b[i] == -1 {
				o[i] = 0
				continue
			}
			o[i] = a[i] % b[i]
		}
	case sqlfront.OpDiv:
		// The binder makes "/" float; integer division is not reachable
		// from SQL. Kept total: truncating, zero divisor NULL.
		for i := range o {
			switch {
			case b[i] == 0:
				if out.null == nil {
					out.null = make([]bool, n)
				}
				out.null[i] = true
			case b[i] == -1 && a[i] == math.MinInt64:
				if nulls == nil || !nulls[i] {
					return nil, overflow(i)
				}
			default:
				o[i] = a[i] / b[i]
			}
		}
	default:
		return nil, fmt.Errorf("exec: operator %s on int64 in %s", e.Op, e.String())
	}
	return out, nil
}

func boolVec(n int) *vec {
	return &vec{t: arrow.FixedWidthTypes.Boolean, k: kBool, n: n, b: make([]bool, n)}
}

// and3 is SQL AND: FALSE wins over NULL.
func and3(l, r *vec) *vec {
	n := l.n
	out := boolVec(n)
	for i := 0; i < n; i++ {
		ln, rn := l.isNull(i), r.isNull(i)
		lv, rv := !ln && l.b[i], !rn && r.b[i]
		switch {
		case (!ln && !lv) || (!rn && !rv):
			out.b[i] = false
		case ln || rn:
			if out.null == nil {
				out.null = make([]bool, n)
			}
			out.null[i] = true
		default:
			out.b[i] = true
		}
	}
	return out
}

// or3 is SQL OR: TRUE wins over NULL.
func or3(l, r *vec) *vec {
	n := l.n
	out := boolVec(n)
	for i := 0; i < n; i++ {
		ln, rn := l.isNull(i), r.isNull(i)
		lv, rv := !ln && l.b[i], !rn && r.b[i]
		switch {
		case lv || rv:
			out.b[i] = true
		case ln || rn:
			if out.null == nil {
				out.null = make([]bool, n)
			}
			out.null[i] = true
		}
	}
	return out
}

// not3 is SQL NOT: NULL stays NULL.
func not3(x *vec) *vec {
	out := boolVec(x.n)
	if x.k == kNull {
		return nullVec(arrow.FixedWidthTypes.Boolean, x.n)
	}
	out.null = x.null
	for i := range out.b {
		out.b[i] = !x.b[i]
	}
	return out
}

// cmpFloat orders floats as DuckDB: NaN equals NaN and sorts above every
// number; -0.0 equals 0.0.
func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	case a == b:
		return 0
	}
	an, bn := a != a, b != b
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	}
	return -1
}

func cmpResult(c int, op sqlfront.BinaryOp) bool {
	switch op {
	case sqlfront.OpEq:
		return c == 0
	case sqlfront.OpNe:
		return c != 0
	case sqlfront.OpLt:
		return c < 0
	case sqlfront.OpLe:
		return c <= 0
	case sqlfront.OpGt:
		return c > 0
	}
	return c >= 0
}

// cmpRows compares row i of a with row j of b (same kind, both non-NULL).
func cmpRows(a *vec, i int, b *vec, j int) int {
	switch a.k {
	case kI64:
		return cmpOrdered(a.i64[i], b.i64[j])
	case kI32:
		return cmpOrdered(a.i32[i], b.i32[j])
	case kF64:
		return cmpFloat(a.f64[i], b.f64[j])
	case kF32:
		return cmpFloat(float64(a.f32[i]), float64(b.f32[j]))
	case kBool:
		return cmpOrdered(b2i(a.b[i]), b2i(b.b[j]))
	case kStr:
		return bytes.Compare(a.str(i), b.str(j))
	}
	return 0
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func cmpOrdered[T int64 | int32 | int](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareVecs evaluates l op r row by row into a bool vector.
func compareVecs(l, r *vec, op sqlfront.BinaryOp) (*vec, error) {
	n := l.n
	if l.k == kNull || r.k == kNull {
		return nullVec(arrow.FixedWidthTypes.Boolean, n), nil
	}
	if l.k != r.k {
		return nil, fmt.Errorf("exec: comparison %s of %s and %s", op, l.t, r.t)
	}
	out := boolVec(n)
	out.null = orNulls(l, r, n)
	switch l.k {
	case kI64:
		a, b := l.i64[:n], r.i64[:n]
		switch op {
		case sqlfront.OpEq:
			for i := range out.b {
				out.b[i] = a[i] == b[i]
			}
		case sqlfront.OpNe:
			for i := range out.b {
				out.b[i] = a[i] != b[i]
			}
		case sqlfront.OpLt:
			for i := range out.b {
				out.b[i] = a[i] < b[i]
			}
		case sqlfront.OpLe:
			for i := range out.b {
				out.b[i] = a[i] <= b[i]
			}
		case sqlfront.OpGt:
			for i := range out.b {
				out.b[i] = a[i] > b[i]
			}
		default:
			for i := range out.b {
				out.b[i] = a[i] >= b[i]
			}
		}
	case kF64:
		a, b := l.f64[:n], r.f64[:n]
		for i := range out.b {
			out.b[i] = cmpResult(cmpFloat(a[i], b[i]), op)
		}
	default:
		for i := range out.b {
			if out.null != nil && out.null[i] {
				continue
			}
			out.b[i] = cmpResult(cmpRows(l, i, r, i), op)
		}
	}
	return out, nil
}

func evalIn(e *sqlfront.In, rs rowSet) (*vec, error) {
	x, err := evalExpr(e.X, rs)
	if err != nil {
		return nil, err
	}
	n := rs.n
	match := make([]bool, n)
	sawNull := make([]bool, n)
	for _, item := range e.List {
		v, err := evalExpr(item, rs)
		if err != nil {
			return nil, err
		}
		eq, err := compareVecs(x, v, sqlfront.OpEq)
		if err != nil {
			return nil, err
		}
		for i := 0; i < n; i++ {
			if eq.isNull(i) {
				sawNull[i] = true
			} else if eq.b[i] {
				match[i] = true
			}
		}
	}
	out := boolVec(n)
	for i := 0; i < n; i++ {
		switch {
		case x.isNull(i) || (!match[i] && sawNull[i]):
			if out.null == nil {
				out.null = make([]bool, n)
			}
			out.null[i] = true
		default:
			out.b[i] = match[i] != e.Not
		}
	}
	return out, nil
}

func concatOp(l, r *vec) (*vec, error) {
	n := l.n
	if l.k == kNull || r.k == kNull {
		return nullVec(arrow.BinaryTypes.String, n), nil
	}
	if l.k != kStr || r.k != kStr {
		return nil, fmt.Errorf("exec: || needs strings, got %s and %s", l.t, r.t)
	}
	out, _ := newVec(arrow.BinaryTypes.String, n)
	out.null = orNulls(l, r, n)
	for i := 0; i < n; i++ {
		if out.null == nil || !out.null[i] {
			out.data = append(out.data, l.str(i)...)
			out.data = append(out.data, r.str(i)...)
		}
		out.offs[i+1] = int32(len(out.data))
	}
	return out, nil
}

// truthy returns the positions (dense indices) where a bool vector is TRUE.
func truthy(v *vec) (yes, no []int32) {
	for i := 0; i < v.n; i++ {
		if !v.isNull(i) && v.b[i] {
			yes = append(yes, int32(i))
		} else {
			no = append(no, int32(i))
		}
	}
	return yes, no
}

// evalCase evaluates each THEN only on the rows that take it (so an
// error in a branch a row does not take is not raised, as DuckDB).
func evalCase(e *sqlfront.Case, rs rowSet) (*vec, error) {
	asm := newAssembler(e.Type, rs.n)
	remaining := make([]int32, rs.n)
	for i := range remaining {
		remaining[i] = int32(i)
	}
	for _, arm := range e.Whens {
		if len(remaining) == 0 {
			break
		}
		sub := rs.sub(remaining)
		c, err := evalExpr(arm.Cond, sub)
		if err != nil {
			return nil, err
		}
		yes, no := truthy(c)
		if len(yes) > 0 {
			res, err := evalExpr(arm.Result, sub.sub(yes))
			if err != nil {
				return nil, err
			}
			pos := make([]int32, len(yes))
			for k, y := range yes {
				pos[k] = remaining[y]
			}
			asm.set(pos, res)
		}
		rest := make([]int32, len(no))
		for k, y := range no {
			rest[k] = remaining[y]
		}
		remaining = rest
	}
	if e.Else != nil && len(remaining) > 0 {
		res, err := evalExpr(e.Else, rs.sub(remaining))
		if err != nil {
			return nil, err
		}
		asm.set(remaining, res)
	}
	return asm.build()
}

// intToFloat returns the int64 operand under a CAST(int64 AS DOUBLE), if e
// is one.
func intToFloat(e sqlfront.BoundExpr) (sqlfront.BoundExpr, bool) {
	c, ok := e.(*sqlfront.Cast)
	if !ok || c.Type.ID() != arrow.FLOAT64 || c.X.DataType().ID() != arrow.INT64 {
		return nil, false
	}
	return c.X, true
}

// mixedArith fuses float64 + - * / of a float and an integer cast to
// float (price * quantity) into one loop, without materialising the cast.
func mixedArith(e *sqlfront.Binary, rs rowSet) (*vec, bool, error) {
	if e.Type.ID() != arrow.FLOAT64 || e.Op < sqlfront.OpAdd || e.Op > sqlfront.OpDiv {
		return nil, false, nil
	}
	fe, ie, swapped := e.L, sqlfront.BoundExpr(nil), false
	if x, ok := intToFloat(e.R); ok {
		ie = x
	} else if x, ok := intToFloat(e.L); ok {
		fe, ie, swapped = e.R, x, true
	} else {
		return nil, false, nil
	}
	if fe.DataType().ID() != arrow.FLOAT64 {
		return nil, false, nil
	}
	f, err := evalExpr(fe, rs)
	if err != nil {
		return nil, true, err
	}
	iv, err := evalExpr(ie, rs)
	if err != nil {
		return nil, true, err
	}
	if f.k != kF64 || iv.k != kI64 {
		return nil, false, nil
	}
	n := rs.n
	out := newFloat64Result(n, rs.recycle) // every value read is written below
	out.null = orNulls(f, iv, n)
	a, b, o := f.f64[:n], iv.i64[:n], out.f64[:n]
	if rs.only != nil {
		mixedArithAt(o, a, b, rs.only, e.Op, swapped)
		return out, true, nil
	}
	switch {
	case e.Op == sqlfront.OpAdd:
		for i := range o {
			o[i] = a[i] + float64(b[i])
		}
	case e.Op == sqlfront.OpMul:
		for i := range o {
			o[i] = a[i] * float64(b[i])
		}
	case e.Op == sqlfront.OpSub && !swapped:
		for i := range o {
			o[i] = a[i] - float64(b[i])
		}
	case e.Op == sqlfront.OpSub:
		for i := range o {
			o[i] = float64(b[i]) - a[i]
		}
	case !swapped:
		for i := range o {
			o[i] = a[i] / float64(b[i])
		}
	default:
		for i := range o {
			o[i] = float64(b[i]) / a[i]
		}
	}
	return out, true, nil
}

// mixedArithAt is mixedArith's loop over the rows only.
func mixedArithAt(o, a []float64, b []int64, only []int32, op sqlfront.BinaryOp, swapped bool) {
	switch {
	case op == sqlfront.OpAdd:
		for _, r := range only {
			o[r] = a[r] + float64(b[r])
		}
	case op == sqlfront.OpMul:
		for _, r := range only {
			o[r] = a[r] * float64(b[r])
		}
	case op == sqlfront.OpSub && !swapped:
		for _, r := range only {
			o[r] = a[r] - float64(b[r])
		}
	case op == sqlfront.OpSub:
		for _, r := range only {
			o[r] = float64(b[r]) - a[r]
		}
	case !swapped:
		for _, r := range only {
			o[r] = a[r] / float64(b[r])
		}
	default:
		for _, r := range only {
			o[r] = float64(b[r]) / a[r]
		}
	}
}

// arithFloat64At is arith's float64 + - * / over the rows only.
func arithFloat64At(o, a, b []float64, only []int32, op sqlfront.BinaryOp) {
	switch op {
	case sqlfront.OpAdd:
		for _, r := range only {
			o[r] = a[r] + b[r]
		}
	case sqlfront.OpSub:
		for _, r := range only {
			o[r] = a[r] - b[r]
		}
	case sqlfront.OpMul:
		for _, r := range only {
			o[r] = a[r] * b[r]
		}
	default:
		for _, r := range only {
			o[r] = a[r] / b[r]
		}
	}
}
