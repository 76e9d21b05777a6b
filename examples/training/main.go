// Training: feed a training loop from a dataset that is never
// materialized, and survive being killed.
//
// The program streams a dataset (Parquet, Arrow or JSONL files: local
// paths, globs or hf:// URLs),
// shuffled by (seed, epoch), split across ranks, in batches of fixed size,
// and runs a stand-in "training step" on each batch. Every few steps it
// saves a checkpoint: the stream's State next to the model's own state.
// Kill it at any moment and start it again: it continues from the last
// checkpoint, and the batches it sees are exactly those an uninterrupted
// run would have seen.
//
// Without -data it writes a small sample dataset (Arrow IPC files) first:
//
//	go run ./examples/training                       # rank 0 of 1
//	go run ./examples/training -rank 1 -world 2      # another rank
//	go run ./examples/training -data 'hf://datasets/org/name/data/*.parquet'
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log"
	"os"
	"os/signal"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/afero"

	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/streaming"
)

// checkpoint is what a training job saves: its model and the stream.
type checkpoint struct {
	Step   int64           `json:"step"`
	Model  model           `json:"model"`
	Stream streaming.State `json:"stream"`
}

// model stands in for real parameters: a running mean of the label.
type model struct {
	Seen int64   `json:"seen"`
	Sum  float64 `json:"sum"`
}

// train is one "training step" on a batch.
func (m *model) train(batch arrow.RecordBatch) {
	idx := batch.Schema().FieldIndices("label")
	if len(idx) == 0 {
		return
	}
	labels := batch.Column(idx[0]).(*array.Float64)
	for i := range labels.Len() {
		m.Sum += labels.Value(i)
	}
	m.Seen += batch.NumRows()
}

func main() {
	data := flag.String("data", "", "dataset location (default: a sample written to -dir)")
	dir := flag.String("dir", filepath.Join(os.TempDir(), "quiver-training"), "working directory for the sample and checkpoints")
	rank := flag.Int("rank", 0, "this rank")
	world := flag.Int("world", 1, "number of ranks")
	epochs := flag.Int64("epochs", 2, "epochs to train")
	batchSize := flag.Int("batch-size", 256, "examples per step")
	every := flag.Int64("checkpoint-every", 10, "steps between checkpoints")
	seed := flag.Uint64("seed", 42, "shuffle seed")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *data, *dir, *rank, *world, *epochs, *batchSize, *every, *seed); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, data, dir string, rank, world int, epochs int64, batchSize int, every int64, seed uint64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if data == "" {
		data = filepath.Join(dir, "sample", "*.arrow")
		if err := writeSample(filepath.Join(dir, "sample")); err != nil {
			return err
		}
	}
	ds, err := streaming.Open(ctx, []string{data}, streaming.WithColumns("id", "text", "label"))
	if err != nil {
		return err
	}
	// Every rank builds the same stream; only the split differs. Drop the
	// last partial batch so every rank takes the same number of steps.
	ds = ds.Shuffle(seed, 10_000).SplitByNode(rank, world).Batch(batchSize, true)

	ckPath := filepath.Join(dir, fmt.Sprintf("checkpoint-rank%d.json", rank))
	var ck checkpoint
	if raw, err := os.ReadFile(ckPath); err == nil {
		if err := json.Unmarshal(raw, &ck); err != nil {
			return fmt.Errorf("%s: %w", ckPath, err)
		}
		if err := ds.Resume(ck.Stream); err != nil {
			return fmt.Errorf("%s: %w", ckPath, err)
		}
		log.Printf("rank %d: resumed at step %d (epoch %d)", rank, ck.Step, ck.Stream.Epoch)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}

	save := func() error {
		ck.Stream = ds.State()
		raw, err := json.Marshal(ck)
		if err != nil {
			return err
		}
		tmp := ckPath + ".tmp"
		if err := os.WriteFile(tmp, raw, 0o644); err != nil {
			return err
		}
		return os.Rename(tmp, ckPath) // a crash leaves the old checkpoint whole
	}

	for epoch := ds.Epoch(); epoch < epochs; epoch++ {
		ds.SetEpoch(epoch) // a no-op for the epoch a checkpoint resumed
		for batch, err := range ds.Batches(ctx) {
			if err != nil {
				return err
			}
			ck.Model.train(batch)
			ck.Step++
			if ck.Step%every == 0 {
				if err := save(); err != nil {
					return err
				}
			}
		}
		if err := save(); err != nil { // the epoch is done
			return err
		}
		log.Printf("rank %d: epoch %d done at step %d, %d examples seen, mean label %.4f",
			rank, epoch, ck.Step, ck.Model.Seen, ck.Model.Sum/float64(max(ck.Model.Seen, 1)))
	}
	return nil
}

// writeSample writes, once, four Arrow IPC files of five 5,000-row batches
// each (every batch is a shard the stream can read on its own).
func writeSample(dir string) error {
	if m, _ := filepath.Glob(filepath.Join(dir, "*.arrow")); len(m) == 4 {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "text", Type: arrow.BinaryTypes.String},
		{Name: "label", Type: arrow.PrimitiveTypes.Float64},
	}, nil)
	fsys := afero.NewOsFs()
	for shard := range 4 {
		w, err := arrowio.Create(fsys, filepath.Join(dir, fmt.Sprintf("train-%05d-of-00004.arrow", shard)), schema)
		if err != nil {
			return err
		}
		for batch := range 5 {
			b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
			for i := range 5_000 {
				id := int64(shard*25_000 + batch*5_000 + i)
				b.Field(0).(*array.Int64Builder).Append(id)
				b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("example number %d", id))
				b.Field(2).(*array.Float64Builder).Append(float64(id%10) / 10)
			}
			rec := b.NewRecordBatch()
			err = w.Write(rec)
			rec.Release()
			b.Release()
			if err != nil {
				_ = w.Abort()
				return err
			}
		}
		if err := w.Close(); err != nil {
			return err
		}
	}
	return nil
}
