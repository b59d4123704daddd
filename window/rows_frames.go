package window

import (
	"fmt"
	"math"
	"slices"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

// The bounded frame path: when every call of a bounded Rows is a frame
// aggregate (SUM, AVG, COUNT, COUNT(*), MIN, MAX), Finish computes each
// partition's results from column slices instead of per-row state:
//
//   - layout gives every input row its processing position: a stable
//     counting sort by partition id (one pass writing each row's position,
//     sequential), then per partition a sort by ORDER BY key that is
//     linear on nearly ordered event times and skipped when the partition
//     is already in order;
//   - the argument is scattered once to its processing positions (one
//     sequential stream per partition), so each partition's values are a
//     contiguous slice;
//   - SUM/AVG/COUNT are running sums over the slice (add the entering
//     value, subtract the leaving one) recomputed exactly (Neumaier) at
//     the start of each chunk of frameChunk rows and every n rows, the
//     same error bound as the per-row path (at most 2n roundings: within
//     2n·ε of Σ|x| over the last two frames); NaN and ±Inf are counted
//     apart from the finite sum, so an infinite value leaving the frame
//     leaves no NaN behind;
//   - MIN/MAX of n-row frames use van Herk/Gil-Werman: per block of n rows
//     a prefix and a suffix extreme, and the frame ending at row k is
//     min(suffix[k-n+1], prefix[k]) — three branch-free passes, O(1) per
//     row whatever the data (NULLs become the neutral value; a chunk
//     holding NaN takes a NaN-aware minimum);
//   - results are written sequentially in processing order, then gathered
//     into the output buffers in input order (one pass, one sequential
//     read stream per partition).

// frameChunk is the number of a partition's rows processed per scratch
// fill: small enough that the scratch slices stay in L1/L2, large enough
// that re-reading n-1 rows of history per chunk costs little.
const frameChunk = 2048

// framesOnly reports whether the bounded frame path applies: a bounded
// input and only frame aggregates.
func (r *Rows) framesOnly() bool {
	if r.spec.Streaming || r.perRow {
		return false
	}
	for _, c := range r.calls {
		if c.frame < 0 {
			return false
		}
	}
	return true
}

// frameCols are one frame's outputs in input order (nil: not wanted).
type frameCols[T number] struct {
	sum, min, max []T
	avg           []float64
	cnt, star     []int64
	w             int    // stride of sum … star: output k is element k·w
	has           []bool // frame holds a non-NULL value (only when the argument has NULLs); stride 1
}

// frameScratch holds one chunk's MIN/MAX blocks.
type frameScratch[T number] struct {
	y          []T // x with NULLs replaced by the neutral value
	pre, suf   []T
	pre2, suf2 []T // the maxima of slideMinMax
}

func (s *frameScratch[T]) size(n int) {
	if cap(s.y) < n {
		s.y, s.pre, s.suf, s.pre2, s.suf2 = make([]T, n), make([]T, n), make([]T, n), make([]T, n), make([]T, n)
	}
	s.y, s.pre, s.suf, s.pre2, s.suf2 = s.y[:n], s.pre[:n], s.suf[:n], s.pre2[:n], s.suf2[:n]
}

// frameLayout is where the frame path puts each input row: partitions
// one after the other (a stable counting sort by partition id), each in
// (ORDER BY key, arrival) order.
type frameLayout struct {
	pos   []int32   // processing position of each input row
	runs  []partRun // each partition's positions
	spare []uint64  // a free slice of one word per row (the order keys' memory), or nil
}

// layout computes the frame path's processing positions of in's rows.
func (r *Rows) layout(in *runInput) (*frameLayout, error) {
	total := 0
	for _, s := range in.segs {
		total += s.n
	}
	pid := make([]uint32, total)
	if r.keys != nil {
		for _, s := range in.segs {
			r.kcols = r.kcols[:0]
			for _, c := range r.spec.PartitionBy {
				r.kcols = append(r.kcols, s.rec.Column(c))
			}
			if _, err := r.keys.Insert(r.kcols, nil, pid[s.off:s.off+s.n]); err != nil {
				return nil, fmt.Errorf("window: PARTITION BY: %w", err)
			}
		}
	}
	parts := 1
	if r.keys != nil {
		parts = r.keys.Len()
	}
	// The frame path keeps no per-partition state (a frame as long as 16M
	// rows must not size rings per partition); Stats.Open counts them.
	r.nparts = max(r.nparts, parts)
	counts := make([]int32, parts)
	kernels.Histogram(counts, pid)
	cur := make([]int32, parts)
	kernels.PartitionStarts(cur, counts)
	lay := &frameLayout{pos: make([]int32, total)}
	pos := lay.pos
	for j, p := range pid {
		c := cur[p]
		pos[j] = c
		cur[p] = c + 1
	}
	lo := 0
	for p, c := range counts {
		if c > 0 {
			lay.runs = append(lay.runs, partRun{pid: uint32(p), lo: lo, hi: lo + int(c)})
			lo += int(c)
		}
	}
	if r.spec.OrderBy < 0 {
		return lay, nil
	}
	// Order keys at their counting-sort positions, then a stable sort of
	// each partition: (key, counting-sort position) pairs, linear on
	// nearly ordered event times. A partition that was out of order moves
	// its rows' positions along.
	keys := make([]int64, total)
	for _, s := range in.segs {
		col := s.rec.Column(r.spec.OrderBy)
		vals := arrow.Int64Traits.CastFromBytes(col.Data().Buffers()[1].Bytes())[col.Data().Offset():][:s.n]
		ps := pos[s.off : s.off+s.n]
		nulls := col.NullN() > 0
		desc := r.spec.OrderDesc
		for i, k := range vals {
			if nulls && col.IsNull(i) {
				k = math.MinInt64
			}
			if desc {
				k = ^k
			}
			keys[ps[i]] = k
		}
	}
	// to: the sorted position of each counting-sort position, in the
	// partition ids' memory (no longer needed).
	var from, to []int32
	for _, pr := range lay.runs {
		ks := keys[pr.lo:pr.hi]
		if slices.IsSorted(ks) {
			continue
		}
		if to == nil {
			to = unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(pid))), len(pid))
			for i := range to {
				to[i] = int32(i)
			}
		}
		f := growTo(from, pr.hi-pr.lo)[:pr.hi-pr.lo]
		from = f
		for i := range f {
			f[i] = int32(pr.lo + i)
		}
		sortPairs(ks, f)
		for i, c := range f {
			to[c] = int32(pr.lo + i)
		}
	}
	lay.spare = unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(keys))), len(keys))
	if to != nil {
		for j, c := range pos {
			pos[j] = to[c]
		}
	}
	return lay, nil
}

