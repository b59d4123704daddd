package sqlfront

import (
	"strings"
	"unicode/utf8"

	"github.com/velo-engine/velo/internal/editdist"
)

// editDistance is the case-insensitive edit distance of two names
// (optimal string alignment, in code points: "dorp" is one edit from
// "drop").
func editDistance(a, b string) int {
	return editdist.Distance(strings.ToLower(a), strings.ToLower(b))
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
