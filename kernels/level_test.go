package kernels

import (
	"reflect"
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

// TestFamiliesStartAtCurrentLevel guards the start-up order: every family
// registers its dispatch in an init function, some in files that sort
// before level.go, so the current level must already be set when they run.
// Re-applying the current level must not change any dispatched function.
func TestFamiliesStartAtCurrentLevel(t *testing.T) {
	ptr := func(f any) uintptr { return reflect.ValueOf(f).Pointer() }
	before := []uintptr{ptr(hashUint64Impl), ptr(compareInt64ScalarImpl), ptr(sumInt64Impl), ptr(probeEqInt64Impl)}
	restore, err := SetLevel(Current())
	require.NoError(t, err)
	defer restore()
	after := []uintptr{ptr(hashUint64Impl), ptr(compareInt64ScalarImpl), ptr(sumInt64Impl), ptr(probeEqInt64Impl)}
	require.Equal(t, before, after, "a kernel family started at another level than Current()")
	require.Equal(t, Best(), Current(), "without VELO_KERNELS the best level is current")
}
