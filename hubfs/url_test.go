package hubfs

import (
	"errors"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		in   string
		want URL
		str  string // String() if different from in
	}{
		{"hf://datasets/org/name", URL{Repo: RepoRef{Type: Dataset, ID: "org/name"}}, ""},
		{"hf://datasets/org/name/", URL{Repo: RepoRef{Type: Dataset, ID: "org/name"}}, "hf://datasets/org/name"},
		{"hf://org/model", URL{Repo: RepoRef{Type: Model, ID: "org/model"}}, ""},
		{"hf://models/org/model/config.json", URL{Repo: RepoRef{Type: Model, ID: "org/model"}, Path: "config.json"}, "hf://org/model/config.json"},
		{"hf://spaces/o/s@main/app.py", URL{Repo: RepoRef{Type: Space, ID: "o/s", Revision: "main"}, Path: "app.py"}, ""},
		{"hf://datasets/org/name@v1.0/data/train-*.parquet",
			URL{Repo: RepoRef{Type: Dataset, ID: "org/name", Revision: "v1.0"}, Path: "data/train-*.parquet"}, ""},
		{"hf://datasets/u/d@refs/convert/parquet/default/train/0000.parquet",
			URL{Repo: RepoRef{Type: Dataset, ID: "u/d", Revision: "refs/convert/parquet"}, Path: "default/train/0000.parquet"}, ""},
		{"hf://datasets/u/d@refs%2Fconvert%2Fparquet/default/train/0000.parquet",
			URL{Repo: RepoRef{Type: Dataset, ID: "u/d", Revision: "refs/convert/parquet"}, Path: "default/train/0000.parquet"},
			"hf://datasets/u/d@refs/convert/parquet/default/train/0000.parquet"},
		{"hf://datasets/u/d@refs/pr/12", URL{Repo: RepoRef{Type: Dataset, ID: "u/d", Revision: "refs/pr/12"}}, ""},
		{"hf://datasets/u/d@refs/pr/12/x.csv", URL{Repo: RepoRef{Type: Dataset, ID: "u/d", Revision: "refs/pr/12"}, Path: "x.csv"}, ""},
		{"hf://datasets/u/d@feature%2Fx/file.txt",
			URL{Repo: RepoRef{Type: Dataset, ID: "u/d", Revision: "feature/x"}, Path: "file.txt"}, ""},
		{"hf://datasets/u/d@~parquet/default/train/0000.parquet",
			URL{Repo: RepoRef{Type: Dataset, ID: "u/d", Revision: "refs/convert/parquet"}, Path: "default/train/0000.parquet"},
			"hf://datasets/u/d@refs/convert/parquet/default/train/0000.parquet"},
		{"hf://datasets/u/d/dir/file@2.txt", URL{Repo: RepoRef{Type: Dataset, ID: "u/d"}, Path: "dir/file@2.txt"}, ""},
		{"hf://datasets/u/d@0123456789abcdef0123456789abcdef01234567/a/**/*.jsonl",
			URL{Repo: RepoRef{Type: Dataset, ID: "u/d", Revision: "0123456789abcdef0123456789abcdef01234567"}, Path: "a/**/*.jsonl"}, ""},
		{"hf://kernels/k/n", URL{Repo: RepoRef{Type: Kernel, ID: "k/n"}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseURL(tt.in)
			if err != nil {
				t.Fatalf("ParseURL: %v", err)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			want := tt.str
			if want == "" {
				want = tt.in
			}
			if s := got.String(); s != want {
				t.Errorf("String() = %q, want %q", s, want)
			}
			back, err := ParseURL(got.String())
			if err != nil || back != got {
				t.Errorf("round trip: %+v, %v", back, err)
			}
		})
	}
}

func TestParseURLInvalid(t *testing.T) {
	for _, in := range []string{
		"",
		"datasets/org/name",
		"https://huggingface.co/datasets/org/name",
		"hf://",
		"hf://datasets/",
		"hf://datasets/org",
		"hf://datasets/org/",
		"hf://datasets/org/name@",
		"hf://datasets/org/name@/file",
		"hf://datasets/-org/name",
		"hf://datasets/org/na..me",
		"hf://datasets/org/na--me",
		"hf://datasets/org/name/../secret",
		"hf://datasets/org/name/a//b",
		`hf://datasets/org/name/a\b`,
		"hf://datasets/org/name@%zz/file",
		"hf://datasets/org/name@..%2F..%2Fetc/file",
		"hf://datasets/org/name@refs/pr/1x",
	} {
		t.Run(in, func(t *testing.T) {
			u, err := ParseURL(in)
			if !errors.Is(err, ErrBadURL) {
				t.Fatalf("ParseURL(%q) = %+v, %v; want ErrBadURL", in, u, err)
			}
		})
	}
}
