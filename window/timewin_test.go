package window

import (
	"bytes"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/agg"
	"github.com/velo-engine/velo/columnar"
)

// testSchema: ts int64 ms, k utf8 (nullable), v float64 (nullable), q int64.
var testSchema = columnar.NewSchema([]string{"ts", "k", "v", "q"},
	[]arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String, arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Int64})

type trow struct {
	ts     int64
	tsNull bool
	k      string
	kNull  bool
	v      float64
	vNull  bool
	q      int64
	only   []int64 // reference only: the window starts a late row may enter
}

func mkRec(mem memory.Allocator, rows []trow) arrow.Record {
	ts, ks, vs, qs := make([]int64, len(rows)), make([]string, len(rows)), make([]float64, len(rows)), make([]int64, len(rows))
	tv, kv, vv := make([]bool, len(rows)), make([]bool, len(rows)), make([]bool, len(rows))
	for i, r := range rows {
		ts[i], ks[i], vs[i], qs[i] = r.ts, r.k, r.v, r.q
		tv[i], kv[i], vv[i] = !r.tsNull, !r.kNull, !r.vNull
	}
	return columnar.NewRecord(testSchema, []arrow.Array{
		columnar.BuildInt64(mem, ts, tv), columnar.BuildString(mem, ks, kv),
		columnar.BuildFloat64(mem, vs, vv), columnar.BuildInt64(mem, qs, nil)})
}

// rowsOf renders records as "col|col|..." lines.
func rowsOf(recs []arrow.Record) []string {
	var out []string
	for _, r := range recs {
		for i := 0; i < int(r.NumRows()); i++ {
			var b strings.Builder
			for c := 0; c < int(r.NumCols()); c++ {
				if c > 0 {
					b.WriteByte('|')
				}
				b.WriteString(r.Column(c).ValueStr(i))
			}
			out = append(out, b.String())
		}
	}
	return out
}

var countSum = []agg.AggSpec{{Func: agg.CountStar, Name: "n"}, {Func: agg.Sum, Column: 3, Name: "sq"}}

type pusher struct {
	t    *testing.T
	mem  memory.Allocator
	w    *TimeWindow
	recs []arrow.Record
}

func newPusher(t *testing.T, mem memory.Allocator, spec Spec) *pusher {
	w, err := NewTimeWindow(mem, testSchema, spec)
	require.NoError(t, err)
	return &pusher{t: t, mem: mem, w: w}
}

// push feeds rows as one batch and returns the emitted rows.
func (p *pusher) push(rows ...trow) []string {
	rec := mkRec(p.mem, rows)
	defer rec.Release()
	out, err := p.w.Push(columnar.Batch{Rec: rec})
	require.NoError(p.t, err)
	return p.keep(out)
}

func (p *pusher) keep(out []arrow.Record) []string {
	for _, r := range out {
		require.True(p.t, r.Schema().Equal(p.w.Schema()), "schema %s", r.Schema())
	}
	p.recs = append(p.recs, out...)
	return rowsOf(out)
}

func (p *pusher) finish() []string {
	out, err := p.w.Finish()
	require.NoError(p.t, err)
	return p.keep(out)
}

func (p *pusher) release() {
	releaseRecords(p.recs)
	p.w.Release()
}

func a(ts int64, q int64) trow { return trow{ts: ts, k: "a", q: q} }
func b(ts int64, q int64) trow { return trow{ts: ts, k: "b", q: q} }

