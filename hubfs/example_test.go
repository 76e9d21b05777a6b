package hubfs_test

import (
	"context"
	"fmt"

	"github.com/spf13/afero"

	"github.com/quiverdata/quiver/hubfs"
	"github.com/quiverdata/quiver/hubfs/hubtest"
)

// A Hub server in the test process stands in for huggingface.co.
func newExampleHub() *hubtest.Server {
	srv := hubtest.New()
	srv.AddRepo("dataset", "acme/reviews").Commit("main", map[string][]byte{
		"README.md":                                []byte("# Reviews\n"),
		"data/train-00000-of-00002.jsonl":          []byte(`{"text":"great","label":1}` + "\n"),
		"data/train-00001-of-00002.jsonl":          []byte(`{"text":"poor","label":0}` + "\n"),
		"data/test-00000-of-00001.jsonl":           []byte(`{"text":"fine","label":1}` + "\n"),
		"refs-are-files-too/not-a-split/notes.txt": []byte("hello\n"),
	})
	return srv
}

func ExampleResolve() {
	srv := newExampleHub()
	defer srv.Close()
	ctx := context.Background()

	res, err := hubfs.Resolve(ctx, "hf://datasets/acme/reviews/data/train-*.jsonl",
		hubfs.WithEndpoint(srv.URL), hubfs.WithCacheDir(""), hubfs.WithToken(""), hubfs.WithOffline(false))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, p := range res.Paths {
		data, err := afero.ReadFile(res.Fs, p)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Printf("%s: %s", p, data)
	}
	fmt.Println("commit pinned:", len(res.Commit) == 40)
	// Output:
	// data/train-00000-of-00002.jsonl: {"text":"great","label":1}
	// data/train-00001-of-00002.jsonl: {"text":"poor","label":0}
	// commit pinned: true
}

func ExampleOpen() {
	srv := newExampleHub()
	defer srv.Close()
	ctx := context.Background()

	fsys, err := hubfs.Open(ctx, hubfs.RepoRef{Type: hubfs.Dataset, ID: "acme/reviews", Revision: "main"},
		hubfs.WithEndpoint(srv.URL), hubfs.WithCacheDir(""), hubfs.WithToken(""), hubfs.WithOffline(false))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer fsys.Close()
	configs, err := hubfs.Splits(ctx, fsys, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range configs {
		for _, s := range c.Splits {
			fmt.Println(c.Name, s.Name, s.Files)
		}
	}
	fi, err := fsys.Stat("data/test-00000-of-00001.jsonl")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(fi.Name(), fi.Size())
	// Output:
	// default train [data/train-00000-of-00002.jsonl data/train-00001-of-00002.jsonl]
	// default test [data/test-00000-of-00001.jsonl]
	// test-00000-of-00001.jsonl 26
}
