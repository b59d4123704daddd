package sqlfront

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
)

// validatePlan checks the executor contract of a bound plan: every column
// reference indexes its node's input with the input field's type (and is
// nullable whenever the field is), operands of one node share a type, and
// each node's output schema matches the expressions computing it.
func validatePlan(n Node) error {
	for _, in := range n.Inputs() {
		if err := validatePlan(in); err != nil {
			return err
		}
	}
	var input *arrow.Schema
	if in := n.Inputs(); len(in) == 1 {
		input = in[0].Schema()
	}
	check := func(e BoundExpr) error { return validateExpr(e, input) }
	sameTypes := func(what string, exprs []BoundExpr, fields []arrow.Field) error {
		if len(exprs) != len(fields) {
			return fmt.Errorf("%s: %d expressions for %d fields", what, len(exprs), len(fields))
		}
		for i, e := range exprs {
			if err := check(e); err != nil {
				return err
			}
			if !arrow.TypeEqual(e.DataType(), fields[i].Type) || e.Nullable() != fields[i].Nullable {
				return fmt.Errorf("%s: field %s is %s (nullable %v) but %s is %s (nullable %v)", what, fields[i].Name,
					fields[i].Type, fields[i].Nullable, e, e.DataType(), e.Nullable())
			}
		}
		return nil
	}
	switch n := n.(type) {
	case *Scan:
		if len(n.Columns) != n.Out.NumFields() {
			return fmt.Errorf("scan: %d columns, %d fields", len(n.Columns), n.Out.NumFields())
		}
		for i, c := range n.Columns {
			if i > 0 && c <= n.Columns[i-1] {
				return fmt.Errorf("scan columns not ascending: %v", n.Columns)
			}
			if n.TableSchema.Field(c).Name != n.Out.Field(i).Name {
				return fmt.Errorf("scan column %d is not table column %d", i, c)
			}
		}
	case *Filter:
		if err := check(n.Cond); err != nil {
			return err
		}
		if !isBool(n.Cond.DataType()) {
			return fmt.Errorf("filter condition %s is %s", n.Cond, n.Cond.DataType())
		}
	case *Project:
		return sameTypes("project", n.Exprs, n.Out.Fields())
	case *Aggregate:
		fields := n.Out.Fields()
		if err := sameTypes("aggregate keys", n.GroupBy, fields[:len(n.GroupBy)]); err != nil {
			return err
		}
		off := len(n.GroupBy)
		if n.Window != nil {
			f := input.Field(n.Window.TimeCol)
			if !arrow.TypeEqual(f.Type, n.Window.TimeType) || f.Name != n.Window.TimeName {
				return fmt.Errorf("window time column %d is %s %s", n.Window.TimeCol, f.Name, f.Type)
			}
			off += 2
		}
		if len(fields) != off+len(n.Aggs) {
			return fmt.Errorf("aggregate has %d fields for %d outputs", len(fields), off+len(n.Aggs))
		}
		for i, a := range n.Aggs {
			if a.Arg != nil {
				if err := check(a.Arg); err != nil {
					return err
				}
			}
			if f := fields[off+i]; !arrow.TypeEqual(f.Type, a.Type) || f.Nullable != a.Null {
				return fmt.Errorf("aggregate %s output field %s mismatches", a, f.Name)
			}
		}
	case *Window:
		fields := n.Out.Fields()
		if len(fields) != input.NumFields()+len(n.Funcs) {
			return fmt.Errorf("window has %d fields", len(fields))
		}
		for i, w := range n.Funcs {
			all := append(append([]BoundExpr{}, w.Args...), w.PartitionBy...)
			for _, k := range w.OrderBy {
				all = append(all, k.Expr)
			}
			if w.Default != nil {
				all = append(all, w.Default)
			}
			for _, e := range all {
				if err := check(e); err != nil {
					return err
				}
			}
			if f := fields[input.NumFields()+i]; !arrow.TypeEqual(f.Type, w.Type) || f.Nullable != w.Null {
				return fmt.Errorf("window %s output field %s mismatches", w, f.Name)
			}
		}
	case *Sort:
		for _, k := range n.Keys {
			if err := check(k.Expr); err != nil {
				return err
			}
		}
	case *Limit:
		if n.Offset < 0 {
			return fmt.Errorf("negative offset")
		}
	}
	return nil
}

func validateExpr(e BoundExpr, input *arrow.Schema) error {
	var err error
	WalkBound(e, func(x BoundExpr) bool {
		if err != nil {
			return false
		}
		switch x := x.(type) {
		case *ColRef:
			if input == nil || x.Index < 0 || x.Index >= input.NumFields() {
				err = fmt.Errorf("%s: index out of range", x)
				return false
			}
			f := input.Field(x.Index)
			if !arrow.TypeEqual(f.Type, x.Type) || (f.Nullable && !x.Null) {
				err = fmt.Errorf("%s is %s (nullable %v), input field %s is %s (nullable %v)", x, x.Type, x.Null, f.Name, f.Type, f.Nullable)
			}
		case *Binary:
			timeShift := isTimestamp(x.L.DataType()) && x.R.DataType().ID() == arrow.DURATION
			if x.Op != OpAnd && x.Op != OpOr && !timeShift && !arrow.TypeEqual(x.L.DataType(), x.R.DataType()) {
				err = fmt.Errorf("%s: operand types %s and %s differ", x, x.L.DataType(), x.R.DataType())
			}
		case *In:
			for _, y := range x.List {
				if !arrow.TypeEqual(x.X.DataType(), y.DataType()) {
					err = fmt.Errorf("%s: list type %s differs", x, y.DataType())
				}
			}
		case *Between:
			if !arrow.TypeEqual(x.X.DataType(), x.Lo.DataType()) || !arrow.TypeEqual(x.X.DataType(), x.Hi.DataType()) {
				err = fmt.Errorf("%s: operand types differ", x)
			}
		case *Case:
			for _, w := range x.Whens {
				if !isBool(w.Cond.DataType()) || !arrow.TypeEqual(w.Result.DataType(), x.Type) {
					err = fmt.Errorf("%s: arm types differ", x)
				}
			}
		}
		return true
	})
	return err
}
