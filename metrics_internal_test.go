package velo

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/partition"
)

// passPipe emits every pushed batch's selected rows unchanged.
type passPipe struct{ mem memory.Allocator }

func (p passPipe) Push(_ context.Context, b columnar.Batch, out partition.Emitter) error {
	if b.Sel == nil {
		b.Rec.Retain()
		return out.Emit(b.Rec)
	}
	idx := make([]int64, len(b.Sel))
	for i, s := range b.Sel {
		idx[i] = int64(s)
	}
	col := b.Rec.Column(0).(*array.Int64)
	vals := make([]int64, len(idx))
	for i, j := range idx {
		vals[i] = col.Value(int(j))
	}
	arr := columnar.BuildInt64(p.mem, vals, nil)
	defer arr.Release()
	return out.Emit(array.NewRecord(b.Rec.Schema(), []arrow.Array{arr}, int64(len(vals))))
}
func (passPipe) Watermark(context.Context, int64, partition.Emitter) error { return nil }
func (passPipe) Finish(context.Context, partition.Emitter) error           { return nil }
func (passPipe) Close()                                                    {}

// TestPartitionFamiliesMatchPartitionGatherer: the engine exports a
// partitioned query's metrics exactly as partition.Gatherer does (same
// families, help, types, labels and values) from the same snapshot.
func TestPartitionFamiliesMatchPartitionGatherer(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}}, nil)
	var out int64
	q, err := partition.Start(context.Background(), partition.Config{Partitions: 3, KeyColumns: []string{"k"}, Allocator: mem},
		func(int) (partition.Pipeline, error) { return passPipe{mem}, nil },
		func(o partition.Output) error { out += o.Rec.NumRows(); o.Rec.Release(); return nil })
	require.NoError(t, err)
	for b := range 10 {
		vals := make([]int64, 100)
		for i := range vals {
			vals[i] = int64(b*100 + i)
		}
		arr := columnar.BuildInt64(mem, vals, nil)
		rec := array.NewRecord(schema, []arrow.Array{arr}, 100)
		arr.Release()
		require.NoError(t, q.Push(rec))
		rec.Release()
	}
	require.NoError(t, q.Close())
	require.EqualValues(t, 1000, out)

	want, err := q.Gatherer(map[string]string{"query": "7", "name": "bars"}).Gather()
	require.NoError(t, err)
	fs := metricFamilies{}
	addPartitionFamilies(fs, q.Metrics(), labelPairs(nil, "query", "7", "name", "bars"))
	got := fs.sorted()
	require.Len(t, got, len(want))
	for i := range want {
		require.True(t, proto.Equal(want[i], got[i]), "family %s:\nwant %v\ngot  %v", want[i].GetName(), want[i], got[i])
	}
	var in float64
	for _, f := range got {
		if f.GetName() == "velo_partition_records_in_total" {
			require.Len(t, f.Metric, 3)
			for _, m := range f.Metric {
				in += m.GetCounter().GetValue()
			}
		}
	}
	require.Equal(t, 1000.0, in)
}

// fakeReader is a finished batch query whose executor exposes partition
// metrics, as a partitioned Execute's reader does when exec implements
// Metrics on it.
type fakeReader struct {
	array.RecordReader
	m partition.Metrics
}

func (f fakeReader) Metrics() partition.Metrics { return f.m }

// TestTrackExportsExecutorPartitions: a batch query whose reader exposes
// per-partition metrics exports them under its query label until the
// reader is exhausted.
func TestTrackExportsExecutorPartitions(t *testing.T) {
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}}, nil)
	inner, err := array.NewRecordReader(schema, nil)
	require.NoError(t, err)
	m := partition.Metrics{Partitions: []partition.PartitionMetrics{{Partition: 0, RecordsIn: 5}, {Partition: 1, RecordsIn: 7}}, RecordsIn: 12}
	e := New()
	rdr := e.track(fakeReader{inner, m}, &runningQuery{name: "n", c: newQueryCounters()})
	require.Equal(t, m, rdr.(*trackedReader).Metrics())
	fams, err := e.Gatherer().Gather()
	require.NoError(t, err)
	var series []string
	for _, f := range fams {
		if f.GetName() != "velo_partition_records_in_total" {
			continue
		}
		for _, mt := range f.Metric {
			var ls []string
			for _, l := range mt.Label {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			series = append(series, fmt.Sprint(ls, mt.GetCounter().GetValue()))
		}
	}
	require.Equal(t, []string{"[name=n partition=0 query=1] 5", "[name=n partition=1 query=1] 7"}, series)
	require.False(t, rdr.Next())
	require.Equal(t, 0, e.RunningQueries())
	rdr.Release()
}