func TestTumblingGolden(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	p := newPusher(t, mem, Spec{Kind: Tumbling, SizeMs: 10, MaxOutOfOrdernessMs: NoOutOfOrderness,
		Keys: []agg.KeySpec{{Column: 1}}, Aggs: countSum})
	defer p.release()
	require.Equal(t, []string{"k", "window_start", "window_end", "n", "sq"}, fieldNames(p.w.Schema()))
	// a@10 lies exactly on the first window's end: it belongs to [10, 20).
	got := p.push(a(0, 1), a(5, 2), b(9, 4), a(10, 8), b(19, 16), a(25, 32))
	require.Equal(t, []string{"a|0|10|2|3", "b|0|10|1|4", "a|10|20|1|8", "b|10|20|1|16"}, got)
	require.Equal(t, int64(25), p.w.Watermark())
	require.Equal(t, []string{"a|20|30|1|32"}, p.finish())
	require.Equal(t, int64(math.MaxInt64), p.w.Watermark())
	st := p.w.Stats()
	require.Equal(t, Stats{Rows: 6, Windows: 3, OutputRows: 5, Watermark: math.MaxInt64}, st)
}

func fieldNames(s *arrow.Schema) []string {
	var n []string
	for _, f := range s.Fields() {
		n = append(n, f.Name)
	}
	return n
}

func TestSlidingGolden(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	p := newPusher(t, mem, Spec{Kind: Sliding, SizeMs: 10, SlideMs: 5, MaxOutOfOrdernessMs: 100,
		Keys: []agg.KeySpec{{Column: 1}}, Aggs: countSum})
	defer p.release()
	require.Empty(t, p.push(a(0, 1), a(7, 2), a(12, 4), b(10, 8)))
	// 0 ∈ [-5,5) [0,10); 7 ∈ [0,10) [5,15); 12 ∈ [5,15) [10,20); b@10 ∈ [5,15) [10,20).
	require.Equal(t, []string{"a|-5|5|1|1", "a|0|10|2|3", "a|5|15|2|6", "b|5|15|1|8", "a|10|20|1|4", "b|10|20|1|8"}, p.finish())
}

func TestSlidingUnevenSlide(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	// size 10, slide 4: windows start at multiples of 4; 9 ∈ [0,10) [4,14) [8,18).
	p := newPusher(t, mem, Spec{Kind: Sliding, SizeMs: 10, SlideMs: 4, Aggs: countSum})
	defer p.release()
	require.Empty(t, p.push(trow{ts: 9, q: 1}, trow{ts: 10, q: 2}))
	require.Equal(t, []string{"0|10|1|1", "4|14|2|3", "8|18|2|3"}, p.finish())
}

func TestSessionGolden(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	p := newPusher(t, mem, Spec{Kind: Session, GapMs: 10, MaxOutOfOrdernessMs: 100,
		Keys: []agg.KeySpec{{Column: 1}}, Aggs: countSum})
	defer p.release()
	require.Empty(t, p.push(a(0, 1), a(18, 2), b(5, 4)))
	require.Equal(t, 3, p.w.Stats().Open)
	// a@9 bridges a's sessions [0,10) and [18,28) into [0,28).
	require.Empty(t, p.push(a(9, 8)))
	st := p.w.Stats()
	require.Equal(t, 2, st.Open)
	require.Equal(t, int64(1), st.Merges)
	// b@15 starts exactly at the end of b's session [5,15): a new session.
	require.Empty(t, p.push(b(15, 16)))
	require.Equal(t, []string{"b|5|15|1|4", "b|15|25|1|16", "a|0|28|3|11"}, p.finish())
}

func TestSessionMergeAcrossBatchesIntoStates(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	// Three sessions bridged by one row, some of them updated in earlier batches.
	p := newPusher(t, mem, Spec{Kind: Session, GapMs: 10, MaxOutOfOrdernessMs: 1000, Aggs: countSum})
	defer p.release()
	p.push(trow{ts: 0, q: 1})
	p.push(trow{ts: 20, q: 2}, trow{ts: 40, q: 4})
	require.Equal(t, 3, p.w.Stats().Open)
	p.push(trow{ts: 15, q: 8}, trow{ts: 35, q: 16}, trow{ts: 100, q: 32})
	require.Equal(t, 4, p.w.Stats().Open) // [0,10) [15,30) [35,50) [100,110)
	// 8 bridges [0,10) and [15,30); 27 then bridges [0,30) and [35,50).
	p.push(trow{ts: 8, q: 64}, trow{ts: 27, q: 128})
	require.Equal(t, []string{"0|50|7|223", "100|110|1|32"}, p.finish())
	require.Equal(t, int64(2), p.w.Stats().Merges)
}

