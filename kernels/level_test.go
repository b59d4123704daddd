package kernels

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseLevel(t *testing.T) {
	for _, l := range []Level{Generic, AVX2, AVX512, NEON} {
		got, err := ParseLevel(l.String())
		require.NoError(t, err)
		require.Equal(t, l, got)
	}
	got, err := ParseLevel(" AVX2 ")
	require.NoError(t, err)
	require.Equal(t, AVX2, got)
	_, err = ParseLevel("sse9")
	require.ErrorContains(t, err, "unknown level")
}

func TestSetLevel(t *testing.T) {
	levels := SupportedLevels()
	require.Equal(t, Generic, levels[0])
	require.Equal(t, Best(), levels[len(levels)-1])
	before := Current()
	for _, l := range levels {
		restore, err := SetLevel(l)
		require.NoError(t, err)
		require.Equal(t, l, Current())
		restore()
		require.Equal(t, before, Current())
	}
	for _, l := range []Level{AVX2, AVX512, NEON} {
		if !Supported(l) {
			_, err := SetLevel(l)
			require.ErrorContains(t, err, "not supported")
		}
	}
}

func TestOnLevelAppliesImmediatelyAndOnSwitch(t *testing.T) {
	var seen []Level
	onLevel(func(l Level) { seen = append(seen, l) })
	require.Equal(t, []Level{Current()}, seen)
	restore, err := SetLevel(Generic)
	require.NoError(t, err)
	restore()
	require.Equal(t, Generic, seen[1])
	require.Equal(t, seen[0], seen[2])
}
