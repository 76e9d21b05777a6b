// Quickstart: load a JSON Lines dataset, transform it with named functions,
// shuffle, split, iterate typed rows and export Parquet shards.
//
// Run it twice from the repository root:
//
//	go run ./examples/quickstart
//	go run ./examples/quickstart
//
// The first run converts the file into the Arrow cache and runs the map and
// filter; the second finds everything in the cache, so the functions never
// run and loading takes milliseconds.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/quiverdata/quiver/dataset"
	"github.com/quiverdata/quiver/ops"
)

// Review is one input row. Field tags name the JSON Lines keys (Arrow
// columns); columns the struct does not mention are ignored.
type Review struct {
	ID    int64   `quiver:"id"`
	Text  string  `quiver:"text"`
	Label string  `quiver:"label"`
	Score float64 `quiver:"score"`
}

// Example is what the map produces.
type Example struct {
	ID    int64   `quiver:"id"`
	Text  string  `quiver:"text"`
	Words int64   `quiver:"words"`
	Label string  `quiver:"label"`
	Score float64 `quiver:"score"`
}

// calls counts how often normalize ran, to show the cache at work.
var calls atomic.Int64

// normalize lowercases the text and counts its words. Its name in the
// pipeline, "normalize@v1", is its cache identity: bump the version when
// you change what it does.
func normalize(r Review) (Example, error) {
	calls.Add(1)
	text := strings.ToLower(r.Text)
	return Example{ID: r.ID, Text: text, Words: int64(len(strings.Fields(text))), Label: r.Label, Score: r.Score}, nil
}

func main() {
	data := flag.String("data", "testdata/sample.jsonl", "JSON Lines file to load")
	out := flag.String("out", filepath.Join(os.TempDir(), "quiver-quickstart"), "directory for the Parquet shards")
	format := flag.String("format", "parquet", "output format: parquet, jsonl, arrow or csv")
	cacheDir := flag.String("cache", "", "cache directory (default $QUIVER_CACHE, $XDG_CACHE_HOME/quiver or ~/.cache/quiver)")
	flag.Parse()
	ctx := context.Background()

	opts := []dataset.Option{dataset.WithProgress(func(p dataset.Progress) {
		if p.Done && p.Stage == "convert" {
			fmt.Printf("converted %d file(s), %d rows, into the Arrow cache\n", p.Files, p.Rows)
		}
	})}
	if *cacheDir != "" {
		opts = append(opts, dataset.WithCacheDir(*cacheDir))
	}

	start := time.Now()
	splits, err := dataset.Load(ctx, []string{*data}, opts...)
	if err != nil {
		log.Fatal(err)
	}
	reviews := splits["train"] // a file without a split name is "train"
	fmt.Printf("load: %v\n", time.Since(start).Round(time.Microsecond))

	// Lazy: nothing below runs until data is needed.
	examples := dataset.MapRows(reviews, "normalize@v1", normalize)
	long := dataset.FilterRows(examples, "confident-and-long@v1", func(e Example) (bool, error) {
		return e.Score >= 0.2 && e.Words >= 8, nil
	})
	train, test := long.Shuffle(42).TrainTestSplit(ops.SplitSpec{TestFraction: 0.2, Seed: 7, StratifyBy: "label"})

	start = time.Now()
	nTrain, err := train.Len(ctx)
	if err != nil {
		log.Fatal(err)
	}
	nTest, err := test.Len(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("map+filter+shuffle+split: %d train, %d test rows in %v (normalize ran %d times)\n",
		nTrain, nTest, time.Since(start).Round(time.Microsecond), calls.Load())

	fmt.Println("first test rows:")
	n := 0
	for e, err := range dataset.Rows[Example](ctx, test, 0) {
		if err != nil {
			log.Fatal(err)
		}
		text := []rune(e.Text)
		if len(text) > 50 {
			text = append(text[:50], '…')
		}
		fmt.Printf("  #%d [%s] %d words: %q\n", e.ID, e.Label, e.Words, string(text))
		if n++; n == 3 {
			break
		}
	}

	if err := os.RemoveAll(*out); err != nil {
		log.Fatal(err)
	}
	paths, err := train.Export(ctx, *out, dataset.ExportOptions{NumShards: 2, Format: *format})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range paths {
		fmt.Println("wrote", p)
	}
	fmt.Println("fingerprint of train:", train.Fingerprint()[:16])
}
