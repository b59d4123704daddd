package window

// SetOneWindowBatches turns pushOneWindow on or off and returns a function
// restoring the previous setting (benchmarks compare both paths in one
// binary).
func SetOneWindowBatches(on bool) (restore func()) {
	old := oneWindowBatches
	oneWindowBatches = on
	return func() { oneWindowBatches = old }
}
