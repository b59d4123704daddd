package main

import (
	"fmt"
	"sort"

	"github.com/apache/arrow/go/v17/arrow"
	"github.com/apache/arrow/go/v17/arrow/array"
)

// The naive Go baseline of BENCH.md: one goroutine, plain loops over the
// Arrow columns' Go slices and Go maps, no SIMD, no unsafe. Each scenario
// materialises its full result in Go slices, like an engine materialises
// result batches.

// checkCols are the result columns each scenario's agreement check compares
// (the string column is always "symbol").
var checkCols = map[string][]string{
	"S0":  {"symbol", "price", "quantity", "notional"},
	"S1":  {"symbol", "trade_time", "price", "ma100", "min100", "max100"},
	"S2":  {"symbol", "trade_count", "avg_price", "min_price", "max_price", "total_quantity"},
	"S2h": {"trader_id", "trade_count", "avg_price", "min_price", "max_price", "total_quantity"},
	"S3a": {"symbol", "trade_count", "avg_price", "low", "high", "total_quantity", "total_value"},
	"S3b": {"symbol", "trade_count", "avg_price", "low", "high", "total_quantity", "total_value"},
}

// naiveResult is a materialised result: named float, int and string columns.
type naiveResult struct {
	rows   int64
	floats map[string][]float64
	ints   map[string][]int64
	strs   map[string][]string
}

// checksum fingerprints the result like ChecksumRecords does.
func (r naiveResult) checksum() Checksum {
	s := newSummer()
	s.c.Rows = r.rows
	for n, vs := range r.floats {
		for _, v := range vs {
			s.float(n, v)
		}
	}
	for n, vs := range r.ints {
		for _, v := range vs {
			s.float(n, float64(v))
		}
	}
	for n, vs := range r.strs {
		for _, v := range vs {
			s.str(n, v)
		}
	}
	return s.c
}

// cols are the market_data columns of one record as Go slices.
type cols struct {
	time, trader, qty []int64
	price             []float64
	sym               *array.String
}

func columnsOf(rec arrow.Record) cols {
	return cols{
		time:   rec.Column(0).(*array.Int64).Int64Values(),
		sym:    rec.Column(1).(*array.String),
		trader: rec.Column(2).(*array.Int64).Int64Values(),
		price:  rec.Column(3).(*array.Float64).Float64Values(),
		qty:    rec.Column(4).(*array.Int64).Int64Values(),
	}
}

// naive runs scenario id over recs.
func naive(id string, recs []arrow.Record) (naiveResult, error) {
	switch id {
	case "S0":
		return naiveS0(recs), nil
	case "S1":
		return naiveS1(recs), nil
	case "S2":
		return naiveS2(recs), nil
	case "S2h":
		return naiveS2h(recs), nil
	case "S3a":
		return naiveBars(recs, false), nil
	case "S3b":
		return naiveBars(recs, true), nil
	}
	return naiveResult{}, fmt.Errorf("naive: unknown scenario %q", id)
}

func naiveS0(recs []arrow.Record) naiveResult {
	var sym []string
	var price, notional []float64
	var qty []int64
	for _, rec := range recs {
		c := columnsOf(rec)
		for i, p := range c.price {
			if p > 100.0 {
				sym = append(sym, c.sym.Value(i))
				price = append(price, p)
				qty = append(qty, c.qty[i])
				notional = append(notional, p*float64(c.qty[i]))
			}
		}
	}
	return naiveResult{rows: int64(len(sym)),
		floats: map[string][]float64{"price": price, "notional": notional},
		ints:   map[string][]int64{"quantity": qty},
		strs:   map[string][]string{"symbol": sym}}
}

// naiveS1 groups rows by symbol, sorts each symbol's rows by trade_time
// (stable: ties keep arrival order) and slides a 100-row frame.
func naiveS1(recs []arrow.Record) naiveResult {
	type row struct {
		t int64
		p float64
	}
	bySym := map[string][]row{}
	for _, rec := range recs {
		c := columnsOf(rec)
		for i, t := range c.time {
			s := c.sym.Value(i)
			bySym[s] = append(bySym[s], row{t, c.price[i]})
		}
	}
	var sym []string
	var times []int64
	var price, ma, mn, mx []float64
	for s, rows := range bySym {
		sort.SliceStable(rows, func(i, j int) bool { return rows[i].t < rows[j].t })
		sum := 0.0
		for i, r := range rows {
			sum += r.p
			lo := i - 99
			if lo > 0 {
				sum -= rows[lo-1].p
			} else {
				lo = 0
			}
			wmin, wmax := r.p, r.p
			for _, w := range rows[lo:i] {
				if w.p < wmin {
					wmin = w.p
				}
				if w.p > wmax {
					wmax = w.p
				}
			}
			sym = append(sym, s)
			times = append(times, r.t)
			price = append(price, r.p)
			ma = append(ma, sum/float64(i-lo+1))
			mn = append(mn, wmin)
			mx = append(mx, wmax)
		}
	}
	return naiveResult{rows: int64(len(sym)),
		floats: map[string][]float64{"price": price, "ma100": ma, "min100": mn, "max100": mx},
		ints:   map[string][]int64{"trade_time": times},
		strs:   map[string][]string{"symbol": sym}}
}

