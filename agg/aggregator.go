package agg

import (
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

// KeySpec is one GROUP BY key: an input column.
type KeySpec struct {
	Column int    // index of the key column in the input schema
	Name   string // output column name; defaults to the input column's name
}

// AggSpec is one aggregate: a function of an input column.
type AggSpec struct {
	Func     Func
	Column   int    // input column; ignored by CountStar
	Distinct bool   // COUNT(DISTINCT x); only Count takes it
	Name     string // output column name; defaults to e.g. "sum_price"
}

// Aggregator is a hash aggregation: GROUP BY keys with aggregates, over
// batches of one input schema. With no keys it is a global aggregate with
// exactly one group, so an empty input still emits one row (COUNT 0, other
// aggregates NULL), as SQL requires.
//
// An Aggregator is owned by one goroutine (a partition); it takes no locks.
// Its states live in Go memory; Emit allocates the result through mem.
type Aggregator struct {
	mem     memory.Allocator
	input   *arrow.Schema
	keys    []KeySpec
	aggs    []AggSpec
	table   *KeyTable // nil for a global aggregate
	states  []state
	labels  []string
	schema  *arrow.Schema
	ngroups int

	rows   *groupRows // rows per group, shared with the states
	inputs map[int]*argInput
	// fused: MIN and MAX (and a SUM or AVG) of one float column, updated
	// together by one kernel; fusedState marks the states they cover.
	fused      []*fusedFloat
	fusedState []bool

	groups  []uint32 // group id per row of the last batch
	keyCols []arrow.Array
	keyIdx  []int
}

// New returns an aggregator over input with the given keys and aggregates.
// It checks every column index and type and reports errors naming the
// column and function.
func New(mem memory.Allocator, input *arrow.Schema, keys []KeySpec, aggs []AggSpec) (*Aggregator, error) {
	if len(keys) > MaxKeyColumns {
		return nil, fmt.Errorf("agg: at most %d group keys, got %d", MaxKeyColumns, len(keys))
	}
	a := &Aggregator{mem: mem, input: input, keys: keys, aggs: aggs, rows: &groupRows{}, inputs: map[int]*argInput{}}
	var fields []arrow.Field
	var keyTypes []arrow.DataType
	for _, k := range keys {
		if k.Column < 0 || k.Column >= input.NumFields() {
			return nil, fmt.Errorf("agg: group key column %d out of range (input has %d columns)", k.Column, input.NumFields())
		}
		f := input.Field(k.Column)
		if _, err := newKeyColumn(f.Type); err != nil {
			return nil, fmt.Errorf("agg: group key %q: %w", f.Name, err)
		}
		name := k.Name
		if name == "" {
			name = f.Name
		}
		out := f.Type
		if d, ok := out.(*arrow.DictionaryType); ok {
			out = d.ValueType // keys are emitted decoded
		}
		fields = append(fields, arrow.Field{Name: name, Type: out, Nullable: true})
		keyTypes = append(keyTypes, f.Type)
	}
	for _, s := range aggs {
		var in arrow.DataType = arrow.Null
		label := "COUNT(*)"
		col := "star"
		if s.Func != CountStar {
			if s.Column < 0 || s.Column >= input.NumFields() {
				return nil, fmt.Errorf("agg: %s: column %d out of range (input has %d columns)", s.Func, s.Column, input.NumFields())
			}
			f := input.Field(s.Column)
			in, col = f.Type, f.Name
			label = fmt.Sprintf("%s(%s)", s.Func, f.Name)
			if s.Distinct {
				label = fmt.Sprintf("%s(DISTINCT %s)", s.Func, f.Name)
			}
		}
		if s.Distinct && s.Func != Count {
			return nil, fmt.Errorf("agg: %s: DISTINCT is supported with COUNT only", label)
		}
		rt, err := s.Func.ResultType(in)
		if err != nil {
			return nil, fmt.Errorf("agg: %s: column %q: %w", label, col, err)
		}
		st, err := newState(mem, a.rows, s.Func, s.Distinct, in, label)
		if err != nil {
			return nil, fmt.Errorf("agg: %s: %w", label, err)
		}
		name := s.Name
		if name == "" {
			name = strings.ToLower(strings.TrimSuffix(s.Func.String(), "(*)")) + "_" + col
		}
		fields = append(fields, arrow.Field{Name: name, Type: rt, Nullable: true})
		a.states = append(a.states, st)
		a.labels = append(a.labels, label)
	}
	a.schema = arrow.NewSchema(fields, nil)
	a.planFused()
	if len(keys) > 0 {
		t, err := NewKeyTable(keyTypes)
		if err != nil {
			return nil, err
		}
		a.table = t
	} else {
		a.setGroups(1)
	}
	return a, nil
}

// Schema returns the output schema: the keys, then one column per aggregate.
func (a *Aggregator) Schema() *arrow.Schema { return a.schema }

// NumGroups returns the number of groups.
func (a *Aggregator) NumGroups() int { return a.ngroups }

// RowCounts returns the number of input rows (NULLs included) each group
// has taken so far, indexed by group id: a read-only view, valid until the
// next Update, Merge, Compact, Evict or Reset. A group an Update touched is
// one whose count grew (or that it created).
func (a *Aggregator) RowCounts() []int64 { return a.rows.n[:a.ngroups] }

// GroupIDs returns the group id of every row of the last batch passed to
// Update (only the selected rows' entries are meaningful). The slice is
// reused by the next Update.
func (a *Aggregator) GroupIDs() []uint32 { return a.groups }

func (a *Aggregator) setGroups(n int) {
	if n == a.ngroups {
		return
	}
	a.rows.n = growZero(a.rows.n, n)
	for _, s := range a.states {
		s.resize(n)
	}
	a.ngroups = n
}

// checkInput verifies a batch's columns have the input schema's types.
func (a *Aggregator) checkInput(rec arrow.Record) error {
	if int(rec.NumCols()) != a.input.NumFields() {
		return fmt.Errorf("agg: batch has %d columns, input schema has %d", rec.NumCols(), a.input.NumFields())
	}
	for i := 0; i < int(rec.NumCols()); i++ {
		if want, got := a.input.Field(i).Type, rec.Column(i).DataType(); !arrow.TypeEqual(want, got) {
			return fmt.Errorf("agg: column %q: batch has type %s, input schema has %s", a.input.Field(i).Name, got, want)
		}
	}
	return nil
}

// Update folds a batch's selected rows into the groups. When the batch
// carries key hashes of exactly the aggregator's key columns (b.Keys,
// computed by an agg.KeyHasher upstream), the keys are not hashed again.
func (a *Aggregator) Update(b columnar.Batch) error {
	rec := b.Rec
	if err := a.checkInput(rec); err != nil {
		return err
	}
	n := int(rec.NumRows())
	a.groups = resize(a.groups, n)
	if a.table == nil {
		clear(a.groups)
	} else {
		a.keyCols = a.keyCols[:0]
		a.keyIdx = a.keyIdx[:0]
		for _, k := range a.keys {
			a.keyCols = append(a.keyCols, rec.Column(k.Column))
			a.keyIdx = append(a.keyIdx, k.Column)
		}
		// Keys hashed upstream (the partition router) are taken as they are.
		if _, err := a.table.InsertHashed(a.keyCols, b.Sel, a.groups, b.Keys.ForColumns(a.keyIdx, n)); err != nil {
			return err
		}
		a.setGroups(a.table.Len())
	}
	// Rows per group.
	kernels.GroupedCountRows(a.rows.n, a.groups[:n], b.Sel)
	// Each argument column is prepared once, however many aggregates use it.
	for i, s := range a.states {
		if a.aggs[i].Func == CountStar || a.fusedState[i] {
			continue
		}
		if err := s.update(a.groups, a.argInput(rec, a.aggs[i].Column, b.Sel)); err != nil {
			return err
		}
	}
	for _, f := range a.fused {
		f.update(a.groups, a.argInput(rec, f.col, b.Sel))
	}
	for _, in := range a.inputs {
		in.arr = nil // do not keep the batch alive
	}
	return nil
}

// argInput returns argument column col of rec, prepared for selection sel
// once per batch.
func (a *Aggregator) argInput(rec arrow.Record, col int, sel []int32) *argInput {
	in := a.inputs[col]
	if in == nil {
		in = &argInput{}
		a.inputs[col] = in
	}
	if in.arr == nil {
		in.prepare(rec.Column(col), sel)
	}
	return in
}

// Merge folds the partial aggregation o (same input, keys and aggregates)
// into a: groups with equal keys combine, new keys are added. o is left
// unchanged.
func (a *Aggregator) Merge(o *Aggregator) error {
	if len(o.states) != len(a.states) || len(o.keys) != len(a.keys) {
		return errors.New("agg: merging aggregators of different shapes")
	}
	for i := range a.aggs {
		if a.aggs[i].Func != o.aggs[i].Func || a.aggs[i].Distinct != o.aggs[i].Distinct {
			return fmt.Errorf("agg: merging %s into %s", o.labels[i], a.labels[i])
		}
	}
	mapping := make([]uint32, o.ngroups)
	if a.table != nil && o.ngroups > 0 {
		keys := o.table.EmitKeys(a.mem, nil)
		defer releaseAll(keys)
		if _, err := a.table.Insert(keys, nil, mapping); err != nil {
			return fmt.Errorf("agg: merge: %w", err)
		}
		a.setGroups(a.table.Len())
	}
	for i, r := range o.rows.n {
		a.rows.n[mapping[i]] += r
	}
	for i, s := range a.states {
		if err := s.merge(o.states[i], mapping); err != nil {
			return err
		}
	}
	return nil
}

// Emit returns every group's keys and aggregates, in group id order.
func (a *Aggregator) Emit() (arrow.Record, error) { return a.EmitGroups(nil) }

// EmitGroups returns the rows of groups ids, in that order (nil: every
// group). The caller releases the record.
func (a *Aggregator) EmitGroups(ids []uint32) (arrow.Record, error) {
	for _, g := range ids {
		if int(g) >= a.ngroups {
			return nil, fmt.Errorf("agg: emit of group %d, aggregator has %d groups", g, a.ngroups)
		}
	}
	for _, s := range a.states {
		if c, ok := s.(interface{ check(ids []uint32) error }); ok {
			if err := c.check(ids); err != nil {
				return nil, err
			}
		}
	}
	n := a.ngroups
	if ids != nil {
		n = len(ids)
	}
	var cols []arrow.Array
	if a.table != nil {
		cols = a.table.EmitKeys(a.mem, ids)
	}
	for _, s := range a.states {
		cols = append(cols, s.emit(a.mem, ids))
	}
	defer releaseAll(cols)
	return columnar.MakeRecord(a.schema, cols, int64(n)), nil
}

// Compact keeps only groups keep, renumbered in that order (new group j is
// old group keep[j]); the others are freed.
func (a *Aggregator) Compact(keep []uint32) error {
	for _, g := range keep {
		if int(g) >= a.ngroups {
			return fmt.Errorf("agg: compact keeps group %d, aggregator has %d groups", g, a.ngroups)
		}
	}
	if a.table == nil {
		return errors.New("agg: a global aggregate has exactly one group; use Reset")
	}
	a.table.Compact(keep)
	a.rows.n = compactSlice(a.rows.n, keep)
	for _, s := range a.states {
		s.compact(keep)
	}
	a.ngroups = len(keep)
	return nil
}

// Evict frees groups ids; the remaining groups keep their relative order and
// are renumbered densely. It returns the surviving old ids in new-id order.
func (a *Aggregator) Evict(ids []uint32) ([]uint32, error) {
	drop := make([]bool, a.ngroups)
	for _, g := range ids {
		if int(g) >= a.ngroups {
			return nil, fmt.Errorf("agg: evict of group %d, aggregator has %d groups", g, a.ngroups)
		}
		drop[g] = true
	}
	keep := make([]uint32, 0, a.ngroups)
	for g, d := range drop {
		if !d {
			keep = append(keep, uint32(g))
		}
	}
	return keep, a.Compact(keep)
}

// Reset forgets every group (a global aggregate goes back to its one empty
// group).
func (a *Aggregator) Reset() {
	for _, s := range a.states {
		s.reset()
	}
	a.ngroups = 0
	a.rows.n = a.rows.n[:0]
	if a.table != nil {
		a.table.Reset()
	} else {
		a.setGroups(1)
	}
}

// Bytes returns the memory held for groups: key table and aggregate states.
func (a *Aggregator) Bytes() int {
	b := 0
	if a.table != nil {
		b = a.table.Bytes()
	}
	for _, s := range a.states {
		b += s.bytes()
	}
	return b
}
