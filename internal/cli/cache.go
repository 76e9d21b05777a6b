package cli

import (
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/quiverdata/quiver/dataset"
	"github.com/quiverdata/quiver/internal/progress"
	"github.com/quiverdata/quiver/internal/units"
)

func newCacheCmd(env *Env, g *globalFlags) *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "cache",
		Short: "List, measure and prune the dataset cache",
		Long: `The cache holds datasets materialized by Quiver (loads converted to Arrow,
results of transforms), one entry per fingerprint. It lives in $QUIVER_CACHE,
else $XDG_CACHE_HOME/quiver, else ~/.cache/quiver. Entries a running process
has open are never removed.`,
		Example: `  dsctl cache ls
  dsctl cache du
  dsctl cache prune --older-than 7d --max-size 50GB
  dsctl cache clear`,
	}
	cmd.PersistentFlags().StringVar(&dir, "cache-dir", "", "cache directory (default: $QUIVER_CACHE, $XDG_CACHE_HOME/quiver or ~/.cache/quiver)")
	open := func() (*dataset.Cache, error) {
		d := dir
		if d == "" {
			var err error
			if d, err = dataset.DefaultCacheDir(); err != nil {
				return nil, err
			}
		}
		return dataset.OpenCache(d)
	}
	// openEntries opens the cache and lists its entries, most recently
	// used first.
	openEntries := func() (*dataset.Cache, []dataset.Entry, error) {
		c, err := open()
		if err != nil {
			return nil, nil, err
		}
		entries, err := c.Entries()
		return c, entries, err
	}

	var lsJSON bool
	ls := &cobra.Command{
		Use:     "ls",
		Short:   "List cache entries, most recently used first",
		Example: `  dsctl cache ls --json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, entries, err := openEntries()
			if err != nil {
				return err
			}
			if lsJSON {
				type entryJSON struct {
					dataset.Entry
					Dir   string    `json:"dir"`
					Bytes int64     `json:"bytes"`
					Used  time.Time `json:"used"`
				}
				out := make([]entryJSON, len(entries))
				for i, e := range entries {
					out[i] = entryJSON{e, e.Dir, e.Bytes, e.Used}
				}
				return writeJSON(env.Stdout, map[string]any{"dir": c.Dir(), "entries": out})
			}
			tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "FINGERPRINT\tROWS\tSIZE\tLAST USED\tDESCRIPTION")
			for _, e := range entries {
				desc := e.Description
				if r := []rune(desc); len(r) > 60 {
					desc = string(r[:59]) + "…"
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\n", shortFP(e.Fingerprint), e.Rows, progress.Bytes(e.Bytes), e.Used.Local().Format("2006-01-02 15:04"), desc)
			}
			return tw.Flush()
		},
	}
	ls.Flags().BoolVar(&lsJSON, "json", false, "print one JSON object")

	var duJSON bool
	du := &cobra.Command{
		Use:   "du",
		Short: "Print the cache's size",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, entries, err := openEntries()
			if err != nil {
				return err
			}
			var size int64
			for _, e := range entries {
				size += e.Bytes
			}
			if duJSON {
				return writeJSON(env.Stdout, map[string]any{"dir": c.Dir(), "entries": len(entries), "bytes": size})
			}
			_, err = fmt.Fprintf(env.Stdout, "%s in %d entries  %s\n", progress.Bytes(size), len(entries), c.Dir())
			return err
		},
	}
	du.Flags().BoolVar(&duJSON, "json", false, "print one JSON object")

	var olderThan, maxSize string
	var dryRun bool
	prune := &cobra.Command{
		Use:   "prune",
		Short: "Remove entries by age or to fit a size",
		Long: `Prune removes entries not used for --older-than, then least recently used
entries until the cache fits in --max-size. Give at least one of the two.`,
		Example: `  dsctl cache prune --older-than 7d
  dsctl cache prune --max-size 50GB --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var opts dataset.PruneOptions
			if olderThan == "" && maxSize == "" {
				return usagef("give --older-than, --max-size or both (or use cache clear)")
			}
			if olderThan != "" {
				d, err := ParseAge(olderThan)
				if err != nil {
					return usageError{err}
				}
				opts.OlderThan = d
			}
			if maxSize != "" {
				n, err := units.ParseSize(maxSize)
				if err != nil {
					return usageError{err}
				}
				opts.MaxBytes = n
				if n == 0 {
					opts.All = true
				}
			}
			opts.DryRun = dryRun
			return runPrune(cmd, env, open, opts)
		},
	}
	prune.Flags().StringVar(&olderThan, "older-than", "", "remove entries unused for this long: 7d, 12h, 90m")
	prune.Flags().StringVar(&maxSize, "max-size", "", "shrink the cache to this size: 50GB, 500MiB")
	prune.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be removed, remove nothing")

	clear := &cobra.Command{
		Use:   "clear",
		Short: "Remove every entry not in use",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runPrune(cmd, env, open, dataset.PruneOptions{All: true, DryRun: dryRun})
		},
	}
	clear.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be removed, remove nothing")

	cmd.AddCommand(ls, du, prune, clear)
	return cmd
}

func runPrune(cmd *cobra.Command, env *Env, open func() (*dataset.Cache, error), opts dataset.PruneOptions) error {
	c, err := open()
	if err != nil {
		return err
	}
	rep, err := c.Prune(cmd.Context(), opts)
	if err != nil {
		return err
	}
	verb := "removed"
	if opts.DryRun {
		verb = "would remove"
	}
	for _, e := range rep.Removed {
		fmt.Fprintf(env.Stdout, "%s %s  %s\n", verb, shortFP(e.Fingerprint), progress.Bytes(e.Bytes))
	}
	msg := fmt.Sprintf("%s %d entries, %s", verb, len(rep.Removed), progress.Bytes(rep.RemovedBytes))
	if rep.InUse > 0 {
		msg += fmt.Sprintf("; kept %d in use", rep.InUse)
	}
	if rep.Temporaries > 0 {
		msg += fmt.Sprintf("; cleaned %d abandoned temporaries", rep.Temporaries)
	}
	_, err = fmt.Fprintln(env.Stdout, msg)
	return err
}

func shortFP(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}

// ParseAge parses an age such as 7d, 2w, 12h or 90m (any Go duration, plus
// d for days and w for weeks).
func ParseAge(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	for suffix, unit := range map[string]time.Duration{"d": 24 * time.Hour, "w": 7 * 24 * time.Hour} {
		if num, ok := strings.CutSuffix(t, suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil || v < 0 {
				return 0, fmt.Errorf("bad age %q (want e.g. 7d, 12h)", s)
			}
			return time.Duration(v * float64(unit)), nil
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("bad age %q (want e.g. 7d, 12h)", s)
	}
	return d, nil
}
