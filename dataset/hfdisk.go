package dataset

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// hfState is the part of a save_to_disk state.json Quiver reads and writes.
type hfState struct {
	DataFiles []struct {
		Filename string `json:"filename"`
	} `json:"_data_files"`
	Fingerprint      string  `json:"_fingerprint"`
	FormatColumns    any     `json:"_format_columns"`
	FormatKwargs     any     `json:"_format_kwargs"`
	FormatType       any     `json:"_format_type"`
	OutputAllColumns bool    `json:"_output_all_columns"`
	Split            *string `json:"_split"`
}

// loadSaved reads a Hugging Face save_to_disk directory at loc, if loc is
// one: ok is false otherwise.
func loadSaved(ctx context.Context, cfg *config, loc string) (Splits, bool, error) {
	dir := strings.TrimPrefix(loc, "file://")
	if raw, err := os.ReadFile(filepath.Join(dir, "dataset_dict.json")); err == nil {
		var dd struct {
			Splits []string `json:"splits"`
		}
		if err := json.Unmarshal(raw, &dd); err != nil {
			return nil, true, fmt.Errorf("%w: %s: %v", ErrDataset, filepath.Join(dir, "dataset_dict.json"), err)
		}
		out := Splits{}
		for _, s := range dd.Splits {
			if strings.ContainsAny(s, `/\`) || s == ".." {
				return nil, true, fmt.Errorf("%w: %s: bad split name %q", ErrDataset, dir, s)
			}
			ds, err := loadSavedSplit(ctx, cfg, filepath.Join(dir, s), s)
			if err != nil {
				return nil, true, err
			}
			out[s] = ds
		}
		return out, true, nil
	}
	if _, err := os.Stat(filepath.Join(dir, "state.json")); err != nil {
		return nil, false, nil
	}
	ds, err := loadSavedSplit(ctx, cfg, dir, "train")
	if err != nil {
		return nil, true, err
	}
	return Splits{"train": ds}, true, nil
}

func loadSavedSplit(ctx context.Context, cfg *config, dir, split string) (*Dataset, error) {
	statePath := filepath.Join(dir, "state.json")
	raw, err := os.ReadFile(statePath)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDataset, err)
	}
	var st hfState
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrDataset, statePath, err)
	}
	if len(st.DataFiles) == 0 {
		return nil, fmt.Errorf("%w: %s lists no data files", ErrDataset, statePath)
	}
	var files []loadFile
	for _, df := range st.DataFiles {
		if df.Filename == "" || strings.ContainsAny(df.Filename, `/\`) {
			return nil, fmt.Errorf("%w: %s: bad data file name %q", ErrDataset, statePath, df.Filename)
		}
		f, err := resolveAll(ctx, cfg, filepath.Join(dir, df.Filename))
		if err != nil {
			return nil, err
		}
		files = append(files, f...)
	}
	return loadSplit(ctx, cfg, split, files)
}

// SaveOptions configures SaveToDisk.
type SaveOptions struct {
	// NumShards is the number of data files (default: from MaxShardBytes,
	// else 1).
	NumShards int
	// MaxShardBytes caps the Arrow bytes per shard (default 500 MB, as in
	// Hugging Face).
	MaxShardBytes int64
}

// SaveToDisk writes ds as a Hugging Face save_to_disk directory: Arrow IPC
// stream shards data-NNNNN-of-NNNNN.arrow, state.json and
// dataset_info.json, readable by datasets.load_from_disk and by Load. The
// directory appears only when complete.
func (d *Dataset) SaveToDisk(ctx context.Context, dir string, opts SaveOptions) error {
	if opts.MaxShardBytes <= 0 {
		opts.MaxShardBytes = 500 << 20
	}
	return writeDirAtomically(dir, func(tmp string) error {
		files, err := d.exportShards(ctx, tmp, ExportOptions{
			Format: "arrows", NumShards: opts.NumShards, MaxShardBytes: opts.MaxShardBytes,
			Template: "data-{shard}-of-{num_shards}.arrow",
		})
		if err != nil {
			return err
		}
		st := hfState{Fingerprint: d.fp[:16], FormatKwargs: map[string]any{}}
		for _, f := range files {
			st.DataFiles = append(st.DataFiles, struct {
				Filename string `json:"filename"`
			}{filepath.Base(f)})
		}
		if err := writeJSON(filepath.Join(tmp, "state.json"), st); err != nil {
			return err
		}
		info := map[string]any{"citation": "", "description": "", "features": nil, "homepage": "", "license": ""}
		return writeJSON(filepath.Join(tmp, "dataset_info.json"), info)
	})
}

// SaveToDisk writes every split under dir/<split> plus dataset_dict.json,
// like DatasetDict.save_to_disk.
func (s Splits) SaveToDisk(ctx context.Context, dir string, opts SaveOptions) error {
	return writeDirAtomically(dir, func(tmp string) error {
		names := s.Names()
		for _, n := range names {
			if err := s[n].SaveToDisk(ctx, filepath.Join(tmp, n), opts); err != nil {
				return err
			}
		}
		return writeJSON(filepath.Join(tmp, "dataset_dict.json"), map[string]any{"splits": names})
	})
}

// writeDirAtomically fills a temporary directory beside dir and renames it
// to dir. An existing dir is an error.
func writeDirAtomically(dir string, fill func(tmp string) error) error {
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("%w: %s exists", ErrDataset, dir)
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	parent := filepath.Dir(dir)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return err
	}
	name, err := tempName(filepath.Base(dir))
	if err != nil {
		return err
	}
	tmp := filepath.Join(parent, name)
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return err
	}
	if err := fill(tmp); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	if err := os.Rename(tmp, dir); err != nil {
		os.RemoveAll(tmp)
		return err
	}
	return nil
}
