package window_test

import (
	"testing"
	"time"

	"github.com/apache/arrow/go/v17/arrow/memory"

	"github.com/velo-engine/velo/window"
)

// BenchmarkS3aOneWindow is BenchmarkS3a with the whole-batch assignment of
// batches that fall into one window (pushOneWindow) on and, as the
// same-binary baseline, off (every row assigned one by one).
func BenchmarkS3aOneWindow(b *testing.B) {
	recs := loadMarket(b)
	for _, on := range []bool{true, false} {
		name := "on"
		if !on {
			name = "off"
		}
		b.Run(name, func(b *testing.B) {
			defer window.SetOneWindowBatches(on)()
			mem := memory.NewGoAllocator()
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			for i := 0; i < b.N; i++ {
				runS3a(b, mem, recs)
			}
			reportRows(b, start, cpu0)
		})
	}
}