// processFrames is processBounded for the frame path.
func (r *Rows) processFrames() ([]arrow.Record, error) {
	in := &runInput{}
	off := 0
	for i, rec := range r.recs {
		n := int(rec.NumRows())
		in.segs = append(in.segs, seg{src: int32(i), rec: rec, off: off, n: n})
		off += n
	}
	if off == 0 {
		return nil, nil
	}
	lay, err := r.layout(in)
	if err != nil {
		return nil, err
	}
	total := off
	// Results in processing order, one row of len(calls) values per row,
	// then gathered into the output buffers.
	w := len(r.calls)
	res := make([]uint64, total*w)
	hasOf := make([][]bool, len(r.frames))
	for fi, fs := range r.frames {
		var valid []bool
		switch {
		case fs.arg >= 0:
			valid = sortedValid(in, lay, fs.arg)
		case fs.arg <= -2:
			valid = sortedValid(in, lay, -2-fs.arg)
		}
		if valid != nil {
			hasOf[fi] = make([]bool, total)
		}
		if fs.float {
			fc := wireFrame[float64](r, fi, res, hasOf[fi])
			var vals []float64
			special := false
			if fs.arg >= 0 {
				vals, special = sortedValues[float64](in, lay, fs.arg)
			}
			runFrames(lay, fs.n, vals, valid, special, fc)
		} else {
			fc := wireFrame[int64](r, fi, res, hasOf[fi])
			var vals []int64
			if fs.arg >= 0 {
				vals, _ = sortedValues[int64](in, lay, fs.arg)
			}
			runFrames(lay, fs.n, vals, valid, false, fc)
		}
	}
	cols := make([]*numCol, len(r.calls))
	defer func() {
		for _, c := range cols {
			if c != nil && c.buf != nil {
				c.buf.Release()
			}
		}
	}()
	for ci, c := range r.calls {
		col := &numCol{buf: memory.NewResizableBuffer(r.mem)}
		col.buf.Resize(total * 8)
		if has := hasOf[c.frame]; has != nil {
			switch c.c.Func {
			case Sum, Min, Max, Avg:
				col.okOut = has // replaced by its input-order copy below
			}
		}
		cols[ci] = col
	}
	gatherResults(lay.pos, res, cols)
	var outs []arrow.Record
	for _, s := range in.segs {
		cs := make([]arrow.Array, 0, r.schema.NumFields())
		cs = append(cs, s.rec.Columns()...)
		for ci, c := range r.calls {
			cs = append(cs, cols[ci].array(r.mem, c.typ, s.off, s.n))
		}
		outs = append(outs, columnar.MakeRecord(r.schema, cs, int64(s.n)))
		releaseArrays(cs[r.input.NumFields():])
		r.stats.OutputRows += int64(s.n)
	}
	return outs, nil
}

