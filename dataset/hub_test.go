package dataset

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/quiverdata/quiver/hubfs"
	"github.com/quiverdata/quiver/hubfs/hubtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoadFromHub(t *testing.T) {
	ctx := context.Background()
	src := newTestDataset(t, 120, 40)
	local := t.TempDir()
	writeFile(t, src.Take(100), filepath.Join(local, "train.arrow"))
	writeFile(t, src.Skip(100), filepath.Join(local, "test.arrow"))
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(local, name))
		require.NoError(t, err)
		return b
	}
	srv := hubtest.New()
	defer srv.Close()
	repo := srv.AddRepo("dataset", "acme/numbers")
	repo.Commit("main", map[string][]byte{
		"README.md":        []byte("# numbers\n"),
		"data/train.arrow": read("train.arrow"),
		"data/test.arrow":  read("test.arrow"),
	})
	resolver := DefaultResolver{HubOptions: []hubfs.Option{hubfs.WithEndpoint(srv.URL), hubfs.WithCacheDir(""),
		hubfs.WithToken(""), hubfs.WithHTTPClient(srv.Client())}}
	cache := t.TempDir()
	splits, err := Load(ctx, []string{"hf://datasets/acme/numbers/data"}, WithResolver(resolver), WithCacheDir(cache))
	require.NoError(t, err)
	assert.Equal(t, []string{"train", "test"}, splits.Names())
	assert.Equal(t, seqIDs(0, 100), ids(t, splits["train"], 0))
	assert.Equal(t, seqIDs(100, 120), ids(t, splits["test"], 0))

	// A new commit changes the fingerprint (commit and etag are identity).
	fp := splits["train"].Fingerprint()
	repo.Commit("main", map[string][]byte{"data/train.arrow": read("test.arrow"), "data/test.arrow": read("test.arrow")})
	again, err := Load(ctx, []string{"hf://datasets/acme/numbers/data"}, WithResolver(resolver), WithCacheDir(cache))
	require.NoError(t, err)
	assert.NotEqual(t, fp, again["train"].Fingerprint())
	assert.Equal(t, seqIDs(100, 120), ids(t, again["train"], 0))
}
