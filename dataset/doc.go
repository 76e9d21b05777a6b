// Package dataset is Quiver's map-style dataset: an immutable, lazily
// evaluated handle on memory-mapped Arrow data with a fingerprint cache,
// in the spirit of Hugging Face's datasets.Dataset.
//
// Load reads files, directories, globs and hf:// locations in any arrowio
// format, detects splits by Hugging Face's naming conventions, and converts
// each split once into uncompressed Arrow IPC files in the cache; later
// loads map those files and return in milliseconds. FromBatches and
// FromRows build datasets from memory.
//
// Every transform (Map, Filter, MapRows, FilterRows, Shuffle, Shard,
// TrainTestSplit, Sort, Select, Take, Skip, column ops, …) returns a new
// Dataset whose fingerprint hashes its parent's fingerprint and the op's
// canonical description (package ops); nothing runs until data is needed.
// Positional ops keep a row selection over the data instead of copying it.
// Row-changing ops (filters, resizing maps) are materialized into the cache
// when their row count or positions are needed, and a later run with the
// same fingerprint reads the cached result instead of recomputing it. User
// functions are identified by an explicit "name@version"; an unnamed one
// makes its results uncacheable (logged once), never randomly fingerprinted.
//
// Map and filter run on a worker pool (WithWorkers, default GOMAXPROCS) and
// their output is in the same order whatever the worker count; seeded ops
// give the same order on every machine.
//
// The cache (Cache) lives in $QUIVER_CACHE, else $XDG_CACHE_HOME/quiver,
// else ~/.cache/quiver. Entries appear atomically, one process computes a
// given entry while others wait for it (flock), and Entries, Size and Prune
// serve dsctl's cache commands.
//
// Export writes Parquet, JSON Lines, Arrow or CSV, as one file or as
// "{split}-00000-of-00008" shards; SaveToDisk writes Hugging Face
// save_to_disk directories, which Load also reads.
package dataset
