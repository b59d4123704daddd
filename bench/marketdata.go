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
// every ISA). Each row consumes exactly three outputs, so row i's values
// depend only on (seed, i) and the per-symbol price walk state, never on the
// batch size; the walk makes rows sequential within one generator.
const (
	wyInc = 0xa0761d6478bd642f
	wyMix = 0xe7037ed1a0b428db
	// lateThreshold is round(LateFraction · 2^32): a row is late when the
	// high 32 bits of its first random value are below it.
	lateThreshold = 42_949_673
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

// symbolState is one symbol's price walk. Prices are kept in integer cents:
// a free random walk W of uniform steps in [−step, step] cents per trade,
// folded into [−band, band] by reflection at both ends (a triangle wave of
// period 4·band), added to base and converted to float64 by one correctly
// rounded division (deterministic everywhere). The fold is a function of W
// alone, so the walk over a range of rows is a per-symbol prefix sum: it
// could be split across goroutines without changing a single value.
type symbolState struct {
	pos    int64  // (W + band) mod period, in [0, period)
	base   int64  // base price, cents, in [1000, 50000]
	band   int64  // base / 10: the price stays within base ± band
	period int64  // 4·band
	step   int64  // largest step, base/1000 + 1 cents (< period)
	span   uint64 // 2·step + 1 possible steps
}

// offset returns the symbol's current price offset from base in cents: the
// fold of pos into [−band, band].
func (s *symbolState) offset() int64 {
	if s.pos <= 2*s.band {
		return s.pos - s.band
	}
	return 3*s.band - s.pos
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
var symbolAlias = sync.OnceValue(func() []aliasEntry {
	return newAliasTable(zipfWeights(NumSymbols))
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
	syms   []symbolState
	alias  []aliasEntry
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
	g.syms = make([]symbolState, NumSymbols)
	for k := range g.syms {
		base := 1000 + int64(((wyrand(&prices)>>32)*49_001)>>32) // [1000, 50000] cents
		band, step := base/10, base/1000+1
		g.syms[k] = symbolState{pos: band, base: base, band: band, period: 4 * band, step: step, span: uint64(2*step + 1)}
	}
	g.alias = symbolAlias()
	return g
}

// Config returns the configuration in use (BatchSize with its default applied).
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

// Next generates the next batch; it returns false when all rows were
// produced or the configuration is invalid.
func (g *MarketData) Next() bool {
	if g.rec != nil {
		g.rec.Release()
		g.rec = nil
	}
	if g.err != nil || g.row >= g.cfg.Rows {
		return false
	}
	n := int(min(int64(g.cfg.BatchSize), g.cfg.Rows-g.row))
	g.rec = g.generate(n)
	return true
}

// GenerateAll generates every remaining row and returns the records; the
// caller owns them and must Release each.
func (g *MarketData) GenerateAll() ([]arrow.Record, error) {
	var recs []arrow.Record
	for g.Next() {
		r := g.Record()
		r.Retain()
		recs = append(recs, r)
	}
	if g.err != nil {
		for _, r := range recs {
			r.Release()
		}
		return nil, g.err
	}
	return recs, nil
}

// newBuffer allocates a buffer of n bytes from mem.
func newBuffer(mem memory.Allocator, n int) *memory.Buffer {
	b := memory.NewResizableBuffer(mem)
	b.Resize(n)
	return b
}

// generate builds the next n rows as one record, writing values straight
// into pre-sized buffers.
func (g *MarketData) generate(n int) arrow.Record {
	timeBuf := newBuffer(g.mem, 8*n)
	offBuf := newBuffer(g.mem, 4*(n+1))
	symBuf := newBuffer(g.mem, 7*n)
	traderBuf := newBuffer(g.mem, 8*n)
	priceBuf := newBuffer(g.mem, 8*n)
	qtyBuf := newBuffer(g.mem, 8*n)

	times := arrow.Int64Traits.CastFromBytes(timeBuf.Bytes())[:n]
	offs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())[:n+1]
	syms := symBuf.Bytes()[:7*n]
	traders := arrow.Int64Traits.CastFromBytes(traderBuf.Bytes())[:n]
	prices := arrow.Float64Traits.CastFromBytes(priceBuf.Bytes())[:n]
	qtys := arrow.Int64Traits.CastFromBytes(qtyBuf.Bytes())[:n]

	// The offsets buffer first receives each row's symbol index, then the
	// symbol bytes are copied from the name table and the offsets written.
	g.state = fillRows(g.state, BaseTradeTime+g.row, times, offs[:n], traders, prices, qtys,
		(*[NumSymbols]symbolState)(g.syms), (*[NumSymbols]aliasEntry)(g.alias))
	for j, k := range offs[:n] {
		*(*[7]byte)(syms[7*j:]) = symbolNames[k]
		offs[j] = int32(7 * j)
	}
	offs[n] = int32(7 * n)
	g.row += int64(n)

	cols := [...]arrow.ArrayData{
		array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{nil, timeBuf}, nil, 0, 0),
		array.NewData(arrow.BinaryTypes.String, n, []*memory.Buffer{nil, offBuf, symBuf}, nil, 0, 0),
		array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{nil, traderBuf}, nil, 0, 0),
		array.NewData(arrow.PrimitiveTypes.Float64, n, []*memory.Buffer{nil, priceBuf}, nil, 0, 0),
		array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{nil, qtyBuf}, nil, 0, 0),
	}
	for _, b := range [...]*memory.Buffer{timeBuf, offBuf, symBuf, traderBuf, priceBuf, qtyBuf} {
		b.Release() // the Data values hold their own references
	}
	arrs := make([]arrow.Array, len(cols))
	for i, d := range cols {
		arrs[i] = array.MakeFromData(d)
		d.Release()
	}
	rec := array.NewRecord(g.schema, arrs, int64(n))
	for _, a := range arrs {
		a.Release()
	}
	return rec
}

