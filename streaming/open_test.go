package streaming

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/hubfs"
	"github.com/quiverdata/quiver/hubfs/hubtest"
)

// testBatch returns rows [from, from+n) of the test schema.
func testBatch(from, n int64) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, testSchema)
	defer b.Release()
	for id := from; id < from+n; id++ {
		b.Field(0).(*array.Int64Builder).Append(id)
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("row-%d", id))
	}
	return b.NewRecordBatch()
}

// parquetBytes writes one row group per entry of groups, ids from from.
func parquetBytes(t testing.TB, from int64, groups ...int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := pqarrow.NewFileWriter(testSchema, &buf, parquet.NewWriterProperties(), pqarrow.DefaultWriterProps())
	require.NoError(t, err)
	for _, n := range groups {
		rec := testBatch(from, n)
		require.NoError(t, w.Write(rec))
		rec.Release()
		from += n
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

// arrowFileBytes writes an Arrow IPC file with one batch per entry.
func arrowFileBytes(t testing.TB, from int64, batches ...int64) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := ipc.NewFileWriter(&buf, ipc.WithSchema(testSchema))
	require.NoError(t, err)
	for _, n := range batches {
		rec := testBatch(from, n)
		require.NoError(t, w.Write(rec))
		rec.Release()
		from += n
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func writeFile(t testing.TB, path string, data []byte) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, data, 0o644))
}

func TestOpenFiles(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "a.parquet"), parquetBytes(t, 0, 100, 250, 50))
	writeFile(t, filepath.Join(dir, "b.arrow"), arrowFileBytes(t, 400, 30, 70))
	var jsonl bytes.Buffer
	for id := 500; id < 530; id++ {
		fmt.Fprintf(&jsonl, "{\"id\":%d,\"text\":\"row-%d\"}\n", id, id)
	}
	writeFile(t, filepath.Join(dir, "c.jsonl"), jsonl.Bytes())

	mem := checkedMem(t)
	s, err := Open(context.Background(), []string{filepath.Join(dir, "*.parquet"), filepath.Join(dir, "b.arrow"), filepath.Join(dir, "c.jsonl")},
		WithAllocator(mem), WithChunkRows(64))
	require.NoError(t, err)
	var kinds []string
	for _, sh := range s.Shards() {
		kinds = append(kinds, fmt.Sprintf("%s:%d:%d:%d", filepath.Base(sh.Path), sh.RowGroup, sh.Batch, sh.Rows))
	}
	require.Equal(t, []string{"a.parquet:0:-1:100", "a.parquet:1:-1:250", "a.parquet:2:-1:50",
		"b.arrow:-1:0:30", "b.arrow:-1:1:70", "c.jsonl:-1:-1:30"}, kinds)
	require.Equal(t, int64(530), s.NumRows())

	got, _ := ids(t, s)
	require.Equal(t, seq(530), got)

	shuffled, _ := ids(t, func() *Stream {
		s, err := Open(context.Background(), []string{dir}, WithAllocator(mem), WithColumns("id", "text"))
		require.NoError(t, err)
		return s.Shuffle(3, 64).SplitByNode(1, 2)
	}())
	require.Len(t, shuffled, 265)
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "bad.parquet"), []byte("PAR1 this is not parquet PAR1"))
	_, err := Open(context.Background(), []string{filepath.Join(dir, "bad.parquet")})
	require.ErrorIs(t, err, arrowio.ErrCorrupt)
	require.ErrorContains(t, err, "bad.parquet")

	_, err = Open(context.Background(), []string{filepath.Join(dir, "*.jsonl")})
	require.Error(t, err)
	_, err = Open(context.Background(), nil)
	require.Error(t, err)

	writeFile(t, filepath.Join(dir, "ok.parquet"), parquetBytes(t, 0, 10))
	_, err = Open(context.Background(), []string{filepath.Join(dir, "ok.parquet")}, WithColumns("nope"))
	require.ErrorIs(t, err, arrowio.ErrSchema)
}

