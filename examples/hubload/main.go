// Hubload: load a dataset straight from a Hugging Face Hub repository.
//
// The repository here is served by hubtest, Quiver's in-process Hub, so the
// example runs anywhere without network access; against the real Hub, drop
// the server and the two hub options, and name a real repository:
//
//	dataset.Load(ctx, []string{"hf://datasets/ORG/NAME"})
//
// Run it from the repository root:
//
//	go run ./examples/hubload
//
// It publishes testdata/sample.jsonl as train and test splits of
// "quiver/sample", loads the repository (the branch is pinned to a commit
// once; splits come from the file names), and prints what arrived and how
// many bytes crossed the wire.
package main

import (
	"bytes"
	"context"
	"fmt"
	"log"
	"os"

	"github.com/quiverdata/quiver/dataset"
	"github.com/quiverdata/quiver/hubfs"
	"github.com/quiverdata/quiver/hubfs/hubtest"
)

func main() {
	ctx := context.Background()
	sample, err := os.ReadFile("testdata/sample.jsonl")
	if err != nil {
		log.Fatal(err)
	}

	hub := hubtest.New()
	defer hub.Close()
	repo := hub.AddRepo("dataset", "quiver/sample")
	commit := repo.Commit("main", map[string][]byte{
		"data/train-00000-of-00001.jsonl": sample,
		"data/test-00000-of-00001.jsonl":  firstLines(sample, 100),
		"README.md":                       []byte("# sample\n"),
	})
	fmt.Printf("hub serves quiver/sample at commit %.12s\n", commit)

	cacheDir, err := os.MkdirTemp("", "quiver-hubload-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(cacheDir)
	hubOpts := []hubfs.Option{
		hubfs.WithEndpoint(hub.URL), hubfs.WithHTTPClient(hub.Client()),
		hubfs.WithCacheDir(cacheDir), hubfs.WithToken(""),
	}
	splits, err := dataset.Load(ctx, []string{"hf://datasets/quiver/sample"},
		dataset.WithResolver(dataset.DefaultResolver{HubOptions: hubOpts}),
		dataset.WithCacheDir(cacheDir))
	if err != nil {
		log.Fatal(err)
	}
	for _, name := range []string{"train", "test"} {
		ds := splits[name]
		n, err := ds.Len(ctx)
		if err != nil {
			log.Fatal(err)
		}
		schema, err := ds.Schema(ctx)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("split %-5s %4d rows, %d columns, fingerprint %.12s\n", name, n, schema.NumFields(), ds.Fingerprint())
	}
	st := hub.Stats()
	fmt.Printf("the hub answered %d requests with %d bytes, %d of them file content\n", st.Requests, st.Bytes, st.FileBytes)
}

// firstLines returns the first n lines of data.
func firstLines(data []byte, n int) []byte {
	end := 0
	for i := 0; i < n; i++ {
		j := bytes.IndexByte(data[end:], '\n')
		if j < 0 {
			return data
		}
		end += j + 1
	}
	return data[:end]
}
