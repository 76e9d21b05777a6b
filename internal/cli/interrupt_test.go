package cli

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/quiverdata/quiver/internal/atomicfile"
	"github.com/quiverdata/quiver/internal/datagen"
)

// TestInterruptLeavesNoOutput interrupts a real dsctl process (SIGINT, as
// Ctrl-C sends) while it writes, and checks that neither the output nor a
// temporary file remains.
func TestInterruptLeavesNoOutput(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 40 MB")
	}
	in := filepath.Join(t.TempDir(), "in.jsonl")
	f, err := os.Create(in)
	require.NoError(t, err)
	_, err = datagen.WriteJSONL(f, datagen.Config{Seed: 1, Bytes: 40 << 20})
	require.NoError(t, err)
	require.NoError(t, f.Close())

	outDir := t.TempDir()
	out := filepath.Join(outDir, "out.parquet")
	cmd, _, stderr := dsctlCommand(t, "convert", "--workers", "1", in, out)
	require.NoError(t, cmd.Start())

	// Wait until the temporary output exists: the process is mid-write.
	deadline := time.Now().Add(30 * time.Second)
	for !hasTemp(t, outDir) {
		require.True(t, time.Now().Before(deadline), "no temporary output appeared")
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	err = cmd.Wait()
	require.Error(t, err, "an interrupted convert fails")
	require.Equal(t, ExitError, cmd.ProcessState.ExitCode(), stderr.String())
	require.Contains(t, stderr.String(), "context canceled")

	entries, err := os.ReadDir(outDir)
	require.NoError(t, err)
	require.Empty(t, entries, "neither output nor temporary file remains")
}

func hasTemp(t *testing.T, dir string) bool {
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	for _, e := range entries {
		if atomicfile.IsTemp(e.Name()) || strings.Contains(e.Name(), "partial") {
			return true
		}
	}
	return false
}
