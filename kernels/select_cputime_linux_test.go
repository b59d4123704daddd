package kernels

import (
	"math/rand"
	"os"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// threadCPU returns the CPU time the calling OS thread has used.
func threadCPU() time.Duration {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestCompareCompressCPUTime reports the compare-to-scalar + compress
// target as rows per CPU-second of the running thread (median of 15 runs per
// level), which unlike wall-clock benchmarks excludes the time a shared host
// deschedules the thread. It runs only with VELO_KERNEL_REPORT=1:
//
//	VELO_KERNEL_REPORT=1 go test -run TestCompareCompressCPUTime -v ./kernels/
func TestCompareCompressCPUTime(t *testing.T) {
	if os.Getenv("VELO_KERNEL_REPORT") != "1" {
		t.Skip("set VELO_KERNEL_REPORT=1")
	}
	const n = 8192
	r := rand.New(rand.NewSource(1))
	a, f := make([]int64, n), make([]float64, n)
	wantI, wantF := 0, 0
	for i := range a {
		a[i], f[i] = r.Int63n(1000), r.Float64()*1000
		if a[i] < 500 {
			wantI++
		}
		if f[i] > 500 {
			wantF++
		}
	}
	bm, sel := make([]byte, n/8), make([]int32, n)
	forEachLevel(t, func(t *testing.T, l Level) {
		// subtests run on their own goroutines: pin this one to its thread
		// so RUSAGE_THREAD measures it.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for _, isInt := range []bool{true, false} {
			iters := 20000
			if l == Generic {
				iters = 1000
			}
			var rates []float64
			for run := 0; run < 15; run++ {
				c, c0 := 0, threadCPU()
				for i := 0; i < iters; i++ {
					if isInt {
						CompareInt64Scalar(bm, a, Lt, 500)
					} else {
						CompareFloat64Scalar(bm, f, Gt, 500)
					}
					c = Compress(sel, bm, n)
				}
				rates = append(rates, float64(n*iters)/(threadCPU()-c0).Seconds())
				if isInt {
					require.Equal(t, wantI, c)
				} else {
					require.Equal(t, wantF, c)
				}
			}
			sort.Float64s(rates)
			what := "int64 <"
			if !isInt {
				what = "float64 >"
			}
			t.Logf("%s: %s compare+compress, n=8192: median %.2f G rows/CPU-s (min %.2f, max %.2f); target 2",
				l, what, rates[7]/1e9, rates[0]/1e9, rates[14]/1e9)
		}
	})
}
