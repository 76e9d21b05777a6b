// Command dsctl converts, shards and inspects datasets: Parquet, JSON Lines,
// Arrow IPC and CSV. Run `dsctl help` for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/quiverdata/quiver/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Main(ctx)
	stop()
	os.Exit(code)
}
