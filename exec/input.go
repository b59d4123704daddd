package exec

import (
	"slices"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/sqlfront"
)

// denseFraction bounds the work the dense evaluation of an input spends on
// rows outside a batch's selection: a total expression is evaluated over
// every row of the record only when the selection holds at least 1 row in
// denseFraction (a partition's share of a hash-routed record at up to 8
// partitions, or a WHERE that keeps an eighth), so at most 8 rows are
// computed per row the operator consumes. Sparser selections evaluate the
// selected rows only and scatter the result to their positions. Measured
// on S3a's price * quantity (BenchmarkInputBatch): at 1 row in 7 the dense
// evaluation costs ~14 CPU ns per selected row, gather-evaluate-scatter ~33.
const denseFraction = 8

// inputBatch builds the batch an aggregating operator consumes: the values
// of inputs over b, as a record of schema inSchema that the caller releases.
//
// Without a selection every input is evaluated over all rows (plain column
// references pass through) and the result has no selection. With a
// selection (a WHERE, or the share of a routed record a partition owns) the
// result keeps b's record length and b's selection, so no input column is
// gathered:
//   - a plain column reference passes through, without a copy;
//   - a total expression (totalExpr: one that cannot fail on any value,
//     such as price * quantity on float64) is evaluated over the record,
//     cheap loops over aliased columns, when the selection is dense enough
//     (denseFraction); its float64 arithmetic computes the selected rows
//     only (rowSet.only) into a recycled buffer (toArrayRecycled);
//   - any other expression is evaluated over the selected rows only, as
//     before, and its values are scattered to their rows' positions.
//
// The rule that keeps errors right: an expression that can fail (integer
// overflow, a failing CAST, a function) is only ever evaluated on the rows
// of the selection. Rows outside it were removed by a WHERE, or belong to
// another partition (which runs its own WHERE on them), so an error on them
// would be one the query does not raise at one partition. A total
// expression raises nothing on any row, so evaluating it on those rows
// changes no result: their values are never read, as the operator reads
// the selected rows only.
//
// b.Times passes on as it is (it holds for whichever column is its array).
// When b carries key hashes (b.Keys) and every key column reaches the input
// record as the very same array, the result carries them too, renumbered
// into keys (the operator's scratch): the aggregator does not hash again.
func inputBatch(b columnar.Batch, inputs []sqlfront.BoundExpr, plain bool, inSchema *arrow.Schema, keys *columnar.KeyHashes) (columnar.Batch, error) {
	in, err := buildInput(b, inputs, plain, inSchema)
	if err == nil && b.Keys != nil {
		in.Keys = mapKeys(keys, b, in.Rec)
	}
	in.Times = b.Times // it names its array: valid wherever that passes through
	return in, err
}

// mapKeys renumbers b.Keys for the record in, whose columns include b's key
// columns as the same arrays, into dst; nil when one is missing.
func mapKeys(dst *columnar.KeyHashes, b columnar.Batch, in arrow.Record) *columnar.KeyHashes {
	if len(b.Keys.Hashes) != int(in.NumRows()) {
		return nil
	}
	cols := dst.Cols[:0]
	for _, c := range b.Keys.Cols {
		want := b.Rec.Column(c)
		j := slices.IndexFunc(in.Columns(), func(a arrow.Array) bool { return a == want })
		if j < 0 {
			return nil
		}
		cols = append(cols, j)
	}
	*dst = *b.Keys
	dst.Cols = cols
	return dst
}

