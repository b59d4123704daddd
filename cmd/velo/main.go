// Command velo is Velo's command-line interface: generate the benchmark data
// set, print version and CPU information, and run the demo.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/velo-engine/velo/kernels"
)

// version is the Velo version; release builds set it with
// -ldflags "-X main.version=…".
var version = "0.1.0-dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "velo",
		Short: "Velo: a columnar, vectorized stream-and-batch SQL engine on Apache Arrow",
		Long: `Velo runs SQL over streams of Arrow record batches, hash-partitioned across
goroutines that each own their state, with SIMD kernels (AVX2, AVX-512, NEON).`,
		Example: `  velo gen market_data --rows 1000000 --out md.parquet
  velo version
  velo demo`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(*cobra.Command, []string) error {
			// An invalid VELO_KERNELS is an error at start, not a silent fallback.
			return kernels.EnvError()
		},
	}
	root.AddCommand(newGenCmd(), newVersionCmd(), newDemoCmd(), newQueryCmd(), newBenchCmd(), newServeCmd())
	return root
}

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "velo:", err)
		os.Exit(1)
	}
}
