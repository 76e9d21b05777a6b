package hubfs

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/afero"
	"go.yaml.in/yaml/v3"
)

// Config is one dataset configuration: named splits, each a list of files.
type Config struct {
	Name    string
	Default bool
	Splits  []Split
}

// Split is one split of a configuration.
type Split struct {
	// Name is the split name ("train", "validation", "test", ...).
	Name string
	// Files are the matching data files, sorted, as names for the Fs
	// Splits was given.
	Files []string
	// Partial is true for refs/convert/parquet "partial-SPLIT" folders,
	// which hold only the first part of a big split.
	Partial bool
}

// ErrNoData: Splits found no data files.
var ErrNoData = errors.New("hubfs: no data files found")

var splitNameRe = regexp.MustCompile(`^\w+(\.\w+)*$`)

// Splits discovers the configurations and splits of the dataset rooted at
// dir on fsys (a Hub *FS or any afero.Fs), the way Hugging Face datasets
// does without a loading script:
//
//  1. the configs of README.md's YAML front matter, with data_files (a
//     string, a list, or a list of {split, path}) and data_dir;
//  2. otherwise, on a refs/convert/parquet revision, the layout
//     CONFIG/SPLIT/NNNN.parquet (and CONFIG/partial-SPLIT/...);
//  3. otherwise the file-name patterns: data/SPLIT-NNNNN-of-NNNNN*,
//     split keywords in directory names, then in file names, else every
//     file is "train".
//
// Files are filtered to one data format (the most common of parquet, json,
// csv, arrow, text) and README.md and other metadata files are ignored.
// The default config comes first. Returns ErrNoData when nothing matches.
func Splits(ctx context.Context, fsys afero.Fs, dir string) ([]Config, error) {
	dir = strings.Trim(path.Clean("/"+dir), "/")
	files, err := listFiles(ctx, fsys, dir)
	if err != nil {
		return nil, err
	}
	var configs []Config
	readme, err := readFront(fsys, path.Join(dir, "README.md"))
	if err != nil {
		return nil, err
	}
	if readme != nil && len(readme.Configs) > 0 {
		configs, err = yamlConfigs(readme, files)
		if err != nil {
			return nil, err
		}
	} else if hf, ok := fsys.(*FS); ok && strings.HasPrefix(hf.repo.Revision, "refs/convert/") && dir == "" {
		configs = convertLayout(files)
	} else {
		splits := autoSplits(files)
		if len(splits) > 0 {
			configs = []Config{{Name: "default", Default: true, Splits: splits}}
		}
	}
	for i := range configs {
		for j := range configs[i].Splits {
			for k, f := range configs[i].Splits[j].Files {
				if dir != "" {
					configs[i].Splits[j].Files[k] = path.Join(dir, f)
				}
			}
		}
	}
	if len(configs) == 0 {
		return nil, fmt.Errorf("%w under %q", ErrNoData, dir)
	}
	return configs, nil
}

