package dataset

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/ops"
	"github.com/spf13/afero"
)

// ExportOptions configures Export.
type ExportOptions struct {
	// Format is the output format name (parquet, jsonl, arrow, arrows,
	// csv; see arrowio.ParseFormat). Default: from the file extension of
	// the path (single file) or of Template.
	Format string
	// NumShards splits the rows into this many files of contiguous rows
	// (Hugging Face's shard rule). Default 1.
	NumShards int
	// MaxShardBytes splits the rows into as many files as needed for each
	// to hold at most about this many Arrow bytes. Default: no limit.
	MaxShardBytes int64
	// Template names shard files inside the output directory;
	// {split}, {shard} and {num_shards} are replaced (numbers with five
	// digits). Default "{split}-{shard}-of-{num_shards}.<ext>".
	Template string
	// Split is the value of {split}. Default "train".
	Split string
	// WriteOptions pass through to arrowio.Create (codec, row group size).
	WriteOptions []arrowio.WriteOption
}

// Export writes the dataset's rows in order. Without sharding, path is the
// output file. With NumShards > 1 or MaxShardBytes, path is a directory
// (created if needed) that receives the shard files, written in parallel
// on the worker pool. Every file appears only complete; on error, shards
// already written by this call are removed. It returns the paths written.
// Rows in a permuted order (shuffled, sorted, selected) are read from a
// large mapped source in sweeps that bound resident memory (see
// WithSweepBytes).
func (d *Dataset) Export(ctx context.Context, path string, opts ExportOptions) ([]string, error) {
	if opts.NumShards <= 1 && opts.MaxShardBytes <= 0 {
		format, err := exportFormat(opts.Format, path)
		if err != nil {
			return nil, err
		}
		// One file needs no row count: filters stream straight into the
		// writer instead of being materialized first.
		st, err := d.resolve(ctx)
		if err != nil {
			return nil, err
		}
		prog := d.cfg.newExportProgress(1)
		if err := d.cfg.writeRange(ctx, st, 0, st.sel.Len(), path, format, opts.WriteOptions, d.cfg.workers, prog.rows(path)); err != nil {
			return nil, err
		}
		prog.fileDone(path, true)
		return []string{path}, nil
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, err
	}
	return d.exportShards(ctx, path, opts)
}

func exportFormat(name, path string) (arrowio.Format, error) {
	if name != "" {
		return arrowio.ParseFormat(name)
	}
	f, _, err := arrowio.DetectFormat(path)
	return f, err
}

var extOf = map[arrowio.Format]string{
	arrowio.FormatParquet: "parquet", arrowio.FormatJSONL: "jsonl", arrowio.FormatArrowFile: "arrow",
	arrowio.FormatArrowStream: "arrow", arrowio.FormatCSV: "csv",
}

// counted resolves d with its row count known (row-changing ops
// materialized).
func (d *Dataset) counted(ctx context.Context) (*state, error) {
	st, err := d.resolve(ctx)
	if err != nil {
		return nil, err
	}
	if hasKind(st.pending, func(k ops.Kind) bool { return k == ops.KindResize }) {
		return d.materialized(ctx)
	}
	return st, nil
}

// estimateBytes estimates the Arrow bytes of st's rows from its source.
func estimateBytes(st *state) int64 {
	if n := st.src.len(); n > 0 {
		return int64(float64(st.src.bytes()) * float64(st.sel.Len()) / float64(n))
	}
	return 0
}

// exportShards writes shard files into dir and returns their paths.
func (d *Dataset) exportShards(ctx context.Context, dir string, opts ExportOptions) ([]string, error) {
	st, err := d.counted(ctx)
	if err != nil {
		return nil, err
	}
	rows := st.sel.Len()
	n := max(opts.NumShards, 1)
	if opts.MaxShardBytes > 0 {
		n = max(n, int((estimateBytes(st)+opts.MaxShardBytes-1)/opts.MaxShardBytes))
	}
	n = max(1, min(n, int(max(rows, 1))))
	tmpl := opts.Template
	var format arrowio.Format
	if opts.Format != "" {
		if format, err = arrowio.ParseFormat(opts.Format); err != nil {
			return nil, err
		}
	}
	if tmpl == "" {
		if format == arrowio.FormatUnknown {
			return nil, fmt.Errorf("%w: sharded export needs a Format or a Template with an extension", ErrDataset)
		}
		tmpl = "{split}-{shard}-of-{num_shards}." + extOf[format]
	}
	split := opts.Split
	if split == "" {
		split = "train"
	}
	paths := make([]string, n)
	for i := range n {
		name := strings.NewReplacer("{split}", split, "{shard}", fmt.Sprintf("%05d", i),
			"{num_shards}", fmt.Sprintf("%05d", n)).Replace(tmpl)
		paths[i] = filepath.Join(dir, name)
	}
	if format == arrowio.FormatUnknown {
		if format, err = exportFormat("", paths[0]); err != nil {
			return nil, err
		}
	}
	// Shards run in parallel, each with one worker: the pool is spent
	// across files.
	workers := d.cfg.workers
	perShard := max(1, workers/n)
	prog := d.cfg.newExportProgress(n)
	err = parallelFor(ctx, workers, n, func(ctx context.Context, i int) error {
		lo, hi := ops.ShardBounds(rows, n, i)
		if err := d.cfg.writeRange(ctx, st, lo, hi, paths[i], format, opts.WriteOptions, perShard, prog.rows(paths[i])); err != nil {
			return fmt.Errorf("shard %d (%s): %w", i, paths[i], err)
		}
		prog.fileDone(paths[i], false)
		return nil
	})
	if err != nil {
		for _, p := range paths {
			os.Remove(p)
		}
		return nil, err
	}
	prog.fileDone("", true)
	return paths, nil
}