type aggState struct {
	count, qty    int64
	sum, min, max float64
	value         float64
}

func (a *aggState) add(p float64, q int64) {
	if a.count == 0 || p < a.min {
		a.min = p
	}
	if a.count == 0 || p > a.max {
		a.max = p
	}
	a.count++
	a.sum += p
	a.qty += q
	a.value += p * float64(q)
}

// groupResult materialises S2/S2h rows from the groups.
type groupResult struct {
	count, qty          []int64
	avg, minV, maxV, vv []float64
}

func (g *groupResult) add(a *aggState) {
	g.count = append(g.count, a.count)
	g.qty = append(g.qty, a.qty)
	g.avg = append(g.avg, a.sum/float64(a.count))
	g.minV = append(g.minV, a.min)
	g.maxV = append(g.maxV, a.max)
	g.vv = append(g.vv, a.value)
}

func (g *groupResult) s2(keys naiveResult) naiveResult {
	keys.floats = map[string][]float64{"avg_price": g.avg, "min_price": g.minV, "max_price": g.maxV}
	if keys.ints == nil {
		keys.ints = map[string][]int64{}
	}
	keys.ints["trade_count"] = g.count
	keys.ints["total_quantity"] = g.qty
	keys.rows = int64(len(g.count))
	return keys
}

func naiveS2(recs []arrow.Record) naiveResult {
	groups := map[string]*aggState{}
	for _, rec := range recs {
		c := columnsOf(rec)
		for i, p := range c.price {
			s := c.sym.Value(i)
			a := groups[s]
			if a == nil {
				a = &aggState{}
				groups[s] = a
			}
			a.add(p, c.qty[i])
		}
	}
	var g groupResult
	var syms []string
	for s, a := range groups {
		syms = append(syms, s)
		g.add(a)
	}
	return g.s2(naiveResult{strs: map[string][]string{"symbol": syms}})
}

func naiveS2h(recs []arrow.Record) naiveResult {
	groups := map[int64]*aggState{}
	for _, rec := range recs {
		c := columnsOf(rec)
		for i, p := range c.price {
			a := groups[c.trader[i]]
			if a == nil {
				a = &aggState{}
				groups[c.trader[i]] = a
			}
			a.add(p, c.qty[i])
		}
	}
	var g groupResult
	var ids []int64
	for id, a := range groups {
		ids = append(ids, id)
		g.add(a)
	}
	return g.s2(naiveResult{ints: map[string][]int64{"trader_id": ids}})
}

// barKey is a (symbol, 1-minute window) group.
type barKey struct {
	sym string
	win int64
}

// naiveBars computes 1-minute bars per symbol: every window at the end
// (EMIT FINAL), or with changes every group an input batch touched,
// emitted after that batch (EMIT CHANGES).
func naiveBars(recs []arrow.Record, changes bool) naiveResult {
	groups := map[barKey]*aggState{}
	var g groupResult
	var syms []string
	touched := map[barKey]*aggState{}
	for _, rec := range recs {
		c := columnsOf(rec)
		for i, t := range c.time {
			w := t / 60000
			if t < 0 && t%60000 != 0 {
				w--
			}
			k := barKey{c.sym.Value(i), w}
			a := groups[k]
			if a == nil {
				a = &aggState{}
				groups[k] = a
			}
			a.add(c.price[i], c.qty[i])
			if changes {
				touched[k] = a
			}
		}
		if changes {
			for k, a := range touched {
				syms = append(syms, k.sym)
				g.add(a)
			}
			clear(touched)
		}
	}
	if !changes {
		for k, a := range groups {
			syms = append(syms, k.sym)
			g.add(a)
		}
	}
	return naiveResult{rows: int64(len(syms)),
		floats: map[string][]float64{"avg_price": g.avg, "low": g.minV, "high": g.maxV, "total_value": g.vv},
		ints:   map[string][]int64{"trade_count": g.count, "total_quantity": g.qty},
		strs:   map[string][]string{"symbol": syms}}
}
