package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/quiverdata/quiver/internal/units"
	"io"
	"io/fs"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/spf13/afero"
	"github.com/spf13/cobra"

	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/internal/atomicfile"
	"github.com/quiverdata/quiver/streaming"
)

type streamFlags struct {
	rank, world     int
	seed            uint64
	epoch           int64
	shuffleBuffer   int
	batchSize       int
	columns         string
	to              string
	output          string
	stateFile       string
	elastic, pad    bool
	dropLast        bool
	take            int64
	checkpointEvery int
	cacheDir        string
	cacheSize       string
}

// streamCheckpoint is the content of --state-file: the stream's state and
// how many bytes of output it corresponds to.
type streamCheckpoint struct {
	Stream streaming.State `json:"stream"`
	// OutputBytes is the length of the output when the state was taken.
	OutputBytes int64 `json:"output_bytes"`
	// Finished is set once the output is complete (trailer written).
	Finished bool `json:"finished,omitempty"`
	// Format is the output format (jsonl or arrows).
	Format string `json:"format"`
}

func newStreamCmd(env *Env, g *globalFlags) *cobra.Command {
	var f streamFlags
	cmd := &cobra.Command{
		Use:   "stream LOCATION...",
		Short: "Stream a dataset, shuffled and split, as JSONL or an Arrow IPC stream",
		Long: `Stream reads the files at LOCATION (paths or globs) shard by shard, without
materializing them, and writes the rows to standard output (or --output):
JSON Lines by default, or an Arrow IPC stream with --to arrows (pyarrow and
DuckDB read it).

With --seed or --shuffle-buffer the order is shuffled: shard order by
(seed, epoch), then rows within windows of --shuffle-buffer rows. --rank and
--world select one rank's share; every rank gets the same number of rows
(the remainder is dropped, or with --pad filled by repeating the start).
With --elastic, rank r gets rows r, r+world, ... of the global order, so a
checkpoint resumes on another world size.

--state-file F makes the run resumable: after each batch is written, F is
replaced by a checkpoint. Run the same command again and it continues where
the checkpoint says; with --output, the output is first cut back to the
length the checkpoint recorded, so the file ends up exactly as an
uninterrupted run would have written it.`,
		Example: `  dsctl stream 'data/*.parquet' --seed 1 --shuffle-buffer 10000 --batch-size 256 > rows.jsonl
  dsctl stream data.parquet --rank 2 --world 8 --to arrows | python -c 'import pyarrow as pa,sys; print(pa.ipc.open_stream(sys.stdin.buffer).read_all().num_rows)'
  dsctl stream data.parquet --seed 7 --state-file ck.json --output part.jsonl   # rerun to resume`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fl := cmd.Flags()
			shuffle := fl.Changed("seed") || f.shuffleBuffer > 0
			return runStream(cmd.Context(), env, &f, shuffle, args)
		},
	}
	fl := cmd.Flags()
	fl.IntVar(&f.rank, "rank", 0, "this rank, in [0, world)")
	fl.IntVar(&f.world, "world", 1, "number of ranks")
	fl.Uint64Var(&f.seed, "seed", 0, "shuffle seed (turns shuffling on)")
	fl.Int64Var(&f.epoch, "epoch", 0, "epoch; the shuffle differs per epoch")
	fl.IntVar(&f.shuffleBuffer, "shuffle-buffer", 0, "rows per shuffle window (turns shuffling on; 0 with --seed: shard order only)")
	fl.IntVar(&f.batchSize, "batch-size", 1024, "rows per written batch (and per checkpoint)")
	fl.StringVar(&f.columns, "columns", "", "comma-separated columns to keep, in this order")
	fl.StringVar(&f.to, "to", "jsonl", "output format: jsonl or arrows (Arrow IPC stream)")
	fl.StringVarP(&f.output, "output", "o", "", "write to this file instead of standard output")
	fl.StringVar(&f.stateFile, "state-file", "", "checkpoint file: resume from it if it exists, replace it after each batch")
	fl.BoolVar(&f.elastic, "elastic", false, "elastic split: the global order does not depend on --world")
	fl.BoolVar(&f.pad, "pad", false, "pad ranks to equal counts by repeating rows instead of dropping the remainder")
	fl.BoolVar(&f.dropLast, "drop-last", false, "drop a last batch shorter than --batch-size")
	fl.Int64Var(&f.take, "limit", 0, "stop after this many rows (0: all)")
	fl.IntVar(&f.checkpointEvery, "checkpoint-every", 1, "write the state file every this many batches")
	fl.StringVar(&f.cacheDir, "read-cache", "", "keep local copies of hf:// files in this directory")
	fl.StringVar(&f.cacheSize, "read-cache-size", "10GB", "most bytes --read-cache may hold (least recently used evicted)")
	return cmd
}

