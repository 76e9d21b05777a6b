// Command dsctl converts, shards and inspects datasets: Parquet, JSON Lines,
// Arrow IPC and CSV, local or on the Hugging Face Hub. Run `dsctl help` for
// the commands.
package main

import (
	"context"
	"os"

	"github.com/quiverdata/quiver/internal/cli"
)

func main() { os.Exit(cli.Main(context.Background())) }
