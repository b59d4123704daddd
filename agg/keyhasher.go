package agg

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"
)

// KeyHasher computes, for the rows of a batch's key columns, the key hashes
// a KeyTable computes for them: the same code, so the hashes are
// interchangeable. The partition router routes rows by these hashes and
// hands them on with each batch (columnar.KeyHashes); the partitions'
// tables then take them through KeyTable.InsertHashed instead of reading
// and hashing their keys again. A value hashes alike whatever its encoding:
// a dictionary-encoded string like the plain string, an int32 like the
// same int64, a timestamp like its int64 count.
//
// A KeyHasher keeps scratch buffers: one goroutine uses it at a time.
type KeyHasher struct {
	cols    []keyColumn
	scratch []uint64
}

// NewKeyHasher returns a hasher for keys of the given column types, which
// must be key types a KeyTable takes (see NewKeyTable); the error says why
// one is not.
func NewKeyHasher(types []arrow.DataType) (*KeyHasher, error) {
	if len(types) == 0 || len(types) > MaxKeyColumns {
		return nil, fmt.Errorf("agg: a key takes 1 to %d columns, got %d", MaxKeyColumns, len(types))
	}
	h := &KeyHasher{}
	for i, dt := range types {
		c, err := newKeyColumn(dt)
		if err != nil {
			return nil, fmt.Errorf("agg: key column %d: %w", i, err)
		}
		h.cols = append(h.cols, c)
	}
	return h, nil
}

// CheckKeyType reports whether a KeyTable (and a KeyHasher) takes key
// columns of type dt, with the reason when it does not.
func CheckKeyType(dt arrow.DataType) error {
	_, err := newKeyColumn(dt)
	return err
}

// Hash writes into dst (len(dst) == the columns' length) every row's hash
// of the key columns cols, as KeyTable.Insert would hash them. When the key
// is one plain utf8 column it also returns the rows' key words, built in
// wordBuf when that has the capacity (or in a new slice), and whether any
// row is a string longer than a word holds: a table given those
// (InsertHashed) does not build its words either. For every other key
// words is nil — reading those keys costs the table nothing.
func (h *KeyHasher) Hash(dst []uint64, wordBuf []int64, cols []arrow.Array) (words []int64, long bool, err error) {
	if len(cols) != len(h.cols) {
		return nil, false, fmt.Errorf("agg: got %d key columns, want %d", len(cols), len(h.cols))
	}
	n := len(dst)
	for i, c := range cols {
		if c.Len() != n {
			return nil, false, fmt.Errorf("agg: key column %d has %d rows, want %d", i, c.Len(), n)
		}
	}
	h.scratch = grow(h.scratch, n)
	for i, c := range cols {
		k := h.cols[i]
		sk, plain := k.(*stringKey)
		plain = plain && len(cols) == 1 && !sk.dict
		if plain {
			sk.buf = wordBuf // load builds the words in the caller's buffer
		}
		err := k.load(c)
		if plain {
			sk.buf = nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("agg: key column %d: %w", i, err)
		}
		k.hash(dst, h.scratch, i == 0)
		if plain {
			words, long = sk.row, sk.long
		}
	}
	for _, k := range h.cols {
		if sk, ok := k.(*stringKey); ok {
			sk.row = nil // do not keep the batch's words
		}
	}
	return words, long, nil
}
