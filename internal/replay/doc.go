// Package replay reproduces what a stack produced from a recording, and proves it.
//
// # Model
//
// A replay runs an archive's updates through the same pipeline `serve` uses (internal/pipeline) and
// writes every mutation as one canonical JSON line: slot, seq, entity, key, patch, append, handler.
// The bytes depend only on the archive, the stack and the resolver answers, never on the machine,
// GOMAXPROCS or the wall clock.
//
// A golden is a replay's output stored inside the archive, under the stack's content hash
// (bucket goldens/<hash>):
//
//   - records: one record per archive update that produced mutations, keyed by the update's
//     sequence number: the chain digest after the record, the slot, and the record's JSON lines
//     (gzip). The chain digest is sha256(previous digest ‖ seq ‖ slot ‖ lines), so the last digest
//     proves the whole output.
//   - slots: the per-slot digest chain: for each slot, the chain digest after the last record of
//     that slot.
//   - entities: an index (entity, key, seq) of the records that touched each entity, so an entity's
//     state at any slot is rebuilt from its own records without running the VM.
//   - info: the golden's metadata (range, counts, final digest, hyperstack version).
//
// The resolver answers a run used are stored beside it (bucket resolver/<hash>) and fed back on
// every later replay of that stack, so resolvers replay exactly.
//
// Verify replays again and compares with a golden record by record; the first difference is
// reported with its slot, entity, key and a readable diff of the expected and actual patches.
//
// # Concurrency
//
// Everything here runs on the caller's goroutine; the archive serialises its own writes.
//
// # Caveats
//
// A golden covers the update range it was written for; Verify replays exactly that range. A golden
// written live by `record --stack` covers the updates recorded up to its last flush.
package replay
