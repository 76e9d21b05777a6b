package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/afero"
	"github.com/spf13/cobra"

	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/dataset"
	"github.com/quiverdata/quiver/internal/progress"
	"github.com/quiverdata/quiver/internal/units"
	"github.com/quiverdata/quiver/ops"
)

type shardFlags struct {
	convertFlags
	outDir       string
	numShards    int
	maxShardSize string
	split        string
	format       string
	shuffle      bool
	seed         uint64
}

func newShardCmd(env *Env, g *globalFlags) *cobra.Command {
	var f shardFlags
	cmd := &cobra.Command{
		Use:   "shard IN... --out DIR (--num-shards N | --max-shard-size SIZE)",
		Short: "Split inputs into shards named {split}-00000-of-00008.parquet",
		Long: `Shard concatenates the inputs and writes them to DIR as shards named the
Hugging Face way, {split}-00000-of-00008.{ext}. Shards are contiguous: with
--num-shards N the first (rows mod N) shards hold one row more than the
others; with --max-shard-size a shard is closed once its Arrow (uncompressed)
size reaches SIZE, as Hugging Face's max_shard_size does. Shards appear only
when every one of them is complete.

--shuffle permutes all rows with --seed first: the inputs are loaded into the
dataset cache (memory-mapped Arrow, reused by later runs) and the shards are
gathered from it in shuffled order.`,
		Example: `  dsctl shard data.jsonl --out shards --num-shards 8
  dsctl shard 'raw/*.parquet' --out shards --max-shard-size 500MB --split validation
  dsctl shard data.parquet --out shards --num-shards 4 --format jsonl.zst
  dsctl shard data.jsonl --out shards --num-shards 8 --shuffle --seed 42`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runShard(cmd.Context(), env, g, &f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.outDir, "out", "", "output directory (created if missing)")
	fl.IntVar(&f.numShards, "num-shards", 0, "number of shards")
	fl.StringVar(&f.maxShardSize, "max-shard-size", "", "largest Arrow size per shard, e.g. 500MB or 1GiB")
	fl.StringVar(&f.split, "split", "train", "split name in shard file names")
	fl.BoolVar(&f.shuffle, "shuffle", false, "shuffle all rows globally before sharding (materializes the inputs in the dataset cache)")
	fl.Uint64Var(&f.seed, "seed", 0, "shuffle seed; the same seed gives the same shards on every machine")
	fl.StringVar(&f.format, "format", "parquet", "shard format: parquet, jsonl, jsonl.gz, jsonl.zst, arrow, arrows, csv")
	f.addFlags(fl)
	return cmd
}

func runShard(ctx context.Context, env *Env, g *globalFlags, f *shardFlags, args []string) error {
	if f.outDir == "" {
		return usagef("--out DIR is required")
	}
	if (f.numShards > 0) == (f.maxShardSize != "") {
		return usagef("give exactly one of --num-shards and --max-shard-size")
	}
	if f.numShards < 0 {
		return usagef("--num-shards %d is negative", f.numShards)
	}
	var maxBytes int64
	if f.maxShardSize != "" {
		var err error
		if maxBytes, err = units.ParseSize(f.maxShardSize); err != nil || maxBytes <= 0 {
			return usagef("--max-shard-size %q: want a positive size such as 500MB", f.maxShardSize)
		}
	}
	if strings.ContainsAny(f.split, `/\`) || f.split == "" {
		return usagef("--split %q: want a plain name such as train", f.split)
	}
	ext := strings.TrimPrefix(f.format, ".")
	if _, _, err := arrowio.DetectFormat("x." + ext); err != nil {
		return usagef("--format %q: want parquet, jsonl, jsonl.gz, jsonl.zst, arrow, arrows or csv", f.format)
	}
	wopts, err := writeOptions(&f.convertFlags, "x."+ext)
	if err != nil {
		return err
	}
	if f.shuffle {
		return runShuffledShard(ctx, env, g, f, args, ext, wopts, maxBytes)
	}
	var counter progress.Counter
	inputs, readers, schema, err := openInputs(ctx, env, args, &f.convertFlags, &counter)
	if err != nil {
		return err
	}
	defer closeAll(readers)
	var sizes []int64 // rows per shard, when counting by --num-shards
	if f.numShards > 0 {
		var total int64
		for _, r := range readers {
			n, err := arrowio.Count(ctx, r)
			if err != nil {
				return err
			}
			total += n
		}
		sizes = shardSizes(total, f.numShards)
	}
	if err := env.Fs.MkdirAll(f.outDir, 0o755); err != nil {
		return err
	}
	sw := &shardWriter{fs: env.Fs, dir: f.outDir, split: f.split, ext: ext, schema: schema, opts: wopts}
	defer sw.abort()
	bar := g.startProgress(env, "shard", expectedWork(inputs, readers, 0), &counter)
	err = sw.run(ctx, readers, sizes, maxBytes, &counter)
	bar.Stop()
	if err != nil {
		return err
	}
	names, err := sw.commit()
	if err != nil {
		return err
	}
	for _, n := range names {
		fmt.Fprintln(env.Stdout, n)
	}
	return nil
}

// shardSizes splits total rows into n contiguous shards by the rule of
// ops.ShardBounds (Hugging Face's: the first total%n shards one row longer).
func shardSizes(total int64, n int) []int64 {
	sizes := make([]int64, n)
	for i := range sizes {
		lo, hi := ops.ShardBounds(total, n, i)
		sizes[i] = hi - lo
	}
	return sizes
}

// shardWriter writes shards under temporary names and renames them all to
// their final {split}-i-of-n names once the count is known.
type shardWriter struct {
	fs     afero.Fs
	dir    string
	split  string
	ext    string
	schema *arrow.Schema
	opts   []arrowio.WriteOption

	cur     arrowio.Writer
	curRows int64
	curSize int64
	temps   []string // closed shards, in order
}

func (s *shardWriter) tempName(i int) string {
	return filepath.Join(s.dir, fmt.Sprintf(".%s-%05d.partial.%s", s.split, i, s.ext))
}

func (s *shardWriter) open() error {
	name := s.tempName(len(s.temps))
	w, err := arrowio.Create(s.fs, name, s.schema, s.opts...)
	if err != nil {
		return err
	}
	s.cur, s.curRows, s.curSize = w, 0, 0
	return nil
}

func (s *shardWriter) closeCurrent() error {
	if s.cur == nil {
		return nil
	}
	err := s.cur.Close()
	s.cur = nil
	if err != nil {
		return err
	}
	s.temps = append(s.temps, s.tempName(len(s.temps)))
	return nil
}

// run writes every batch of readers. With sizes, shard i gets sizes[i]
// rows; otherwise a shard closes once it holds maxBytes of Arrow data.
func (s *shardWriter) run(ctx context.Context, readers []arrowio.Reader, sizes []int64, maxBytes int64, counter *progress.Counter) error {
	for batch, err := range castBatches(ctx, readers, s.schema, 0) {
		if err != nil {
			return err
		}
		err := s.write(batch, sizes, maxBytes)
		counter.AddRows(batch.NumRows())
		if err != nil {
			return err
		}
	}
	// With --num-shards, shards past the data (more shards than rows) are
	// written empty so the count in the names holds.
	for sizes != nil && len(s.temps) < len(sizes) {
		if s.cur == nil {
			if err := s.open(); err != nil {
				return err
			}
		}
		if err := s.closeCurrent(); err != nil {
			return err
		}
	}
	return s.closeCurrent()
}

func (s *shardWriter) write(batch arrow.RecordBatch, sizes []int64, maxBytes int64) error {
	perRow := max(arrowio.BatchBytes(batch)/max(batch.NumRows(), 1), 1)
	for off := int64(0); off < batch.NumRows(); {
		if s.cur == nil {
			if err := s.open(); err != nil {
				return err
			}
		}
		n := batch.NumRows() - off
		if sizes != nil {
			n = min(n, sizes[len(s.temps)]-s.curRows)
		} else {
			// The batch's mean row size decides how many rows still fit;
			// a shard always takes at least one row.
			n = min(n, max((maxBytes-s.curSize)/perRow, 1))
		}
		if n > 0 {
			part := batch.NewSlice(off, off+n)
			err := s.cur.Write(part)
			s.curSize += perRow * n
			part.Release()
			if err != nil {
				return err
			}
			s.curRows += n
			off += n
		}
		full := (sizes != nil && s.curRows >= sizes[len(s.temps)]) || (sizes == nil && s.curSize >= maxBytes)
		if full {
			if err := s.closeCurrent(); err != nil {
				return err
			}
		}
	}
	return nil
}

// commit renames the finished shards to their final names and returns them.
func (s *shardWriter) commit() ([]string, error) {
	n := len(s.temps)
	names := make([]string, n)
	for i, tmp := range s.temps {
		names[i] = filepath.Join(s.dir, fmt.Sprintf("%s-%05d-of-%05d.%s", s.split, i, n, s.ext))
		if err := s.fs.Rename(tmp, names[i]); err != nil {
			return nil, err
		}
	}
	s.temps = nil
	return names, nil
}

// abort removes every shard not yet committed.
func (s *shardWriter) abort() {
	if s.cur != nil {
		_ = s.cur.Abort()
		s.cur = nil
	}
	for _, t := range s.temps {
		_ = s.fs.Remove(t)
	}
	s.temps = nil
}

// runShuffledShard loads the inputs as one dataset (through the cache),
// shuffles it with the seed and exports the shards.
func runShuffledShard(ctx context.Context, env *Env, g *globalFlags, f *shardFlags, args []string, ext string, wopts []arrowio.WriteOption, maxBytes int64) error {
	var counter progress.Counter
	var lastRows int64
	var stage string
	bar := g.startProgress(env, "shard", progress.Total{}, &counter)
	defer bar.Stop()
	opts := []dataset.Option{
		dataset.WithSplits(map[string][]string{f.split: args}),
		dataset.WithResolver(dataset.DefaultResolver{HubOptions: env.HubOptions}),
		dataset.WithProgress(func(p dataset.Progress) {
			if p.Stage != stage { // the bar counts the rows of the current stage
				stage, lastRows = p.Stage, 0
				counter.Reset()
			}
			if p.Rows > lastRows {
				counter.AddRows(p.Rows - lastRows)
			}
			lastRows = p.Rows
			if p.Done {
				lastRows = 0
			}
		}),
	}
	if f.workers > 0 {
		opts = append(opts, dataset.WithWorkers(f.workers))
	}
	if f.schema != "" {
		schema, err := loadSchemaFile(env.Fs, f.schema)
		if err != nil {
			return usageError{err}
		}
		// The schema is part of the cache key: it changes the data.
		opts = append(opts, dataset.WithReadOptions("schema="+schema.String(), arrowio.WithSchema(schema)))
	}
	splits, err := dataset.Load(ctx, nil, opts...)
	if err != nil {
		return err
	}
	ds := splits[f.split]
	if ds == nil {
		return fmt.Errorf("no data loaded from %s", strings.Join(args, " "))
	}
	if cols := splitColumns(f.columns); len(cols) > 0 {
		ds = ds.SelectColumns(cols...)
	}
	ds = ds.Shuffle(f.seed)
	format, _, _ := arrowio.DetectFormat("x." + ext)
	out := f.outDir
	if f.numShards == 1 {
		// Export takes a file name when there is one shard.
		if err := env.Fs.MkdirAll(f.outDir, 0o755); err != nil {
			return err
		}
		out = filepath.Join(f.outDir, fmt.Sprintf("%s-00000-of-00001.%s", f.split, ext))
	}
	names, err := ds.Export(ctx, out, dataset.ExportOptions{
		Format:        format.String(),
		NumShards:     f.numShards,
		MaxShardBytes: maxBytes,
		Template:      "{split}-{shard}-of-{num_shards}." + ext,
		Split:         f.split,
		WriteOptions:  wopts,
	})
	if err != nil {
		return err
	}
	for _, n := range names {
		fmt.Fprintln(env.Stdout, n)
	}
	return nil
}
