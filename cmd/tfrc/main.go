// Command tfrc writes the Terraform CLI configuration (local provider mirror
// when the machine has one, shared plugin cache) into the tools cache and
// prints its path. `make tools` runs it; the Makefile exports
// TF_CLI_CONFIG_FILE to that path, and the tests use the same file.
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/prometheus-aws/prometheus-aws/internal/tfenv"
	"github.com/prometheus-aws/prometheus-aws/internal/tools"
)

func main() {
	path, err := tfenv.WriteCLIConfig(filepath.Dir(tools.Bin()))
	if err != nil {
		fmt.Fprintln(os.Stderr, "tfrc:", err)
		os.Exit(1)
	}
	mirror := tfenv.Mirror()
	if mirror == "" {
		mirror = "none (providers come from the public registry)"
	}
	fmt.Printf("terraform CLI config: %s (provider mirror: %s)\n", path, mirror)
}
