package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"iter"
	"strings"
	"text/tabwriter"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/spf13/cobra"

	"github.com/quiverdata/quiver/arrowio"
)

func newCountCmd(env *Env, g *globalFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "count PATH...",
		Short: "Print the number of rows",
		Long: `Count prints the number of rows of each file and, for several files, the
total. Parquet and Arrow files are counted from their footers without reading
data; JSONL and CSV are scanned.`,
		Example: `  dsctl count data.parquet
  dsctl count --json 'shards/*.jsonl.gz'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			inputs, err := expandInputs(cmd.Context(), env, args)
			if err != nil {
				return err
			}
			type fileCount struct {
				Path string `json:"path"`
				Rows int64  `json:"rows"`
			}
			var counts []fileCount
			var total int64
			for _, in := range inputs {
				n, err := countFile(cmd.Context(), in)
				if err != nil {
					return err
				}
				counts = append(counts, fileCount{in.path, n})
				total += n
			}
			if asJSON {
				return writeJSON(env.Stdout, map[string]any{"files": counts, "rows": total})
			}
			if len(counts) == 1 {
				_, err = fmt.Fprintln(env.Stdout, total)
				return err
			}
			width := len(fmt.Sprint(total))
			for _, c := range counts {
				fmt.Fprintf(env.Stdout, "%*d  %s\n", width, c.Rows, c.Path)
			}
			_, err = fmt.Fprintf(env.Stdout, "%*d  total\n", width, total)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

func countFile(ctx context.Context, in input) (int64, error) {
	r, err := arrowio.Open(in.fs, in.path)
	if err != nil {
		return 0, err
	}
	defer r.Close()
	return arrowio.Count(ctx, r)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func newSchemaCmd(env *Env, g *globalFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "schema PATH",
		Short: "Print the Arrow schema",
		Long: `Schema prints the Arrow schema of a file: read from the footer for Parquet
and Arrow, inferred from a sample of lines for JSONL and CSV.`,
		Example: `  dsctl schema data.parquet
  dsctl schema --json data.jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := openOne(cmd.Context(), env, args[0])
			if err != nil {
				return err
			}
			defer r.Close()
			if asJSON {
				return writeJSON(env.Stdout, schemaJSON(r.Schema()))
			}
			_, err = io.WriteString(env.Stdout, formatSchema(r.Schema()))
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

// formatSchema renders one field per line, "name: type", with nullability.
func formatSchema(s *arrow.Schema) string {
	var b strings.Builder
	for _, f := range s.Fields() {
		fmt.Fprintf(&b, "%s: %s", f.Name, f.Type)
		if !f.Nullable {
			b.WriteString(" not null")
		}
		b.WriteByte('\n')
	}
	return b.String()
}

type fieldJSON struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Nullable bool   `json:"nullable"`
}

func schemaJSON(s *arrow.Schema) []fieldJSON {
	out := make([]fieldJSON, 0, s.NumFields())
	for _, f := range s.Fields() {
		out = append(out, fieldJSON{f.Name, f.Type.String(), f.Nullable})
	}
	return out
}

