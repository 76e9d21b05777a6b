package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"

	"github.com/quiverdata/quiver/arrowio"
)

// streamCLI runs dsctl stream in-process.
func streamCLI(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := Env{Stdout: &stdout, Stderr: &stderr, Fs: afero.NewOsFs()}
	code := execStream(context.Background(), env, args)
	return code, stdout.String(), stderr.String()
}

// execStream runs "dsctl stream args..." through Run.
func execStream(ctx context.Context, env Env, args []string) int {
	return Run(ctx, append([]string{"stream"}, args...), env)
}

// TestHelperStreamProcess is not a test: it is dsctl stream run as a child
// process by TestStreamKillAndResume, selected by an environment variable.
func TestHelperStreamProcess(t *testing.T) {
	if os.Getenv("QUIVER_STREAM_HELPER") != "1" {
		t.Skip("helper process")
	}
	var args []string
	for i, a := range os.Args {
		if a == "--" {
			args = os.Args[i+1:]
		}
	}
	env := Env{Stdout: os.Stdout, Stderr: os.Stderr, Fs: afero.NewOsFs()}
	os.Exit(execStream(context.Background(), env, args))
}

var streamSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "text", Type: arrow.BinaryTypes.String},
	{Name: "score", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
}, nil)

// writeStreamData writes Parquet files of rowGroups[i] row groups each of
// the given sizes; ids run 0..N-1 across files. It returns the paths.
func writeStreamData(t *testing.T, dir string, files [][]int64) []string {
	t.Helper()
	var paths []string
	var id int64
	for i, groups := range files {
		p := filepath.Join(dir, fmt.Sprintf("part-%02d.parquet", i))
		f, err := os.Create(p)
		require.NoError(t, err)
		w, err := pqarrow.NewFileWriter(streamSchema, f, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
		require.NoError(t, err)
		for _, n := range groups {
			b := array.NewRecordBuilder(memory.DefaultAllocator, streamSchema)
			for range n {
				b.Field(0).(*array.Int64Builder).Append(id)
				b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("text %d", id))
				if id%7 == 0 {
					b.Field(2).AppendNull()
				} else {
					b.Field(2).(*array.Float64Builder).Append(float64(id) / 4)
				}
				id++
			}
			rec := b.NewRecordBatch()
			require.NoError(t, w.Write(rec))
			rec.Release()
			b.Release()
		}
		require.NoError(t, w.Close())
		paths = append(paths, p)
	}
	return paths
}

// requireReaders skips when the Parquet reader or JSONL writer this
// command relies on is not on the branch yet.
func requireReaders(t *testing.T, path string) {
	t.Helper()
	r, err := arrowio.Open(afero.NewOsFs(), path)
	if errors.Is(err, arrowio.ErrUnsupported) {
		t.Skipf("arrowio cannot read %s on this branch yet: %v", path, err)
	}
	require.NoError(t, err)
	r.Close()
	_, err = arrowio.NewWriter(&bytes.Buffer{}, streamSchema, arrowio.WithOutputFormat(arrowio.FormatJSONL, arrowio.CompressionNone))
	if errors.Is(err, arrowio.ErrUnsupported) {
		t.Skipf("arrowio cannot write JSONL on this branch yet: %v", err)
	}
}

var streamFiles = [][]int64{{300, 250, 77}, {1000}, {5, 400, 400, 1}}

func jsonIDs(t *testing.T, out string) []int64 {
	t.Helper()
	var ids []int64
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var row struct{ ID int64 }
		require.NoError(t, json.Unmarshal(sc.Bytes(), &row), sc.Text())
		ids = append(ids, row.ID)
	}
	return ids
}

