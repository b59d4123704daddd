package sqlfront

import (
	"strings"
	"unicode/utf8"
)

// editDistance is the optimal-string-alignment distance between a and b
// (Levenshtein plus adjacent transpositions, so "dorp" is one edit from
// "drop"), case-insensitive, counted in code points.
func editDistance(a, b string) int {
	ra, rb := []rune(strings.ToLower(a)), []rune(strings.ToLower(b))
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}

// nearest returns the candidate closest to name by edit distance, if it is
// close enough to be a plausible typo: at most max(2, len/3) edits, and fewer
// edits than name has characters.
func nearest(name string, candidates []string) (string, bool) {
	best, bestD := "", -1
	for _, c := range candidates {
		d := editDistance(name, c)
		if bestD < 0 || d < bestD {
			best, bestD = c, d
		}
	}
	n := utf8.RuneCountInString(name)
	limit := min(max(2, n/3), n-1)
	if bestD < 0 || bestD > limit {
		return "", false
	}
	return best, true
}

// suggest renders ` (did you mean "x"?)` for the nearest candidate, or "".
func suggest(name string, candidates []string) string {
	if s, ok := nearest(name, candidates); ok {
		return ` (did you mean "` + s + `"?)`
	}
	return ""
}