func buildInput(b columnar.Batch, inputs []sqlfront.BoundExpr, plain bool, inSchema *arrow.Schema) (columnar.Batch, error) {
	cols := make([]arrow.Array, len(inputs))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	if plain {
		for i, e := range inputs {
			cols[i] = b.Rec.Column(e.(*sqlfront.ColRef).Index)
			cols[i].Retain()
		}
		return columnar.Batch{Rec: columnar.MakeRecord(inSchema, cols, int64(b.NumRows())), Sel: b.Sel}, nil
	}
	if b.Sel == nil {
		rs := allRows(b.Rec)
		rs.recycle = true
		for i, e := range inputs {
			if a := sameColumn(b.Rec, e, inSchema.Field(i).Type); a != nil {
				cols[i] = a
				continue
			}
			v, err := evalExpr(e, rs)
			if err != nil {
				return columnar.Batch{}, err
			}
			if err := checkKind(v, e.DataType(), e); err != nil {
				return columnar.Batch{}, err
			}
			cols[i] = v.toArrayRecycled(e.DataType())
		}
		return columnar.Batch{Rec: columnar.MakeRecord(inSchema, cols, b.Rec.NumRows())}, nil
	}
	n := int(b.Rec.NumRows())
	dense := len(b.Sel)*denseFraction >= n
	var all, sel rowSet // built on first use; their column caches are shared by the inputs
	for i, e := range inputs {
		if a := sameColumn(b.Rec, e, inSchema.Field(i).Type); a != nil {
			cols[i] = a
			continue
		}
		var v *vec
		var err error
		if dense && totalExpr(e) {
			if all.rec == nil {
				all = allRows(b.Rec)
				all.cols = make([]*vec, b.Rec.NumCols())
				all.recycle = true
				all.only = b.Sel // the operator reads the selected rows only
			}
			v, err = evalExpr(e, all)
		} else {
			if sel.rec == nil {
				sel = selRows(b.Rec, b.Sel)
				sel.cols = make([]*vec, b.Rec.NumCols())
			}
			v, err = evalExpr(e, sel)
			if err == nil {
				v = v.scatter(b.Sel, n)
			}
		}
		if err != nil {
			return columnar.Batch{}, err
		}
		if err := checkKind(v, e.DataType(), e); err != nil {
			return columnar.Batch{}, err
		}
		cols[i] = v.toArrayRecycled(e.DataType())
	}
	return columnar.Batch{Rec: columnar.MakeRecord(inSchema, cols, int64(n)), Sel: b.Sel}, nil
}

// sameColumn returns rec's column that e refers to, retained, when e is a
// column reference whose column has type dt (it passes through without a
// copy), or nil.
func sameColumn(rec arrow.Record, e sqlfront.BoundExpr, dt arrow.DataType) arrow.Array {
	c, ok := e.(*sqlfront.ColRef)
	if !ok || c.Index < 0 || c.Index >= int(rec.NumCols()) || !arrow.TypeEqual(rec.Column(c.Index).DataType(), dt) {
		return nil
	}
	a := rec.Column(c.Index)
	a.Retain()
	return a
}

// totalExpr reports whether e can be evaluated on any row of any record
// without an error that depends on the row's values, and cheaply (fixed
// width): column references and constants of fixed-width types, float64
// arithmetic (IEEE: a zero divisor gives ±Inf or NaN, never an error),
// float64 ⊕ CAST(integer AS DOUBLE), comparisons, AND/OR/NOT, IS NULL,
// BETWEEN, IN, and the casts that cannot fail (an integer, float or bool to
// float64; int32 or bool to int64). Integer + - * and negation (overflow),
// other casts (range and parse errors), CASE, LIKE, functions and strings
// are not.
func totalExpr(e sqlfront.BoundExpr) bool {
	switch e := e.(type) {
	case *sqlfront.ColRef:
		return fixedWidth(e.DataType())
	case *sqlfront.Const:
		return fixedWidth(e.DataType())
	case *sqlfront.Unary:
		if e.Op == sqlfront.OpNot {
			return totalExpr(e.X)
		}
		return e.Type.ID() == arrow.FLOAT64 && e.X.DataType().ID() == arrow.FLOAT64 && totalExpr(e.X)
	case *sqlfront.Binary:
		switch {
		case e.Op == sqlfront.OpAnd || e.Op == sqlfront.OpOr || e.Op.IsComparison():
		case e.Op >= sqlfront.OpAdd && e.Op <= sqlfront.OpMod:
			if e.Type.ID() != arrow.FLOAT64 || e.L.DataType().ID() != arrow.FLOAT64 || e.R.DataType().ID() != arrow.FLOAT64 {
				return false
			}
		default:
			return false
		}
		return totalExpr(e.L) && totalExpr(e.R)
	case *sqlfront.IsNull:
		return totalExpr(e.X)
	case *sqlfront.Between:
		return totalExpr(e.X) && totalExpr(e.Lo) && totalExpr(e.Hi)
	case *sqlfront.In:
		if !totalExpr(e.X) {
			return false
		}
		for _, x := range e.List {
			if !totalExpr(x) {
				return false
			}
		}
		return true
	case *sqlfront.Cast:
		from, to := e.X.DataType().ID(), e.Type.ID()
		switch {
		case arrow.TypeEqual(e.X.DataType(), e.Type):
		case to == arrow.FLOAT64 && (from == arrow.INT64 || from == arrow.INT32 || from == arrow.FLOAT32 || from == arrow.FLOAT64 || from == arrow.BOOL):
		case to == arrow.INT64 && (from == arrow.INT32 || from == arrow.BOOL):
		default:
			return false
		}
		return totalExpr(e.X)
	}
	return false
}

// fixedWidth reports whether the evaluator holds values of t in a
// fixed-width slice (or none: NULL).
func fixedWidth(t arrow.DataType) bool {
	k, err := kindOf(t)
	return err == nil && k != kStr
}
