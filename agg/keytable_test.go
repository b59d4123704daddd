package agg

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"unsafe"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
	"github.com/stretchr/testify/require"

	"github.com/velo-engine/velo/columnar"
	"github.com/velo-engine/velo/kernels"
)

// refKey renders row r of key columns as a map key with SQL grouping
// equality (NULL = NULL, NaN = NaN, -0.0 = 0.0): the deliberately simple
// oracle the table is checked against.
func refKey(cols []arrow.Array, r int) string {
	var sb strings.Builder
	for _, c := range cols {
		if c.IsNull(r) {
			sb.WriteString("N|")
			continue
		}
		switch a := c.(type) {
		case *array.Float64:
			v := a.Value(r)
			switch {
			case math.IsNaN(v):
				sb.WriteString("NaN|")
			case v == 0:
				sb.WriteString("0|")
			default:
				fmt.Fprintf(&sb, "%v|", v)
			}
		case *array.Float32:
			v := float64(a.Value(r))
			switch {
			case math.IsNaN(v):
				sb.WriteString("NaN|")
			case v == 0:
				sb.WriteString("0|")
			default:
				fmt.Fprintf(&sb, "%v|", v)
			}
		case *array.Dictionary:
			fmt.Fprintf(&sb, "%q|", a.Dictionary().(*array.String).Value(a.GetValueIndex(r)))
		case *array.String:
			fmt.Fprintf(&sb, "%q|", a.Value(r))
		default:
			fmt.Fprintf(&sb, "%s|", c.ValueStr(r))
		}
	}
	return sb.String()
}

type keyGen func(mem memory.Allocator, rng *rand.Rand, n, card int) arrow.Array

func validMask(rng *rand.Rand, n int, nullFrac float64) []bool {
	if nullFrac == 0 {
		return nil
	}
	v := make([]bool, n)
	for i := range v {
		v[i] = rng.Float64() >= nullFrac
	}
	return v
}

var keyGens = map[string]keyGen{
	"int64": func(mem memory.Allocator, rng *rand.Rand, n, card int) arrow.Array {
		v := make([]int64, n)
		for i := range v {
			v[i] = int64(rng.IntN(card)) - int64(card/2)
		}
		return columnar.BuildInt64(mem, v, validMask(rng, n, 0.05))
	},
	"int32": func(mem memory.Allocator, rng *rand.Rand, n, card int) arrow.Array {
		v := make([]int32, n)
		for i := range v {
			v[i] = int32(rng.IntN(card))
		}
		return columnar.BuildInt32(mem, v, validMask(rng, n, 0.05))
	},
	"float64": func(mem memory.Allocator, rng *rand.Rand, n, card int) arrow.Array {
		special := []float64{math.NaN(), math.Float64frombits(0x7FF0000000000123), 0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1)}
		v := make([]float64, n)
		for i := range v {
			if rng.IntN(10) == 0 {
				v[i] = special[rng.IntN(len(special))]
			} else {
				v[i] = float64(rng.IntN(card)) / 4
			}
		}
		return columnar.BuildFloat64(mem, v, validMask(rng, n, 0.05))
	},
	"timestamp": func(mem memory.Allocator, rng *rand.Rand, n, card int) arrow.Array {
		v := make([]int64, n)
		for i := range v {
			v[i] = 1_700_000_000_000 + int64(rng.IntN(card))*60_000
		}
		return columnar.BuildTimestamp(mem, arrow.Millisecond, v, validMask(rng, n, 0.05))
	},
	"bool": func(mem memory.Allocator, rng *rand.Rand, n, _ int) arrow.Array {
		v := make([]bool, n)
		for i := range v {
			v[i] = rng.IntN(2) == 0
		}
		return columnar.BuildBool(mem, v, validMask(rng, n, 0.1))
	},
	"utf8": func(mem memory.Allocator, rng *rand.Rand, n, card int) arrow.Array {
		v := make([]string, n)
		for i := range v {
			k := rng.IntN(card)
			switch k % 4 {
			case 0:
				v[i] = fmt.Sprintf("SYM%04d", k)
			case 1:
				v[i] = fmt.Sprintf("a-much-longer-key-%d-日本", k)
			case 2:
				v[i] = strings.Repeat("x", k%17) // "", "x", … incl. exactly 8 and 16 bytes
			default:
				v[i] = fmt.Sprintf("%d\x00", k%9) // embedded NUL: must differ from the shorter string
			}
		}
		return columnar.BuildString(mem, v, validMask(rng, n, 0.05))
	},
	// utf8-short: every length 0..16 over the bytes 0x00, 0x01, 'a' and
	// 0xFF, so many keys share a prefix, differ only by trailing NULs, or
	// have the bytes of a key word's length/NULL tag; lengths 0–7 take the
	// one-word comparison, 8–16 the byte comparison.
	"utf8-short": func(mem memory.Allocator, rng *rand.Rand, n, card int) arrow.Array {
		v := make([]string, n)
		for i := range v {
			v[i] = shortKey(rng.IntN(card))
		}
		return columnar.BuildString(mem, v, validMask(rng, n, 0.05))
	},
	"dict": func(mem memory.Allocator, rng *rand.Rand, n, card int) arrow.Array {
		dt := &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}
		b := array.NewDictionaryBuilder(mem, dt).(*array.BinaryDictionaryBuilder)
		defer b.Release()
		for i := 0; i < n; i++ {
			if rng.IntN(20) == 0 {
				b.AppendNull()
			} else {
				_ = b.AppendString(fmt.Sprintf("d%d", rng.IntN(card)))
			}
		}
		return b.NewArray()
	},
}

