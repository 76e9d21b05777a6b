// Package hubfs reads datasets straight from Hugging Face Hub repositories.
//
// Open gives a read-only afero.Fs (and, through IOFS, an io/fs view) over
// one repository at one commit: the branch or tag is resolved once and
// every listing and read then uses that commit. Files support ReadAt and
// Seek through HTTP range requests, so reading a Parquet footer and a few
// column chunks transfers those bytes and not the file; sequential reads
// use growing windows with read-ahead, and io.Copy streams a whole file in
// one request. Redirects are followed by hand so the token is only ever
// sent to the Hub's own host, and the signed CDN location of a file is
// reused until it expires.
//
// Requests are retried with backoff and jitter on 429 (waiting for the
// ratelimit window's reset), 408, 5xx and broken connections; a broken
// body resumes where it stopped. Errors are *Error values wrapping
// fs.ErrNotExist (missing repo, revision or file), fs.ErrPermission (gated
// or private) or one of this package's sentinels.
//
// Whole files read sequentially from the start are stored in the Hugging
// Face hub cache ($HF_HUB_CACHE, datasets--org--name/{blobs,refs,snapshots})
// after their hash is checked, so Python and Quiver share one download;
// cached files open without a request, and with HF_HUB_OFFLINE=1 (or an
// unreachable Hub) the cache is all that is used.
//
// ParseURL parses hf:// URLs; Resolve turns any location the project
// accepts (a plain path, file://, hf://, with globs including **) into a
// filesystem and the matching paths; Splits discovers a dataset's configs
// and splits. The package hubtest is an in-process Hub for tests.
//
// Environment: HF_ENDPOINT, HF_TOKEN, HUGGING_FACE_HUB_TOKEN,
// HF_TOKEN_PATH, HF_HOME, HF_HUB_CACHE, HF_HUB_OFFLINE,
// HF_HUB_DISABLE_IMPLICIT_TOKEN, HF_HUB_DISABLE_SYMLINKS; options given to
// Open or Resolve take precedence.
package hubfs
