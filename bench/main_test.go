package bench

import (
	"testing"

	"go.uber.org/goleak"
)

// GenerateAll starts goroutines: none may outlive it.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