// gatherResults writes output row j of every column from processing row
// pos[j] of res (len(cols) values per row): one pass whose reads follow
// one sequential stream per partition. Validity slices shared by several
// columns are gathered once.
func gatherResults(pos []int32, res []uint64, cols []*numCol) {
	w := len(cols)
	dst := make([][]uint64, w)
	for ci, c := range cols {
		dst[ci] = arrow.Uint64Traits.CastFromBytes(c.buf.Bytes())[:len(pos)]
	}
	switch w {
	case 1:
		d0 := dst[0]
		for j, p := range pos {
			d0[j] = res[p]
		}
	case 3:
		d0, d1, d2 := dst[0], dst[1], dst[2]
		for j, p := range pos {
			r := res[int(p)*3 : int(p)*3+3]
			d0[j], d1[j], d2[j] = r[0], r[1], r[2]
		}
	default:
		for j, p := range pos {
			r := res[int(p)*w : int(p)*w+w]
			for ci, v := range r {
				dst[ci][j] = v
			}
		}
	}
	done := map[*bool][]bool{}
	for _, c := range cols {
		if c.okOut == nil {
			continue
		}
		key := &c.okOut[0]
		if g, ok := done[key]; ok {
			c.okOut = g
			continue
		}
		g := make([]bool, len(pos))
		for j, p := range pos {
			g[j] = c.okOut[p]
		}
		if !slices.Contains(g, false) {
			g = nil
		}
		done[key] = g
		c.okOut = g
	}
}

// wireFrame returns frame fi's outputs: the calls' result columns, and has
// (nil when the argument has no NULL).
func wireFrame[T number](r *Rows, fi int, res []uint64, has []bool) *frameCols[T] {
	w := len(r.calls)
	fc := &frameCols[T]{w: w, has: has}
	vals := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(res))), len(res))
	f64 := unsafe.Slice((*float64)(unsafe.Pointer(unsafe.SliceData(res))), len(res))
	i64 := unsafe.Slice((*int64)(unsafe.Pointer(unsafe.SliceData(res))), len(res))
	for ci, c := range r.calls {
		if c.frame != fi {
			continue
		}
		switch c.c.Func {
		case Sum:
			fc.sum = vals[ci:]
		case Min:
			fc.min = vals[ci:]
		case Max:
			fc.max = vals[ci:]
		case Avg:
			fc.avg = f64[ci:]
		case CountStar:
			fc.star = i64[ci:]
		default:
			fc.cnt = i64[ci:]
		}
	}
	return fc
}

