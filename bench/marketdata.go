package bench

import (
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
	"github.com/apache/arrow/go/v17/arrow/memory"
)

// MarketDataTable is the name queries use for the generated data set.
const MarketDataTable = "market_data"

// Column names of the market_data schema, in schema order.
const (
	ColumnTradeTime = "trade_time" // int64, milliseconds since the Unix epoch; the event-time column
	ColumnSymbol    = "symbol"     // utf8, SYM0000 … SYM0999
	ColumnTraderID  = "trader_id"  // int64 in [0, NumTraders)
	ColumnPrice     = "price"      // float64 in [MinPrice, MaxPrice]
	ColumnQuantity  = "quantity"   // int64 in [1, MaxQuantity]
)

// EventTimeMetadataKey is the field-metadata key that marks a schema's
// event-time column (value "true"); the columnar package reads the same key.
const EventTimeMetadataKey = "velo.event_time"

// Defaults of BENCH.md, returned by DefaultMarketDataConfig.
const (
	DefaultRows      int64  = 10_000_000
	DefaultSeed      uint64 = 42
	DefaultBatchSize int    = 8192
	// MaxBatchSize bounds BatchSize so a batch's utf8 offsets fit in int32.
	MaxBatchSize int = 1 << 26
)

// Value domains of the generated columns.
const (
	// BaseTradeTime is the trade_time of row 0: row i is on time at BaseTradeTime + i.
	BaseTradeTime int64 = 1_700_000_000_000
	// LateFraction is the probability that a row arrives late.
	LateFraction = 0.01
	// MaxLatenessMillis bounds how far a late row is moved back: U[1, 2000] ms.
	MaxLatenessMillis int64 = 2000
	// NumSymbols is the number of distinct symbols, SYM0000 … SYM0999.
	NumSymbols = 1000
	// ZipfExponent is s in P(rank k) = k^-s / H(NumSymbols, s); rank 1 is SYM0000.
	ZipfExponent = 1.1
	// NumTraders bounds trader_id: uniform in [0, NumTraders).
	NumTraders int64 = 100_000
	// MaxQuantity bounds quantity: uniform in [1, MaxQuantity].
	MaxQuantity int64 = 1000
	// MinBasePrice and MaxBasePrice bound the per-symbol base prices.
	MinBasePrice = 10.0
	MaxBasePrice = 500.0
	// MinPrice and MaxPrice bound every price: a symbol's random walk stays
	// within ±10 % of its base price.
	MinPrice = MinBasePrice * 0.9
	MaxPrice = MaxBasePrice * 1.1
)

// MarketDataConfig selects what NewMarketData generates. Its zero value is
// zero rows of seed 0; DefaultMarketDataConfig gives BENCH.md's defaults.
type MarketDataConfig struct {
	// Rows is the number of rows to generate (>= 0).
	Rows int64
	// Seed selects the data; every seed, 0 included, is valid.
	Seed uint64
	// BatchSize is the number of rows per record (the last may be shorter);
	// 0 or less means DefaultBatchSize. It does not influence the rows.
	BatchSize int
	// Workers is the number of goroutines GenerateAll uses; 0 or less means
	// 1, the calling goroutine (on this shared 2-core host two workers
	// measured slower than one; pass runtime.GOMAXPROCS(0) on a machine with
	// idle cores). Next always generates on the calling goroutine. It does
	// not influence the rows. With more than one worker the allocator must
	// be safe for concurrent use (Arrow's allocators are).
	Workers int
}

// DefaultMarketDataConfig returns the BENCH.md defaults: 10,000,000 rows,
// seed 42, batches of 8,192 rows.
func DefaultMarketDataConfig() MarketDataConfig {
	return MarketDataConfig{Rows: DefaultRows, Seed: DefaultSeed, BatchSize: DefaultBatchSize}
}

