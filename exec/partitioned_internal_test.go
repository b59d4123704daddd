package exec

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/partition"
	"github.com/velo-engine/velo/sqlfront"
)

// panicOp panics on its n-th Push (counting from 1).
type panicOp struct {
	Operator
	n, pushes int
}

func (p *panicOp) Push(ctx context.Context, b columnar.Batch) error {
	p.pushes++
	if p.pushes == p.n {
		panic("injected operator failure")
	}
	return p.Operator.Push(ctx, b)
}

// TestPartitionedPanic: an operator panicking in one partition stops the
// whole query with an error naming the partition; no goroutine is left and
// every byte is released, for every kind of partitioned stage.
func TestPartitionedPanic(t *testing.T) {
	defer goleak.VerifyNone(t)
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.PrimitiveTypes.Int64},
		{Name: "v", Type: arrow.PrimitiveTypes.Int64},
	}, nil)
	var recs []arrow.Record
	for i := range 40 {
		k := make([]int64, 64)
		v := make([]int64, 64)
		for j := range k {
			k[j], v[j] = int64((i*64+j)%13), int64(j)
		}
		recs = append(recs, columnar.NewRecord(schema, []arrow.Array{columnar.BuildInt64(mem, k, nil), columnar.BuildInt64(mem, v, nil)}))
	}
	defer func() {
		for _, r := range recs {
			r.Release()
		}
	}()
	for _, query := range []string{
		"SELECT k, SUM(v) FROM t GROUP BY k",
		"SELECT SUM(v) FROM t",
		"SELECT k, v * 2 FROM t WHERE v > 3",
		"SELECT k, v FROM t ORDER BY v LIMIT 5",
	} {
		q, err := sqlfront.Plan(query, sqlfront.MapCatalog{"t": schema})
		require.NoError(t, err)
		p, err := CompilePartitioned(mem, q, Options{Partitions: 3, ChannelCapacity: 2})
		require.NoError(t, err)
		p.pipes[1].head = &panicOp{Operator: p.pipes[1].head, n: 3}
		src, err := array.NewRecordReader(schema, recs)
		require.NoError(t, err)
		rdr := p.Run(context.Background(), src)
		for rdr.Next() {
		}
		err = rdr.Err()
		require.Error(t, err, query)
		var pe *partition.PanicError
		require.True(t, errors.As(err, &pe), "%s: %v", query, err)
		require.Equal(t, 1, pe.Partition)
		require.Contains(t, err.Error(), "injected operator failure")
		rdr.Release()
	}
}
