package dataset

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdata/quiver/internal/atomicfile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// helperPipeline is the dataset the helper processes materialize: a named
// map that sleeps per window (so it can be killed mid-way) and records
// each call in callsFile, then a filter.
func helperPipeline(t testing.TB, cacheDir, callsFile string, sleep time.Duration) *Dataset {
	batches := testBatches(t, memory.DefaultAllocator, 4000, 500)
	ds, err := FromBatches(testSchema, batches, WithCacheDir(cacheDir), WithBatchSize(250), WithWorkers(2))
	require.NoError(t, err)
	return ds.Map("slow@v1", func(ctx context.Context, b arrow.RecordBatch) (arrow.RecordBatch, error) {
		f, err := os.OpenFile(callsFile, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(f, "%d\n", os.Getpid())
		f.Close()
		time.Sleep(sleep)
		return b, nil
	}).Filter("mod2@v1", keepMod(2))
}

// TestHelperProcess is not a test: the tests below re-run the test binary
// to execute it in a child process.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("QUIVER_HELPER") != "1" {
		t.Skip("helper for crash and concurrency tests")
	}
	sleep, _ := time.ParseDuration(os.Getenv("QUIVER_HELPER_SLEEP"))
	ds := helperPipeline(t, os.Getenv("QUIVER_HELPER_CACHE"), os.Getenv("QUIVER_HELPER_CALLS"), sleep)
	n, err := ds.Len(context.Background())
	require.NoError(t, err)
	fmt.Printf("rows=%d\n", n)
}

func helperCmd(t *testing.T, cacheDir, calls string, sleep time.Duration) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), "QUIVER_HELPER=1", "QUIVER_HELPER_CACHE="+cacheDir,
		"QUIVER_HELPER_CALLS="+calls, "QUIVER_HELPER_SLEEP="+sleep.String())
	return cmd
}

func countLines(t *testing.T, path string) map[string]int {
	raw, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	out := map[string]int{}
	for _, l := range strings.Fields(string(raw)) {
		out[l]++
	}
	return out
}

func TestKilledMaterializationLeavesNoEntry(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a child process")
	}
	dir, calls := t.TempDir(), filepath.Join(t.TempDir(), "calls")
	cmd := helperCmd(t, dir, calls, 20*time.Millisecond)
	require.NoError(t, cmd.Start())
	// Wait until the child is half-way through the map, then kill it.
	deadline := time.Now().Add(20 * time.Second)
	for len(countLines(t, calls)) == 0 || countLines(t, calls)[fmt.Sprint(cmd.Process.Pid)] < 8 {
		require.True(t, time.Now().Before(deadline), "child made no progress")
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Kill())
	_ = cmd.Wait()

	c, err := OpenCache(dir)
	require.NoError(t, err)
	es, err := c.Entries()
	require.NoError(t, err)
	assert.Empty(t, es, "no entry may look valid after a kill")
	names, _ := os.ReadDir(dir)
	var temps int
	for _, n := range names {
		if n.IsDir() {
			assert.True(t, atomicfile.IsTemp(n.Name()), "unexpected %s", n.Name())
			temps++
		}
	}
	assert.Equal(t, 1, temps, "the killed child's temporary is left for Prune")

	// The next run completes and installs the entry.
	ds := helperPipeline(t, dir, calls, 0)
	n, err := ds.Len(context.Background())
	require.NoError(t, err)
	assert.Equal(t, int64(2000), n)
	es, _ = c.Entries()
	assert.Len(t, es, 1)
	rep, err := c.Prune(context.Background(), PruneOptions{})
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Temporaries)
	assert.Empty(t, rep.Removed)
}

func TestConcurrentProcessesComputeOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("starts child processes")
	}
	dir, calls := t.TempDir(), filepath.Join(t.TempDir(), "calls")
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for range 2 {
		cmd := helperCmd(t, dir, calls, 2*time.Millisecond)
		out := &strings.Builder{}
		cmd.Stdout = out
		require.NoError(t, cmd.Start())
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for i, cmd := range cmds {
		require.NoError(t, cmd.Wait(), outs[i].String())
		assert.Contains(t, outs[i].String(), "rows=2000")
	}
	perProcess := countLines(t, calls)
	assert.Len(t, perProcess, 1, "exactly one process ran the map: %v", perProcess)
	for _, n := range perProcess {
		assert.Equal(t, 16, n, "4000 rows in windows of 250")
	}
}
