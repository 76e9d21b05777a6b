// Package arrowio turns bytes into Arrow record batches and back.
//
// Readers exist for Parquet, JSON Lines (plain, .gz, .zst), Arrow IPC (file
// and stream, including Hugging Face save_to_disk shards) and CSV; writers
// for the same formats. Every reader takes an afero.Fs and a path, so local
// disks, in-memory filesystems and remote filesystems (hubfs) are read the
// same way, and yields batches through an iter.Seq2 with column projection
// and a bounded batch size.
//
// Open picks the reader from the file extension (or an explicit Format);
// Create picks the writer. Outputs written through Create appear only when
// complete: data goes to a temporary file that Close renames into place.
//
// Errors name the file and the place (line and column for text formats, row
// group and column for Parquet) through *PosError, and wrap the sentinels
// ErrSyntax, ErrSchema, ErrCorrupt, ErrUnsupported and ErrUnknownFormat for
// errors.Is.
//
// Batches yielded by a reader are borrowed: each is valid until the next
// iteration step, and a consumer that keeps one calls Retain (and later
// Release) on it.
package arrowio
