package window

// SetPerRow makes a bounded r skip the frame path, so benchmarks can run
// the per-row path on the same calls in the same binary.
func SetPerRow(r *Rows) { r.perRow = true }
