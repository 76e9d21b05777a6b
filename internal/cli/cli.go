// Package cli implements the dsctl command line. Run is the whole program,
// taking its arguments, standard streams and filesystem as parameters so
// that tests run commands in-process against real or in-memory files.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/afero"
	"github.com/spf13/cobra"

	"github.com/quiverdata/quiver/hubfs"
	"github.com/quiverdata/quiver/internal/progress"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1 // bad input, failed I/O
	ExitUsage = 2 // bad flags or arguments
)

// Version is the dsctl version, set at build time with
// -ldflags "-X github.com/quiverdata/quiver/internal/cli.Version=v1.2.3".
var Version = "dev"

// Env is what a command sees of the outside world.
type Env struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Fs is the filesystem paths refer to. Default: the OS filesystem.
	Fs afero.Fs
	// StderrIsTerminal turns progress bars on by default.
	StderrIsTerminal bool
	// HubOptions configure access to hf:// locations (endpoint, token,
	// client); the environment (HF_ENDPOINT, HF_TOKEN, ...) applies first.
	HubOptions []hubfs.Option
}

// usageError marks errors that exit with ExitUsage.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Run executes dsctl with args (without the program name) and returns the
// exit code. Errors are printed to env.Stderr as one line prefixed "dsctl: ".
func Run(ctx context.Context, args []string, env Env) int {
	if env.Fs == nil {
		env.Fs = afero.NewOsFs()
	}
	if env.Stdin == nil {
		env.Stdin = strings.NewReader("")
	}
	root := newRoot(&env)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	fmt.Fprintf(env.Stderr, "dsctl: %s\n", oneLine(err.Error()))
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return ExitUsage
	}
	return ExitError
}

// isCobraUsage recognises the argument and flag errors cobra itself raises.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires at most", "bad flag syntax"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, " "+p) {
			return true
		}
	}
	return false
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// globalFlags are shared by every command.
type globalFlags struct {
	quiet    bool
	progress bool
}

func newRoot(env *Env) *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "dsctl",
		Short: "Convert, shard and inspect datasets (Parquet, JSONL, Arrow, CSV)",
		Long: `dsctl converts, shards and inspects dataset files: Parquet, JSON Lines
(plain, .gz, .zst), Arrow IPC (file and stream) and CSV. Formats are told
from file extensions.`,
		Example: `  dsctl convert data.jsonl.zst data.parquet
  dsctl info data.parquet
  dsctl count 'shards/*.parquet'
  dsctl head -n 5 --table data.parquet`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().BoolVarP(&g.quiet, "quiet", "q", false, "print no progress")
	root.PersistentFlags().BoolVar(&g.progress, "progress", false, "show progress even when stderr is not a terminal")
	root.AddCommand(
		newConvertCmd(env, g),
		newCountCmd(env, g),
		newInfoCmd(env, g),
		newSchemaCmd(env, g),
		newHeadCmd(env, g),
		newShardCmd(env, g),
		newSampleCmd(env, g),
		newCacheCmd(env, g),
		newStreamCmd(env, g),
		newVersionCmd(env),
	)
	return root
}

// startProgress starts a bar on stderr when it should be shown: on a
// terminal unless --quiet, or anywhere with --progress.
func (g *globalFlags) startProgress(env *Env, label string, total progress.Total, c *progress.Counter) *progress.Bar {
	if g.quiet || (!env.StderrIsTerminal && !g.progress) {
		return nil
	}
	return progress.Start(env.Stderr, label, total, c, 500*time.Millisecond, 200*time.Millisecond)
}

func newVersionCmd(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the dsctl version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprintf(env.Stdout, "dsctl %s\n", Version)
			return err
		},
	}
}

// Main runs dsctl on the process's arguments and streams and returns the
// exit code. Ctrl-C (SIGINT) or SIGTERM cancels the command, which then
// removes its partial output and exits with ExitError.
func Main(ctx context.Context) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Run(ctx, os.Args[1:], Env{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		Fs:               afero.NewOsFs(),
		StderrIsTerminal: progress.IsTerminal(os.Stderr),
	})
}
