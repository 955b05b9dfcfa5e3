// Package archive stores a Yellowstone (Geyser) update stream, byte-exact, in a crash-safe bbolt file,
// and reads it back for replay and inspection. The on-disk format is documented in
// docs/archive-format.md.
//
// # Model
//
// An archive is one bbolt file. Every SubscribeUpdate is stored exactly as received, under a
// big-endian sequence number (1, 2, 3, ... without holes), together with its slot, kind and receive
// time. A slot index maps each slot to the first and last sequence number holding it, so Scan can read
// a slot range without reading the whole file. Gap records name slot ranges the recording could not
// obtain. A checkpoint (last durable sequence and slot) and running counters live in the meta bucket
// and move in the same transaction as the batch they describe.
//
// Three reserved namespaces (NSGoldens, NSResolver, NSStateCheckpoints) hold data derived from the
// stream, such as replay goldens keyed by stack hash and slot; see Put, GetKV, ForEach, ForEachSlot,
// Floor, Buckets and UpdateKV, and Writer.AppendKV to commit derived data atomically with updates.
//
// Create makes a new archive (never over an existing file); Open opens one after validating it
// read-only, so a file that is not an archive, has a newer format version or is damaged is reported
// (ErrNotArchive, ErrNewerVersion, ErrCorrupt) and never modified. Open with Options.ReadOnly for
// inspection: while another process records into the file, Open returns ErrLocked after
// Options.LockTimeout.
//
// # Concurrency
//
// An *Archive is safe for concurrent use. One process at a time may open a file for writing (bbolt's
// exclusive file lock); read-only openers share a lock. Within a process, an archive has at most one
// Writer; it owns a goroutine that performs every batch commit (bbolt allows one write transaction at
// a time, and a single writer needs no db.Batch). Readers (Scan, Stats, GetKV, ...) run concurrently
// with the writer and see only committed batches. Long scans are split into short read transactions so
// they never hold back the writer's file growth.
//
// # Caveats
//
//   - Values returned to callers are copies: bbolt's memory is valid only inside a transaction.
//   - An update becomes durable when its batch commits; after a crash the archive ends at the last
//     committed batch, and its checkpoint names exactly that position.
//   - After a commit error (disk full, I/O error) the Writer stops and returns the error from every
//     later call; the file keeps everything committed before. Reopen to continue.
//   - Stream order is archive order: replay must follow sequence numbers, not created_at or
//     write_version, which differ between servers.
package archive