// shortKey is key k of the utf8-short generator: length k%17, bytes the
// base-4 digits of k/17 over {0x00, 0x01, 'a', 0xFF}, most significant last
// (so keys of one length differ early and late).
func shortKey(k int) string {
	alphabet := []byte{0x00, 0x01, 'a', 0xFF}
	b := make([]byte, k%17)
	d := k / 17
	for i := range b {
		b[i] = alphabet[d%4]
		d /= 4
	}
	return string(b)
}

func init() {
	// Null-free variants exercise the single-column fast paths
	// (insertWords, insertStrings).
	for _, k := range []string{"int64", "utf8", "utf8-short", "float64", "timestamp"} {
		gen := keyGens[k]
		keyGens[k+"-nonull"] = func(mem memory.Allocator, rng *rand.Rand, n, card int) arrow.Array {
			a := gen(mem, rng, n, card)
			defer a.Release()
			if a.NullN() == 0 {
				a.Retain()
				return a
			}
			// Rebuild without the validity bitmap (values under NULLs are
			// whatever the builder left, which is fine for keys).
			d := a.Data()
			bufs := append([]*memory.Buffer{nil}, d.Buffers()[1:]...)
			nd := array.NewData(d.DataType(), d.Len(), bufs, nil, 0, d.Offset())
			defer nd.Release()
			return array.MakeFromData(nd)
		}
	}
}

