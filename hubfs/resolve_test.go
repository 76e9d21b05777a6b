package hubfs

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

func TestMatchGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*.parquet", "a.parquet", true},
		{"*.parquet", "d/a.parquet", false},
		{"**/*.parquet", "a.parquet", true},
		{"**/*.parquet", "d/e/a.parquet", true},
		{"data/**", "data/a/b.json", true},
		{"data/**", "other/a", false},
		{"**", "x/y/z", true},
		{"**", ".hidden/x", false},
		{"*", ".gitattributes", false},
		{".*", ".gitattributes", true},
		{"**/*.json", "a/__pycache__/x.json", false},
		{"data/train-*", "data/train-0001.parquet", true},
		{"data/[a-c]?.csv", "data/b1.csv", true},
		{"**/train" + sep + "*", "x/train_0.jsonl", true},
		{"**/train" + sep + "*", "x/trainx.jsonl", false},
		{"**/train/**", "a/train/b/c.txt", true},
		{"a/**/b", "a/b", true},
		{"a/**/b", "a/x/y/b", true},
		{"a/**", "a", false},
		{"**/train/**", "train", false},
	}
	for _, tt := range tests {
		if got := matchGlob(tt.pattern, tt.name); got != tt.want {
			t.Errorf("matchGlob(%q, %q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}

func TestResolveLocal(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"a.jsonl", "sub/b.jsonl", "sub/deep/c.jsonl", "sub/deep/d.csv", ".hidden/e.jsonl"} {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(p), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	j := func(ps ...string) []string {
		var out []string
		for _, p := range ps {
			out = append(out, filepath.Join(dir, filepath.FromSlash(p)))
		}
		return out
	}
	tests := []struct {
		loc  string
		want []string
	}{
		{dir + "/a.jsonl", j("a.jsonl")},
		{"file://" + dir + "/a.jsonl", j("a.jsonl")},
		{dir + "/*.jsonl", j("a.jsonl")},
		{dir + "/**/*.jsonl", j("a.jsonl", "sub/b.jsonl", "sub/deep/c.jsonl")},
		{"file://" + dir + "/sub/**", j("sub/b.jsonl", "sub/deep/c.jsonl", "sub/deep/d.csv")},
		{dir + "/sub", j("sub/b.jsonl", "sub/deep/c.jsonl", "sub/deep/d.csv")},
		{dir, j("a.jsonl", "sub/b.jsonl", "sub/deep/c.jsonl", "sub/deep/d.csv")},
		{dir + "/.hidden/*.jsonl", j(".hidden/e.jsonl")},
	}
	for _, tt := range tests {
		t.Run(tt.loc, func(t *testing.T) {
			res, err := Resolve(context.Background(), tt.loc)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Paths, tt.want) {
				t.Fatalf("paths %v, want %v", res.Paths, tt.want)
			}
			if res.Commit != "" {
				t.Errorf("local commit %q", res.Commit)
			}
			id, err := res.Identity(res.Paths[0])
			if err != nil || !strings.HasPrefix(id, "file://"+filepath.ToSlash(dir)) || !strings.Contains(id, "size=") {
				t.Errorf("identity %q, %v", id, err)
			}
		})
	}
	for _, loc := range []string{dir + "/none/*.jsonl", dir + "/missing.jsonl", dir + "/*.parquet"} {
		if _, err := Resolve(context.Background(), loc); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Resolve(%q) = %v, want fs.ErrNotExist", loc, err)
		}
	}
	// Relative paths against a given filesystem.
	mem := afero.NewMemMapFs()
	_ = afero.WriteFile(mem, "data/x.csv", []byte("1"), 0o644)
	_ = afero.WriteFile(mem, "data/y/z.csv", []byte("1"), 0o644)
	res, err := Resolve(context.Background(), "data/**/*.csv", WithLocalFs(mem))
	if err != nil || !slices.Equal(res.Paths, []string{"data/x.csv", filepath.FromSlash("data/y/z.csv")}) {
		t.Fatalf("mem resolve: %v, %v", res.Paths, err)
	}
}

func TestResolveHub(t *testing.T) {
	srv, _, commit := sampleHub(t)
	srv.SetPageSize(3)
	tests := []struct {
		loc  string
		want []string
	}{
		{"hf://datasets/org/sample/data/*.jsonl", []string{"data/test-00000.jsonl", "data/train-00000.jsonl"}},
		{"hf://datasets/org/sample@main/**/*.txt", []string{"data/nested/deep/file.txt"}},
		{"hf://datasets/org/sample/shards/part-0[0-1].bin", []string{"shards/part-00.bin", "shards/part-01.bin"}},
		{"hf://datasets/org/sample/data/nested", []string{"data/nested/deep/file.txt"}},
		{"hf://datasets/org/sample/README.md", []string{"README.md"}},
		{"hf://datasets/org/sample@" + commit + "/other/*", []string{"other/medium.bin", "other/with space & plus+.t"}},
	}
	for _, tt := range tests {
		t.Run(tt.loc, func(t *testing.T) {
			res, err := Resolve(context.Background(), tt.loc, serverOpts(srv)...)
			if err != nil {
				t.Fatal(err)
			}
			if res.Commit != commit || !slices.Equal(res.Paths, tt.want) {
				t.Fatalf("commit %s paths %v, want %v", res.Commit, res.Paths, tt.want)
			}
			if _, ok := res.Fs.(*FS); !ok {
				t.Fatalf("Fs is %T", res.Fs)
			}
			id, err := res.Identity(res.Paths[0])
			if err != nil || !strings.Contains(id, "@"+commit+"/") {
				t.Errorf("identity %q, %v", id, err)
			}
		})
	}
	for _, loc := range []string{"hf://datasets/org/sample/*.parquet", "hf://datasets/org/sample/nope", "hf://datasets/org/none/x"} {
		if _, err := Resolve(context.Background(), loc, serverOpts(srv)...); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("Resolve(%q) = %v, want fs.ErrNotExist", loc, err)
		}
	}
	if _, err := Resolve(context.Background(), "hf://datasets/org", serverOpts(srv)...); !errors.Is(err, ErrBadURL) {
		t.Errorf("bad URL: %v", err)
	}
}