// exportProgress reports an export's progress (Stage "export") through
// the configured callback, one report at a time although shards are
// written in parallel.
type exportProgress struct {
	cfg             *config
	mu              sync.Mutex
	files, finished int
	total           int64
}

func (c *config) newExportProgress(files int) *exportProgress {
	return &exportProgress{cfg: c, files: files}
}

// rows returns the function writeRange calls with the rows it has just
// written to file.
func (p *exportProgress) rows(file string) func(int64) {
	return func(n int64) {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.total += n
		p.cfg.report(Progress{Stage: "export", File: file, Files: p.files, FilesDone: p.finished, Rows: p.total})
	}
}

// fileDone records that file is complete ("": none) and reports; last
// marks the export's final report.
func (p *exportProgress) fileDone(file string, last bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if file != "" {
		p.finished++
	}
	p.cfg.report(Progress{Stage: "export", File: file, Files: p.files, FilesDone: p.finished, Rows: p.total, Done: last})
}

// exportRowGroupRows is the Parquet row-group size of exports unless the
// caller's WriteOptions set one (arrowio's default is 1<<20). The writer
// holds a row group in memory while it encodes it, up to GOMAXPROCS
// groups at once, so smaller groups bound an export's memory and start
// encoding sooner; 128K rows is close to DuckDB's 122,880.
const exportRowGroupRows = 128 << 10

// writeRange writes rows [lo, hi) of st (pending ops applied) to path,
// calling written with the rows of each batch written.
func (c *config) writeRange(ctx context.Context, st *state, lo, hi int64, path string, format arrowio.Format,
	wopts []arrowio.WriteOption, workers int, written func(rows int64)) error {
	sub := &state{src: st.src, sel: st.sel.Slice(lo, hi), pending: st.pending, schema: st.schema}
	schema := st.schema
	if schema == nil {
		b, err := c.process(ctx, st, window{sel: st.sel.Slice(0, 0)})
		if err != nil {
			return err
		}
		schema = b.Schema()
		b.Release()
	}
	opts := []arrowio.WriteOption{arrowio.WithOutputFormat(format, 0), arrowio.WithWriteAllocator(c.mem)}
	if format == arrowio.FormatParquet {
		opts = append(opts, arrowio.WithRowGroupSize(exportRowGroupRows))
	}
	opts = append(opts, wopts...) // the caller's options win
	w, err := arrowio.Create(afero.NewOsFs(), path, schema, opts...)
	if err != nil {
		return err
	}
	defer w.Abort()
	var werr error
	err = c.runBulk(ctx, sub, lo, c.batchSize, workers, func(b arrow.RecordBatch) bool {
		werr = w.Write(b)
		if werr == nil {
			written(b.NumRows())
		}
		b.Release()
		return werr == nil
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	return w.Close()
}

// Export writes every split into dir as "{split}-00000-of-0000N" shard
// files (the Hub's data/ layout), sharded as opts says (one file per split
// by default). opts.Split and opts.Template's {split} take each split's
// name. It returns the paths written, split by split in Names order.
func (s Splits) Export(ctx context.Context, dir string, opts ExportOptions) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var all []string
	for _, name := range s.Names() {
		o := opts
		o.Split = name
		paths, err := s[name].exportShards(ctx, dir, o)
		if err != nil {
			for _, p := range all {
				os.Remove(p)
			}
			return nil, fmt.Errorf("split %s: %w", name, err)
		}
		all = append(all, paths...)
	}
	return all, nil
}