// checkTable inserts batches into a table and checks, against a map oracle,
// that equal keys get equal ids, different keys different ids, and ids are
// dense (0..Len()-1). Ids of keys first seen in the same batch may be
// assigned in any order (rows that collide are inserted in a later probe
// round).
//
// With hashed, every other batch goes through InsertHashed with hashes and
// words from a KeyHasher (which must therefore agree with Insert's own), and
// the hasher's buffers are overwritten with garbage after each such insert
// (the table must not keep them).
func checkTable(t *testing.T, kinds []string, batches, rows, card int, degrade func(uint64) uint64, seed uint64, hashed bool) {
	t.Helper()
	var hasher *KeyHasher
	var hashBuf []uint64
	var wordBuf []int64
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(seed, 7))
	var types []arrow.DataType
	var tbl *KeyTable
	ref := map[string]uint32{}
	byID := map[uint32]string{}
	for b := 0; b < batches; b++ {
		n := rng.IntN(rows + 1)
		cols := make([]arrow.Array, len(kinds))
		for i, k := range kinds {
			cols[i] = keyGens[k](mem, rng, n, card)
		}
		if n > 2 && b%2 == 1 {
			// Sliced columns: non-zero array offsets.
			lo, hi := 1+rng.IntN(n/2), n-rng.IntN(n/2)
			for i, c := range cols {
				cols[i] = array.NewSlice(c, int64(lo), int64(hi))
				c.Release()
			}
			n = hi - lo
		}
		if tbl == nil {
			for _, c := range cols {
				types = append(types, c.DataType())
			}
			var err error
			tbl, err = NewKeyTable(types)
			require.NoError(t, err)
			tbl.degradeHash = degrade
			if hashed {
				hasher, err = NewKeyHasher(types)
				require.NoError(t, err)
			}
		}
		var sel []int32
		if b%3 == 1 {
			for r := 0; r < n; r++ {
				if rng.IntN(3) > 0 {
					sel = append(sel, int32(r))
				}
			}
			if sel == nil {
				sel = []int32{}
			}
		}
		groups := make([]uint32, n)
		before := tbl.Len()
		var created int
		var err error
		if hasher != nil && b%2 == 1 {
			hashBuf = make([]uint64, n)
			words, long, herr := hasher.Hash(hashBuf, wordBuf, cols)
			require.NoError(t, herr)
			if len(kinds) == 1 && (kinds[0] == "utf8" || strings.HasPrefix(kinds[0], "utf8-")) {
				require.Len(t, words, n, "a plain utf8 key comes with its words")
			} else {
				require.Nil(t, words)
			}
			wordBuf = words
			created, err = tbl.InsertHashed(cols, sel, groups, &columnar.KeyHashes{Hashes: hashBuf, Words: words, Long: long})
			for i := range hashBuf {
				hashBuf[i] = rng.Uint64()
			}
			for i := range words {
				words[i] = int64(rng.Uint64())
			}
		} else {
			created, err = tbl.Insert(cols, sel, groups)
		}
		if err != nil {
			for _, c := range cols {
				c.Release()
			}
			require.NoError(t, err)
		}
		require.Equal(t, tbl.Len()-before, created)
		visit := func(r int) {
			k := refKey(cols, r)
			g, ok := ref[k]
			if !ok {
				g = groups[r]
				require.Less(t, int(g), tbl.Len(), "ids must be dense")
				prev, taken := byID[g]
				require.False(t, taken, "key %s got id %d of key %s", k, g, prev)
				ref[k], byID[g] = g, k
			}
			require.Equal(t, g, groups[r], "batch %d row %d key %s", b, r, k)
		}
		if sel == nil {
			for r := 0; r < n; r++ {
				visit(r)
			}
		} else {
			for _, r := range sel {
				visit(int(r))
			}
		}
		require.Equal(t, len(ref), tbl.Len())
		for _, c := range cols {
			c.Release()
		}
	}
	if tbl == nil {
		return
	}
	// Emitted keys round-trip: group g's emitted key renders as g's ref key.
	keys := tbl.EmitKeys(mem, nil)
	for g := 0; g < tbl.Len(); g++ {
		id, ok := ref[refKey(keys, g)]
		require.True(t, ok)
		require.Equal(t, uint32(g), id)
	}
	for _, k := range keys {
		k.Release()
	}
}

func TestKeyTableSingleColumnKinds(t *testing.T) {
	for kind := range keyGens {
		for _, card := range []int{1, 7, 300, 5000} {
			t.Run(fmt.Sprintf("%s/card=%d", kind, card), func(t *testing.T) {
				checkTable(t, []string{kind}, 12, 3000, card, nil, uint64(card), false)
			})
		}
	}
}

func TestKeyTableMultiColumn(t *testing.T) {
	for _, kinds := range [][]string{
		{"int64", "utf8"}, {"utf8", "int64"}, {"float64", "bool", "int32"},
		{"timestamp", "utf8", "int64", "dict"}, {"bool", "bool"},
		{"utf8-short", "bool"}, {"utf8-short", "utf8-short"},
	} {
		t.Run(strings.Join(kinds, ","), func(t *testing.T) {
			checkTable(t, kinds, 10, 2000, 40, nil, 3, false)
		})
	}
}

// TestKeyTableHashedKeys mixes batches hashed upstream by a KeyHasher
// (InsertHashed) with batches the table hashes itself (Insert): the map
// oracle then also checks that both hash every key type alike.
func TestKeyTableHashedKeys(t *testing.T) {
	for kind := range keyGens {
		for _, card := range []int{7, 5000} {
			t.Run(fmt.Sprintf("%s/card=%d", kind, card), func(t *testing.T) {
				checkTable(t, []string{kind}, 12, 3000, card, nil, uint64(card)+1, true)
			})
		}
	}
	for _, kinds := range [][]string{{"int64", "utf8"}, {"float64", "bool", "int32"}, {"timestamp", "utf8", "int64", "dict"}, {"utf8-short", "utf8-short"}} {
		t.Run(strings.Join(kinds, ","), func(t *testing.T) {
			checkTable(t, kinds, 10, 2000, 40, nil, 5, true)
		})
	}
}

