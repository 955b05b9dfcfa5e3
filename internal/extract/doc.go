// Package extract turns Yellowstone updates into the events a stack reacts to.
//
// An account update becomes one [event.Account]. A transaction update becomes one
// [event.Instruction] per top-level and inner (CPI) instruction, in execution order: top-level
// instruction i, then the inner instructions it invoked, then top-level instruction i+1. Each
// instruction carries its program id and its accounts resolved to addresses in the transaction's
// account-index space (static account keys, then the addresses loaded writable from lookup tables,
// then those loaded read-only), its data, its stack height and its path ([outer] or [outer, inner]).
// A block update yields the events of its transactions and accounts.
//
// Anchor events are recognised in both forms: an inner instruction whose data starts with the
// event-instruction tag (emit_cpi) is marked CPIEvent, and `Program data:` log lines are attributed,
// through the `Program X invoke [n]` / `Program X success` structure of the logs, to the instruction
// whose program logged them.
//
// With an IDL registry, account data, instructions and events are decoded by the IDL of their
// program (account owner, instruction program id).
//
// # Ownership and concurrency
//
// Events alias the byte slices and log strings of the update they came from; neither may be
// modified while the events are in use. An [Extractor] keeps scratch state and is not safe for
// concurrent use: use one per goroutine.
//
// Malformed updates (an account index out of range, a missing transaction or meta, a key or
// signature of the wrong length) give an [*Error] naming the transaction and the instruction path;
// they never panic.
package extract