// sortedValues returns column col of in's rows at their processing
// positions (in lay's spare memory when there is some), and whether a
// value is NaN or ±Inf.
func sortedValues[T number](in *runInput, lay *frameLayout, col int) ([]T, bool) {
	var vals []T
	if lay.spare != nil {
		vals = unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(lay.spare))), len(lay.spare))
		lay.spare = nil
	} else {
		vals = make([]T, len(lay.pos))
	}
	var acc T
	for _, s := range in.segs {
		d := s.rec.Column(col).Data()
		var raw []T
		switch any(vals).(type) {
		case []float64:
			raw = any(arrow.Float64Traits.CastFromBytes(d.Buffers()[1].Bytes())[d.Offset():]).([]T)
		default:
			raw = any(arrow.Int64Traits.CastFromBytes(d.Buffers()[1].Bytes())[d.Offset():]).([]T)
		}
		raw = raw[:s.n]
		for i, p := range lay.pos[s.off : s.off+s.n] {
			v := raw[i]
			vals[p] = v
			acc += v - v // 0 unless some v is NaN or ±Inf
		}
	}
	return vals, acc != 0 || acc != acc
}

// sortedValid returns the validity of column col of in's rows at their
// processing positions, nil when the column has no NULL.
func sortedValid(in *runInput, lay *frameLayout, col int) []bool {
	var valid []bool
	for _, s := range in.segs {
		a := s.rec.Column(col)
		if a.NullN() == 0 {
			continue
		}
		if valid == nil {
			valid = make([]bool, len(lay.pos))
			for i := range valid {
				valid[i] = true
			}
		}
		for i, p := range lay.pos[s.off : s.off+s.n] {
			valid[p] = a.IsValid(i)
		}
	}
	return valid
}

// runFrames computes one frame's outputs partition by partition; vals and
// valid are in processing order (vals nil: COUNT(*) or a validity-only
// COUNT; valid nil: no NULL); special: vals holds NaN or ±Inf.
func runFrames[T number](lay *frameLayout, n int, vals []T, valid []bool, special bool, fc *frameCols[T]) {
	if n == 0 {
		for _, pr := range lay.runs {
			unboundedRun(pr.lo, pr.hi, vals, valid, fc)
		}
		return
	}
	var sc frameScratch[T]
	for _, pr := range lay.runs {
		for cs := pr.lo; cs < pr.hi; cs += frameChunk {
			ce := min(cs+frameChunk, pr.hi)
			h := min(n-1, cs-pr.lo)
			lo := cs - h
			var x []T
			if vals != nil {
				x = vals[lo:ce]
			}
			var ok []bool
			if valid != nil {
				ok = valid[lo:ce]
			}
			v := fc.at(cs)
			chunkFrames(x, ok, ce-lo, h, n, special, &v, &sc)
		}
	}
}

// at returns the outputs from position p on.
func (fc *frameCols[T]) at(p int) frameCols[T] {
	v := frameCols[T]{w: fc.w}
	if fc.sum != nil {
		v.sum = fc.sum[p*fc.w:]
	}
	if fc.min != nil {
		v.min = fc.min[p*fc.w:]
	}
	if fc.max != nil {
		v.max = fc.max[p*fc.w:]
	}
	if fc.avg != nil {
		v.avg = fc.avg[p*fc.w:]
	}
	if fc.cnt != nil {
		v.cnt = fc.cnt[p*fc.w:]
	}
	if fc.star != nil {
		v.star = fc.star[p*fc.w:]
	}
	if fc.has != nil {
		v.has = fc.has[p:]
	}
	return v
}

// isFloat reports whether T is float64.
func isFloat[T number]() bool {
	var z T
	_, ok := any(z).(float64)
	return ok
}

// extreme returns the largest (hi) or smallest value of T: ±Inf, or the
// int64 bounds.
func extreme[T number](hi bool) T {
	var z T
	switch any(z).(type) {
	case float64:
		if hi {
			return any(math.Inf(1)).(T)
		}
		return any(math.Inf(-1)).(T)
	}
	if hi {
		return any(int64(math.MaxInt64)).(T)
	}
	return any(int64(math.MinInt64)).(T)
}