// TestKeyHasherEncodings checks that a value hashes alike in every
// encoding the router may see: int32 as the same int64, a timestamp as its
// count, a dictionary-encoded string as the plain string, and that a
// KeyHasher's hashes are the ones a table keeps for its groups.
func TestKeyHasherEncodings(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	hashOf := func(a arrow.Array) []uint64 {
		h, err := NewKeyHasher([]arrow.DataType{a.DataType()})
		require.NoError(t, err)
		dst := make([]uint64, a.Len())
		_, _, err = h.Hash(dst, nil, []arrow.Array{a})
		require.NoError(t, err)
		return dst
	}
	valid := []bool{true, false, true, true}
	i64 := columnar.BuildInt64(mem, []int64{-3, 0, 7, 1 << 40}, valid)
	defer i64.Release()
	i32 := columnar.BuildInt32(mem, []int32{-3, 0, 7, 0}, valid)
	defer i32.Release()
	ts := columnar.BuildTimestamp(mem, arrow.Millisecond, []int64{-3, 0, 7, 1 << 40}, valid)
	defer ts.Release()
	require.Equal(t, hashOf(i64)[:3], hashOf(i32)[:3])
	require.Equal(t, hashOf(i64), hashOf(ts))
	require.Equal(t, kernels.NullHash, hashOf(i64)[1])

	strs := []string{"SYM0001", "", "a-much-longer-key", "SYM0001"}
	plain := columnar.BuildString(mem, strs, valid)
	defer plain.Release()
	db := array.NewDictionaryBuilder(mem, &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int16, ValueType: arrow.BinaryTypes.String}).(*array.BinaryDictionaryBuilder)
	defer db.Release()
	for i, v := range strs {
		if valid[i] {
			require.NoError(t, db.AppendString(v))
		} else {
			db.AppendNull()
		}
	}
	dict := db.NewArray()
	defer dict.Release()
	require.Equal(t, hashOf(plain), hashOf(dict))

	tbl, err := NewKeyTable([]arrow.DataType{plain.DataType()})
	require.NoError(t, err)
	_, err = tbl.Insert([]arrow.Array{plain}, nil, make([]uint32, plain.Len()))
	require.NoError(t, err)
	h := hashOf(plain)
	require.Equal(t, []uint64{h[0], h[1], h[2]}, tbl.hashes)
}

func TestKeyTableForcedCollisions(t *testing.T) {
	degrades := map[string]func(uint64) uint64{
		"constant":  func(uint64) uint64 { return 0xdeadbeef00000000 },
		"two-bits":  func(h uint64) uint64 { return h & 0x3 },
		"same-tags": func(h uint64) uint64 { return h & 0xffff },
	}
	for name, d := range degrades {
		for _, kinds := range [][]string{{"int64"}, {"utf8"}, {"float64", "utf8"}, {"dict"}, {"int64-nonull"}, {"utf8-nonull"}, {"float64-nonull"},
			{"utf8-short"}, {"utf8-short-nonull"}, {"utf8-short", "int64"}} {
			t.Run(name+"/"+strings.Join(kinds, ","), func(t *testing.T) {
				checkTable(t, kinds, 6, 400, 150, d, 11, false)
			})
		}
	}
}

func TestKeyTableCompactAndReset(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tbl, err := NewKeyTable([]arrow.DataType{arrow.BinaryTypes.String})
	require.NoError(t, err)
	vals := []string{"a", "b", "c", "d", "e", "a", "c"}
	col := columnar.BuildString(mem, vals, nil)
	defer col.Release()
	groups := make([]uint32, len(vals))
	_, err = tbl.Insert([]arrow.Array{col}, nil, groups)
	require.NoError(t, err)
	require.Equal(t, []uint32{0, 1, 2, 3, 4, 0, 2}, groups)

	tbl.Compact([]uint32{4, 2}) // keep e (new 0) and c (new 1)
	require.Equal(t, 2, tbl.Len())
	_, err = tbl.Insert([]arrow.Array{col}, nil, groups)
	require.NoError(t, err)
	require.Equal(t, []uint32{2, 3, 1, 4, 0, 2, 1}, groups)

	tbl.Reset()
	require.Equal(t, 0, tbl.Len())
	_, err = tbl.Insert([]arrow.Array{col}, nil, groups)
	require.NoError(t, err)
	require.Equal(t, []uint32{0, 1, 2, 3, 4, 0, 2}, groups)
}

