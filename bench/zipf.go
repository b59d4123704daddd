package bench

// The symbol column draws ranks from a Zipf law with an alias table (Vose's
// method): one 64-bit random value picks a bucket (high 32 bits) and a coin
// (low 32 bits), so sampling is O(1) and branch-light.
//
// The table must be bit-identical on every machine, so its construction uses
// only IEEE-754 basic operations (+ − × ÷ and comparisons), which are
// correctly rounded everywhere, and never math.Pow/Exp/Log (assembly on some
// platforms, FMA-dependent on amd64) nor an expression of the form x*y+z that
// the compiler could fuse into an FMA on arm64 (every product that feeds an
// addition is rounded first by an explicit float64 conversion).

// aliasEntry is one bucket of the alias table: keep the bucket's own rank
// when the 32-bit coin is below thr, else take alias. Buckets that keep their
// rank with probability 1 have thr = 2^32−1 and alias = their own rank.
type aliasEntry struct {
	thr   uint32
	alias uint32
}

// zipfWeights returns w[k] = (k+1)^-s for s = 1.1 and k in [0, n), and their
// sum H. (k+1)^-1.1 is computed as 1 / ((k+1) · (k+1)^0.1) with the tenth
// root found by bisection, so only basic operations are involved.
func zipfWeights(n int) ([]float64, float64) {
	w := make([]float64, n)
	h := 0.0
	for k := range w {
		x := float64(k + 1)
		w[k] = 1 / float64(x*tenthRoot(x))
		h = float64(h + w[k])
	}
	return w, h
}

// tenthRoot returns x^(1/10) for x in [1, 1024] by bisection on [1, 2]: the
// result is the largest double r (within an ulp) with r^10 <= x, computed
// with multiplications and comparisons only.
func tenthRoot(x float64) float64 {
	lo, hi := 1.0, 2.0
	for {
		mid := float64(lo+hi) * 0.5
		if mid == lo || mid == hi {
			return lo
		}
		m2 := float64(mid * mid)
		m4 := float64(m2 * m2)
		m8 := float64(m4 * m4)
		if float64(m8*m2) <= x {
			lo = mid
		} else {
			hi = mid
		}
	}
}

// newAliasTable builds Vose's alias table for weights w (summing to h).
// Worklists are processed in a fixed order, so the table is deterministic.
func newAliasTable(w []float64, h float64) []aliasEntry {
	n := len(w)
	p := make([]float64, n)
	small := make([]int, 0, n)
	large := make([]int, 0, n)
	for k := range w {
		p[k] = float64(w[k]*float64(n)) / h
		if p[k] < 1 {
			small = append(small, k)
		} else {
			large = append(large, k)
		}
	}
	tab := make([]aliasEntry, n)
	for len(small) > 0 && len(large) > 0 {
		l := small[len(small)-1]
		small = small[:len(small)-1]
		g := large[len(large)-1]
		tab[l] = aliasEntry{thr: probToThreshold(p[l]), alias: uint32(g)}
		p[g] = float64(p[g]+p[l]) - 1
		if p[g] < 1 {
			large = large[:len(large)-1]
			small = append(small, g)
		}
	}
	// What is left holds probability 1 up to rounding.
	for _, k := range large {
		tab[k] = aliasEntry{thr: ^uint32(0), alias: uint32(k)}
	}
	for _, k := range small {
		tab[k] = aliasEntry{thr: ^uint32(0), alias: uint32(k)}
	}
	return tab
}

// probToThreshold maps a keep-probability in [0, 1] to a 32-bit coin
// threshold (scaling by 2^32 is exact; truncation is deterministic).
func probToThreshold(p float64) uint32 {
	t := p * (1 << 32)
	switch {
	case t <= 0:
		return 0
	case t >= 1<<32-1:
		return ^uint32(0)
	default:
		return uint32(t)
	}
}