// exactSum is the Neumaier-compensated sum of xs (floats; ints add
// exactly). ok, when not nil, selects the values; non-finite values are
// skipped (the callers count them apart).
func exactSum[T number](xs []T, ok []bool) T {
	var s, c T
	for k, v := range xs {
		if (ok == nil || ok[k]) && v-v == 0 {
			s, c = neumaier(s, c, v)
		}
	}
	return s + c
}

// chunkFrames computes the outputs of rows h..L-1 of a chunk (x and ok:
// the chunk's values and validity, nil when absent) whose frames of n
// rows reach back into the history rows 0..h-1 (h = n-1, or fewer at the
// partition's start). Output 0 of fc is row h.
func chunkFrames[T number](x []T, ok []bool, L, h, n int, special bool, fc *frameCols[T], sc *frameScratch[T]) {
	if ok != nil && !slices.Contains(ok, false) {
		ok = nil
	}
	if special {
		special = false
		for _, v := range x {
			special = special || v-v != 0
		}
	}
	if fc.star != nil {
		for k := h; k < L; k++ {
			fc.star[(k-h)*fc.w] = int64(min(k+1, n))
		}
	}
	if fc.sum != nil || fc.avg != nil || fc.cnt != nil || fc.has != nil {
		if x != nil && !special && ok == nil {
			slideSum(x, h, n, fc)
		} else {
			slideSumGeneral(x, ok, L, h, n, fc)
		}
	}
	if fc.min == nil && fc.max == nil {
		return
	}
	sc.size(L)
	hasNaN := false
	if special {
		for _, v := range x {
			hasNaN = hasNaN || v != v
		}
	}
	if fc.min != nil && fc.max != nil && ok == nil && !hasNaN {
		slideMinMax(x, sc.pre, sc.suf, sc.pre2, sc.suf2, h, n, fc.w, fc.min, fc.max)
		return
	}
	if fc.min != nil {
		y := x
		if ok != nil {
			y = sc.y
			nv := extreme[T](true)
			if hasNaN {
				nv = any(math.NaN()).(T) // the identity of minNaNHigh
			}
			for k, v := range x {
				if !ok[k] {
					v = nv
				}
				y[k] = v
			}
		}
		if hasNaN {
			slideMinNaN(any(y).([]float64), any(sc.pre).([]float64), any(sc.suf).([]float64), h, n, fc.w, any(fc.min).([]float64))
		} else {
			slideMin(y, sc.pre, sc.suf, h, n, fc.w, fc.min)
		}
	}
	if fc.max != nil {
		y := x
		if ok != nil {
			y = sc.y
			nv := extreme[T](false)
			for k, v := range x {
				if !ok[k] {
					v = nv
				}
				y[k] = v
			}
		}
		slideMax(y, sc.pre, sc.suf, h, n, fc.w, fc.max)
	}
}

// slideSum is the SUM/AVG/COUNT of frames over values without NULL, NaN
// or ±Inf: a running sum recomputed exactly every n rows.
func slideSum[T number](x []T, h, n int, fc *frameCols[T]) {
	L := len(x)
	fl := isFloat[T]()
	s := exactSum(x[:h], nil)
	for blk := h; blk < L; blk += n {
		e := min(blk+n, L)
		for k := blk; k < e; k++ {
			s += x[k]
			if k >= n {
				s -= x[k-n]
			}
			g := k - h
			if fc.sum != nil {
				fc.sum[g*fc.w] = s
			}
			if fc.avg != nil {
				fc.avg[g*fc.w] = float64(s) / float64(min(k+1, n))
			}
			if fc.cnt != nil {
				fc.cnt[g*fc.w] = int64(min(k+1, n))
			}
			if fc.has != nil {
				fc.has[g] = true // a NULL-free chunk: the current row counts
			}
		}
		if fl && e < L {
			s = exactSum(x[max(0, e-n):e], nil)
		}
	}
}