func TestWatermarkAndLateness(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	p := newPusher(t, mem, Spec{Kind: Tumbling, SizeMs: 10, MaxOutOfOrdernessMs: NoOutOfOrderness, AllowedLatenessMs: 10, Aggs: countSum})
	defer p.release()
	require.Empty(t, p.push(trow{ts: 0, q: 1}, trow{ts: 15, q: 2}))
	require.Empty(t, p.push(trow{ts: 3, q: 4})) // [0,10) stays open until watermark 20
	require.Equal(t, int64(0), p.w.Stats().LateRows)
	require.Equal(t, []string{"0|10|2|5"}, p.push(trow{ts: 21, q: 8}))
	// An explicit watermark closes [10,20) (needs 30); a lower one is ignored.
	out, err := p.w.AdvanceWatermark(5)
	require.NoError(t, err)
	require.Empty(t, out)
	require.Equal(t, int64(21), p.w.Watermark())
	out, err = p.w.AdvanceWatermark(30)
	require.NoError(t, err)
	require.Equal(t, []string{"10|20|1|2"}, p.keep(out))
	require.Equal(t, []string{"20|30|1|8"}, p.finish())
}

func TestDefaultOutOfOrderness(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	p := newPusher(t, mem, Spec{Kind: Tumbling, SizeMs: 1000, Aggs: countSum})
	defer p.release()
	require.Empty(t, p.push(trow{ts: 500, q: 1}, trow{ts: 5999, q: 2}))
	require.Equal(t, int64(999), p.w.Watermark())
	require.Equal(t, []string{"0|1000|1|1"}, p.push(trow{ts: 6000, q: 4}))
}

func TestTimestampColumn(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sch := columnar.NewSchema([]string{"t", "q"}, []arrow.DataType{&arrow.TimestampType{Unit: arrow.Microsecond}, arrow.PrimitiveTypes.Int64})
	w, err := NewTimeWindow(mem, sch, Spec{Kind: Tumbling, TimeCol: 0, SizeMs: 1, Aggs: []agg.AggSpec{{Func: agg.Sum, Column: 1}}})
	require.NoError(t, err)
	defer w.Release()
	require.True(t, arrow.TypeEqual(&arrow.TimestampType{Unit: arrow.Microsecond}, w.Schema().Field(0).Type))
	rec := columnar.NewRecord(sch, []arrow.Array{
		columnar.BuildTimestamp(mem, arrow.Microsecond, []int64{0, 999, 1000}, nil), columnar.BuildInt64(mem, []int64{1, 2, 4}, nil)})
	defer rec.Release()
	out, err := w.Push(columnar.Batch{Rec: rec})
	require.NoError(t, err)
	require.Empty(t, out)
	out, err = w.Finish()
	require.NoError(t, err)
	defer releaseRecords(out)
	require.Len(t, out, 1)
	ws := out[0].Column(0).(*array.Timestamp).TimestampValues()
	we := out[0].Column(1).(*array.Timestamp).TimestampValues()
	require.Equal(t, []arrow.Timestamp{0, 1000}, ws)
	require.Equal(t, []arrow.Timestamp{1000, 2000}, we)
	require.Equal(t, []int64{3, 4}, out[0].Column(2).(*array.Int64).Int64Values())
}

