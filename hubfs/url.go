package hubfs

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// RepoType is the kind of a Hub repository.
type RepoType string

// The repository types of the hf:// grammar.
const (
	Model   RepoType = "model"
	Dataset RepoType = "dataset"
	Space   RepoType = "space"
	Kernel  RepoType = "kernel"
	Bucket  RepoType = "bucket"
)

// plural returns the URL form of t ("datasets"); the zero value is a model.
func (t RepoType) plural() string {
	if t == "" {
		return "models"
	}
	return string(t) + "s"
}

// RepoRef names one repository at one revision.
type RepoRef struct {
	// Type is the repository type; "" means Model.
	Type RepoType
	// ID is "namespace/name".
	ID string
	// Revision is a branch, tag, commit id or special ref such as
	// "refs/convert/parquet" or "refs/pr/3"; "" means "main".
	Revision string
}

// rev returns the revision, defaulting to main.
func (r RepoRef) rev() string {
	if r.Revision == "" {
		return "main"
	}
	return r.Revision
}

// String renders r as an hf:// URL without a path.
func (r RepoRef) String() string { return URL{Repo: r}.String() }

// URL is a parsed hf:// location: a repository, a revision and a path in it.
type URL struct {
	Repo RepoRef
	// Path is "/"-separated and relative to the repository root; "" is the
	// root. It may contain glob metacharacters.
	Path string
}

// ErrBadURL is wrapped by every ParseURL error.
var ErrBadURL = errors.New("hubfs: invalid hf:// URL")

var (
	specialRef = regexp.MustCompile(`^refs/(?:convert/[\w.-]+|pr/\d+)`)
	repoPart   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)
)

var typeNames = map[string]RepoType{
	"models": Model, "datasets": Dataset, "spaces": Space, "kernels": Kernel, "buckets": Bucket,
}

// ParseURL parses hf://[TYPE/]NS/NAME[@REVISION][/PATH].
//
// TYPE is one of models, datasets, spaces, kernels, buckets (plural only);
// without it the repo is a model. An "@" counts only directly after NS/NAME.
// The special refs refs/convert/NAME and refs/pr/N may be written raw
// (hf://datasets/u/d@refs/convert/parquet/default/train/0000.parquet); any
// other revision containing "/" must be escaped as %2F. "@~parquet" is short
// for refs/convert/parquet. Errors wrap ErrBadURL and quote the input.
func ParseURL(s string) (URL, error) {
	bad := func(why string) (URL, error) {
		return URL{}, fmt.Errorf("%w %q: %s", ErrBadURL, s, why)
	}
	rest, ok := strings.CutPrefix(s, "hf://")
	if !ok {
		return bad("must start with hf://")
	}
	var u URL
	if first, after, found := strings.Cut(rest, "/"); found {
		if t, ok := typeNames[first]; ok {
			u.Repo.Type, rest = t, after
		}
	}
	if u.Repo.Type == "" {
		u.Repo.Type = Model
	}
	// namespace
	ns, rest, found := strings.Cut(rest, "/")
	if !found {
		return bad("want NAMESPACE/NAME after the type")
	}
	// name ends at "@" or "/"
	end := strings.IndexAny(rest, "@/")
	name := rest
	if end >= 0 {
		name, rest = rest[:end], rest[end:]
	} else {
		rest = ""
	}
	for _, part := range []string{ns, name} {
		if !repoPart.MatchString(part) || strings.Contains(part, "..") || strings.Contains(part, "--") || len(part) > 96 {
			return bad(fmt.Sprintf("invalid repository name part %q", part))
		}
	}
	u.Repo.ID = ns + "/" + name
	if r, ok := strings.CutPrefix(rest, "@"); ok {
		var rev string
		switch {
		case specialRef.MatchString(r):
			rev = specialRef.FindString(r)
			rest = r[len(rev):]
		case strings.HasPrefix(r, "~parquet") && (len(r) == len("~parquet") || r[len("~parquet")] == '/'):
			rev, rest = "refs/convert/parquet", r[len("~parquet"):]
		default:
			raw, after, _ := strings.Cut(r, "/")
			if after != "" || strings.HasSuffix(r, "/") {
				rest = "/" + after
			} else {
				rest = ""
			}
			var err error
			if rev, err = url.PathUnescape(raw); err != nil {
				return bad("bad escape in revision")
			}
		}
		if rev == "" {
			return bad("empty revision after @")
		}
		if err := checkRevision(rev); err != nil {
			return bad(err.Error())
		}
		u.Repo.Revision = rev
	}
	if rest != "" {
		if rest[0] != '/' {
			return bad("unexpected text after the revision")
		}
		p := strings.Trim(rest, "/")
		if err := checkRepoPath(p); err != nil {
			return bad(err.Error())
		}
		u.Path = p
	}
	return u, nil
}

// checkRevision rejects revisions that could escape a directory when used
// as a cache path (refs/{revision}).
func checkRevision(rev string) error {
	if strings.ContainsAny(rev, "\\\x00") || strings.HasPrefix(rev, "/") {
		return fmt.Errorf("invalid revision %q", rev)
	}
	for _, seg := range strings.Split(rev, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("invalid revision %q", rev)
		}
	}
	return nil
}

// checkRepoPath rejects repo paths with "..", ".", empty segments, a
// backslash, NUL or a leading "/". "" (the root) is valid.
func checkRepoPath(p string) error {
	if p == "" {
		return nil
	}
	if strings.ContainsAny(p, "\\\x00") || strings.HasPrefix(p, "/") {
		return fmt.Errorf("unsafe path %q", p)
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("unsafe path %q", p)
		}
	}
	return nil
}

// safeRevision renders a revision for an hf:// URL: special refs verbatim,
// anything else escaped.
func safeRevision(rev string) string {
	if m := specialRef.FindString(rev); m == rev {
		return rev
	}
	return url.PathEscape(rev)
}

// String renders u as hf://TYPE/NS/NAME[@REV][/PATH]. Models render without
// a type prefix unless NS is itself a type name; ParseURL(u.String())
// gives u back.
func (u URL) String() string {
	var b strings.Builder
	b.WriteString("hf://")
	ns, _, _ := strings.Cut(u.Repo.ID, "/")
	if _, clash := typeNames[ns]; clash || (u.Repo.Type != Model && u.Repo.Type != "") {
		b.WriteString(u.Repo.Type.plural())
		b.WriteByte('/')
	}
	b.WriteString(u.Repo.ID)
	if u.Repo.Revision != "" {
		b.WriteByte('@')
		b.WriteString(safeRevision(u.Repo.Revision))
	}
	if u.Path != "" {
		b.WriteByte('/')
		b.WriteString(u.Path)
	}
	return b.String()
}
