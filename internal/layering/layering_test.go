// Package layering holds a test that enforces the direction of imports
// between Quiver's packages (docs/DESIGN.md): a package that imports what it
// must not fails the build's tests.
package layering

import (
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const module = "github.com/quiverdata/quiver"

// allowed lists, for each package directory, the project packages its
// non-test files may import. internal/... helpers are allowed everywhere
// except in hubfs, which stands alone. Directories not listed (cmd,
// examples, internal) may import anything.
var allowed = map[string][]string{
	"arrowio":       {"internal/"},
	"ops":           {"arrowio", "internal/"},
	"dataset":       {"ops", "arrowio", "hubfs", "internal/"},
	"streaming":     {"ops", "arrowio", "hubfs", "internal/"},
	"hubfs":         {},
	"hubfs/hubtest": {},
}

func TestLayering(t *testing.T) {
	root := filepath.Join("..", "..")
	for dir, ok := range allowed {
		files, _ := filepath.Glob(filepath.Join(root, dir, "*.go"))
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				path := strings.Trim(imp.Path.Value, `"`)
				if !strings.HasPrefix(path, module+"/") {
					continue
				}
				rel := strings.TrimPrefix(path, module+"/")
				if !permitted(rel, ok) {
					t.Errorf("%s imports %s; %s may import only %v", file, rel, dir, ok)
				}
			}
		}
	}
}

func permitted(rel string, ok []string) bool {
	for _, p := range ok {
		if rel == p || (strings.HasSuffix(p, "/") && strings.HasPrefix(rel, p)) {
			return true
		}
	}
	return false
}

// TestEveryPackageIsCovered fails when a new top-level library package
// appears without a rule above.
func TestEveryPackageIsCovered(t *testing.T) {
	root := filepath.Join("..", "..")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		top := strings.Split(rel, "/")[0]
		if strings.HasPrefix(top, ".") || top == "cmd" || top == "examples" || top == "internal" || top == "testdata" || top == "scripts" || top == "docs" {
			return filepath.SkipDir
		}
		if gofiles, _ := filepath.Glob(filepath.Join(path, "*.go")); len(gofiles) > 0 {
			if _, ok := allowed[rel]; !ok && !strings.HasPrefix(rel, "testdata") {
				t.Errorf("package %s has no layering rule in internal/layering", rel)
			}
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
}