var marketDataSchema = arrow.NewSchema([]arrow.Field{
	{Name: ColumnTradeTime, Type: arrow.PrimitiveTypes.Int64,
		Metadata: arrow.NewMetadata([]string{EventTimeMetadataKey}, []string{"true"})},
	{Name: ColumnSymbol, Type: arrow.BinaryTypes.String},
	{Name: ColumnTraderID, Type: arrow.PrimitiveTypes.Int64},
	{Name: ColumnPrice, Type: arrow.PrimitiveTypes.Float64},
	{Name: ColumnQuantity, Type: arrow.PrimitiveTypes.Int64},
}, nil)

// MarketDataSchema returns the market_data schema: trade_time int64 (the
// event-time column, marked with EventTimeMetadataKey), symbol utf8,
// trader_id int64, price float64, quantity int64, all non-nullable in
// practice (the generator never emits nulls). The schema is shared and
// immutable.
func MarketDataSchema() *arrow.Schema { return marketDataSchema }

// Random numbers: wyrand (Wang Yi's 64-bit generator), a counter
// state += wyInc mixed by one 64×64→128-bit multiplication (math/bits, exact on
// every ISA). Each row consumes exactly three outputs, so the state before
// row i is start + 3·i·wyInc: any batch can be generated on its own.
const (
	wyInc = 0xa0761d6478bd642f
	wyMix = 0xe7037ed1a0b428db
	// lateThreshold is round(LateFraction · 2^32): a row is late when the
	// high 32 bits of its first random value are below it.
	lateThreshold = 42_949_673
	// stepBias is added to a price step (|step| <= 51 cents) to pack it into
	// the high half of a row's int32 rank word.
	stepBias = 1 << 7
)