// TestOpenHubWithFaults streams Parquet shards from an in-process Hub that
// fails 5% of requests; the retries in hubfs make the stream identical to
// one over local copies.
func TestOpenHubWithFaults(t *testing.T) {
	files := map[string][]byte{
		"data/train-00000.parquet": parquetBytes(t, 0, 3000, 3000, 1234),
		"data/train-00001.parquet": parquetBytes(t, 7234, 5000),
		"data/train-00002.parquet": parquetBytes(t, 12234, 800, 800),
	}
	dir := t.TempDir()
	for name, data := range files {
		writeFile(t, filepath.Join(dir, name), data)
	}
	local, err := Open(context.Background(), []string{filepath.Join(dir, "data")}, WithChunkRows(1000))
	require.NoError(t, err)
	want, _ := ids(t, local.Shuffle(5, 2000).SplitByNode(0, 3))

	srv, hub := serveDataset(t, "org/faulty", files,
		hubfs.WithBackoff(time.Millisecond, 5*time.Millisecond), hubfs.WithRetries(10))
	srv.SetFaults(hubtest.FaultConfig{Rate: 0.05, Seed: 21}) // seed 21 faults the 1st, 13th, 18th, ... requests
	opts := []Option{WithChunkRows(1000), hub}
	// Two passes, so that enough requests are made for some to fail.
	for range 2 {
		remote, err := Open(context.Background(), []string{"hf://datasets/org/faulty/data/*.parquet"}, opts...)
		require.NoError(t, err)
		require.Len(t, remote.Shards(), 6)
		got, _ := ids(t, remote.Shuffle(5, 2000).SplitByNode(0, 3))
		require.Equal(t, want, got)
	}
	st := srv.Stats()
	t.Logf("%d requests, %d faults injected", st.Requests, st.Faults)
	require.Positive(t, st.Faults, "no fault was injected; the test proves nothing")
}

// TestReadCache reads Hub files once into a size-limited local cache;
// later epochs read the copies and transfer no file bytes.
func TestReadCache(t *testing.T) {
	files := map[string][]byte{
		"data/a.parquet": parquetBytes(t, 0, 500, 500),
		"data/b.arrow":   arrowFileBytes(t, 1000, 300, 200),
	}
	srv, hub := serveDataset(t, "org/cached", files)
	cache := t.TempDir()
	open := func(limit int64) *Stream {
		s, err := Open(context.Background(), []string{"hf://datasets/org/cached/data"}, hub, WithReadCache(cache, limit))
		require.NoError(t, err)
		return s.Shuffle(2, 100)
	}
	want, _ := ids(t, open(1<<30))
	requirePermutation(t, 1500, want)
	entries, err := os.ReadDir(cache)
	require.NoError(t, err)
	require.Len(t, entries, 2)

	srv.ResetStats()
	s := open(1 << 30)
	s.SetEpoch(0)
	got, _ := ids(t, s)
	require.Equal(t, want, got)
	require.Zero(t, srv.Stats().FileBytes, "the second read came from the cache")

	// A limit below both files together keeps at most one copy.
	small := int64(len(files["data/a.parquet"]))
	got, _ = ids(t, open(small))
	require.Equal(t, want, got)
	var total int64
	entries, err = os.ReadDir(cache)
	require.NoError(t, err)
	for _, e := range entries {
		info, err := e.Info()
		require.NoError(t, err)
		total += info.Size()
	}
	require.LessOrEqual(t, total, small)
}

// TestOpenHubReadsFootersOnce checks that streaming Hub files reads each
// Parquet footer once, when the stream is opened: reading the row groups
// afterwards requests only column chunks (one request per row group).
func TestOpenHubReadsFootersOnce(t *testing.T) {
	files := map[string][]byte{
		"data/a.parquet": parquetBytes(t, 0, 3000, 3000, 1234),
		"data/b.parquet": parquetBytes(t, 7234, 5000),
	}
	srv, hub := serveDataset(t, "org/footers", files)
	s, err := Open(context.Background(), []string{"hf://datasets/org/footers/data"}, hub)
	require.NoError(t, err)
	srv.ResetStats()
	got, _ := ids(t, s)
	requirePermutation(t, 12234, got)
	reqs := srv.CDNRequests()
	require.NotEmpty(t, reqs)
	for _, r := range reqs {
		rng := r.Header.Get("Range")
		for name, data := range files {
			tail := fmt.Sprintf("-%d", len(data)-1)
			if strings.HasSuffix(rng, tail) {
				t.Errorf("%s: footer read again (%s)", name, rng)
			}
		}
	}
	assert.LessOrEqual(t, len(reqs), 4+1, "one request per row group (and at most one fetched ahead for nothing)")
}

// serveDataset serves files as dataset repo id from an in-process Hub,
// closed when the test ends, with HF_HOME and HF_TOKEN isolated from the
// machine's. It returns the server and the option that points a stream at
// it (no Hub cache, no token, then extra).
func serveDataset(t testing.TB, id string, files map[string][]byte, extra ...hubfs.Option) (*hubtest.Server, Option) {
	t.Helper()
	t.Setenv("HF_HOME", t.TempDir())
	t.Setenv("HF_TOKEN", "")
	srv := hubtest.New()
	t.Cleanup(srv.Close)
	srv.AddRepo("dataset", id).Commit("main", files)
	opts := append([]hubfs.Option{hubfs.WithEndpoint(srv.URL), hubfs.WithCacheDir(""), hubfs.WithToken("")}, extra...)
	return srv, WithHubOptions(opts...)
}