// listFiles returns every file under dir, relative to it, sorted.
func listFiles(ctx context.Context, fsys afero.Fs, dir string) ([]string, error) {
	var out []string
	if hf, ok := fsys.(*FS); ok {
		all, err := hf.Walk(ctx, dir)
		if err != nil {
			return nil, err
		}
		for _, e := range all {
			if !e.IsDir() {
				out = append(out, strings.TrimPrefix(strings.TrimPrefix(e.Path, dir), "/"))
			}
		}
		return out, nil
	}
	root := dir
	if root == "" {
		root = "."
	}
	err := afero.Walk(fsys, root, func(p string, info fs.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if info.Mode().IsRegular() {
			rel := strings.TrimPrefix(strings.TrimPrefix(p, dir), "/")
			out = append(out, strings.TrimPrefix(rel, "./"))
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// cardData is the part of the README front matter Splits uses.
type cardData struct {
	Configs []struct {
		Name      string    `yaml:"config_name"`
		Default   bool      `yaml:"default"`
		DataDir   string    `yaml:"data_dir"`
		DataFiles yaml.Node `yaml:"data_files"`
	} `yaml:"configs"`
}

// readFront parses the YAML front matter of a README; nil when absent.
func readFront(fsys afero.Fs, name string) (*cardData, error) {
	f, err := fsys.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 4<<20))
	if err != nil {
		return nil, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 4<<20)
	if !sc.Scan() || strings.TrimSpace(sc.Text()) != "---" {
		return nil, nil
	}
	var front bytes.Buffer
	closed := false
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "---" {
			closed = true
			break
		}
		front.WriteString(sc.Text())
		front.WriteByte('\n')
	}
	if !closed {
		return nil, nil
	}
	var cd cardData
	if err := yaml.Unmarshal(front.Bytes(), &cd); err != nil {
		return nil, fmt.Errorf("hubfs: %s: YAML front matter: %w", name, err)
	}
	return &cd, nil
}

// yamlConfigs expands README configs against the file list.
func yamlConfigs(cd *cardData, files []string) ([]Config, error) {
	var out []Config
	for _, c := range cd.Configs {
		if c.Name == "" {
			return nil, errors.New("hubfs: README configs entry without config_name")
		}
		base := strings.Trim(c.DataDir, "/")
		cfg := Config{Name: c.Name, Default: c.Default || c.Name == "default" || len(cd.Configs) == 1}
		var patterns []struct {
			split string
			pats  []string
		}
		n := &c.DataFiles
		switch n.Kind {
		case 0:
			// no data_files: auto patterns inside data_dir
			var sub []string
			for _, f := range files {
				if base == "" || strings.HasPrefix(f, base+"/") {
					sub = append(sub, strings.TrimPrefix(strings.TrimPrefix(f, base), "/"))
				}
			}
			for _, s := range autoSplits(sub) {
				for i := range s.Files {
					s.Files[i] = path.Join(base, s.Files[i])
				}
				cfg.Splits = append(cfg.Splits, s)
			}
			out = append(out, cfg)
			continue
		case yaml.ScalarNode:
			patterns = append(patterns, struct {
				split string
				pats  []string
			}{"train", []string{n.Value}})
		case yaml.SequenceNode:
			var plain []string
			for _, item := range n.Content {
				switch item.Kind {
				case yaml.ScalarNode:
					plain = append(plain, item.Value)
				case yaml.MappingNode:
					var sp struct {
						Split string    `yaml:"split"`
						Path  yaml.Node `yaml:"path"`
					}
					if err := item.Decode(&sp); err != nil {
						return nil, fmt.Errorf("hubfs: config %q data_files: %w", c.Name, err)
					}
					pats, err := stringOrList(&sp.Path)
					if err != nil {
						return nil, fmt.Errorf("hubfs: config %q split %q path: %w", c.Name, sp.Split, err)
					}
					if sp.Split == "" {
						sp.Split = "train"
					}
					patterns = append(patterns, struct {
						split string
						pats  []string
					}{sp.Split, pats})
				default:
					return nil, fmt.Errorf("hubfs: config %q: bad data_files entry", c.Name)
				}
			}
			if len(plain) > 0 {
				patterns = append(patterns, struct {
					split string
					pats  []string
				}{"train", plain})
			}
		case yaml.MappingNode: // {split: patterns}
			for i := 0; i+1 < len(n.Content); i += 2 {
				pats, err := stringOrList(n.Content[i+1])
				if err != nil {
					return nil, fmt.Errorf("hubfs: config %q split %q: %w", c.Name, n.Content[i].Value, err)
				}
				patterns = append(patterns, struct {
					split string
					pats  []string
				}{n.Content[i].Value, pats})
			}
		default:
			return nil, fmt.Errorf("hubfs: config %q: bad data_files", c.Name)
		}
		for _, sp := range patterns {
			if !splitNameRe.MatchString(sp.split) {
				return nil, fmt.Errorf("hubfs: config %q: invalid split name %q", c.Name, sp.split)
			}
			var matched []string
			for _, pat := range sp.pats {
				pat = path.Join(base, strings.TrimPrefix(pat, "./"))
				for _, f := range files {
					if matchGlob(pat, f) && !ignoredFile(f) {
						matched = append(matched, f)
					}
				}
			}
			sort.Strings(matched)
			matched = slicesCompact(matched)
			if len(matched) == 0 {
				return nil, fmt.Errorf("%w: config %q split %q matches no file (%v)", ErrNoData, c.Name, sp.split, sp.pats)
			}
			cfg.Splits = append(cfg.Splits, Split{Name: sp.split, Files: matched})
		}
		out = append(out, cfg)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Default && !out[j].Default })
	return out, nil
}

func stringOrList(n *yaml.Node) ([]string, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		return []string{n.Value}, nil
	case yaml.SequenceNode:
		var out []string
		if err := n.Decode(&out); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, errors.New("want a string or a list of strings")
}

