package cli

import (
	"context"
	"iter"
	"math/rand/v2"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/spf13/cobra"

	"github.com/quiverdata/quiver/arrowio"
	"github.com/quiverdata/quiver/ops"
)

func newSampleCmd(env *Env, g *globalFlags) *cobra.Command {
	var n int64
	var seed uint64
	var table bool
	var columns string
	cmd := &cobra.Command{
		Use:   "sample PATH...",
		Short: "Print a random sample of rows",
		Long: `Sample prints n rows drawn uniformly without replacement from the inputs,
in file order, as JSON Lines (or a table with --table). The same seed gives
the same rows on every machine.`,
		Example: `  dsctl sample -n 5 --seed 7 data.parquet
  dsctl sample -n 20 --table --columns id,label 'shards/*.parquet'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if n < 0 {
				return usagef("-n %d is negative", n)
			}
			inputs, err := expandInputs(cmd.Context(), env, args)
			if err != nil {
				return err
			}
			readers, err := openAll(inputs, nil, arrowio.WithColumns(splitColumns(columns)...))
			if err != nil {
				return err
			}
			defer closeAll(readers)
			schema, err := unifiedSchema(readers)
			if err != nil {
				return err
			}
			var total int64
			for _, r := range readers {
				c, err := arrowio.Count(cmd.Context(), r)
				if err != nil {
					return err
				}
				total += c
			}
			picked := samplePositions(total, n, seed)
			rows, err := gatherRows(cmd.Context(), readers, schema, picked)
			if err != nil {
				return err
			}
			defer rows.Release()
			if table {
				return printTable(env.Stdout, schema, oneBatch(rows), int64(len(picked)))
			}
			w, err := arrowio.NewWriter(env.Stdout, schema, arrowio.WithOutputFormat(arrowio.FormatJSONL, arrowio.CompressionNone))
			if err != nil {
				return err
			}
			if err := w.Write(rows); err != nil {
				w.Abort()
				return err
			}
			return w.Close()
		},
	}
	cmd.Flags().Int64VarP(&n, "lines", "n", 10, "number of rows")
	cmd.Flags().Uint64Var(&seed, "seed", 0, "random seed")
	cmd.Flags().BoolVar(&table, "table", false, "print an aligned table instead of JSON Lines")
	cmd.Flags().StringVar(&columns, "columns", "", "comma-separated columns to show")
	return cmd
}

// samplePositions picks min(n, total) distinct positions in [0, total)
// uniformly (Floyd's algorithm over a PCG stream seeded by seed) and returns
// them sorted.
func samplePositions(total, n int64, seed uint64) []int64 {
	n = min(n, total)
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	chosen := make(map[int64]struct{}, n)
	out := make([]int64, 0, n)
	for j := total - n; j < total; j++ {
		t := rng.Int64N(j + 1)
		if _, dup := chosen[t]; dup {
			t = j
		}
		chosen[t] = struct{}{}
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// gatherRows reads readers in order and returns one batch holding the rows
// at the sorted global positions picked.
func gatherRows(ctx context.Context, readers []arrowio.Reader, schema *arrow.Schema, picked []int64) (arrow.RecordBatch, error) {
	var parts []arrow.RecordBatch
	defer func() {
		for _, p := range parts {
			p.Release()
		}
	}()
	var base int64
	next := 0
	for _, r := range readers {
		if next == len(picked) {
			break
		}
		for batch, err := range r.Batches(ctx) {
			if err != nil {
				return nil, err
			}
			end := base + batch.NumRows()
			var local []int64
			for next < len(picked) && picked[next] < end {
				local = append(local, picked[next]-base)
				next++
			}
			base = end
			if len(local) == 0 {
				continue
			}
			part, err := takeRows(ctx, batch, local)
			if err != nil {
				return nil, err
			}
			cast, err := arrowio.CastBatch(ctx, nil, part, schema)
			part.Release()
			if err != nil {
				return nil, err
			}
			parts = append(parts, cast)
			if next == len(picked) {
				break
			}
		}
	}
	return ops.ConcatBatches(memory.DefaultAllocator, schema, parts)
}

// takeRows returns the rows of batch at the given indices, as a new batch.
func takeRows(ctx context.Context, batch arrow.RecordBatch, idx []int64) (arrow.RecordBatch, error) {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	b.AppendValues(idx, nil)
	indices := b.NewArray()
	b.Release()
	defer indices.Release()
	out, err := compute.Take(ctx, *compute.DefaultTakeOptions(), compute.NewDatumWithoutOwning(batch), compute.NewDatumWithoutOwning(indices))
	if err != nil {
		return nil, err
	}
	return out.(*compute.RecordDatum).Value, nil
}

// oneBatch yields b once.
func oneBatch(b arrow.RecordBatch) iter.Seq2[arrow.RecordBatch, error] {
	return func(yield func(arrow.RecordBatch, error) bool) { yield(b, nil) }
}