// fillRows generates len(times) rows starting at trade time t0 from wyrand
// state state into the column slices (ranks receives each row's symbol
// index) and returns the state after the last row. It is the generator's hot loop, kept
// small so its values stay in registers.
func fillRows(state uint64, t0 int64, times []int64, ranks []int32, traders []int64, prices []float64, qtys []int64,
	st *[NumSymbols]symbolState, alias *[NumSymbols]aliasEntry) uint64 {
	n := len(times)
	ranks = ranks[:n]
	traders = traders[:n]
	prices = prices[:n]
	qtys = qtys[:n]
	for j := 0; j < n; j++ {
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

		// trader_id and quantity: the two halves of u3, multiply-shift ranged.
		traders[j] = int64(((u3 >> 32) * uint64(NumTraders)) >> 32)
		qtys[j] = 1 + int64((uint64(uint32(u3))*uint64(MaxQuantity))>>32)

		// symbol: alias-table draw from u2.
		// Branch-free: keep = all ones when the coin is below the bucket's
		// threshold (the coin is unpredictable, a branch would mispredict).
		k := ((u2 >> 32) * NumSymbols) >> 32
		e := alias[k]
		keep := uint64(int64(uint64(uint32(u2))-uint64(e.thr)) >> 63)
		k = k&keep | uint64(e.alias)&^keep
		ranks[j] = int32(k)

		// price: the symbol's walk moves by the low half of u1 in [-step, step].
		s := &st[k]
		p := s.pos + int64((uint64(uint32(u1))*s.span)>>32) - s.step
		if p < 0 {
			p += s.period
		} else if p >= s.period {
			p -= s.period
		}
		s.pos = p
		w := p - s.band // the fold of symbolState.offset, written out so it stays branch-free
		if p > 2*s.band {
			w = 3*s.band - p
		}
		prices[j] = float64(s.base+w) / 100
	}
	return state
}