func TestStreamSplits(t *testing.T) {
	dir := t.TempDir()
	paths := writeStreamData(t, dir, streamFiles)
	requireReaders(t, paths[0])
	const n = 300 + 250 + 77 + 1000 + 5 + 400 + 400 + 1 // 2433, odd
	for _, world := range []int{1, 2, 3, 8} {
		for _, pad := range []bool{false, true} {
			t.Run(fmt.Sprintf("world=%d/pad=%v", world, pad), func(t *testing.T) {
				per := n / world
				if pad && n%world != 0 {
					per++
				}
				seen := map[int64]int{}
				for r := range world {
					args := append(slices.Clone(paths), "--seed", "5", "--shuffle-buffer", "300",
						"--rank", fmt.Sprint(r), "--world", fmt.Sprint(world), "--batch-size", "100")
					if pad {
						args = append(args, "--pad")
					}
					code, out, errOut := streamCLI(t, args...)
					require.Equal(t, 0, code, errOut)
					ids := jsonIDs(t, out)
					require.Len(t, ids, per, "rank %d", r)
					for _, id := range ids {
						seen[id]++
					}
				}
				if pad {
					require.Len(t, seen, n, "every row is streamed")
				} else {
					require.Len(t, seen, per*world, "no row twice")
					for id, c := range seen {
						require.Equal(t, 1, c, "id %d", id)
					}
				}
			})
		}
	}
}

// TestStreamKillAndResume kills dsctl stream (SIGKILL) at random points and
// resumes it from its state file; the output must equal an uninterrupted
// run byte for byte.
func TestStreamKillAndResume(t *testing.T) {
	paths := writeStreamData(t, t.TempDir(), streamFiles)
	requireReaders(t, paths[0])
	for _, format := range []string{"jsonl", "arrows"} {
		t.Run(format, func(t *testing.T) {
			dir := t.TempDir()
			trials := 20
			if format == "arrows" {
				trials = 5
			}
			if testing.Short() {
				trials = 3
			}
			base := append(slices.Clone(paths), "--seed", "11", "--shuffle-buffer", "500",
				"--batch-size", "100", "--to", format)
			full := filepath.Join(dir, "full."+format)
			code, _, errOut := streamCLI(t, append(slices.Clone(base), "--output", full)...)
			require.Equal(t, 0, code, errOut)
			want, err := os.ReadFile(full)
			require.NoError(t, err)

			helper := func(args []string) (*exec.Cmd, *bytes.Buffer) {
				cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestHelperStreamProcess$", "--"}, args...)...)
				cmd.Env = append(os.Environ(), "QUIVER_STREAM_HELPER=1")
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				return cmd, &stderr
			}
			// How long an uninterrupted run with checkpoints takes: kills
			// land uniformly within it.
			probe := filepath.Join(dir, "probe."+format)
			cmd, stderr := helper(append(slices.Clone(base), "--output", probe, "--state-file", probe+".state"))
			began := time.Now()
			require.NoError(t, cmd.Run(), stderr.String())
			runtime := time.Since(began)
			rnd := rand.New(rand.NewPCG(42, uint64(len(format))))
			kills, resumedMidway := 0, 0
			for trial := range trials {
				out := filepath.Join(dir, fmt.Sprintf("out-%d.%s", trial, format))
				state := filepath.Join(dir, fmt.Sprintf("state-%d.json", trial))
				args := append(slices.Clone(base), "--output", out, "--state-file", state)
				for attempt := 0; ; attempt++ {
					require.Less(t, attempt, 100, "the stream never completed")
					if _, err := os.Stat(state); err == nil {
						resumedMidway++
					}
					cmd, stderr := helper(args)
					require.NoError(t, cmd.Start())
					delay := time.Duration(rnd.Int64N(int64(runtime) * 3 / 2))
					if trial%2 == 1 && attempt == 0 {
						// Every other trial is killed only after its first
						// checkpoint, so resuming from a checkpoint is
						// exercised however slow or fast the machine is.
						waitForFile(state, 10*time.Second)
						delay = time.Duration(rnd.Int64N(int64(runtime)/2 + 1))
					}
					timer := time.AfterFunc(delay, func() { _ = cmd.Process.Signal(syscall.SIGKILL) })
					err := cmd.Wait()
					timer.Stop()
					if err == nil {
						break
					}
					var ee *exec.ExitError
					require.ErrorAs(t, err, &ee, stderr.String())
					ws, _ := ee.Sys().(syscall.WaitStatus)
					require.True(t, ws.Signaled(), "the helper failed by itself after %v: %s", delay, stderr.String())
					kills++
				}
				got, err := os.ReadFile(out)
				require.NoError(t, err)
				sameOutput(t, format, want, got, fmt.Sprintf("trial %d", trial))
			}
			t.Logf("%s: uninterrupted run %v; %d trials, %d kills, %d runs resumed from a checkpoint", format, runtime, trials, kills, resumedMidway)
			require.Positive(t, resumedMidway, "no run was killed after a checkpoint; the test proves nothing")
			if format == "arrows" {
				r, err := ipc.NewReader(bytes.NewReader(want))
				require.NoError(t, err)
				var rows int64
				for r.Next() {
					rows += r.RecordBatch().NumRows()
				}
				require.NoError(t, r.Err())
				require.Equal(t, int64(2433), rows)
				r.Release()
			}
		})
	}
}

