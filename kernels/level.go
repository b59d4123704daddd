package kernels

import (
	"fmt"
	"os"
	"strings"
	"sync"
)

// Level is a kernel implementation level: the instruction set the kernels use.
type Level int

// The kernel levels, from the portable reference upwards.
const (
	// Generic is the pure-Go reference implementation, available everywhere.
	Generic Level = iota
	// AVX2 uses 256-bit AVX2 assembly on amd64.
	AVX2
	// AVX512 uses AVX-512 (F, BW, DQ, VL) assembly on amd64.
	AVX512
	// NEON uses Advanced SIMD assembly on arm64.
	NEON
)

// EnvVar is the environment variable that forces a kernel level at start-up.
const EnvVar = "VELO_KERNELS"

var levelNames = [...]string{Generic: "generic", AVX2: "avx2", AVX512: "avx512", NEON: "neon"}

// String returns the level's lower-case name as accepted by ParseLevel.
func (l Level) String() string {
	if l >= 0 && int(l) < len(levelNames) {
		return levelNames[l]
	}
	return fmt.Sprintf("Level(%d)", int(l))
}

// ParseLevel parses a level name (generic, avx2, avx512, neon; case-insensitive).
func ParseLevel(s string) (Level, error) {
	for i, n := range levelNames {
		if strings.EqualFold(strings.TrimSpace(s), n) {
			return Level(i), nil
		}
	}
	return Generic, fmt.Errorf("kernels: unknown level %q (want one of %s)", s, strings.Join(levelNames[:], ", "))
}

// Supported reports whether this binary on this CPU can run level l.
func Supported(l Level) bool {
	for _, s := range SupportedLevels() {
		if s == l {
			return true
		}
	}
	return false
}

// SupportedLevels lists the levels this binary can run on this CPU, Generic
// first and the best last.
func SupportedLevels() []Level {
	return append([]Level(nil), supported...)
}

// Best returns the best level this binary can run on this CPU.
func Best() Level { return supported[len(supported)-1] }

var (
	mu    sync.Mutex
	hooks []func(Level)
	// supported is filled by detectLevels (level_*.go), Generic first.
	supported = detectLevels()
	// current is set in a variable initializer, not an init function:
	// package variables are initialized before any init function runs, and
	// the kernel families' init functions (in files that sort before this
	// one) register their dispatch with onLevel, which applies current.
	current, envErr = initialLevel()
)

// initialLevel is the best supported level, or the one VELO_KERNELS names.
func initialLevel() (Level, error) {
	best := supported[len(supported)-1]
	v, ok := os.LookupEnv(EnvVar)
	if !ok || v == "" {
		return best, nil
	}
	l, err := ParseLevel(v)
	switch {
	case err != nil:
		return best, fmt.Errorf("%s=%s: %w", EnvVar, v, err)
	case !Supported(l):
		return best, fmt.Errorf("%s=%s: level %s is not supported on this CPU/build (supported: %v)", EnvVar, v, l, supported)
	}
	return l, nil
}

// EnvError reports an invalid VELO_KERNELS setting found at start-up (nil if
// the variable was unset or valid). The process then runs at the best
// supported level; programs such as the velo CLI refuse to start instead.
func EnvError() error { return envErr }

// Current returns the level the kernels use now.
func Current() Level {
	mu.Lock()
	defer mu.Unlock()
	return current
}

// SetLevel switches every kernel to level l and returns a function that
// restores the previous level. It is meant for tests and benchmarks that
// compare levels; it must not race with running kernels.
func SetLevel(l Level) (restore func(), err error) {
	if !Supported(l) {
		return nil, fmt.Errorf("kernels: level %s is not supported on this CPU/build (supported: %v)", l, supported)
	}
	mu.Lock()
	prev := current
	current = l
	for _, h := range hooks {
		h(l)
	}
	mu.Unlock()
	return func() {
		mu.Lock()
		current = prev
		for _, h := range hooks {
			h(prev)
		}
		mu.Unlock()
	}, nil
}

// onLevel registers a kernel family's dispatch function and applies it at
// once to the current level. Each family calls it from an init function; the
// function swaps the family's function variables for the given level (falling
// back to the reference where the level has no routine).
func onLevel(apply func(Level)) {
	mu.Lock()
	defer mu.Unlock()
	hooks = append(hooks, apply)
	apply(current)
}