func TestSpecErrors(t *testing.T) {
	mem := memory.NewGoAllocator()
	for _, tc := range []struct {
		spec Spec
		msg  string
	}{
		{Spec{Kind: Tumbling, TimeCol: 9}, "time column 9 out of range"},
		{Spec{Kind: Tumbling, TimeCol: 1, SizeMs: 1}, `time column "k" has type utf8`},
		{Spec{Kind: Tumbling}, "size must be positive"},
		{Spec{Kind: Sliding, SizeMs: 10, SlideMs: 20}, "slide 20 ms must be in (0, size 10 ms]"},
		{Spec{Kind: Session}, "gap must be positive"},
		{Spec{Kind: Tumbling, SizeMs: 1, MaxOutOfOrdernessMs: -5}, "negative"},
		{Spec{Kind: Tumbling, SizeMs: 1, Aggs: []agg.AggSpec{{Func: agg.Sum, Column: 1}}}, "SUM(k)"},
	} {
		_, err := NewTimeWindow(mem, testSchema, tc.spec)
		require.ErrorContains(t, err, tc.msg)
	}
	_, err := ParseLatePolicy("ignore")
	require.ErrorContains(t, err, `"ignore"`)
	for _, s := range []string{"drop", "WARN", " process "} {
		p, err := ParseLatePolicy(s)
		require.NoError(t, err)
		require.Equal(t, strings.ToLower(strings.TrimSpace(s)), p.String())
	}
}