func runStream(ctx context.Context, env *Env, f *streamFlags, shuffle bool, args []string) error {
	switch {
	case f.world < 1 || f.rank < 0 || f.rank >= f.world:
		return usagef("--rank %d is not in [0, --world %d)", f.rank, f.world)
	case f.batchSize < 1:
		return usagef("--batch-size %d must be positive", f.batchSize)
	case f.shuffleBuffer < 0:
		return usagef("--shuffle-buffer %d is negative", f.shuffleBuffer)
	case f.take < 0:
		return usagef("--limit %d is negative", f.take)
	case f.checkpointEvery < 1:
		return usagef("--checkpoint-every %d must be positive", f.checkpointEvery)
	}
	format, err := arrowio.ParseFormat(f.to)
	if err != nil {
		return usageError{err}
	}
	if format != arrowio.FormatJSONL && format != arrowio.FormatArrowStream {
		return usagef("--to %s: stream writes jsonl or arrows", f.to)
	}
	opts := []streaming.Option{streaming.WithFs(env.Fs)}
	if f.cacheDir != "" {
		size, err := units.ParseSize(f.cacheSize)
		if err != nil {
			return usagef("--read-cache-size: %v", err)
		}
		opts = append(opts, streaming.WithReadCache(f.cacheDir, size))
	}
	if cols := splitColumns(f.columns); len(cols) > 0 {
		opts = append(opts, streaming.WithColumns(cols...))
	}
	s, err := streaming.Open(ctx, args, opts...)
	if err != nil {
		return err
	}
	if shuffle {
		s = s.Shuffle(f.seed, f.shuffleBuffer)
	}
	s = s.SplitByNode(f.rank, f.world).Elastic(f.elastic).Pad(f.pad)
	if f.take > 0 {
		s = s.Take(f.take)
	}
	s = s.Batch(f.batchSize, f.dropLast)
	s.SetEpoch(f.epoch)

	// Resume from the checkpoint, if there is one.
	var ck streamCheckpoint
	resumed := false
	if f.stateFile != "" {
		data, err := afero.ReadFile(env.Fs, f.stateFile)
		switch {
		case err == nil:
			if err := json.Unmarshal(data, &ck); err != nil {
				return fmt.Errorf("%s: %w: %v", f.stateFile, streaming.ErrState, err)
			}
			if ck.Format != format.String() {
				return fmt.Errorf("%s: %w: checkpoint of %s output, --to is %s", f.stateFile, streaming.ErrState, ck.Format, format)
			}
			if ck.Stream.Epoch != f.epoch {
				return fmt.Errorf("%s: %w: checkpoint of epoch %d, --epoch is %d", f.stateFile, streaming.ErrState, ck.Stream.Epoch, f.epoch)
			}
			if err := s.Resume(ck.Stream); err != nil {
				return fmt.Errorf("%s: %w", f.stateFile, err)
			}
			resumed = true
		case errors.Is(err, fs.ErrNotExist):
		default:
			return err
		}
	}
	if resumed && ck.Finished {
		return nil // the output is already complete
	}

	out, closeOut, err := openStreamOutput(env, f.output, ck.OutputBytes, resumed)
	if err != nil {
		return err
	}
	defer closeOut()

	enc, err := newBatchEncoder(format, s.Schema())
	if err != nil {
		return err
	}
	written := ck.OutputBytes
	first := true
	checkpoint := func(finished bool) error {
		if f.stateFile == "" {
			return nil
		}
		if syncer, ok := out.(interface{ Sync() error }); ok && f.output != "" {
			if err := syncer.Sync(); err != nil {
				return err
			}
		}
		return writeCheckpoint(env.Fs, f.stateFile, streamCheckpoint{Stream: s.State(), OutputBytes: written, Finished: finished, Format: format.String()})
	}
	batches := 0
	for b, err := range s.Batches(ctx) {
		if err != nil {
			return err
		}
		data, err := enc.encode(b)
		if err != nil {
			return err
		}
		if first && resumed {
			data = data[enc.headerLen:] // the output already has the header
		}
		first = false
		if _, err := out.Write(data); err != nil {
			return err
		}
		written += int64(len(data))
		batches++
		if batches%f.checkpointEvery == 0 {
			if err := checkpoint(false); err != nil {
				return err
			}
		}
	}
	tail, err := enc.close(first && resumed)
	if err != nil {
		return err
	}
	if _, err := out.Write(tail); err != nil {
		return err
	}
	written += int64(len(tail))
	return checkpoint(true)
}

