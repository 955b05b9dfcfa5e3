// Package stack loads HyperStack stack specs (*.stack.json, AST version 0.0.1) into a typed model.
//
// # Model
//
// A [Spec] mirrors the serialized SerializableStackSpec: the program ids and their embedded IDL
// snapshots (kept as raw JSON; the idl package decodes them), one [Entity] per state table, and the
// SDK-only PDA registry and instruction definitions. Externally tagged enums of the file format are Go
// sum types: an interface implemented by one struct per variant ([KeyResolution], [MappingSource],
// [Expr], [ViewTransform], ...). Free-form JSON values (constants, literals, condition operands) are
// [Value]s that keep numbers lossless and remember whether they are unsigned, signed or floating point.
//
// # Validation
//
// [Parse] and [Load] are strict: an unsupported ast_version, an unknown field or variant, a missing
// required field, a value of the wrong type or out of range, and dangling references (views of unknown
// entities, duplicate names) are refused. Every such error is a [*SpecError] whose Path is the JSON path of
// the offending value, for example entities[0].handlers[3].mappings[2].source. Invalid JSON is reported
// with its line and column ([*SyntaxError]).
//
// # Content hashes
//
// The stack hash is the SHA-256 of the compact JSON of the stack without its content_hash, written with
// the keys in schema order and the skip rules of the file format; an entity hash is the same over the
// entity with its content_hash removed and idl replaced by the primary IDL snapshot. Parse recomputes both
// and refuses a file whose stored hashes differ ([*HashMismatchError]). [Spec.ContentHash] is the key
// under which replays store their golden runs.
//
// # Concurrency
//
// A Spec is not modified after Parse or Decode returns (SetContentHashes excepted), so any number of
// goroutines may read it and call its accessors concurrently.
//
// # Caveats
//
// Embedded IDL snapshots are hashed in the key order in which they appear in the file (compacted, with
// strings re-escaped and numbers normalised), not re-serialized from a typed model; for files written by
// the reference implementation the two coincide.
package stack
