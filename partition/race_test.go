//go:build race

package partition

// raceEnabled reports a -race build: instrumented code routes several times
// slower, so rate-dependent tests use a longer coalescing delay.
const raceEnabled = true
