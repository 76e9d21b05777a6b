package arrowio

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata and the FuzzIPCOpen seed corpus")

// ipcSeedFiles returns small valid IPC inputs and damaged variants.
func ipcSeedFiles(t testing.TB) map[string][]byte {
	enc := func(format Format, schema *arrow.Schema, recs ...arrow.RecordBatch) []byte {
		var buf bytes.Buffer
		w, err := NewWriter(&buf, schema, WithOutputFormat(format, CompressionNone))
		require.NoError(t, err)
		for _, r := range recs {
			require.NoError(t, w.Write(r))
		}
		require.NoError(t, w.Close())
		return buf.Bytes()
	}
	small := makeBatch(memory.DefaultAllocator, 0, 3)
	defer small.Release()
	dict := makeDictBatch(t, memory.DefaultAllocator, 4)
	defer dict.Release()
	seeds := map[string][]byte{
		"file":        enc(FormatArrowFile, testSchema, small, small),
		"stream":      enc(FormatArrowStream, testSchema, small),
		"dict_file":   enc(FormatArrowFile, dictSchema, dict),
		"dict_stream": enc(FormatArrowStream, dictSchema, dict),
		"empty_file":  enc(FormatArrowFile, testSchema),
	}
	for _, name := range []string{"file", "stream", "dict_file"} {
		b := seeds[name]
		seeds[name+"_trunc_half"] = b[:len(b)/2]
		seeds[name+"_trunc_tail"] = b[:len(b)-5]
		flipped := bytes.Clone(b)
		flipped[len(b)*3/4] ^= 0x5a
		seeds[name+"_flipped"] = flipped
	}
	return seeds
}

// TestWriteFuzzSeeds regenerates the committed corpus under
// -update; otherwise it checks that the corpus exists.
func TestWriteFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzIPCOpen")
	if !*update {
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.NotEmpty(t, ents)
		return
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	for name, b := range ipcSeedFiles(t) {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644))
	}
}

// FuzzIPCOpen opens arbitrary bytes as an Arrow IPC file or stream, mapped
// and unmapped, and reads every batch: it must never panic, and errors must
// be *PosError values.
func FuzzIPCOpen(f *testing.F) {
	for _, b := range ipcSeedFiles(f) {
		f.Add(b)
	}
	dir := f.TempDir()
	osfs := afero.NewOsFs()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "in.arrow")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		memfs := afero.NewMemMapFs()
		_ = afero.WriteFile(memfs, "/in.arrow", data, 0o644)
		for _, fs := range []afero.Fs{osfs, memfs} {
			p := path
			if fs == memfs {
				p = "/in.arrow"
			}
			if r, err := Open(fs, p); err == nil {
				for _, err := range r.Batches(context.Background()) {
					if err != nil {
						requirePosError(t, err)
						break
					}
				}
				_ = r.Close()
			} else {
				requirePosError(t, err)
			}
			af, err := OpenArrowFile(fs, p)
			if err != nil {
				requirePosError(t, err)
				continue
			}
			for i := range af.NumBatches() {
				rec, err := af.BatchAt(i)
				if err != nil {
					requirePosError(t, err)
					continue
				}
				rec.Release()
			}
			_ = af.Close()
		}
	})
}

func requirePosError(t *testing.T, err error) {
	t.Helper()
	if _, ok := err.(*PosError); !ok {
		t.Fatalf("error is %T, not *PosError: %v", err, err)
	}
}
