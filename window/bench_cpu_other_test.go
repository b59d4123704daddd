//go:build !linux

package window_test

import "time"

// cpuTime is unavailable here: rows per CPU-second are not reported.
func cpuTime() time.Duration { return 0 }