func TestLatePolicies(t *testing.T) {
	type want struct {
		first, second, fin                 []string
		late, dropped, processed, reopened int64
	}
	tumbleFirst := []string{"0|10|1|1"}
	slideFirst := []string{"-5|5|1|1", "0|10|1|1"}
	for _, tc := range []struct {
		name   string
		kind   Kind
		policy LatePolicy
		want   want
	}{
		// Tumbling 10: batch 1 (0, 12) closes [0,10); then 3 and 7 are late, 13 is not.
		{"tumbling/drop", Tumbling, LateDrop, want{tumbleFirst, nil, []string{"10|20|2|18"}, 2, 2, 0, 0}},
		{"tumbling/warn", Tumbling, LateWarn, want{tumbleFirst, nil, []string{"10|20|2|18"}, 2, 2, 0, 0}},
		{"tumbling/process", Tumbling, LateProcess, want{tumbleFirst, []string{"0|10|2|12"}, []string{"10|20|2|18"}, 2, 0, 2, 1}},
		// Sliding 10/5: batch 1 closes [-5,5) and [0,10). 3 ∈ [-5,5) [0,10) has no
		// open window; 7 ∈ [0,10) [5,15) has one; 13 ∈ [5,15) [10,20) is on time.
		{"sliding/drop", Sliding, LateDrop, want{slideFirst, nil, []string{"5|15|2|18", "10|20|2|18"}, 2, 2, 0, 0}},
		{"sliding/warn", Sliding, LateWarn, want{slideFirst, nil, []string{"5|15|3|26", "10|20|2|18"}, 2, 1, 1, 0}},
		{"sliding/process", Sliding, LateProcess, want{slideFirst, []string{"-5|5|1|4", "0|10|2|12"}, []string{"5|15|3|26", "10|20|2|18"}, 2, 0, 2, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			var logs bytes.Buffer
			p := newPusher(t, mem, Spec{Kind: tc.kind, SizeMs: 10, SlideMs: 5, MaxOutOfOrdernessMs: NoOutOfOrderness,
				Late: tc.policy, Aggs: countSum, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			defer p.release()
			require.Equal(t, tc.want.first, p.push(trow{ts: 0, q: 1}, trow{ts: 12, q: 2}))
			require.Equal(t, tc.want.second, p.push(trow{ts: 3, q: 4}, trow{ts: 7, q: 8}, trow{ts: 13, q: 16}))
			require.Equal(t, tc.want.fin, p.finish())
			st := p.w.Stats()
			require.Equal(t, tc.want.late, st.LateRows)
			require.Equal(t, tc.want.dropped, st.LateDropped)
			require.Equal(t, tc.want.processed, st.LateProcessed)
			require.Equal(t, tc.want.reopened, st.Reopened)
			require.Equal(t, st.LateRows, st.LateDropped+st.LateProcessed)
			if tc.policy == LateWarn {
				require.Contains(t, logs.String(), "window: late rows")
				require.Equal(t, 1, strings.Count(logs.String(), "\n"), "logged at most once per second")
			} else {
				require.Empty(t, logs.String())
			}
		})
	}
}

func TestLateWithinOneBatch(t *testing.T) {
	// Lateness is judged against the watermark of the rows before it, so a
	// late row is late whatever the batch boundaries.
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	p := newPusher(t, mem, Spec{Kind: Tumbling, SizeMs: 10, MaxOutOfOrdernessMs: NoOutOfOrderness, Aggs: countSum})
	defer p.release()
	require.Equal(t, []string{"0|10|1|1"}, p.push(trow{ts: 0, q: 1}, trow{ts: 15, q: 2}, trow{ts: 3, q: 4}, trow{tsNull: true, q: 8}))
	st := p.w.Stats()
	require.Equal(t, int64(1), st.LateDropped)
	require.Equal(t, int64(1), st.NullTime)
	require.Equal(t, int64(4), st.Rows)
}

func TestSessionLate(t *testing.T) {
	for _, policy := range []LatePolicy{LateDrop, LateWarn, LateProcess} {
		t.Run(policy.String(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			var logs bytes.Buffer
			p := newPusher(t, mem, Spec{Kind: Session, GapMs: 10, MaxOutOfOrdernessMs: NoOutOfOrderness, Late: policy,
				Aggs: countSum, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
			defer p.release()
			require.Equal(t, []string{"0|10|1|1"}, p.push(trow{ts: 0, q: 1}, trow{ts: 30, q: 2}))
			// 2: its session [2,12) is closed (watermark 30). 25 joins the open [30,40).
			second := p.push(trow{ts: 2, q: 4}, trow{ts: 25, q: 8})
			st := p.w.Stats()
			require.Equal(t, int64(1), st.LateRows)
			if policy == LateProcess {
				require.Equal(t, []string{"2|12|1|4"}, second)
				require.Equal(t, int64(1), st.LateProcessed)
			} else {
				require.Empty(t, second)
				require.Equal(t, int64(1), st.LateDropped)
			}
			require.Equal(t, []string{"25|40|2|10"}, p.finish())
		})
	}
}

// TestExternalWatermark: with Spec.ExternalWatermark the rows never move
// the watermark; lateness is judged against the last AdvanceWatermark and
// windows close only there (and at Finish).
func TestExternalWatermark(t *testing.T) {
	for _, c := range []struct {
		name     string
		policy   LatePolicy
		late     []string // emitted by the late push (closed windows only at the next AdvanceWatermark)
		atFinish []string
		dropped  int64
	}{
		{"drop", LateDrop, nil, []string{"10|20|1|2"}, 1},
		// The late row re-opens [0,10), which closes at the next watermark.
		{"process", LateProcess, []string{"0|10|1|4"}, []string{"10|20|1|2"}, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			p := newPusher(t, mem, Spec{Kind: Tumbling, SizeMs: 10, MaxOutOfOrdernessMs: NoOutOfOrderness, ExternalWatermark: true, Late: c.policy, Aggs: countSum})
			defer p.release()
			// Without ExternalWatermark 15 would close [0,10) and make 3 late.
			require.Empty(t, p.push(trow{ts: 0, q: 1}, trow{ts: 15, q: 2}, trow{ts: 3, q: 8}))
			require.Equal(t, int64(math.MinInt64), p.w.Watermark())
			require.Zero(t, p.w.Stats().LateRows)
			out, err := p.w.AdvanceWatermark(12)
			require.NoError(t, err)
			require.Equal(t, []string{"0|10|2|9"}, p.keep(out))
			require.Empty(t, p.push(trow{ts: 5, q: 4}, trow{ts: 100, q: 16}), "no window closes in Push")
			require.Equal(t, int64(12), p.w.Watermark())
			out, err = p.w.AdvanceWatermark(50)
			require.NoError(t, err)
			require.Equal(t, append(c.late, c.atFinish...), p.keep(out))
			require.Equal(t, []string{"100|110|1|16"}, p.finish())
			st := p.w.Stats()
			require.Equal(t, int64(1), st.LateRows)
			require.Equal(t, c.dropped, st.LateDropped)
			require.Equal(t, 1-c.dropped, st.LateProcessed)
			require.Equal(t, int64(5), st.Rows)
		})
	}
}

// TestOneWindowBatchesMatchRowByRow: the whole-batch assignment of
// tumbling batches inside one window (pushOneWindow) emits exactly what the
// row-by-row assignment does, push by push, with the same counters — over
// random batches (with and without selection vectors, some NULL times),
// late rows under every policy, both emit modes and both watermark modes.
func TestOneWindowBatchesMatchRowByRow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(3, 4))
	var batches []arrow.Record
	var sels [][]int32
	ts := int64(0)
	for range 300 {
		n := 1 + rng.IntN(40)
		rows := make([]trow, n)
		for i := range rows {
			ts += rng.Int64N(4)
			t := ts - rng.Int64N(30) // up to 30 ms out of order: late rows
			rows[i] = trow{ts: t, tsNull: rng.IntN(200) == 0, k: string(rune('a' + rng.IntN(3))), q: rng.Int64N(100)}
		}
		batches = append(batches, mkRec(mem, rows))
		var sel []int32
		if rng.IntN(3) == 0 {
			for i := range n {
				if rng.IntN(4) != 0 {
					sel = append(sel, int32(i))
				}
			}
			if len(sel) == 0 {
				sel = []int32{0}
			}
		}
		sels = append(sels, sel)
	}
	defer releaseRecords(batches)
	// times: the batches carry no event-time range (0), their record's
	// (1), or one of another column that does not hold for the event times
	// (2), which the window must ignore.
	run := func(spec Spec, on bool, times int) ([][]string, Stats) {
		defer SetOneWindowBatches(on)()
		w, err := NewTimeWindow(mem, testSchema, spec)
		require.NoError(t, err)
		defer w.Release()
		var outs [][]string
		for i, b := range batches {
			batch := columnar.Batch{Rec: b, Sel: sels[i]}
			switch ts := b.Column(spec.TimeCol).(*array.Int64); times {
			case 1:
				batch.Times = columnar.TimeRange{Col: ts, Rows: b.NumRows(), Min: math.MaxInt64, Max: math.MinInt64}
				for r := range ts.Len() {
					if ts.IsValid(r) {
						batch.Times.Min, batch.Times.Max = min(batch.Times.Min, ts.Value(r)), max(batch.Times.Max, ts.Value(r))
					}
				}
			case 2:
				batch.Times = columnar.TimeRange{Col: b.Column(2), Rows: b.NumRows(), Min: 7, Max: 7}
			}
			out, err := w.Push(batch)
			require.NoError(t, err)
			outs = append(outs, rowsOf(out))
			releaseRecords(out)
			if spec.ExternalWatermark && i%3 == 2 {
				out, err := w.AdvanceWatermark(int64(i) * 2)
				require.NoError(t, err)
				outs = append(outs, rowsOf(out))
				releaseRecords(out)
			}
		}
		out, err := w.Finish()
		require.NoError(t, err)
		outs = append(outs, rowsOf(out))
		releaseRecords(out)
		return outs, w.Stats()
	}
	for _, emit := range []EmitMode{EmitFinal, EmitChanges} {
		for _, late := range []LatePolicy{LateDrop, LateWarn, LateProcess} {
			for _, external := range []bool{false, true} {
				spec := Spec{Kind: Tumbling, SizeMs: 50, MaxOutOfOrdernessMs: 10, Late: late, Emit: emit, ExternalWatermark: external,
					Keys: []agg.KeySpec{{Column: 1, Name: "k"}}, Aggs: countSum, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
				slow, slowSt := run(spec, false, 0)
				for times := range 3 {
					fast, fastSt := run(spec, true, times)
					require.Equal(t, slow, fast, "emit %d, late %s, external %v, times %d", emit, late, external, times)
					require.Equal(t, slowSt, fastSt)
				}
				require.Positive(t, slowSt.OutputRows)
				if !external {
					require.Positive(t, slowSt.LateRows)
				}
			}
		}
	}
}
