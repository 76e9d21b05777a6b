package arrowio

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"
)

// TestJSONLGolden reads every file in testdata/jsonl from disk with schema
// inference and compares the schema, the rows (as arrow's JSON) and any
// error with the .golden file next to it. Run with -update to rewrite them.
func TestJSONLGolden(t *testing.T) {
	files, err := filepath.Glob("../testdata/jsonl/*.jsonl*")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, path := range files {
		if strings.HasSuffix(path, ".golden") {
			continue
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			var got bytes.Buffer
			r, err := Open(afero.NewOsFs(), path, WithAllocator(mem), WithWorkers(2))
			if err != nil {
				got.WriteString("open error: " + err.Error() + "\n")
			} else {
				got.WriteString(r.Schema().String() + "\n")
				for b, err := range r.Batches(context.Background()) {
					if err != nil {
						got.WriteString("error: " + err.Error() + "\n")
						break
					}
					if err := array.RecordToJSON(b, &got); err != nil {
						t.Fatal(err)
					}
				}
				r.Close()
			}
			golden := path + ".golden"
			if *update {
				if err := os.WriteFile(golden, got.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got.String() != string(want) {
				t.Errorf("%s differs from %s:\n%s", path, golden, got.String())
			}
		})
	}
}
