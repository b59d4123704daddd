package kernels

// Shared test and benchmark harness for every kernel family.
//
// forEachLevel runs a subtest at every level this machine supports, so each
// differential test covers Generic, AVX2 and AVX512 on amd64 and Generic and
// NEON on arm64 (under qemu in make test).
//
// Benchmarks are registered once per kernel with registerBench and then
// driven three ways: BenchmarkKernels (go test -bench, one sub-benchmark per
// kernel × level), TestKernelReport (make bench-kernels: a table with GB/s,
// elements/s and the speed-up over Generic from one run) and
// TestKernelsUnderCPUProfiler (every kernel at every level with the CPU
// profiler on, so broken frame-pointer handling in assembly crashes a test).

import (
	"bytes"
	"fmt"
	"os"
	"runtime/pprof"
	"sort"
	"strings"
	"testing"
	"text/tabwriter"
)

func forEachLevel(t *testing.T, f func(t *testing.T, l Level)) {
	t.Helper()
	for _, l := range SupportedLevels() {
		t.Run(l.String(), func(t *testing.T) {
			restore, err := SetLevel(l)
			if err != nil {
				t.Fatal(err)
			}
			defer restore()
			f(t, l)
		})
	}
}

// benchCase is one kernel benchmark: setup allocates its inputs and returns
// op, one call of the kernel over n elements, through the public (dispatched)
// API, so it measures whatever level is current.
type benchCase struct {
	name  string // "family/Kernel/N=…"
	n     int    // elements per op
	bytes int64  // input bytes per op (for GB/s)
	big   bool   // too large for the profiler smoke test
	// levelFree marks a baseline (e.g. xxhash.Sum64) that does not depend on
	// the kernel level: it runs once and the report compares against it.
	levelFree bool
	setup     func() (op func(), cleanup func())
}

var benchCases []benchCase

//lint:ignore U1000 the kernel families register their benchmarks here.
func registerBench(c benchCase) { benchCases = append(benchCases, c) }

func sortedBenchCases() []benchCase {
	cs := append([]benchCase(nil), benchCases...)
	sort.SliceStable(cs, func(i, j int) bool { return cs[i].name < cs[j].name })
	return cs
}

func BenchmarkKernels(b *testing.B) {
	for _, c := range sortedBenchCases() {
		levels := SupportedLevels()
		if c.levelFree {
			levels = []Level{Generic}
		}
		for _, l := range levels {
			name := c.name + "/level=" + l.String()
			if c.levelFree {
				name = c.name
			}
			b.Run(name, func(b *testing.B) {
				restore, err := SetLevel(l)
				if err != nil {
					b.Fatal(err)
				}
				defer restore()
				op, cleanup := c.setup()
				if cleanup != nil {
					defer cleanup()
				}
				b.SetBytes(c.bytes)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					op()
				}
				b.ReportMetric(float64(c.n)*float64(b.N)/b.Elapsed().Seconds(), "elems/s")
			})
		}
	}
}

// TestKernelReport prints, per kernel and level, throughput and speed-up over
// Generic. It runs only when VELO_KERNEL_REPORT=1 (make bench-kernels).
func TestKernelReport(t *testing.T) {
	if os.Getenv("VELO_KERNEL_REPORT") != "1" {
		t.Skip("set VELO_KERNEL_REPORT=1 (make bench-kernels)")
	}
	var buf bytes.Buffer
	tw := tabwriter.NewWriter(&buf, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "kernel\tlevel\tns/op\tGB/s\tMelem/s\tvs generic\tallocs/op\t\n")
	baselines := map[string]float64{}
	for _, c := range sortedBenchCases() {
		levels := SupportedLevels()
		if c.levelFree {
			levels = []Level{Generic}
		}
		var generic float64
		for _, l := range levels {
			restore, err := SetLevel(l)
			if err != nil {
				t.Fatal(err)
			}
			op, cleanup := c.setup()
			r := testing.Benchmark(func(b *testing.B) {
				b.ReportAllocs()
				for i := 0; i < b.N; i++ {
					op()
				}
			})
			if cleanup != nil {
				cleanup()
			}
			restore()
			ns := float64(r.T.Nanoseconds()) / float64(r.N)
			if l == Generic {
				generic = ns
			}
			lvl := l.String()
			if c.levelFree {
				lvl = "-"
				baselines[c.name] = ns
			}
			fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.2f\t%.1f\t%.2fx\t%d\t\n", c.name, lvl, ns,
				float64(c.bytes)/ns, float64(c.n)/ns*1e3, generic/ns, r.AllocsPerOp())
		}
	}
	tw.Flush()
	fmt.Print(buf.String())
	if len(baselines) > 0 {
		var names []string
		for n := range baselines {
			names = append(names, n)
		}
		sort.Strings(names)
		fmt.Println("baselines (level-independent):", strings.Join(names, ", "))
	}
}

// TestKernelsUnderCPUProfiler runs every registered kernel at every level with
// the CPU profiler sampling: the profiler unwinds through frame pointers, so
// assembly that clobbers BP (amd64) or x29 (arm64) crashes here.
func TestKernelsUnderCPUProfiler(t *testing.T) {
	var prof bytes.Buffer
	if err := pprof.StartCPUProfile(&prof); err != nil {
		t.Skipf("CPU profiler unavailable: %v", err)
	}
	defer pprof.StopCPUProfile()
	forEachLevel(t, func(t *testing.T, l Level) {
		for _, c := range sortedBenchCases() {
			if c.big || c.levelFree {
				continue
			}
			op, cleanup := c.setup()
			for i := 0; i < 200; i++ {
				op()
			}
			if cleanup != nil {
				cleanup()
			}
		}
	})
}
