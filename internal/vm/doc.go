// Package vm compiles HyperStack stack specs to bytecode and runs them over decoded Solana events,
// producing entity mutations.
//
// # Model
//
// [Compile] turns a [stack.Spec] into a [Program]: one handler per (entity, event type) whose code is
// a flat list of [Instr] (an [Opcode] and three operands indexing registers, the constant pool, the
// path pool, the target table and a few side tables), plus the routing of event types
// ("ore::RoundState", "ore::DeployIxState", "x::TradeCpiEvent") to handlers in entity order and the
// decoders of the stack's embedded IDLs. Compile errors are *stack.SpecError values naming the spec
// location ("entities[0].handlers[2].mappings[1]"); every instruction remembers the location it came
// from. [Program.Disassemble] prints it all.
//
// A handler follows one template: load the key (Embedded: read from the event, with the primary
// key's transform; Lookup: translate the event value through the entity's lookup indexes and PDA
// reverse lookups), stop when it is null, check freshness and load the row, maintain the lookup
// indexes, apply each mapping (LastWrite/Merge, SetOnce, Append, Count, Sum, Max, Min, UniqueCount,
// conditions, "when", "stop"), run the resolvers, evaluate computed fields, store the row and emit the
// mutation of the paths the run changed.
//
// A [Machine] executes a Program. [Machine.Process] decodes an [event.Event] with the stack's IDLs
// (accounts by discriminator or size, instructions by discriminator, Anchor events from self-CPI
// instructions and from the instruction's `Program data:` log events), runs the routed handlers, then
// the instruction hooks (PDA registrations), and replays the updates those unblock. It returns the
// mutations: Export, Key (canonical JSON), Patch (canonical JSON object of the changed paths), Append
// (paths whose arrays carry only new items), Slot, Handler and Seq (the Machine's own counter, in
// production order).
//
// State lives in memory, bounded: each entity's rows, lookup indexes, PDA reverse lookups,
// (account, type) version tracker and instruction de-duplication are LRU tables of configurable size
// ([Config]); updates that arrive before their key can be resolved wait in per-key queues (50 per key,
// expiring after 750 slots); deferred "when" writes expire after 150 slots. Ages are measured in
// slots of the event stream: nothing inside the Machine reads the wall clock.
//
// Resolvers ([Resolvers]) answer questions the stream does not: token metadata (for
// TokenMetadata.ui_amount and token resolver specs), URL resolver specs, slot hashes the SlotHashes
// sysvar did not supply, and block times (ContextTimestamp, capture timestamps). Every answer enters
// the Machine either from Resolvers during Process or through [Machine.Deliver] between events, and is
// reported to Config.OnResolve. A replay that delivers the recorded answers at the same points (or
// uses an [Answers] table when all answers were synchronous) produces the same mutations.
//
// # Concurrency
//
// A Program is immutable and may be shared. A Machine is owned by one goroutine: Process, Deliver,
// Stats and Waiting must not be called concurrently. Output depends only on the Program, the Config
// and the sequence of calls: map iteration never reaches the output (object keys are sorted, lookup
// indexes are scanned in declaration order, queues are FIFO), so the same inputs give byte-identical
// mutations whatever GOMAXPROCS is.
//
// # Caveats
//
// The VM follows HyperStack's reference runtime (its Rust interpreter and the glue it generates per
// stack) where that is well defined. Where the reference has quirks, these decisions were taken:
//
//   - Resolved keys: the PDA reverse lookup of a resolver hook feeds Lookup handlers only. Embedded
//     handlers key rows by their own key path, so ORE's OreTreasury is keyed by the treasury address
//     and is updated from the first Treasury update (the reference keys it by the next round's
//     address and touches it only after the first Reset).
//   - PDA tables belong to entities: a hook registers in the table of the entity that declares it,
//     and lookups consult their own entity's table.
//   - Stop flags are kept as the reference computes them: ORE's Reset hook keys its row by the raw
//     roundNext address, so the flag never stops the numeric OreRound row; the PDA remap on each Reset
//     moves Treasury updates to the next round, which freezes each round's value in practice.
//   - Null keys: a null lookup value is never indexed nor looked up, and no handler reads or writes a
//     row under a null key (instruction handlers included); the event is queued instead.
//   - Remaps: when a PDA maps to a new seed its cached index entries are dropped; the last account
//     update is not re-queued (the reference re-queues it only to reject it as stale). The pending
//     queues are bounded per key and per entity, and queued instructions expire like queued account
//     updates. A newer queued update of an account replaces older ones of the same account and type
//     only. Replays run right after the handler that unblocked them, each with its own slot, write
//     version or transaction index and position, so every queued Deploy counts.
//   - Duplicates: instructions are de-duplicated on (slot, transaction index, instruction position,
//     log-event position), so several same-type instructions of one transaction all count; the
//     reference drops all but the first.
//   - Computed fields follow the generated Rust: typed u64/i64/f64 arithmetic (wrapping like a
//     release build), sections gated on their own and every referenced section being objects,
//     declaration order within a section (after the fields they read), null written for None.
//     Sections run in first-declaration order. An expression that fails (division by zero, a
//     non-finite ui_amount) makes its field null and is counted in Stats.ComputedErrors. A field is
//     re-evaluated only when something it reads was written (or it reads the slot, the block time or
//     slot hashes); the results are the same as evaluating every field every time.
//   - Errors: a failing handler is rolled back and reported as a *RuntimeError; the mutations of the
//     event's other handlers are kept (their state changes persist, so dropping them would
//     desynchronise clients). Lookup-index and PDA updates made before the failure persist, as in the
//     reference. Transformations of null give null, missing capture fields are left out, and Sum of
//     null is a no-op; Sum of a non-integer is an error.
//   - "when" writes that waited for their instruction are applied per row together, in one mutation
//     holding the emitted written fields and every computed field that changed to a non-null value,
//     even when the written field itself is hidden (the reference emits nothing for a hidden field,
//     so computed fields derived from it, such as ORE's rng, never reach clients).
//   - Multi-IDL stacks: hooks are matched by the event types the spec names, so ORE's
//     "entropy::VarState" resolver hook applies.
//   - Conditions: ordering comparisons of non-numbers are false rather than errors. Logical (And/Or)
//     conditions are evaluated (the reference compiler drops them and writes unconditionally).
//     Handler-level conditions are ignored, as in the reference.
//   - Time: the timestamp of captures, events and ContextTimestamp is the block time the resolvers
//     give for the slot, or null. Eviction is true LRU rather than second-resolution access times.
//     Scheduled URL resolvers fall due when the stream reaches their slot.
//   - Resolvers: answers are cached (LRU) without a TTL. A question that got no answer is asked again
//     once per stream slot, not on every update.
//   - Floats are written as serde_json writes them: shortest round-trip digits, ".0" on whole numbers
//     ("3.0"), exponent form outside 1e-5..1e16 ("1e16"); NaN and infinities become null. Integers
//     never pass through float64.
//   - Sum, Count and Increment totals are exact 64-bit integers (u64 when non-negative) saturating at
//     the bounds.
//   - Events: `Program data:` log events are routed under the same "<program>::<Event>CpiEvent" type
//     as self-CPI events (the reference does not parse logs). Instructions of failed transactions are
//     skipped.
//   - Resolver hooks: PdaReverseLookup hooks resolve through the entity's PDA table; DirectField hooks
//     read the lookup input from the account's field.
//   - Not implemented: temporal indexes (TemporalLookup key resolution is a compile error; temporal
//     fields of lookup indexes are ignored with a warning), views (evaluated by the server), the HTTP
//     clients of the URL and DAS resolvers (answers come from [Resolvers] or [Machine.Deliver]).
package vm
