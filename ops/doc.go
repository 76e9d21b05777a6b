// Package ops is the transform vocabulary of Quiver datasets.
//
// Every op is a value that describes itself canonically (Describe), so a
// dataset's fingerprint can be computed from its source identity and the ops
// applied to it without running anything. Two families exist:
//
//   - Batch ops (BatchOp) turn one record batch into another: Map, MapRows,
//     Filter, FilterRows, RenameColumns, RemoveColumns, SelectColumns, Cast,
//     AddColumn. Some preserve the row count and position (Kind), which lets
//     a dataset keep them pending and apply them while streaming.
//   - Index ops (IndexOp) compute a new row selection from the current one:
//     Select, Take, Skip, Shuffle, Shard, Split, Sort. They never copy data;
//     a dataset composes their Selection over memory-mapped batches.
//
// Helpers that are not ops but share the same machinery are Gather (per
// source-batch routed row gather), Permutation (the seeded, platform-stable
// shuffle), InterleaveOrder and Unique.
//
// User functions carry an explicit "name@version" (for example
// ops.Map("tokenize@v2", fn)). An op built with an empty name still runs but
// reports itself as not cacheable; nothing ever invents a random fingerprint.
//
// The package performs no I/O.
package ops