// splitmix64 advances *s and returns the next splitmix64 output; it turns
// the user's seed into well-mixed generator states.
func splitmix64(s *uint64) uint64 {
	*s += 0x9e3779b97f4a7c15
	z := *s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// wyrand advances *s and returns the next wyrand output.
func wyrand(s *uint64) uint64 {
	*s += wyInc
	hi, lo := bits.Mul64(*s, *s^wyMix)
	return hi ^ lo
}

// symbolState holds one symbol's price parameters. Prices are integer cents:
// a free random walk W of uniform steps in [−step, step] cents per trade,
// folded into [−band, band] by reflection at both ends (a triangle wave of
// period 4·band), added to base and converted to float64 by one correctly
// rounded division (deterministic everywhere). The walk's state is
// pos = (W + band) mod period, kept apart (walkPos) because the fold depends
// on W alone: the walk over a range of rows is a per-symbol prefix sum of
// steps, which is what lets GenerateAll split batches across goroutines.
type symbolState struct {
	base   int64  // base price, cents, in [1000, 50000]
	band   int64  // base / 10: the price stays within base ± band
	period int64  // 4·band
	step   int64  // largest step, base/1000 + 1 cents (< band)
	span   uint64 // 2·step + 1 possible steps
}

// walkPos is every symbol's walk position, in [0, period).
type walkPos [NumSymbols]int64

// offset returns a symbol's price offset from base in cents at walk
// position pos: the fold of pos into [−band, band].
func (s *symbolState) offset(pos int64) int64 {
	if pos <= 2*s.band {
		return pos - s.band
	}
	return 3*s.band - pos
}

// symbolNames holds "SYM0000" … "SYM0999" as 7-byte arrays.
var symbolNames = func() *[NumSymbols][7]byte {
	var t [NumSymbols][7]byte
	for k := range t {
		copy(t[k][:], fmt.Sprintf("SYM%04d", k))
	}
	return &t
}()

// symbolAlias is the Zipf alias table, built once on first use.
var symbolAlias = sync.OnceValue(func() *[NumSymbols]aliasEntry {
	return (*[NumSymbols]aliasEntry)(newAliasTable(zipfWeights(NumSymbols)))
})

// SymbolName returns the symbol of Zipf rank k+1 (k in [0, NumSymbols)):
// SymbolName(0) = "SYM0000", the most frequent.
func SymbolName(k int) string { return string(symbolNames[k][:]) }

// MarketData streams the market_data data set as Arrow records. It
// implements array.RecordReader; the record returned by Record is valid until
// the next call to Next or the final Release. A MarketData is used by one
// goroutine at a time.
type MarketData struct {
	refs   atomic.Int64
	mem    memory.Allocator
	cfg    MarketDataConfig
	err    error
	rec    arrow.Record
	row    int64  // next row to generate
	state  uint64 // wyrand state before row `row`
	syms   *[NumSymbols]symbolState
	pos    walkPos           // walk positions before row `row`
	delta  [NumSymbols]int64 // scratch for Next (its walk advances in place)
	alias  *[NumSymbols]aliasEntry
	schema *arrow.Schema
}

var _ array.RecordReader = (*MarketData)(nil)

// NewMarketData returns a generator of cfg.Rows rows of market_data for
// cfg.Seed in batches of cfg.BatchSize rows, allocating through mem. An
// invalid cfg (negative Rows, BatchSize above MaxBatchSize) yields a reader
// whose Next returns false and whose Err says why.
func NewMarketData(mem memory.Allocator, cfg MarketDataConfig) *MarketData {
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.Workers <= 0 {
		cfg.Workers = 1
	}
	g := &MarketData{mem: mem, cfg: cfg, schema: marketDataSchema}
	g.refs.Store(1)
	switch {
	case cfg.Rows < 0:
		g.err = fmt.Errorf("market_data: rows must be >= 0, got %d", cfg.Rows)
		return g
	case cfg.BatchSize > MaxBatchSize:
		g.err = fmt.Errorf("market_data: batch size must be <= %d, got %d", MaxBatchSize, cfg.BatchSize)
		return g
	}
	seed := cfg.Seed
	g.state = splitmix64(&seed)
	prices := splitmix64(&seed)
	g.syms = new([NumSymbols]symbolState)
	for k := range g.syms {
		base := 1000 + int64(((wyrand(&prices)>>32)*49_001)>>32) // [1000, 50000] cents
		band, step := base/10, base/1000+1
		g.syms[k] = symbolState{base: base, band: band, period: 4 * band, step: step, span: uint64(2*step + 1)}
		g.pos[k] = band // W = 0: every walk starts at its base price
	}
	g.alias = symbolAlias()
	return g
}

// Config returns the configuration in use (defaults applied).
func (g *MarketData) Config() MarketDataConfig { return g.cfg }

// Retain increases the reference count by 1.
func (g *MarketData) Retain() { g.refs.Add(1) }

// Release decreases the reference count by 1; at zero the current record is
// released.
func (g *MarketData) Release() {
	if g.refs.Add(-1) == 0 && g.rec != nil {
		g.rec.Release()
		g.rec = nil
	}
}

// Schema returns MarketDataSchema().
func (g *MarketData) Schema() *arrow.Schema { return g.schema }

// Record returns the current batch; it is valid until the next Next or the
// final Release (Retain it to keep it).
func (g *MarketData) Record() arrow.Record { return g.rec }

// Err returns the configuration error, if any.
func (g *MarketData) Err() error { return g.err }

// Next generates the next batch on the calling goroutine; it returns false
// when all rows were produced or the configuration is invalid.
func (g *MarketData) Next() bool {
	if g.rec != nil {
		g.rec.Release()
		g.rec = nil
	}
	if g.err != nil || g.row >= g.cfg.Rows {
		return false
	}
	n := int(min(int64(g.cfg.BatchSize), g.cfg.Rows-g.row))
	b := g.newBatch(g.row, n)
	b.fillRandom(g, &g.delta)
	b.fillWalk(g, &g.pos)
	g.rec = b.record(g.schema)
	g.row += int64(n)
	g.state += uint64(3*n) * wyInc
	return true
}

// GenerateAll generates every remaining row and returns the records; the
// caller owns them and must Release each. It uses cfg.Workers goroutines,
// all finished when it returns; the records are the same as Next's.
func (g *MarketData) GenerateAll() ([]arrow.Record, error) {
	if g.rec != nil {
		g.rec.Release()
		g.rec = nil
	}
	if g.err != nil {
		return nil, g.err
	}
	if g.cfg.Workers == 1 {
		var recs []arrow.Record
		for g.Next() {
			r := g.Record()
			r.Retain()
			recs = append(recs, r)
		}
		return recs, nil
	}
	bs := int64(g.cfg.BatchSize)
	nb := int((g.cfg.Rows - g.row + bs - 1) / bs)
	if nb == 0 {
		return nil, nil
	}
	batches := make([]*batch, nb)
	deltas := make([][NumSymbols]int64, nb)
	starts := make([]walkPos, nb)

	// Phase 1, parallel: everything but the prices, plus each batch's
	// per-symbol sum of price steps.
	parallel(g.cfg.Workers, nb, func(i int) {
		row := g.row + int64(i)*bs
		batches[i] = g.newBatch(row, int(min(bs, g.cfg.Rows-row)))
		batches[i].fillRandom(g, &deltas[i])
	})
	// Phase 2, sequential and cheap (NumSymbols additions per batch): each
	// batch's starting walk positions are the prefix sums of the steps.
	for i := range batches {
		starts[i] = g.pos
		for k, d := range deltas[i] {
			p := (g.pos[k] + d) % g.syms[k].period
			if p < 0 {
				p += g.syms[k].period
			}
			g.pos[k] = p
		}
	}
	// Phase 3, parallel: prices, symbol bytes and offsets.
	recs := make([]arrow.Record, nb)
	parallel(g.cfg.Workers, nb, func(i int) {
		batches[i].fillWalk(g, &starts[i])
		recs[i] = batches[i].record(g.schema)
	})
	g.state += uint64(3*(g.cfg.Rows-g.row)) * wyInc
	g.row = g.cfg.Rows
	return recs, nil
}

// parallel runs fn(0) … fn(n−1) on up to workers goroutines and waits.
func parallel(workers, n int, fn func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < min(workers, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// batch is one record under construction: its buffers and typed views.
type batch struct {
	row     int64  // first row
	state   uint64 // wyrand state before it
	n       int
	bufs    [6]*memory.Buffer // trade_time, symbol offsets, symbol bytes, trader_id, price, quantity
	times   []int64
	ranks   []int32 // the symbol offsets buffer, holding rank | (step+stepBias)<<16 until fillWalk
	syms    []byte
	traders []int64
	prices  []float64
	qtys    []int64
}

// newBatch allocates the buffers for rows [row, row+n).
func (g *MarketData) newBatch(row int64, n int) *batch {
	b := &batch{row: row, n: n, state: g.state + uint64(3*(row-g.row))*wyInc}
	for i, size := range [...]int{8 * n, 4 * (n + 1), 7 * n, 8 * n, 8 * n, 8 * n} {
		b.bufs[i] = memory.NewResizableBuffer(g.mem)
		b.bufs[i].Resize(size)
	}
	b.times = arrow.Int64Traits.CastFromBytes(b.bufs[0].Bytes())[:n]
	b.ranks = arrow.Int32Traits.CastFromBytes(b.bufs[1].Bytes())[:n+1]
	b.syms = b.bufs[2].Bytes()[:7*n]
	b.traders = arrow.Int64Traits.CastFromBytes(b.bufs[3].Bytes())[:n]
	b.prices = arrow.Float64Traits.CastFromBytes(b.bufs[4].Bytes())[:n]
	b.qtys = arrow.Int64Traits.CastFromBytes(b.bufs[5].Bytes())[:n]
	return b
}

// fillRandom is the first pass over a batch: it draws every row's random
// values, writes trade_time, trader_id and quantity, packs the symbol rank
// and price step into ranks, and adds each step to delta[rank].
func (b *batch) fillRandom(g *MarketData, delta *[NumSymbols]int64) {
	state := b.state
	t0 := BaseTradeTime + b.row
	times, ranks, traders, qtys := b.times, b.ranks[:len(b.times)], b.traders[:len(b.times)], b.qtys[:len(b.times)]
	alias, st := g.alias, g.syms
	for j := range times {
		state += wyInc
		hi, lo := bits.Mul64(state, state^wyMix)
		u1 := hi ^ lo
		state += wyInc
		hi, lo = bits.Mul64(state, state^wyMix)
		u2 := hi ^ lo
		state += wyInc
		hi, lo = bits.Mul64(state, state^wyMix)
		u3 := hi ^ lo

		// trade_time: late when the high half of u1 is below lateThreshold;
		// that half is then uniform in [0, lateThreshold) and scales to the
		// lateness in [1, 2000] ms.
		t := t0 + int64(j)
		if h := u1 >> 32; h < lateThreshold {
			t -= 1 + int64(h*uint64(MaxLatenessMillis)/lateThreshold)
		}
		times[j] = t

		// trader_id and quantity: the two halves of u3, multiply-shift ranged
		// ((x·range)>>32 for a 32-bit x: each value's probability is within
		// one part in 2^32/range of uniform, 2.3e-5 for trader_id).
		traders[j] = int64(((u3 >> 32) * uint64(NumTraders)) >> 32)
		qtys[j] = 1 + int64((uint64(uint32(u3))*uint64(MaxQuantity))>>32)

		// symbol: alias-table draw from u2, branch-free (keep = all ones
		// when the coin is below the bucket's threshold; a branch on the
		// unpredictable coin would mispredict).
		k := ((u2 >> 32) * NumSymbols) >> 32
		e := alias[k]
		keep := uint64(int64(uint64(uint32(u2))-uint64(e.thr)) >> 63)
		k = k&keep | uint64(e.alias)&^keep

		// price step: the low half of u1, uniform in [-step, step].
		s := &st[k]
		step := int64((uint64(uint32(u1))*s.span)>>32) - s.step
		delta[k] += step
		ranks[j] = int32(k) | int32(step+stepBias)<<16
	}
}

// fillWalk is the second pass: starting from walk positions pos it advances
// each row's symbol walk, writes the prices, copies the symbol bytes and
// replaces the packed ranks by the utf8 offsets. pos ends after the batch.
func (b *batch) fillWalk(g *MarketData, pos *walkPos) {
	n := len(b.times)
	ranks, prices, syms := b.ranks[:n+1], b.prices[:n], b.syms[:7*n]
	st := g.syms
	for j, v := range ranks[:n] {
		k := v & 0xffff
		s := &st[k]
		p := pos[k] + int64(v>>16) - stepBias
		if p < 0 {
			p += s.period
		} else if p >= s.period {
			p -= s.period
		}
		pos[k] = p
		w := p - s.band // symbolState.offset, written out so it stays branch-free
		if p > 2*s.band {
			w = 3*s.band - p
		}
		prices[j] = float64(s.base+w) / 100
		*(*[7]byte)(syms[7*j:]) = symbolNames[k]
		ranks[j] = int32(7 * j)
	}
	ranks[n] = int32(7 * n)
}

// record wraps the filled buffers into a record (the batch's references
// move to the record).
func (b *batch) record(schema *arrow.Schema) arrow.Record {
	n := b.n
	cols := [...]arrow.ArrayData{
		array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{nil, b.bufs[0]}, nil, 0, 0),
		array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{nil, b.bufs[1], b.bufs[2]}, nil, 0, 0),
		array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{nil, b.bufs[3]}, nil, 0, 0),
		array.NewData(arrow.PrimitiveTypes.Float64, n, []*memory.Buffer{nil, b.bufs[4]}, nil, 0, 0),
		array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{nil, b.bufs[5]}, nil, 0, 0),
	}
	for _, buf := range b.bufs {
		buf.Release() // the Data values hold their own references
	}
	arrs := make([]arrow.Array, len(cols))
	for i, d := range cols {
		arrs[i] = array.MakeFromData(d)
		d.Release()
	}
	rec := array.NewRecord(schema, arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}
