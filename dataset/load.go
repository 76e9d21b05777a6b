package dataset

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdata/quiver/arrowio"
	"github.com/spf13/afero"
)

// Splits maps split names ("train", "validation", "test", …) to datasets.
type Splits map[string]*Dataset

// Names returns the split names in a stable order: train, validation,
// test, then the others sorted.
func (s Splits) Names() []string {
	rank := map[string]int{"train": 0, "validation": 1, "test": 2}
	names := make([]string, 0, len(s))
	for n := range s {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int {
		ra, oka := rank[a]
		rb, okb := rank[b]
		switch {
		case oka && okb:
			return ra - rb
		case oka:
			return -1
		case okb:
			return 1
		}
		return strings.Compare(a, b)
	})
	return names
}

// splitKeywords are Hugging Face's split name conventions.
var splitKeywords = map[string]string{
	"train": "train", "training": "train",
	"validation": "validation", "valid": "validation", "dev": "validation", "val": "validation",
	"test": "test", "testing": "test", "eval": "test", "evaluation": "test",
}

// shardName matches "{split}-00000-of-00008" file names.
var shardName = regexp.MustCompile(`^([A-Za-z0-9_]+)-\d{5}-of-\d{5}(\.|$)`)

// DetectSplit returns the split a file belongs to by Hugging Face's
// conventions, from its path relative to the location it was found under:
// a "{split}-NNNNN-of-NNNNN.*" file name, else a directory named after a
// split keyword, else a keyword among the file name's words (split at
// '-', '_', '.', ' '). Keywords: train/training; validation/valid/dev/val;
// test/testing/eval/evaluation. ok is false when nothing matches.
func DetectSplit(rel string) (split string, ok bool) {
	rel = filepath.ToSlash(rel)
	parts := strings.Split(rel, "/")
	base := parts[len(parts)-1]
	if m := shardName.FindStringSubmatch(base); m != nil {
		if s, ok := splitKeywords[strings.ToLower(m[1])]; ok {
			return s, true
		}
		return m[1], true
	}
	for i := len(parts) - 2; i >= 0; i-- {
		if s, ok := splitKeywords[strings.ToLower(parts[i])]; ok {
			return s, true
		}
	}
	words := strings.FieldsFunc(strings.ToLower(base), func(r rune) bool {
		return r == '-' || r == '_' || r == '.' || r == ' '
	})
	for _, w := range words {
		if s, ok := splitKeywords[w]; ok {
			return s, true
		}
	}
	return "", false
}

type loadFile struct {
	fsys afero.Fs
	ResolvedFile
}

// Load reads files, directories and globs (in any arrowio format, shards
// of one dataset with compatible schemas unified by arrowio.UnifySchemas)
// and returns one dataset per split.
//
// Splits come from WithSplits when given; else from file and directory
// names (DetectSplit); files matching no split, or all files when none
// match, form "train". A directory holding a Hugging Face save_to_disk
// dataset (state.json, or dataset_dict.json with one directory per split)
// is read as such.
//
// The first load converts each split to uncompressed Arrow in the cache,
// converting files in parallel and reporting progress through
// WithProgress; later loads with unchanged files (same path, size and
// modification time, and reader options) map the cache entry and return
// in milliseconds. Errors name the file and the place in it.
func Load(ctx context.Context, locations []string, opts ...Option) (Splits, error) {
	cfg := newConfig(opts)
	groups := map[string][]loadFile{}
	if cfg.splits != nil {
		for split, locs := range cfg.splits {
			for _, loc := range locs {
				files, err := resolveAll(ctx, cfg, loc)
				if err != nil {
					return nil, err
				}
				groups[split] = append(groups[split], files...)
			}
		}
	} else {
		if len(locations) == 0 {
			return nil, fmt.Errorf("%w: no locations to load", ErrDataset)
		}
		if len(locations) == 1 {
			if out, ok, err := loadSaved(ctx, cfg, locations[0]); ok || err != nil {
				return out, err
			}
		}
		var all []loadFile
		for _, loc := range locations {
			files, err := resolveAll(ctx, cfg, loc)
			if err != nil {
				return nil, err
			}
			all = append(all, files...)
		}
		for _, f := range all {
			split, ok := DetectSplit(relativeTo(f.Path, locations))
			if !ok {
				split = "train"
			}
			groups[split] = append(groups[split], f)
		}
	}
	out := Splits{}
	for split, files := range groups {
		ds, err := loadSplit(ctx, cfg, split, files)
		if err != nil {
			return nil, err
		}
		out[split] = ds
	}
	return out, nil
}

func resolveAll(ctx context.Context, cfg *config, loc string) ([]loadFile, error) {
	fsys, files, err := cfg.resolver.Resolve(ctx, loc)
	if err != nil {
		return nil, err
	}
	out := make([]loadFile, len(files))
	for i, f := range files {
		out[i] = loadFile{fsys: fsys, ResolvedFile: f}
	}
	return out, nil
}

