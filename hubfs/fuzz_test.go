package hubfs

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseURL checks that ParseURL never panics, that what it accepts
// renders back to an equal URL, and that accepted paths and revisions are
// safe to use as cache paths.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"hf://datasets/org/name",
		"hf://datasets/u/d@refs/convert/parquet/default/train/0000.parquet",
		"hf://datasets/u/d@refs%2Fpr%2F3/x",
		"hf://org/model@v1/a/**/*.json",
		"hf://datasets/u/d@~parquet/x",
		"hf://datasets/u/d/../x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURL(s)
		if err != nil {
			return
		}
		if checkRepoPath(u.Path) != nil {
			t.Fatalf("unsafe path accepted: %q", u.Path)
		}
		if u.Repo.Revision != "" && checkRevision(u.Repo.Revision) != nil {
			t.Fatalf("unsafe revision accepted: %q", u.Repo.Revision)
		}
		back, err := ParseURL(u.String())
		if err != nil || back != u {
			t.Fatalf("round trip of %q via %q: %+v, %v", s, u.String(), back, err)
		}
	})
}

// TestImportsNoProjectPackage enforces that hubfs stands alone: only
// hubfs/hubtest, and only from tests.
func TestImportsNoProjectPackage(t *testing.T) {
	for _, dir := range []string{".", "hubtest"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, name := range files {
			src, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			f, err := parser.ParseFile(token.NewFileSet(), name, src, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				if !strings.HasPrefix(p, "github.com/quiverdata/quiver/") {
					continue
				}
				if p == "github.com/quiverdata/quiver/hubfs/hubtest" && strings.HasSuffix(name, "_test.go") {
					continue
				}
				if p == "github.com/quiverdata/quiver/hubfs" && strings.HasSuffix(name, "_test.go") {
					continue
				}
				t.Errorf("%s imports %s", name, p)
			}
		}
	}
}
