package main

import (
	"fmt"
	"io"
	"runtime"
	"strings"

	"github.com/spf13/cobra"
	"github.com/velo-engine/velo/kernels"
)

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "version",
		Short:   "Print the Velo version, Go version, CPU model and SIMD kernel level",
		Example: "  velo version\n  VELO_KERNELS=generic velo version",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			printVersion(cmd.OutOrStdout())
			return nil
		},
	}
}

func printVersion(w io.Writer) {
	model := kernels.CPUModel()
	if model == "" {
		model = "unknown"
	}
	levels := make([]string, 0, 4)
	for _, l := range kernels.SupportedLevels() {
		levels = append(levels, l.String())
	}
	fmt.Fprintf(w, "velo        %s\n", version)
	fmt.Fprintf(w, "go          %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(w, "cpu         %s (%d logical CPUs)\n", model, runtime.NumCPU())
	fmt.Fprintf(w, "features    %s\n", strings.Join(kernels.CPUFeatures(), " "))
	fmt.Fprintf(w, "kernels     %s (supported: %s)\n", kernels.Current(), strings.Join(levels, ", "))
}