// relativeTo returns path relative to the location it came from, for
// split detection; the base name when no location is a directory prefix.
func relativeTo(path string, locations []string) string {
	for _, loc := range locations {
		if strings.HasPrefix(loc, "hf://") {
			return path // a path inside the repository
		}
		loc = strings.TrimPrefix(loc, "file://")
		if i := strings.IndexAny(loc, "*?["); i >= 0 {
			loc = filepath.Dir(loc[:i] + "x")
		}
		abs, err := filepath.Abs(loc)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(abs, path); err == nil && !strings.HasPrefix(rel, "..") && rel != "." {
			return rel
		}
	}
	return filepath.Base(path)
}

// loadSplit converts files into one cache entry (or reuses it) and returns
// the dataset over it.
func loadSplit(ctx context.Context, cfg *config, split string, files []loadFile) (*Dataset, error) {
	slices.SortFunc(files, func(a, b loadFile) int { return strings.Compare(a.Path, b.Path) })
	parts := []string{"load", "reader=" + cfg.readDesc}
	for _, f := range files {
		parts = append(parts, f.Identity)
	}
	fp := fingerprint(parts...)
	desc := fmt.Sprintf("load(split=%q, files=%d, first=%q)", split, len(files), files[0].Path)
	cache, err := cfg.getCache()
	if err != nil {
		return nil, err
	}
	h, err := cache.build(ctx, fp, desc, func(ctx context.Context, dir string) (int64, []string, error) {
		return convertFiles(ctx, cfg, files, dir)
	})
	if err != nil {
		return nil, err
	}
	src, err := openEntry(h, cfg)
	if err != nil {
		return nil, err
	}
	return newRoot(cfg, src, fp, desc, true), nil
}

// convertFiles writes every file as data-NNNNN.arrow in dir, with one
// unified schema, converting up to cfg.workers files at a time.
func convertFiles(ctx context.Context, cfg *config, files []loadFile, dir string) (int64, []string, error) {
	schemas := make([]*arrow.Schema, len(files))
	for i, f := range files {
		r, err := arrowio.Open(f.fsys, f.Path, cfg.readOpts...)
		if err != nil {
			return 0, nil, err
		}
		schemas[i] = r.Schema()
		r.Close()
	}
	schema, err := arrowio.UnifySchemas(schemas...)
	if err != nil {
		return 0, nil, fmt.Errorf("unifying the schemas of %d files: %w", len(files), err)
	}
	schema = decodeDictionaries(schema)
	names := make([]string, len(files))
	var total, done atomic.Int64
	var mu sync.Mutex // serialises progress reports
	report := func(p Progress) {
		mu.Lock()
		defer mu.Unlock()
		cfg.report(p)
	}
	for i := range files {
		names[i] = dataFileName(i)
	}
	err = parallelFor(ctx, cfg.workers, len(files), func(ctx context.Context, i int) error {
		f := files[i]
		err := convertFile(ctx, cfg, f, schema, filepath.Join(dir, names[i]), func(rows int64) {
			report(Progress{Stage: "convert", File: f.Path, Files: len(files), FilesDone: int(done.Load()), Rows: total.Add(rows)})
		})
		if err != nil {
			return err
		}
		report(Progress{Stage: "convert", File: f.Path, Files: len(files), FilesDone: int(done.Add(1)), Rows: total.Load()})
		return nil
	})
	if err != nil {
		return 0, nil, err
	}
	report(Progress{Stage: "convert", Files: len(files), FilesDone: len(files), Rows: total.Load(), Done: true})
	return total.Load(), names, nil
}

// decodeDictionaries replaces dictionary types by their value types:
// cache files must map without dictionaries (arrow-go's mapped reader
// cannot read them).
func decodeDictionaries(s *arrow.Schema) *arrow.Schema {
	fields := slices.Clone(s.Fields())
	changed := false
	for i, f := range fields {
		if d, ok := f.Type.(*arrow.DictionaryType); ok {
			fields[i].Type = d.ValueType
			changed = true
		}
	}
	if !changed {
		return s
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md)
}

// convertFile copies one file into an Arrow IPC file with schema.
func convertFile(ctx context.Context, cfg *config, f loadFile, schema *arrow.Schema, out string, progress func(int64)) error {
	r, err := arrowio.Open(f.fsys, f.Path, cfg.readOpts...)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := arrowio.Create(afero.NewOsFs(), out, schema, arrowio.WithOutputFormat(arrowio.FormatArrowFile, 0),
		arrowio.WithWriteAllocator(cfg.mem))
	if err != nil {
		return err
	}
	defer w.Abort()
	for b, err := range r.Batches(ctx) {
		if err != nil {
			return err
		}
		if !b.Schema().Equal(schema) {
			c, err := arrowio.CastBatch(ctx, cfg.mem, b, schema)
			if err != nil {
				return fmt.Errorf("%s: %w", f.Path, err)
			}
			err = w.Write(c)
			c.Release()
			if err != nil {
				return err
			}
		} else if err := w.Write(b); err != nil {
			return err
		}
		progress(b.NumRows())
	}
	return w.Close()
}
