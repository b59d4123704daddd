//go:build tools

// Package tools pins the generator dependencies so `go mod tidy` keeps them.
package tools

import (
	_ "github.com/mmcloughlin/avo/build"
	_ "github.com/mmcloughlin/avo/operand"
)
