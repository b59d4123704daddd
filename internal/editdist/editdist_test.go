package editdist

import "testing"

func TestDistance(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{
		{"", "", 0}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"ab", "ba", 1},
		{"dorp", "drop", 1}, {"price", "prcie", 1}, {"été", "ete", 2}, {"ÉTÉ", "été", 3},
		{"symbol", "symbol", 0}, {"ca", "abc", 3}, {"a", "", 1}, {"日本", "日本語", 1}, {"abc", "abc", 0},
	} {
		if got := Distance(c.a, c.b); got != c.d {
			t.Errorf("Distance(%q, %q) = %d, want %d", c.a, c.b, got, c.d)
		}
		if got := Distance(c.b, c.a); got != c.d {
			t.Errorf("Distance(%q, %q) = %d, want %d (symmetry)", c.b, c.a, got, c.d)
		}
	}
}
