package partition

import (
	"fmt"

	"github.com/apache/arrow/go/v17/arrow"

	"github.com/velo-engine/velo/agg"
)

// keyHasher hashes the key columns of records to route them. The routing
// hash is agg.KeyHasher's, the hash the partitions' key tables use: the
// router computes it once per row, routes by its high bits
// (kernels.PartitionIDs) and hands it on with the batches
// (columnar.Batch.Keys), and a partition grouping by the same columns
// probes its table with it instead of reading and hashing its keys again.
// A key value hashes the same whatever its encoding (a dictionary-encoded
// string like the plain string, an int32 like the same int64), so batches
// of one source with different encodings route alike. One keyHasher
// belongs to one router (one goroutine).
type keyHasher struct {
	h      *agg.KeyHasher
	schema *arrow.Schema // the schema h was built for
	cols   []arrow.Array
}

// hash writes the key hashes of rec's rows (key columns b.keyIdx) into
// sb.hashes, the key words too when agg builds them, and sets sb.keys.
func (k *keyHasher) hash(sb *selBuf, rec arrow.Record, b *binding) error {
	if k.schema != rec.Schema() {
		types := make([]arrow.DataType, len(b.keyIdx))
		for i, c := range b.keyIdx {
			types[i] = rec.Schema().Field(c).Type
		}
		h, err := agg.NewKeyHasher(types)
		if err != nil {
			return fmt.Errorf("partition: hash key columns: %w", err)
		}
		k.h, k.schema = h, rec.Schema()
	}
	n := int(rec.NumRows())
	sb.hashes = grow(sb.hashes, n)
	k.cols = k.cols[:0]
	for _, c := range b.keyIdx {
		k.cols = append(k.cols, rec.Column(c))
	}
	words, long, err := k.h.Hash(sb.hashes[:n], sb.words, k.cols)
	clear(k.cols) // do not keep the record's columns alive
	if err != nil {
		names := keyNames(rec.Schema(), b.keyIdx)
		if len(names) == 1 {
			return fmt.Errorf("partition: hash key column %q: %w", names[0], err)
		}
		return fmt.Errorf("partition: hash key columns %q: %w", names, err)
	}
	sb.setKeys(b.keyIdx, n, words, long)
	return nil
}

func keyNames(schema *arrow.Schema, idx []int) []string {
	names := make([]string, len(idx))
	for i, c := range idx {
		names[i] = schema.Field(c).Name
	}
	return names
}

// grow returns s with length at least n, reallocating when needed.
func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}

// checkKeyType reports whether the router can hash key columns of type dt
// (the types agg's key tables take), with the reason when it cannot: Push
// checks the key columns' types when it first sees a schema, so an
// unsupported key fails there (also when router goroutines do the hashing).
func checkKeyType(dt arrow.DataType) error {
	if agg.CheckKeyType(dt) == nil {
		return nil
	}
	if d, ok := dt.(*arrow.DictionaryType); ok {
		return fmt.Errorf("dictionary of %s keys is not supported (want utf8 values)", d.ValueType)
	}
	return fmt.Errorf("type %s cannot be a partitioning key (supported: %s)", dt, agg.KeyTypes)
}