func slicesCompact(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

var convertFile = regexp.MustCompile(`^([^/]+)/(partial-)?([^/]+)/[^/]+\.parquet$`)

// convertLayout reads the refs/convert/parquet layout CONFIG/SPLIT/N.parquet.
func convertLayout(files []string) []Config {
	byConfig := map[string]map[string]*Split{}
	for _, f := range files {
		m := convertFile.FindStringSubmatch(f)
		if m == nil {
			continue
		}
		if byConfig[m[1]] == nil {
			byConfig[m[1]] = map[string]*Split{}
		}
		s := byConfig[m[1]][m[3]]
		if s == nil {
			s = &Split{Name: m[3], Partial: m[2] != ""}
			byConfig[m[1]][m[3]] = s
		}
		s.Files = append(s.Files, f)
	}
	var out []Config
	for name, splits := range byConfig {
		c := Config{Name: name, Default: name == "default" || len(byConfig) == 1}
		for _, s := range splits {
			sort.Strings(s.Files)
			c.Splits = append(c.Splits, *s)
		}
		sortSplits(c.Splits)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Default != out[j].Default {
			return out[i].Default
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// splitKeywords are the names datasets recognises for each split.
var splitKeywords = []struct {
	split string
	words []string
}{
	{"train", []string{"train", "training"}},
	{"validation", []string{"validation", "valid", "dev", "val"}},
	{"test", []string{"test", "testing", "eval", "evaluation"}},
}

const sep = `[\-._ 0-9]`

var shardedRe = regexp.MustCompile(`^data/(\w+(?:\.\w+)*)-[0-9]{5}-of-[0-9]{5}[^/]*\.[^/]*$`)

// autoSplits applies datasets' default patterns to relative file names.
func autoSplits(files []string) []Split {
	var data []string
	for _, f := range files {
		if !ignoredFile(f) && !hiddenPath(f) {
			data = append(data, f)
		}
	}
	data = filterFormat(data)
	if len(data) == 0 {
		return nil
	}
	// 1. data/{split}-NNNNN-of-NNNNN*.*
	sharded := map[string][]string{}
	for _, f := range data {
		if m := shardedRe.FindStringSubmatch(f); m != nil {
			sharded[m[1]] = append(sharded[m[1]], f)
		}
	}
	if len(sharded) > 0 {
		var out []Split
		for name, fs := range sharded {
			out = append(out, Split{Name: name, Files: fs})
		}
		sortSplits(out)
		return out
	}
	// 2. logs: **/*.eval
	var logs []string
	for _, f := range data {
		if strings.HasSuffix(f, ".eval") {
			logs = append(logs, f)
		}
	}
	if len(logs) > 0 {
		return []Split{{Name: "logs", Files: logs}}
	}
	// 3. keyword in a directory name, 4. keyword in the file name.
	groups := [][]string{
		{"**/%s/**", "**/%s" + sep + "*/**", "**/*" + sep + "%s/**", "**/*" + sep + "%s" + sep + "*/**"},
		{"**/%s" + sep + "*", "**/*" + sep + "%s" + sep + "*"},
	}
	for _, group := range groups {
		var out []Split
		for _, kw := range splitKeywords {
			var matched []string
			for _, f := range data {
				for _, word := range kw.words {
					hit := false
					for _, tmpl := range group {
						if matchGlob(fmt.Sprintf(tmpl, word), f) {
							hit = true
							break
						}
					}
					if hit {
						matched = append(matched, f)
						break
					}
				}
			}
			if len(matched) > 0 {
				out = append(out, Split{Name: kw.split, Files: matched})
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	// 5. everything is train.
	return []Split{{Name: "train", Files: data}}
}

// sortSplits orders train, validation, test, then the rest by name.
func sortSplits(s []Split) {
	rank := func(n string) int {
		switch n {
		case "train":
			return 0
		case "validation":
			return 1
		case "test":
			return 2
		}
		return 3
	}
	sort.Slice(s, func(i, j int) bool {
		if ri, rj := rank(s[i].Name), rank(s[j].Name); ri != rj {
			return ri < rj
		}
		return s[i].Name < s[j].Name
	})
	for i := range s {
		sort.Strings(s[i].Files)
	}
}

var ignoredNames = map[string]bool{
	"README.md": true, "config.json": true, "dataset_info.json": true, "dataset_infos.json": true,
	"dummy_data.zip": true, "dataset_dict.json": true, ".gitattributes": true,
}

func ignoredFile(f string) bool { return ignoredNames[path.Base(f)] }

// formatOf maps a file name to its data format ("" if not data).
func formatOf(f string) string {
	name := strings.ToLower(path.Base(f))
	for _, c := range []string{".gz", ".zst", ".bz2", ".xz", ".lz4"} {
		name = strings.TrimSuffix(name, c)
	}
	switch path.Ext(name) {
	case ".parquet", ".geoparquet", ".gpq":
		return "parquet"
	case ".json", ".jsonl", ".ndjson":
		return "json"
	case ".csv", ".tsv":
		return "csv"
	case ".arrow":
		return "arrow"
	case ".txt":
		return "text"
	case ".eval":
		return "eval"
	}
	return ""
}

// filterFormat keeps the files of the most common data format.
func filterFormat(files []string) []string {
	count := map[string]int{}
	for _, f := range files {
		if k := formatOf(f); k != "" {
			count[k]++
		}
	}
	best := ""
	for _, k := range []string{"parquet", "arrow", "json", "csv", "text", "eval"} {
		if count[k] > count[best] {
			best = k
		}
	}
	if best == "" {
		return nil
	}
	var out []string
	for _, f := range files {
		if formatOf(f) == best {
			out = append(out, f)
		}
	}
	return out
}