func TestSplits(t *testing.T) {
	srv := newHub(t)
	for _, name := range []string{"configs", "auto", "keywords"} {
		if _, err := srv.AddRepo("dataset", "fixtures/"+name).CommitDir("main", filepath.Join("..", "testdata", "hub", name)); err != nil {
			t.Fatal(err)
		}
	}
	conv := srv.AddRepo("dataset", "fixtures/conv")
	conv.Commit("main", map[string][]byte{"x.csv": []byte("a\n")})
	conv.Commit("refs/convert/parquet", map[string][]byte{
		"default/train/0000.parquet":        []byte("p"),
		"default/train/0001.parquet":        []byte("p"),
		"default/partial-test/0000.parquet": []byte("p"),
		"other/validation/0000.parquet":     []byte("p"),
		"other/validation/.keep":            []byte(""),
	})
	type split struct {
		name  string
		files []string
	}
	type cfg struct {
		name   string
		def    bool
		splits []split
	}
	tests := []struct {
		repo, rev string
		want      []cfg
	}{
		{"configs", "", []cfg{
			{"main", true, []split{{"train", []string{"data/train-0.jsonl", "data/train-1.jsonl"}}, {"test", []string{"data/test-a.jsonl", "data/test-b.jsonl"}}}},
			{"extra", false, []split{{"train", []string{"extra/one.csv", "extra/two.csv"}}}},
			{"bysplit", false, []split{{"validation", []string{"data/train-0.jsonl"}}}},
		}},
		{"auto", "", []cfg{{"default", true, []split{
			{"train", []string{"data/train-00000-of-00002.jsonl", "data/train-00001-of-00002.jsonl"}},
			{"validation", []string{"data/validation-00000-of-00001.jsonl"}},
			{"test", []string{"data/test-00000-of-00001.jsonl"}},
			{"my_split", []string{"data/my_split-00000-of-00001.jsonl"}},
		}}}},
		{"keywords", "", []cfg{{"default", true, []split{
			{"train", []string{"training/part1.jsonl"}},
			{"validation", []string{"dev/part1.jsonl"}},
		}}}},
		{"conv", "refs/convert/parquet", []cfg{
			{"default", true, []split{{"train", []string{"default/train/0000.parquet", "default/train/0001.parquet"}}, {"test", []string{"default/partial-test/0000.parquet"}}}},
			{"other", false, []split{{"validation", []string{"other/validation/0000.parquet"}}}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.repo, func(t *testing.T) {
			f, err := Open(context.Background(), RepoRef{Type: Dataset, ID: "fixtures/" + tt.repo, Revision: tt.rev}, serverOpts(srv)...)
			if err != nil {
				t.Fatal(err)
			}
			configs, err := Splits(context.Background(), f, "")
			if err != nil {
				t.Fatal(err)
			}
			var got []cfg
			for _, c := range configs {
				gc := cfg{c.Name, c.Default, nil}
				for _, s := range c.Splits {
					gc.splits = append(gc.splits, split{s.Name, s.Files})
				}
				got = append(got, gc)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestSplitsLocalPatterns(t *testing.T) {
	tests := []struct {
		files []string
		want  map[string][]string
	}{
		{[]string{"train.jsonl", "test.jsonl", "val_data.jsonl", "README.md"},
			map[string][]string{"train": {"train.jsonl"}, "validation": {"val_data.jsonl"}, "test": {"test.jsonl"}}},
		{[]string{"my_train_1.csv", "my_eval_1.csv", "notes.txt"},
			map[string][]string{"train": {"my_train_1.csv"}, "test": {"my_eval_1.csv"}}},
		{[]string{"a.parquet", "b.parquet", "c.jsonl", "config.json"},
			map[string][]string{"train": {"a.parquet", "b.parquet"}}},
		{[]string{"data/x.parquet", "dataset_info.json"},
			map[string][]string{"train": {"data/x.parquet"}}},
	}
	for _, tt := range tests {
		mem := afero.NewMemMapFs()
		for _, f := range tt.files {
			_ = afero.WriteFile(mem, "root/"+f, []byte("x"), 0o644)
		}
		configs, err := Splits(context.Background(), mem, "root")
		if err != nil {
			t.Fatalf("%v: %v", tt.files, err)
		}
		got := map[string][]string{}
		for _, s := range configs[0].Splits {
			for _, f := range s.Files {
				got[s.Name] = append(got[s.Name], strings.TrimPrefix(f, "root/"))
			}
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%v: got %v, want %v", tt.files, got, tt.want)
		}
	}
	empty := afero.NewMemMapFs()
	_ = afero.WriteFile(empty, "README.md", []byte("# nothing"), 0o644)
	if _, err := Splits(context.Background(), empty, ""); !errors.Is(err, ErrNoData) {
		t.Errorf("no data: %v", err)
	}
	bad := afero.NewMemMapFs()
	_ = afero.WriteFile(bad, "README.md", []byte("---\nconfigs: [\n---\n"), 0o644)
	if _, err := Splits(context.Background(), bad, ""); err == nil || !strings.Contains(err.Error(), "README.md") {
		t.Errorf("bad YAML: %v", err)
	}
}
