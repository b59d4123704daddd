package exec

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestLikeMatch(t *testing.T) {
	cases := []struct {
		s, p string
		esc  rune
		want bool
	}{
		{"", "", 0, true},
		{"", "%", 0, true},
		{"", "_", 0, false},
		{"abc", "abc", 0, true},
		{"abc", "ab", 0, false},
		{"abc", "a%", 0, true},
		{"abc", "%c", 0, true},
		{"abc", "%b%", 0, true},
		{"abc", "a_c", 0, true},
		{"abc", "a__c", 0, false},
		{"aaab", "%a%ab", 0, true},
		{"mississippi", "m%iss%pi", 0, true},
		{"mississippi", "m%iss%pp", 0, false},
		{"día", "d_a", 0, true}, // _ is one code point, not one byte
		{"día", "d__a", 0, false},
		{"ünï", "%ï", 0, true},
		{"50%", "50!%", '!', true},
		{"500", "50!%", '!', false},
		{"a_b", "a!_b", '!', true},
		{"axb", "a!_b", '!', false},
		{"a!b", "a!!b", '!', true},
		{"a\\b", "a\\b", 0, true}, // no default escape
		{"ABC", "abc", 0, false},  // case-sensitive
	}
	for _, c := range cases {
		require.Equal(t, c.want, likeMatch([]byte(c.s), []byte(c.p), c.esc), "%q LIKE %q ESCAPE %q", c.s, c.p, c.esc)
	}
}

// Random patterns against the regexp oracle (% → .*, _ → ., no escape).
func TestLikeMatchOracle(t *testing.T) {
	alphabet := []string{"a", "b", "é", "%", "_"}
	var gen func(n int, out *[]string, cur string)
	gen = func(n int, out *[]string, cur string) {
		*out = append(*out, cur)
		if n == 0 {
			return
		}
		for _, a := range alphabet {
			gen(n-1, out, cur+a)
		}
	}
	var pats []string
	gen(4, &pats, "")
	subjects := []string{"", "a", "b", "ab", "ba", "aab", "é", "aéb", "abab", "%", "_"}
	for _, p := range pats {
		var re strings.Builder
		re.WriteString("^(?s)")
		for _, r := range p {
			switch r {
			case '%':
				re.WriteString(".*")
			case '_':
				re.WriteString(".")
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString("$")
		rx := regexp.MustCompile(re.String())
		for _, s := range subjects {
			require.Equal(t, rx.MatchString(s), likeMatch([]byte(s), []byte(p), 0), "%q LIKE %q", s, p)
		}
	}
}