func newInfoCmd(env *Env, g *globalFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info PATH...",
		Short: "Describe files: format, size, rows, schema, layout",
		Long: `Info describes each file: format, size, rows, schema and, where the format
records them, row groups or batches, compression and key-value metadata.`,
		Example: `  dsctl info data.parquet
  dsctl info --json data.arrow`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			inputs, err := expandInputs(cmd.Context(), env, args)
			if err != nil {
				return err
			}
			var infos []fileInfo
			for _, in := range inputs {
				info, err := describeFile(cmd.Context(), in)
				if err != nil {
					return err
				}
				infos = append(infos, info)
			}
			if asJSON {
				if len(infos) == 1 {
					return writeJSON(env.Stdout, infos[0])
				}
				return writeJSON(env.Stdout, map[string]any{"files": infos})
			}
			for i, info := range infos {
				if i > 0 {
					fmt.Fprintln(env.Stdout)
				}
				printInfo(env.Stdout, info)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

type fileInfo struct {
	Path        string            `json:"path"`
	Format      string            `json:"format"`
	Compression string            `json:"compression,omitempty"`
	Size        int64             `json:"size"`
	Rows        int64             `json:"rows"`
	Schema      []fieldJSON       `json:"schema"`
	Layout      *arrowio.Layout   `json:"layout,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

func describeFile(ctx context.Context, in input) (fileInfo, error) {
	path := in.path
	st, err := in.fs.Stat(path)
	if err != nil {
		return fileInfo{}, fmt.Errorf("%s: %w", path, unwrapPathError(err))
	}
	r, err := arrowio.Open(in.fs, path)
	if err != nil {
		return fileInfo{}, err
	}
	defer r.Close()
	rows, err := arrowio.Count(ctx, r)
	if err != nil {
		return fileInfo{}, err
	}
	info := fileInfo{Path: path, Format: r.Format().String(), Size: st.Size(), Rows: rows, Schema: schemaJSON(r.Schema())}
	if _, comp, err := arrowio.DetectFormat(path); err == nil {
		info.Compression = comp.String()
	}
	if md := r.Schema().Metadata(); md.Len() > 0 {
		info.Metadata = make(map[string]string, md.Len())
		for i, k := range md.Keys() {
			info.Metadata[k] = md.Values()[i]
		}
	}
	if l, ok := r.(arrowio.LayoutReader); ok {
		layout := l.Layout()
		info.Layout = &layout
	}
	return info, nil
}

func printInfo(w io.Writer, info fileInfo) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "path\t%s\n", info.Path)
	format := info.Format
	if info.Compression != "" {
		format += " (" + info.Compression + ")"
	}
	fmt.Fprintf(tw, "format\t%s\n", format)
	fmt.Fprintf(tw, "size\t%d bytes\n", info.Size)
	fmt.Fprintf(tw, "rows\t%d\n", info.Rows)
	if l := info.Layout; l != nil {
		if l.CreatedBy != "" {
			fmt.Fprintf(tw, "created by\t%s\n", l.CreatedBy)
		}
		if len(l.Codecs) > 0 {
			fmt.Fprintf(tw, "compression\t%s\n", strings.Join(l.Codecs, ", "))
		}
		if len(l.RowGroups) > 0 {
			fmt.Fprintf(tw, "row groups\t%d\n", len(l.RowGroups))
		}
		if l.Batches > 0 {
			fmt.Fprintf(tw, "batches\t%d\n", l.Batches)
		}
	}
	tw.Flush()
	fmt.Fprintln(w, "schema:")
	for _, f := range info.Schema {
		null := ""
		if !f.Nullable {
			null = " not null"
		}
		fmt.Fprintf(w, "  %s: %s%s\n", f.Name, f.Type, null)
	}
	if info.Layout != nil && len(info.Layout.RowGroups) > 0 {
		fmt.Fprintln(w, "row groups:")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(tw, "  #\trows\tbytes\t\n")
		for i, rg := range info.Layout.RowGroups {
			fmt.Fprintf(tw, "  %d\t%d\t%d\t\n", i, rg.Rows, rg.Bytes)
		}
		tw.Flush()
	}
	if len(info.Metadata) > 0 {
		fmt.Fprintln(w, "metadata:")
		for k, v := range info.Metadata {
			if len(v) > 120 {
				v = v[:117] + "..."
			}
			fmt.Fprintf(w, "  %s: %s\n", k, v)
		}
	}
}

func newHeadCmd(env *Env, g *globalFlags) *cobra.Command {
	var n int64
	var table bool
	var columns string
	cmd := &cobra.Command{
		Use:   "head PATH",
		Short: "Print the first rows",
		Long:  `Head prints the first rows of a file as JSON Lines, or as an aligned table with --table.`,
		Example: `  dsctl head data.parquet
  dsctl head -n 3 --table --columns id,label data.jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if n < 0 {
				return usagef("-n %d is negative", n)
			}
			if n == 0 {
				return nil
			}
			r, err := openOne(cmd.Context(), env, args[0], arrowio.WithColumns(splitColumns(columns)...), arrowio.WithBatchSize(int(min(max(n, 1), arrowio.DefaultBatchSize))))
			if err != nil {
				return err
			}
			defer r.Close()
			if table {
				return printTable(env.Stdout, r.Schema(), r.Batches(cmd.Context()), n)
			}
			w, err := arrowio.NewWriter(env.Stdout, r.Schema(), arrowio.WithOutputFormat(arrowio.FormatJSONL, arrowio.CompressionNone))
			if err != nil {
				return err
			}
			if err := copyBatches(cmd.Context(), []arrowio.Reader{r}, r.Schema(), w, max(n, 0), nil); err != nil {
				w.Abort()
				return err
			}
			return w.Close()
		},
	}
	cmd.Flags().Int64VarP(&n, "lines", "n", 10, "number of rows")
	cmd.Flags().BoolVar(&table, "table", false, "print an aligned table instead of JSON Lines")
	cmd.Flags().StringVar(&columns, "columns", "", "comma-separated columns to show")
	return cmd
}

// printTable prints up to n rows of batches as an aligned text table; long
// cells are cut to 40 characters.
func printTable(w io.Writer, schema *arrow.Schema, batches iter.Seq2[arrow.RecordBatch, error], n int64) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for i, f := range schema.Fields() {
		if i > 0 {
			fmt.Fprint(tw, "\t")
		}
		fmt.Fprint(tw, f.Name)
	}
	fmt.Fprintln(tw)
	var done int64
	for batch, err := range batches {
		if err != nil {
			return err
		}
		for row := 0; row < int(batch.NumRows()) && done < n; row++ {
			for c := 0; c < int(batch.NumCols()); c++ {
				if c > 0 {
					fmt.Fprint(tw, "\t")
				}
				fmt.Fprint(tw, cell(batch.Column(c), row))
			}
			fmt.Fprintln(tw)
			done++
		}
		if done >= n {
			break
		}
	}
	return tw.Flush()
}

func cell(col arrow.Array, row int) string {
	if col.IsNull(row) {
		return "null"
	}
	s := col.ValueStr(row)
	if _, ok := col.(*array.String); !ok {
		s = strings.Trim(s, `"`)
	}
	s = strings.NewReplacer("\n", `\n`, "\t", `\t`, "\r", `\r`).Replace(s)
	if r := []rune(s); len(r) > 40 {
		s = string(r[:39]) + "…"
	}
	return s
}
