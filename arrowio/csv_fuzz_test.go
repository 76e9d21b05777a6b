package arrowio

import (
	"context"
	"testing"

	"github.com/spf13/afero"
)

// FuzzCSVOpen reads arbitrary bytes as CSV, strict and permissive, with
// inferred and mixed-error schemas: no panic, and every error a *PosError.
func FuzzCSVOpen(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n",
		"a,b\n1,\"x\ny\"\n",
		"a\n\"unterminated\n",
		"\uFEFFa,b,c\ntrue,1.5,x\nfalse,2,\n",
		"a,b\n1\n2,3,4\n",
		"",
	} {
		f.Add([]byte(s), false, uint8(0))
	}
	f.Fuzz(func(t *testing.T, data []byte, permissive bool, mode uint8) {
		fsys := afero.NewMemMapFs()
		if err := afero.WriteFile(fsys, "/in.csv", data, 0o644); err != nil {
			t.Fatal(err)
		}
		opts := []ReadOption{WithPermissive(permissive), WithBatchSize(3), WithInferRows(int(mode%4) + 1)}
		if mode&4 != 0 {
			opts = append(opts, WithMixedTypes(MixedError))
		}
		r, err := Open(fsys, "/in.csv", opts...)
		if err != nil {
			requirePosError(t, err)
			return
		}
		defer r.Close()
		for rec, err := range r.Batches(context.Background()) {
			if err != nil {
				requirePosError(t, err)
				return
			}
			if int(rec.NumCols()) != r.Schema().NumFields() {
				t.Fatalf("batch has %d columns, schema %d", rec.NumCols(), r.Schema().NumFields())
			}
		}
	})
}
