package columnar

import (
	"bytes"
	"testing"

	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"
)

func TestGuardAllocator(t *testing.T) {
	mem := newMem(t)
	g := newGuardAllocator(mem)

	// Allocations outside a step are never swept.
	outside := g.Allocate(64)
	// A committed step's buffers belong to their owners.
	g.begin()
	kept := g.Allocate(128)
	g.commit()
	// A failed step: one buffer freed by the decoder, one reallocated, one
	// leaked; sweep frees the last two.
	g.begin()
	freed := g.Allocate(32)
	grown := g.Allocate(16)
	leaked := g.Allocate(100)
	g.Free(freed)
	grown = g.Reallocate(4096, grown)
	g.fail()
	require.Equal(t, 64+128+4096+100, mem.CurrentAlloc())
	g.sweep()
	require.Equal(t, 64+128, mem.CurrentAlloc())
	_ = leaked
	_ = grown
	g.Free(kept)
	g.Free(outside)
	g.sweep() // nothing left to sweep
	require.Zero(t, mem.CurrentAlloc())

	require.Panics(t, func() { g.Allocate(maxAlloc + 1) })
	require.Panics(t, func() { g.Reallocate(-1, nil) })
}

// TestReaderRefCount: Release of the last reference closes the reader, and
// Close after that is a no-op.
func TestReaderRefCount(t *testing.T) {
	for _, f := range allFormats {
		mem := newMem(t)
		recs := allTypesRecords(mem, 20)
		data := writeBytes(t, f, allTypesSchema(), mem, recs)
		releaseAll(recs)
		r, err := NewReader(bytes.NewReader(data), f, mem, WithSchema(allTypesSchema()))
		require.NoError(t, err)
		require.True(t, r.Next())
		r.Retain()
		r.Release()
		require.NotNil(t, r.Record(), "one reference left: still open")
		r.Release()
		require.Nil(t, r.Record())
		require.False(t, r.Next())
		require.NoError(t, r.Close())
	}
}

var _ memory.Allocator = (*guardAllocator)(nil)
