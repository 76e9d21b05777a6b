package cli

import (
	"context"
	"fmt"
	"iter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/internal/progress"
)

type convertFlags struct {
	to           string
	columns      string
	limit        int64
	compression  string
	level        int
	rowGroupSize int64
	batchSize    int
	workers      int
	schema       string
}

func newConvertCmd(env *Env, g *globalFlags) *cobra.Command {
	var f convertFlags
	cmd := &cobra.Command{
		Use:   "convert IN... OUT",
		Short: "Convert files between Parquet, JSONL, Arrow and CSV",
		Long: `Convert reads every input (paths or globs, any readable format) and writes
them, concatenated in order, to OUT in the format its extension names (or
--to). Inputs with different but compatible schemas are unified: missing
columns become null, integers widen. OUT appears only when complete.

OUT "-" writes to standard output: JSON Lines by default, or an Arrow IPC
stream with --to arrows, for another program (pyarrow, DuckDB) to read.`,
		Example: `  dsctl convert data.jsonl data.parquet
  dsctl convert 'logs/*.jsonl.zst' --columns id,text all.parquet
  dsctl convert data.parquet --compression snappy --row-group-size 100000 out.parquet
  dsctl convert data.parquet --to arrows - | python -c 'import pyarrow as pa,sys; print(pa.ipc.open_stream(sys.stdin.buffer).read_all().num_rows)'`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runConvert(cmd.Context(), env, g, &f, args[:len(args)-1], args[len(args)-1])
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.to, "to", "", "output format: parquet, jsonl, arrow, arrows or csv (default: from OUT's extension)")
	fl.Int64Var(&f.limit, "limit", 0, "stop after this many rows (0: all)")
	f.addFlags(fl)
	return cmd
}

// addFlags registers the reading and Parquet/Arrow writing flags convert
// and shard share.
func (f *convertFlags) addFlags(fl *pflag.FlagSet) {
	fl.StringVar(&f.columns, "columns", "", "comma-separated columns to keep, in this order")
	fl.StringVar(&f.compression, "compression", "", "codec: Parquet zstd|snappy|gzip|brotli|lz4|none (default zstd); Arrow none|lz4|zstd; JSONL/CSV gzip|zstd|none")
	fl.IntVar(&f.level, "level", 0, "compression level (0: the codec's default)")
	fl.Int64Var(&f.rowGroupSize, "row-group-size", 0, "Parquet rows per row group (default 1048576)")
	fl.IntVar(&f.batchSize, "batch-size", 0, "rows per batch while reading (default 65536)")
	fl.IntVar(&f.workers, "workers", 0, "decode goroutines (default: number of CPUs)")
	fl.StringVar(&f.schema, "schema", "", "read JSONL and CSV inputs with this schema instead of inferring one: FILE is a .json file as dsctl schema --json prints it, or any data file")
}

func runConvert(ctx context.Context, env *Env, g *globalFlags, f *convertFlags, inArgs []string, out string) error {
	if f.limit < 0 {
		return usagef("--limit %d is negative", f.limit)
	}
	wopts, err := writeOptions(f, out)
	if err != nil {
		return err
	}
	var counter progress.Counter
	inputs, readers, schema, err := openInputs(ctx, env, inArgs, f, &counter)
	if err != nil {
		return err
	}
	defer closeAll(readers)

	var w arrowio.Writer
	if out == "-" {
		w, err = arrowio.NewWriter(env.Stdout, schema, wopts...)
	} else {
		w, err = arrowio.Create(env.Fs, out, schema, wopts...)
	}
	if err != nil {
		return err
	}
	defer w.Abort() // no-op after a successful Close

	bar := g.startProgress(env, "convert", expectedWork(inputs, readers, f.limit), &counter)
	err = copyBatches(ctx, readers, schema, w, f.limit, &counter)
	bar.Stop()
	if err != nil {
		return err
	}
	return w.Close()
}

// writeOptions turns the output flags into writer options.
func writeOptions(f *convertFlags, out string) ([]arrowio.WriteOption, error) {
	var opts []arrowio.WriteOption
	format, comp := arrowio.FormatUnknown, arrowio.CompressionNone
	if f.to != "" {
		var err error
		if format, err = arrowio.ParseFormat(f.to); err != nil {
			return nil, usageError{err}
		}
	} else if out == "-" {
		format = arrowio.FormatJSONL
	} else {
		var err error
		if format, comp, err = arrowio.DetectFormat(out); err != nil {
			return nil, usagef("%v (use --to)", err)
		}
	}
	codec := f.compression
	if format == arrowio.FormatJSONL || format == arrowio.FormatCSV {
		switch f.compression {
		case "":
		case "none":
			comp = arrowio.CompressionNone
		case "gzip", "gz":
			comp = arrowio.CompressionGzip
		case "zstd", "zst":
			comp = arrowio.CompressionZstd
		default:
			return nil, usagef("--compression %q does not apply to %s (want gzip, zstd or none)", f.compression, format)
		}
		codec = ""
	}
	if out == "-" && format != arrowio.FormatJSONL && format != arrowio.FormatArrowStream && format != arrowio.FormatCSV {
		return nil, usagef("standard output takes jsonl, arrows or csv, not %s", format)
	}
	opts = append(opts, arrowio.WithOutputFormat(format, comp), arrowio.WithCodec(codec, f.level))
	if f.rowGroupSize < 0 {
		return nil, usagef("--row-group-size %d is negative", f.rowGroupSize)
	}
	if f.rowGroupSize > 0 {
		opts = append(opts, arrowio.WithRowGroupSize(f.rowGroupSize))
	}
	return opts, nil
}

// copyBatches writes every batch of readers, cast to schema, to w, stopping
// after limit rows when limit > 0. counter, when not nil, counts the rows.
func copyBatches(ctx context.Context, readers []arrowio.Reader, schema *arrow.Schema, w arrowio.Writer, limit int64, counter *progress.Counter) error {
	for cast, err := range castBatches(ctx, readers, schema, limit) {
		if err != nil {
			return err
		}
		if err := w.Write(cast); err != nil {
			return err
		}
		if counter != nil {
			counter.AddRows(cast.NumRows())
		}
	}
	return nil
}

// castBatches yields the batches of readers in order, cast to schema,
// stopping after limit rows when limit > 0 (the last batch cut to fit
// before it is cast). Each batch is lent: it is released when the loop
// body returns. A cast error names the input; cancelling ctx stops the
// sequence with ctx's error.
func castBatches(ctx context.Context, readers []arrowio.Reader, schema *arrow.Schema, limit int64) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) {
		var done int64
		for _, r := range readers {
			for batch, err := range arrowio.Prefetch(ctx, r.Batches(ctx), 2) {
				if err == nil {
					err = ctx.Err()
				}
				if err != nil {
					yield(nil, err)
					return
				}
				b := batch
				if limit > 0 && done+b.NumRows() > limit {
					b = b.NewSlice(0, limit-done)
				} else {
					b.Retain()
				}
				cast, err := arrowio.CastBatch(ctx, nil, b, schema)
				b.Release()
				if err != nil {
					yield(nil, fmt.Errorf("%s: %w", r.Path(), err))
					return
				}
				done += cast.NumRows()
				more := yield(cast, nil)
				cast.Release()
				if !more || limit > 0 && done >= limit {
					return
				}
			}
		}
	}
}