// openStreamOutput opens the output: standard output, or the file path cut
// back to size bytes when resuming (and created afresh otherwise).
func openStreamOutput(env *Env, path string, size int64, resumed bool) (io.Writer, func(), error) {
	if path == "" || path == "-" {
		return env.Stdout, func() {}, nil
	}
	flag := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if resumed {
		flag = os.O_WRONLY | os.O_CREATE
	}
	file, err := env.Fs.OpenFile(path, flag, 0o644)
	if err != nil {
		return nil, nil, err
	}
	if resumed {
		st, err := file.Stat()
		if err != nil {
			file.Close()
			return nil, nil, err
		}
		if st.Size() < size {
			file.Close()
			return nil, nil, fmt.Errorf("%s: %w: the output has %d bytes, the checkpoint recorded %d", path, streaming.ErrState, st.Size(), size)
		}
		if err := file.Truncate(size); err != nil {
			file.Close()
			return nil, nil, err
		}
		if _, err := file.Seek(size, io.SeekStart); err != nil {
			file.Close()
			return nil, nil, err
		}
	}
	return file, func() { file.Close() }, nil
}

// writeCheckpoint replaces path with ck, atomically.
func writeCheckpoint(fsys afero.Fs, path string, ck streamCheckpoint) error {
	data, err := json.Marshal(ck)
	if err != nil {
		return err
	}
	f, err := atomicfile.Create(fsys, path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(append(data, '\n')); err != nil {
		return err
	}
	return f.Commit()
}

// batchEncoder turns batches into output bytes one batch at a time, so
// that the output can be flushed and checkpointed after each.
type batchEncoder struct {
	format    arrowio.Format
	schema    *arrow.Schema
	buf       bytes.Buffer
	ipc       *ipc.Writer
	headerLen int // bytes before the first batch (the IPC schema message)
}

func newBatchEncoder(format arrowio.Format, schema *arrow.Schema) (*batchEncoder, error) {
	e := &batchEncoder{format: format, schema: schema}
	if format == arrowio.FormatArrowStream {
		// The header is what a stream without batches has before its
		// end-of-stream marker (8 bytes).
		var hdr bytes.Buffer
		w := ipc.NewWriter(&hdr, ipc.WithSchema(schema))
		if err := w.Close(); err != nil {
			return nil, err
		}
		e.headerLen = hdr.Len() - 8
		e.ipc = ipc.NewWriter(&e.buf, ipc.WithSchema(schema))
	}
	return e, nil
}

func (e *batchEncoder) encode(b arrow.RecordBatch) ([]byte, error) {
	e.buf.Reset()
	if e.format == arrowio.FormatArrowStream {
		if err := e.ipc.Write(b); err != nil {
			return nil, err
		}
		return e.buf.Bytes(), nil
	}
	w, err := arrowio.NewWriter(&e.buf, e.schema, arrowio.WithOutputFormat(arrowio.FormatJSONL, arrowio.CompressionNone))
	if err != nil {
		return nil, err
	}
	if err := w.Write(b); err != nil {
		_ = w.Abort()
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return e.buf.Bytes(), nil
}

// close returns the output's trailer (the IPC end-of-stream marker, and the
// schema if no batch was written and the output has no header yet).
func (e *batchEncoder) close(haveHeader bool) ([]byte, error) {
	if e.format != arrowio.FormatArrowStream {
		return nil, nil
	}
	e.buf.Reset()
	if err := e.ipc.Close(); err != nil {
		return nil, err
	}
	data := e.buf.Bytes()
	if haveHeader && len(data) > e.headerLen {
		data = data[e.headerLen:]
	}
	return data, nil
}