// sameOutput checks that got is want: byte for byte for JSON Lines, batch
// for batch and value for value for Arrow IPC (whose buffers may be laid
// out differently, e.g. validity bitmaps of other lengths).
func sameOutput(t *testing.T, format string, want, got []byte, msg string) {
	t.Helper()
	if format != "arrows" {
		require.True(t, bytes.Equal(want, got), "%s: outputs differ (%d and %d bytes)", msg, len(want), len(got))
		return
	}
	rw, err := ipc.NewReader(bytes.NewReader(want))
	require.NoError(t, err)
	defer rw.Release()
	rg, err := ipc.NewReader(bytes.NewReader(got))
	require.NoError(t, err, msg)
	defer rg.Release()
	require.True(t, rw.Schema().Equal(rg.Schema()), msg)
	n := 0
	for rw.Next() {
		require.True(t, rg.Next(), "%s: batch %d missing (%v)", msg, n, rg.Err())
		require.True(t, array.RecordEqual(rw.RecordBatch(), rg.RecordBatch()), "%s: batch %d differs", msg, n)
		n++
	}
	require.NoError(t, rw.Err())
	require.False(t, rg.Next(), "%s: extra batches", msg)
	require.NoError(t, rg.Err(), msg)
}

func TestStreamResumeInProcess(t *testing.T) {
	dir := t.TempDir()
	paths := writeStreamData(t, dir, streamFiles)
	requireReaders(t, paths[0])
	base := append(slices.Clone(paths), "--seed", "3", "--shuffle-buffer", "200", "--batch-size", "50", "--rank", "1", "--world", "2")
	code, want, errOut := streamCLI(t, base...)
	require.Equal(t, 0, code, errOut)

	// A run stopped after 7 rows-limited batches, then resumed to the end,
	// writing to one output file.
	out := filepath.Join(dir, "out.jsonl")
	state := filepath.Join(dir, "state.json")
	args := append(slices.Clone(base), "--output", out, "--state-file", state)
	ctx, cancel := context.WithCancel(context.Background())
	var stderr bytes.Buffer
	cw := &cancelAfter{n: 7 * 50, cancel: cancel}
	env := Env{Stdout: cw, Stderr: &stderr, Fs: &cancelFs{Fs: afero.NewOsFs(), out: out, w: cw}}
	require.Equal(t, ExitError, execStream(ctx, env, args), "stopped by cancellation")
	code, _, errOut = streamCLI(t, args...)
	require.Equal(t, 0, code, errOut)
	got, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, want, string(got))

	// Running again after completion changes nothing.
	code, _, errOut = streamCLI(t, args...)
	require.Equal(t, 0, code, errOut)
	again, err := os.ReadFile(out)
	require.NoError(t, err)
	require.Equal(t, got, again)
}