func TestKeyTableErrors(t *testing.T) {
	_, err := NewKeyTable(nil)
	require.ErrorContains(t, err, "1 to 4 key columns")
	_, err = NewKeyTable([]arrow.DataType{arrow.BinaryTypes.Binary})
	require.ErrorContains(t, err, "cannot be a group key")
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tbl, err := NewKeyTable([]arrow.DataType{arrow.PrimitiveTypes.Int64})
	require.NoError(t, err)
	col := columnar.BuildString(mem, []string{"x"}, nil)
	defer col.Release()
	_, err = tbl.Insert([]arrow.Array{col}, nil, make([]uint32, 1))
	require.ErrorContains(t, err, "want int64")
}

// refStringWord is stringWord written out from its definition.
func refStringWord(s string, null bool) int64 {
	if null {
		return -1 << 56 // 0xFF tag, zero bytes
	}
	var w uint64
	for i := 0; i < min(len(s), 7); i++ {
		w |= uint64(s[i]) << (8 * i)
	}
	return int64(w | uint64(min(len(s), 8))<<56)
}

func TestStringWords(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(5, 5))
	for _, n := range []int{0, 1, 2, 7, 64, 500} {
		vals := make([]string, n)
		valid := make([]bool, n)
		var data []byte
		offs := []int32{0}
		for i := range vals {
			vals[i] = shortKey(rng.IntN(3000))
			valid[i] = rng.IntN(10) > 0
			data = append(data, vals[i]...)
			offs = append(offs, int32(len(data)))
		}
		// The data buffer is exactly the strings' bytes, so the last rows
		// take stringWord's short-read path.
		dataBuf := memory.NewBufferBytes(data)
		offBuf := memory.NewBufferBytes(unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(offs))), 4*len(offs)))
		nulls := columnar.BuildBool(mem, valid, nil) // reuse its bitmap as validity
		vb := nulls.Data().Buffers()[1]
		var validBuf *memory.Buffer
		nullN := 0
		for _, v := range valid {
			if !v {
				nullN++
			}
		}
		if nullN > 0 {
			validBuf = vb
		}
		d := array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{validBuf, offBuf, dataBuf}, nil, nullN, 0)
		arr := array.NewStringData(d)
		k := &stringKey{}
		require.NoError(t, k.load(arr))
		wantLong := false
		for i, v := range vals {
			require.Equal(t, refStringWord(v, !valid[i]), k.row[i], "row %d %q null=%v", i, v, !valid[i])
			wantLong = wantLong || len(v) > 7
		}
		if nullN == 0 {
			require.Equal(t, wantLong, k.long)
		}
		arr.Release()
		d.Release()
		nulls.Release()
	}
}

// TestStringWordPathMatchesBytePath checks that one utf8 key column (the
// one-word comparison in insertStrings) groups exactly like the same
// strings beside a constant second key (the general path comparing bytes
// through stringKey.equal), for every length 0..16, embedded NULs and NULLs.
func TestStringWordPathMatchesBytePath(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rng := rand.New(rand.NewPCG(9, 9))
	one, err := NewKeyTable([]arrow.DataType{arrow.BinaryTypes.String})
	require.NoError(t, err)
	two, err := NewKeyTable([]arrow.DataType{arrow.BinaryTypes.String, arrow.FixedWidthTypes.Boolean})
	require.NoError(t, err)
	for b := 0; b < 8; b++ {
		n := 1 + rng.IntN(2000)
		col := keyGens["utf8-short"](mem, rng, n, 17*64)
		konst := columnar.BuildBool(mem, make([]bool, n), nil)
		g1, g2 := make([]uint32, n), make([]uint32, n)
		_, err := one.Insert([]arrow.Array{col}, nil, g1)
		require.NoError(t, err)
		_, err = two.Insert([]arrow.Array{col, konst}, nil, g2)
		require.NoError(t, err)
		// The two numberings may differ; the partitions of rows must not.
		m12, m21 := map[uint32]uint32{}, map[uint32]uint32{}
		for r := 0; r < n; r++ {
			if x, ok := m12[g1[r]]; ok {
				require.Equal(t, x, g2[r], "row %d %q", r, col.ValueStr(r))
			}
			if x, ok := m21[g2[r]]; ok {
				require.Equal(t, x, g1[r], "row %d %q", r, col.ValueStr(r))
			}
			m12[g1[r]], m21[g2[r]] = g2[r], g1[r]
		}
		require.Equal(t, one.Len(), two.Len())
		col.Release()
		konst.Release()
	}
}