// slideSumGeneral is slideSum with NULLs (ok not nil) and non-finite
// values, which are counted apart from the finite sum; vals false: the
// frame counts validity only.
func slideSumGeneral[T number](x []T, ok []bool, L, h, n int, fc *frameCols[T]) {
	vals := x != nil
	fl := isFloat[T]()
	var s T
	var cnt int64
	var nNaN, nPos, nNeg int
	move := func(k, d int) {
		if ok != nil && !ok[k] {
			return
		}
		cnt += int64(d)
		if !vals {
			return
		}
		v := x[k]
		if v-v == 0 {
			if d > 0 {
				s += v
			} else {
				s -= v
			}
			return
		}
		var f float64
		if fl {
			f = any(v).(float64)
		}
		switch {
		case f != f:
			nNaN += d
		case f > 0:
			nPos += d
		default:
			nNeg += d
		}
	}
	for k := 0; k < h; k++ {
		move(k, 1)
	}
	if vals {
		s = exactSum(x[:h], ok)
	}
	for blk := h; blk < L; blk += n {
		e := min(blk+n, L)
		for k := blk; k < e; k++ {
			move(k, 1)
			if k >= n {
				move(k-n, -1)
			}
			g := k - h
			if fc.has != nil {
				fc.has[g] = cnt > 0
			}
			if fc.cnt != nil {
				fc.cnt[g*fc.w] = cnt
			}
			if !vals || cnt == 0 {
				continue
			}
			res := s
			if fl && nNaN+nPos+nNeg > 0 {
				var f float64
				switch {
				case nNaN > 0 || (nPos > 0 && nNeg > 0):
					f = math.NaN()
				case nPos > 0:
					f = math.Inf(1)
				default:
					f = math.Inf(-1)
				}
				res = any(f).(T)
			}
			if fc.sum != nil {
				fc.sum[g*fc.w] = res
			}
			if fc.avg != nil {
				fc.avg[g*fc.w] = float64(res) / float64(cnt)
			}
		}
		if fl && vals && e < L {
			lo := max(0, e-n)
			var okw []bool
			if ok != nil {
				okw = ok[lo:e]
			}
			s = exactSum(x[lo:e], okw)
		}
	}
}

// slideMin writes, for rows k ≥ h, the minimum of y over the frame
// [k-n+1, k] (clipped at 0) to out[(k-h)·w]: van Herk/Gil-Werman with
// blocks of n rows from y[0]. y must not hold NaN.
func slideMin[T number](y, pre, suf []T, h, n int, w int, out []T) {
	L := len(y)
	for b := 0; b < L; b += n {
		e := min(b+n, L)
		m := y[b]
		for k := b; k < e; k++ {
			m = min(m, y[k])
			pre[k] = m
		}
	}
	if L >= n {
		for b := (L - n) / n * n; b >= 0; b -= n {
			e := min(b+n, L) - 1
			m := y[e]
			for k := e; k >= b; k-- {
				m = min(m, y[k])
				suf[k] = m
			}
		}
	}
	for k := h; k < min(n-1, L); k++ {
		out[(k-h)*w] = pre[k]
	}
	for k := max(h, n-1); k < L; k++ {
		out[(k-h)*w] = min(suf[k-n+1], pre[k])
	}
}

// slideMax is slideMin for the maximum; a NaN wins (NaN sorts above every
// number).
func slideMax[T number](y, pre, suf []T, h, n int, w int, out []T) {
	L := len(y)
	for b := 0; b < L; b += n {
		e := min(b+n, L)
		m := y[b]
		for k := b; k < e; k++ {
			m = max(m, y[k])
			pre[k] = m
		}
	}
	if L >= n {
		for b := (L - n) / n * n; b >= 0; b -= n {
			e := min(b+n, L) - 1
			m := y[e]
			for k := e; k >= b; k-- {
				m = max(m, y[k])
				suf[k] = m
			}
		}
	}
	for k := h; k < min(n-1, L); k++ {
		out[(k-h)*w] = pre[k]
	}
	for k := max(h, n-1); k < L; k++ {
		out[(k-h)*w] = max(suf[k-n+1], pre[k])
	}
}

