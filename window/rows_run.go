package window

import (
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

// heldRec is a buffered record of a streaming Rows: its pending rows, the
// rows to process although late, and how many ring entries point into it.
type heldRec struct {
	rec  arrow.Record
	sel  []int32
	late []bool
	refs int
}

// runInput is the flattened set of rows one run processes: per input index
// g the partition, the order key and the row's record and row.
type runInput struct {
	pid   []uint32
	key   []int64
	src   []int32
	row   []int32
	order []int32 // processing order (input indices), partition by partition
	runs  []partRun
	perm  []int32 // processing index of each output position
	glob  []int32 // streaming: input indices in output order
	posOf []int32 // processing index of each input index
	segs  []seg   // contiguous input indices of one record
}

// partRun is one partition's rows: order[lo:hi].
type partRun struct {
	pid    uint32
	lo, hi int
}

// rowAt returns the record row of the segment's i-th row.
func (s *seg) rowAt(i int) int {
	if s.sel != nil {
		return int(s.sel[i])
	}
	return i
}

type seg struct {
	src    int32
	rec    arrow.Record
	sel    []int32 // nil: rows 0..n-1
	off, n int
}

// grow sizes the per-partition state for parts partitions.
func (r *Rows) grow(parts int) {
	if parts <= r.nparts {
		return
	}
	if r.frm == nil {
		for _, f := range r.frames {
			if f.float {
				r.frm = append(r.frm, &frameState[float64]{n: f.n, float: true, wantMin: f.min, wantMax: f.max})
			} else {
				r.frm = append(r.frm, &frameState[int64]{n: f.n, wantMin: f.min, wantMax: f.max})
			}
		}
		r.rings = make([][]rowRef, len(r.calls))
		r.firsts = make([][]rowRef, len(r.calls))
	}
	for _, f := range r.frm {
		switch f := f.(type) {
		case *frameState[float64]:
			f.grow(parts)
		case *frameState[int64]:
			f.grow(parts)
		}
	}
	r.seq, r.lastK = growTo(r.seq, parts), growTo(r.lastK, parts)
	r.rank, r.dense = growTo(r.rank, parts), growTo(r.dense, parts)
	for ci, c := range r.calls {
		if c.ringCap > 0 {
			r.rings[ci] = growTo(r.rings[ci], parts*c.ringCap)
		}
		if c.c.Func == FirstValue && c.ringCap == 0 {
			r.firsts[ci] = growTo(r.firsts[ci], parts)
		}
	}
	r.nparts = parts
}

// flatten fills in's per-row arrays from its segments.
func (r *Rows) flatten(in *runInput) error {
	total := 0
	for _, s := range in.segs {
		total += s.n
	}
	in.pid, in.key = make([]uint32, total), make([]int64, total)
	// Record and row of each input index: only row references (LAG, LEAD,
	// FIRST_VALUE, LAST_VALUE, streaming output) need them.
	needRefs := r.spec.Streaming
	for _, c := range r.calls {
		needRefs = needRefs || c.c.Func == Lag || c.c.Func == Lead || c.c.Func == FirstValue || c.c.Func == LastValue
	}
	if needRefs {
		in.src, in.row = make([]int32, total), make([]int32, total)
	}
	for _, s := range in.segs {
		rec := s.rec
		nr := int(rec.NumRows())
		if needRefs {
			rows := in.row[s.off : s.off+s.n]
			for i := range rows {
				if s.sel != nil {
					rows[i] = s.sel[i]
				} else {
					rows[i] = int32(i)
				}
				in.src[s.off+i] = s.src
			}
		}
		if r.keys != nil {
			r.kcols = r.kcols[:0]
			for _, c := range r.spec.PartitionBy {
				r.kcols = append(r.kcols, rec.Column(c))
			}
			if s.sel == nil {
				if _, err := r.keys.Insert(r.kcols, nil, in.pid[s.off:s.off+s.n]); err != nil {
					return fmt.Errorf("window: PARTITION BY: %w", err)
				}
			} else {
				ids := make([]uint32, nr)
				if _, err := r.keys.Insert(r.kcols, s.sel, ids); err != nil {
					return fmt.Errorf("window: PARTITION BY: %w", err)
				}
				for i, row := range s.sel {
					in.pid[s.off+i] = ids[row]
				}
			}
		}
		if r.spec.OrderBy >= 0 {
			col := rec.Column(r.spec.OrderBy)
			vals := arrow.Int64Traits.CastFromBytes(col.Data().Buffers()[1].Bytes())[col.Data().Offset():]
			keys := in.key[s.off : s.off+s.n]
			nulls := col.NullN() > 0
			for i := range keys {
				row := s.rowAt(i)
				k := vals[row]
				if nulls && col.IsNull(row) {
					k = math.MinInt64
				}
				if r.spec.OrderDesc {
					k = ^k
				}
				keys[i] = k
			}
		}
	}
	parts := 1
	if r.keys != nil {
		parts = r.keys.Len()
	}
	r.grow(parts)
	// Processing order: partition by partition (a stable counting sort by
	// partition id), each partition in (order key, arrival) order, so a
	// partition's state stays in cache while its rows run. outPos maps
	// each processed row to its output position: the input index for a
	// bounded input, the rank in global (key, arrival) order when streaming.
	counts := make([]int32, parts)
	kernels.Histogram(counts, in.pid)
	cursors := make([]int32, parts)
	kernels.PartitionStarts(cursors, counts)
	in.order = make([]int32, total)
	keysP := make([]int64, total) // order keys in processing order
	if r.spec.OrderBy >= 0 {
		c2 := slices.Clone(cursors)
		kernels.ScatterInt64(keysP, in.key, in.pid, c2)
	}
	kernels.ScatterIndices(in.order, in.pid, cursors)
	in.runs = in.runs[:0]
	lo := 0
	for p, c := range counts {
		if c == 0 {
			continue
		}
		hi := lo + int(c)
		run := in.order[lo:hi]
		if r.spec.OrderBy >= 0 {
			sortPairs(keysP[lo:hi], run)
		}
		in.runs = append(in.runs, partRun{pid: uint32(p), lo: lo, hi: hi})
		lo = hi
	}
	in.posOf = make([]int32, total)
	for i, g := range in.order {
		in.posOf[g] = int32(i)
	}
	in.perm = in.posOf // bounded: output position = input index
	if r.spec.Streaming {
		glob := make([]int32, total)
		for i := range glob {
			glob[i] = int32(i)
		}
		sortPairs(slices.Clone(in.key), glob)
		in.perm = make([]int32, total)
		for j, g := range glob {
			in.perm[j] = in.posOf[g]
		}
		in.glob = glob
	}
	return nil
}

// argValues returns column col of in's rows as T in processing order, with
// validity (nil when there is no NULL).
func argValues[T number](in *runInput, col int) ([]T, []bool) {
	total := len(in.pid)
	vals := make([]T, total)
	var valid []bool
	for _, s := range in.segs {
		a := s.rec.Column(col)
		d := a.Data()
		var raw []T
		switch any(vals).(type) {
		case []float64:
			raw = any(arrow.Float64Traits.CastFromBytes(d.Buffers()[1].Bytes())[d.Offset():]).([]T)
		default:
			raw = any(arrow.Int64Traits.CastFromBytes(d.Buffers()[1].Bytes())[d.Offset():]).([]T)
		}
		pos := in.posOf[s.off : s.off+s.n]
		if s.sel == nil {
			for i, at := range pos {
				vals[at] = raw[i]
			}
		} else {
			for i, at := range pos {
				vals[at] = raw[s.sel[i]]
			}
		}
		if a.NullN() > 0 {
			if valid == nil {
				valid = make([]bool, total)
				for i := range valid {
					valid[i] = true
				}
			}
			for i, at := range pos {
				valid[at] = a.IsValid(s.rowAt(i))
			}
		}
	}
	return vals, valid
}

func validOnly(in *runInput, col int) []bool {
	valid := make([]bool, len(in.pid))
	for _, s := range in.segs {
		a := s.rec.Column(col)
		for i := 0; i < s.n; i++ {
			valid[in.posOf[s.off+i]] = a.IsValid(s.rowAt(i))
		}
	}
	return valid
}

// outputs of one run: numeric columns and row references per call.
type runOut struct {
	num  []*numCol
	refs [][]rowRef
}

// compute runs every function over in; outputs are indexed by input index
// when byInput, else by processing position.
func (r *Rows) compute(in *runInput) *runOut {
	total := len(in.pid)
	out := &runOut{num: make([]*numCol, len(r.calls)), refs: make([][]rowRef, len(r.calls))}
	for ci, c := range r.calls {
		switch c.c.Func {
		case Lag, Lead, FirstValue, LastValue:
			out.refs[ci] = make([]rowRef, total)
		default:
			fl := c.typ.ID() == arrow.FLOAT64
			nullable := c.c.Func != RowNumber && c.c.Func != Rank && c.c.Func != DenseRank && c.c.Func != Count && c.c.Func != CountStar
			out.num[ci] = newNumCol(fl, total, nullable)
		}
	}
	for fi, fs := range r.frames {
		switch f := r.frm[fi].(type) {
		case *frameState[float64]:
			o := &frameOut[float64]{}
			r.wire(fi, out, o)
			vals, valid := argValues[float64](in, fs.arg)
			f.run(in, vals, valid, o)
		case *frameState[int64]:
			o := &frameOut[int64]{}
			r.wire(fi, out, o)
			var vals []int64
			var valid []bool
			switch {
			case fs.arg >= 0:
				vals, valid = argValues[int64](in, fs.arg)
			case fs.arg <= -2:
				valid = validOnly(in, -2-fs.arg)
			}
			f.run(in, vals, valid, o)
		}
	}
	r.rowFuncs(in, out)
	for ci, c := range out.num {
		if c != nil {
			c.finalize(r.mem, in.perm)
		} else {
			refs := make([]rowRef, len(in.perm))
			for j, i := range in.perm {
				refs[j] = out.refs[ci][i]
			}
			out.refs[ci] = refs
		}
	}
	return out
}

// wire points a frame's outputs at the calls' columns; the nullable ones
// share one validity slice (a frame's SUM, AVG, MIN and MAX are NULL
// together).
func (r *Rows) wire(fi int, out *runOut, o any) {
	var has []bool
	share := func(col *numCol) {
		if has == nil {
			has = col.ok
		}
		col.ok = has
		switch o := o.(type) {
		case *frameOut[float64]:
			o.has = has
		case *frameOut[int64]:
			o.has = has
		}
	}
	for ci, c := range r.calls {
		if c.frame != fi {
			continue
		}
		col := out.num[ci]
		switch o := o.(type) {
		case *frameOut[float64]:
			switch c.c.Func {
			case Sum:
				o.sum = col.f64
				share(col)
			case Min:
				o.min = col.f64
				share(col)
			case Max:
				o.max = col.f64
				share(col)
			case Avg:
				o.avg = col.f64
				share(col)
			default:
				o.cnt = col.i64
			}
		case *frameOut[int64]:
			switch c.c.Func {
			case Sum:
				o.sum = col.i64
				share(col)
			case Min:
				o.min = col.i64
				share(col)
			case Max:
				o.max = col.i64
				share(col)
			case Avg:
				o.avg = col.f64
				share(col)
			default:
				o.cnt = col.i64
			}
		}
	}
}

const (
	refNull    = -1
	refDefault = -2
)

func (r *Rows) hold(ref rowRef, d int) {
	if r.held != nil && ref.src >= 0 {
		r.held[ref.src].refs += d
	}
}

// rowFuncs computes ROW_NUMBER, RANK, DENSE_RANK and the row-reference
// functions (LAG, LEAD, FIRST_VALUE, LAST_VALUE).
func (r *Rows) rowFuncs(in *runInput, out *runOut) {
	needed := false
	for _, c := range r.calls {
		if c.frame < 0 {
			needed = true
		}
	}
	if !needed {
		for _, pr := range in.runs {
			r.seq[pr.pid] += int64(pr.hi - pr.lo)
		}
		return
	}
	for ci, c := range r.calls {
		if c.c.Func == Lead {
			def := rowRef{src: refNull}
			if c.defArr != nil {
				def.src = refDefault
			}
			for i := range out.refs[ci] {
				out.refs[ci][i] = def
			}
		}
	}
	for i, g := range in.order {
		p := int(in.pid[g])
		at := i
		s := r.seq[p]
		r.seq[p] = s + 1
		k := in.key[g]
		if s == 0 || k != r.lastK[p] {
			r.rank[p] = s + 1
			r.dense[p]++
		}
		r.lastK[p] = k
		// Row references exist only when a function needs them (LAG, LEAD,
		// FIRST_VALUE, LAST_VALUE, or streaming output).
		var cur rowRef
		if in.src != nil {
			cur = rowRef{src: in.src[g], row: in.row[g]}
		}
		for ci := range r.calls {
			c := &r.calls[ci]
			switch c.c.Func {
			case RowNumber:
				out.num[ci].i64[at] = s + 1
			case Rank:
				out.num[ci].i64[at] = r.rank[p]
			case DenseRank:
				out.num[ci].i64[at] = r.dense[p]
			case LastValue:
				out.refs[ci][at] = cur
			case Lag:
				m := int64(c.ringCap)
				slot := p*c.ringCap + int(s%m)
				ring := r.rings[ci]
				if s >= m {
					out.refs[ci][at] = ring[slot]
					r.hold(ring[slot], -1)
				} else if c.defArr != nil {
					out.refs[ci][at] = rowRef{src: refDefault}
				} else {
					out.refs[ci][at] = rowRef{src: refNull}
				}
				ring[slot] = cur
				r.hold(cur, 1)
			case Lead:
				m := int64(c.ringCap)
				slot := p*c.ringCap + int(s%m)
				ring := r.rings[ci]
				if s >= m {
					out.refs[ci][ring[slot].row] = cur
				}
				ring[slot] = rowRef{row: int32(at)}
			case FirstValue:
				if c.ringCap == 0 {
					if s == 0 {
						r.firsts[ci][p] = cur
						r.hold(cur, 1)
					}
					out.refs[ci][at] = r.firsts[ci][p]
					continue
				}
				m := int64(c.ringCap)
				ring := r.rings[ci]
				slot := p*c.ringCap + int(s%m)
				if s >= m {
					r.hold(ring[slot], -1)
				}
				ring[slot] = cur
				r.hold(cur, 1)
				out.refs[ci][at] = ring[p*c.ringCap+int(max(0, s-m+1)%m)]
			}
		}
	}
}

// refArray gathers a row-reference output; colOf maps a record slot to
// the argument column.
func (r *Rows) refArray(c *callPlan, refs []rowRef, colOf func(src int32) arrow.Array, slots []int32) (arrow.Array, error) {
	// index maps a record slot (slots ascend) to its position in srcs.
	srcs := make([]arrow.Array, 0, len(slots)+1)
	var base int32
	var index []int32
	if len(slots) > 0 {
		base = slots[0]
		index = make([]int32, slots[len(slots)-1]-base+1)
	}
	for _, s := range slots {
		index[s-base] = int32(len(srcs))
		srcs = append(srcs, colOf(s))
	}
	def := int32(len(srcs))
	if c.defArr != nil {
		srcs = append(srcs, c.defArr)
	} else {
		srcs = append(srcs, array.MakeArrayOfNull(r.mem, c.typ, 1))
		defer srcs[def].Release()
	}
	mapped := make([]rowRef, len(refs))
	for i, x := range refs {
		switch x.src {
		case refNull:
			mapped[i] = x
		case refDefault:
			mapped[i] = rowRef{src: def}
		default:
			mapped[i] = rowRef{src: index[x.src-base], row: x.row}
		}
	}
	a, err := gather(r.mem, srcs, mapped)
	if err != nil {
		return nil, fmt.Errorf("window: %s: %w", c.c.Func, err)
	}
	return a, nil
}

// processBounded runs every buffered batch and returns one record per batch.
func (r *Rows) processBounded() ([]arrow.Record, error) {
	if r.framesOnly() {
		return r.processFrames()
	}
	in := &runInput{}
	off := 0
	for i, rec := range r.recs {
		n := int(rec.NumRows())
		in.segs = append(in.segs, seg{src: int32(i), rec: rec, off: off, n: n})
		off += n
	}
	if off == 0 {
		return nil, nil // no rows in, no rows out
	}
	if err := r.flatten(in); err != nil {
		return nil, err
	}
	res := r.compute(in)
	defer res.release()
	slots := make([]int32, len(r.recs))
	for i := range slots {
		slots[i] = int32(i)
	}
	big := make([]arrow.Array, len(r.calls))
	defer releaseArrays(big)
	for ci := range r.calls {
		if res.refs[ci] == nil {
			continue
		}
		c := &r.calls[ci]
		a, err := r.refArray(c, res.refs[ci], func(s int32) arrow.Array { return r.recs[s].Column(c.c.Arg) }, slots)
		if err != nil {
			return nil, err
		}
		big[ci] = a
	}
	var outs []arrow.Record
	for _, s := range in.segs {
		cols := slices.Clone(s.rec.Columns())
		extra := make([]arrow.Array, len(r.calls))
		for ci, c := range r.calls {
			if big[ci] != nil {
				extra[ci] = array.NewSlice(big[ci], int64(s.off), int64(s.off+s.n))
			} else {
				extra[ci] = res.num[ci].array(r.mem, c.typ, s.off, s.n)
			}
		}
		outs = append(outs, columnar.MakeRecord(r.schema, append(cols, extra...), int64(s.n)))
		releaseArrays(extra)
		r.stats.OutputRows += int64(s.n)
	}
	return outs, nil
}

func (o *runOut) release() {
	for _, c := range o.num {
		if c != nil && c.buf != nil {
			c.buf.Release()
		}
	}
}

// release (streaming) processes the buffered rows whose order key is at or
// below wm (and the late rows kept for processing) and returns them as one
// record in processing order.
func (r *Rows) release(wm int64) ([]arrow.Record, error) {
	if r.held == nil {
		r.held = map[int32]*heldRec{}
	}
	// Move newly pushed records into held.
	for i, rec := range r.recs {
		r.held[r.nextID] = &heldRec{rec: rec, sel: r.sels[i], late: r.lateMark[i]}
		r.ids = append(r.ids, r.nextID)
		r.nextID++
	}
	r.recs, r.sels, r.lateMark = r.recs[:0], r.sels[:0], r.lateMark[:0]
	in := &runInput{}
	off := 0
	for _, id := range r.ids {
		h := r.held[id]
		if len(h.sel) == 0 {
			continue
		}
		col := h.rec.Column(r.spec.OrderBy)
		keys := arrow.Int64Traits.CastFromBytes(col.Data().Buffers()[1].Bytes())[col.Data().Offset():]
		var take, keep []int32
		for _, row := range h.sel {
			if keys[row] <= wm || (h.late != nil && h.late[row]) {
				take = append(take, row)
			} else {
				keep = append(keep, row)
			}
		}
		if len(take) == 0 {
			continue
		}
		in.segs = append(in.segs, seg{src: id, rec: h.rec, sel: take, off: off, n: len(take)})
		off += len(take)
		h.sel = keep
	}
	if wm > r.relWM {
		r.relWM = wm
	}
	defer r.dropUnheld()
	if off == 0 {
		return nil, nil
	}
	if err := r.flatten(in); err != nil {
		return nil, err
	}
	res := r.compute(in)
	defer res.release()
	var slots []int32
	for id := range r.held {
		slots = append(slots, id)
	}
	slices.Sort(slots)
	cols := make([]arrow.Array, 0, r.schema.NumFields())
	defer func() { releaseArrays(cols) }()
	refs := make([]rowRef, len(in.glob))
	for i, g := range in.glob {
		refs[i] = rowRef{src: in.src[g], row: in.row[g]}
	}
	for c := 0; c < r.input.NumFields(); c++ {
		a, err := r.refArray(&callPlan{typ: r.input.Field(c).Type}, refs, func(s int32) arrow.Array { return r.held[s].rec.Column(c) }, slots)
		if err != nil {
			return nil, err
		}
		cols = append(cols, a)
	}
	for ci := range r.calls {
		c := &r.calls[ci]
		if res.refs[ci] != nil {
			a, err := r.refArray(c, res.refs[ci], func(s int32) arrow.Array { return r.held[s].rec.Column(c.c.Arg) }, slots)
			if err != nil {
				return nil, err
			}
			cols = append(cols, a)
		} else {
			cols = append(cols, res.num[ci].array(r.mem, c.typ, 0, off))
		}
	}
	r.stats.OutputRows += int64(off)
	return []arrow.Record{columnar.MakeRecord(r.schema, cols, int64(off))}, nil
}

// dropUnheld releases records with no pending row and no ring reference.
func (r *Rows) dropUnheld() {
	keep := r.ids[:0]
	for _, id := range r.ids {
		h := r.held[id]
		if len(h.sel) == 0 && h.refs == 0 {
			h.rec.Release()
			delete(r.held, id)
			continue
		}
		keep = append(keep, id)
	}
	r.ids = keep
}

// sortPairs sorts keys ascending, moving idx along, ties in idx order
// (idx starts ascending): an insertion sort over the contiguous pairs,
// linear on nearly ordered event times (a stream's late rows move back by
// up to its out-of-orderness: up to 32 moves per row on average), falling
// back to pdqsort by (key, idx) when the input is far from ordered.
func sortPairs(keys []int64, idx []int32) {
	budget := 32*len(idx) + 64
	for i := 1; i < len(keys); i++ {
		k := keys[i]
		if keys[i-1] <= k {
			continue
		}
		v := idx[i]
		j := i
		for j > 0 && keys[j-1] > k {
			keys[j], idx[j] = keys[j-1], idx[j-1]
			j--
		}
		keys[j], idx[j] = k, v
		budget -= i - j
		if budget < 0 {
			sort.Sort(pairs{keys, idx})
			return
		}
	}
}

type pairs struct {
	keys []int64
	idx  []int32
}

func (p pairs) Len() int { return len(p.keys) }
func (p pairs) Less(a, b int) bool {
	return p.keys[a] < p.keys[b] || (p.keys[a] == p.keys[b] && p.idx[a] < p.idx[b])
}
func (p pairs) Swap(a, b int) {
	p.keys[a], p.keys[b] = p.keys[b], p.keys[a]
	p.idx[a], p.idx[b] = p.idx[b], p.idx[a]
}