// cancelAfter cancels a context once n lines went through it.
type cancelAfter struct {
	n      int
	lines  int
	cancel func()
	w      afero.File
}

func (c *cancelAfter) Write(p []byte) (int, error) {
	c.lines += bytes.Count(p, []byte("\n"))
	if c.lines >= c.n {
		c.cancel()
	}
	if c.w != nil {
		return c.w.Write(p)
	}
	return len(p), nil
}

// cancelFs routes writes to the output file through a cancelAfter.
type cancelFs struct {
	afero.Fs
	out string
	w   *cancelAfter
}

func (f *cancelFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	file, err := f.Fs.OpenFile(name, flag, perm)
	if err != nil || name != f.out {
		return file, err
	}
	f.w.w = file
	return countingFile{File: file, c: f.w}, nil
}

type countingFile struct {
	afero.File
	c *cancelAfter
}

func (f countingFile) Write(p []byte) (int, error) { return f.c.Write(p) }

func TestStreamUsageErrors(t *testing.T) {
	dir := t.TempDir()
	paths := writeStreamData(t, dir, [][]int64{{10}})
	for _, args := range [][]string{
		{paths[0], "--rank", "2", "--world", "2"},
		{paths[0], "--batch-size", "0"},
		{paths[0], "--to", "parquet"},
		{paths[0], "--shuffle-buffer", "-1"},
		{},
	} {
		code, _, errOut := streamCLI(t, args...)
		require.Equal(t, ExitUsage, code, "%v: %s", args, errOut)
	}
	code, _, errOut := streamCLI(t, filepath.Join(dir, "missing.parquet"))
	require.Equal(t, ExitError, code)
	require.Contains(t, errOut, "missing.parquet")

	// A state file from another shuffle is refused.
	requireReaders(t, paths[0])
	state := filepath.Join(dir, "st.json")
	code, _, errOut = streamCLI(t, paths[0], "--seed", "1", "--batch-size", "3", "--state-file", state, "--limit", "3")
	require.Equal(t, 0, code, errOut)
	code, _, errOut = streamCLI(t, paths[0], "--seed", "2", "--batch-size", "3", "--state-file", state)
	require.Equal(t, ExitError, code)
	require.Contains(t, errOut, "checkpoint does not match")
}

// TestStreamSampleJSONL streams the bundled sample (nested columns, one
// JSON Lines shard) shuffled, as JSON Lines and as an Arrow IPC stream.
func TestStreamSampleJSONL(t *testing.T) {
	sample := filepath.Join("..", "..", "testdata", "sample.jsonl")
	raw, err := os.ReadFile(sample)
	require.NoError(t, err)
	lines := bytes.Count(raw, []byte("\n"))

	code, out, errOut := streamCLI(t, sample, "--seed", "1", "--shuffle-buffer", "100")
	require.Equal(t, 0, code, errOut)
	ids := jsonIDs(t, out)
	require.Len(t, ids, lines)
	sorted := slices.Sorted(slices.Values(ids))
	require.NotEqual(t, sorted, ids, "shuffled")
	for i, id := range sorted {
		require.Equal(t, int64(i), id)
	}

	code, out, errOut = streamCLI(t, sample, "--seed", "1", "--shuffle-buffer", "100", "--to", "arrows", "--columns", "id,meta")
	require.Equal(t, 0, code, errOut)
	r, err := ipc.NewReader(strings.NewReader(out))
	require.NoError(t, err)
	defer r.Release()
	require.Equal(t, []string{"id", "meta"}, []string{r.Schema().Field(0).Name, r.Schema().Field(1).Name})
	var got []int64
	for r.Next() {
		got = append(got, r.RecordBatch().Column(0).(*array.Int64).Int64Values()...)
	}
	require.NoError(t, r.Err())
	require.Equal(t, ids, got, "both formats carry the same order")
}

// waitForFile polls until path exists or timeout passes.
func waitForFile(path string, timeout time.Duration) {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := os.Stat(path); err == nil {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
