// Package replay reproduces what a stack produced from a recording, and proves it.
//
// # Model
//
// A replay (Run) runs an archive's updates, in archive order, through the same pipeline `serve`
// uses (internal/pipeline) and writes every mutation as one canonical JSON line (AppendLine): slot,
// seq, entity, key, patch, append, handler. The bytes depend only on the archive, the stack and
// the resolver answers, never on the machine, GOMAXPROCS or the wall clock. Reading and protobuf
// decoding run one goroutine ahead of the VM; the order of everything fed is the archive's.
//
// A golden is a replay's output stored inside the archive under the stack's content hash, in the
// buckets goldens/<hash>/...:
//
//   - records: one record per archive update that produced mutations, keyed by the update's
//     sequence number: the chain digest after it, the slot, and the update's JSON lines. The chain
//     digest is sha256(previous digest ‖ seq ‖ slot ‖ lines) (seq and slot as 8-byte big-endian
//     integers), so the last digest proves the whole output.
//   - slots: the per-slot digest chain: for each slot, the chain digest after the last record of
//     that slot.
//   - entities: an index entity\0key\0seq → (slot, positions of the entity's lines in the record),
//     so an entity's state at any slot is rebuilt from its own lines without running the VM.
//   - info: the golden's metadata (Info: range, counts, last sequence number covered, final digest,
//     hyperstack version). A golden without info is incomplete and ignored.
//
// The resolver answers a run used are stored beside it (bucket resolver/<hash>, key kind\0key) and
// fed back first on every later replay of that stack (Options.AnswersFrom names another hash), so
// resolvers replay exactly.
//
// GoldenWriter writes goldens in two modes. In batch mode (Run with WriteGolden) records are
// buffered and written in large transactions. In live mode (Live, used by `record --stack`) every
// write is queued on the recording's archive.Writer with AppendKV, so it commits atomically with
// the update's batch or a later one; the info moves with the records, so a golden interrupted by a
// crash covers exactly the records committed with it. On resume, Live first replays what the
// archive holds, so the VM state and the chain continue where a replay would be.
//
// Verify replays the golden's range (up to its last covered update) and compares record by record,
// streaming the golden from a second goroutine; the first difference is reported with its slot,
// entity, key and a path-by-path diff of the expected and actual patches (Divergence.Report).
//
// EntityFromGolden rebuilds an entity as of a slot from the entity index, reading its records
// newest first: a value a newer mutation set is final, so older patches are mostly skimmed rather
// than decoded. EntityByReplay gives the same answer by running the VM (no golden needed).
//
// ServeGeyser serves an archive as a Yellowstone gRPC endpoint through internal/geyserserver.
//
// # Concurrency
//
// Run, Verify and the entity functions run the pipeline on the caller's goroutine (with helper
// goroutines that end before they return); the archive serialises its own writes. A Live is owned
// by the goroutine that appends to the archive.
//
// # Caveats
//
// A golden covers the update range it was written for; Verify replays exactly that range. Only a
// golden of the whole archive in order answers entity queries (Golden.Covers): a slot range skips
// the other slots' updates interleaved with it, so its VM state differs. Resolver answers delivered
// asynchronously (vm.Machine.Deliver) during a live run are recorded but replayed synchronously, at
// the point they are first asked for.
package replay