// slideMinMax is slideMin and slideMax in one set of passes (y without
// NaN or NULL).
func slideMinMax[T number](y, pre, suf, pre2, suf2 []T, h, n, w int, lo, hi []T) {
	L := len(y)
	for b := 0; b < L; b += n {
		e := min(b+n, L)
		m, M := y[b], y[b]
		for k := b; k < e; k++ {
			v := y[k]
			m, M = min(m, v), max(M, v)
			pre[k], pre2[k] = m, M
		}
	}
	if L >= n {
		for b := (L - n) / n * n; b >= 0; b -= n {
			e := min(b+n, L) - 1
			m, M := y[e], y[e]
			for k := e; k >= b; k-- {
				v := y[k]
				m, M = min(m, v), max(M, v)
				suf[k], suf2[k] = m, M
			}
		}
	}
	for k := h; k < min(n-1, L); k++ {
		lo[(k-h)*w], hi[(k-h)*w] = pre[k], pre2[k]
	}
	for k := max(h, n-1); k < L; k++ {
		j := k - n + 1
		lo[(k-h)*w], hi[(k-h)*w] = min(suf[j], pre[k]), max(suf2[j], pre2[k])
	}
}

// minNaNHigh is the smaller of a and b with NaN above every number.
func minNaNHigh(a, b float64) float64 {
	if a != a {
		return b
	}
	if b != b {
		return a
	}
	return min(a, b)
}

// slideMinNaN is slideMin over floats holding NaN, which loses to every
// number.
func slideMinNaN(y, pre, suf []float64, h, n int, w int, out []float64) {
	L := len(y)
	for b := 0; b < L; b += n {
		e := min(b+n, L)
		m := y[b]
		for k := b; k < e; k++ {
			m = minNaNHigh(m, y[k])
			pre[k] = m
		}
	}
	if L >= n {
		for b := (L - n) / n * n; b >= 0; b -= n {
			e := min(b+n, L) - 1
			m := y[e]
			for k := e; k >= b; k-- {
				m = minNaNHigh(m, y[k])
				suf[k] = m
			}
		}
	}
	for k := h; k < min(n-1, L); k++ {
		out[(k-h)*w] = pre[k]
	}
	for k := max(h, n-1); k < L; k++ {
		out[(k-h)*w] = minNaNHigh(suf[k-n+1], pre[k])
	}
}

// unboundedRun computes one partition's UNBOUNDED PRECEDING frames: a
// compensated running sum of the finite values (non-finite ones counted
// apart), the count, and running MIN/MAX.
func unboundedRun[T number](from, to int, flat []T, valid []bool, fc *frameCols[T]) {
	fl := isFloat[T]()
	var s, comp, lo, hi T
	var cnt, seq int64
	var nNaN, nPos, nNeg int
	for g := from; g < to; g++ {
		seq++
		if valid == nil || valid[g] {
			if flat != nil {
				x := flat[g]
				if x-x == 0 {
					if fl {
						s, comp = neumaier(s, comp, x)
					} else {
						s += x
					}
				} else if fl {
					f := any(x).(float64)
					switch {
					case f != f:
						nNaN++
					case f > 0:
						nPos++
					default:
						nNeg++
					}
				}
				if cnt == 0 || lessEq(x, lo) {
					lo = x
				}
				if cnt == 0 || lessEq(hi, x) {
					hi = x
				}
			}
			cnt++
		}
		if fc.star != nil {
			fc.star[g*fc.w] = seq
		}
		if fc.cnt != nil {
			fc.cnt[g*fc.w] = cnt
		}
		if fc.has != nil {
			fc.has[g] = cnt > 0
		}
		if cnt == 0 || flat == nil {
			continue
		}
		res := s + comp
		if nNaN+nPos+nNeg > 0 {
			var f float64
			switch {
			case nNaN > 0 || (nPos > 0 && nNeg > 0):
				f = math.NaN()
			case nPos > 0:
				f = math.Inf(1)
			default:
				f = math.Inf(-1)
			}
			res = any(f).(T)
		}
		if fc.sum != nil {
			fc.sum[g*fc.w] = res
		}
		if fc.avg != nil {
			fc.avg[g*fc.w] = float64(res) / float64(cnt)
		}
		if fc.min != nil {
			fc.min[g*fc.w] = lo
		}
		if fc.max != nil {
			fc.max[g*fc.w] = hi
		}
	}
}
