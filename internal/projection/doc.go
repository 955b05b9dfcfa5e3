// Package projection turns the VM's entity mutations into the state that WebSocket clients see: an
// entity cache per entity type (bounded LRU, deep merge, appended arrays capped), the live frames of
// every view (`E/state`, `E/list`, `E/append` and the sorted views a stack derives from them) and
// the snapshots that late joiners receive first.
//
// # Model
//
// A Store holds, per entity type, one LRU cache of merged entities. The three base views of an
// entity share that cache. Apply merges a batch of mutations into the caches and returns one
// sequenced Batch of frames, each already encoded to the exact bytes a client receives:
//
//   - base views get one `patch` frame per mutation (the mutation's patch with `_seq` added and
//     integers beyond ±(2^53−1) turned into strings);
//   - a channel — a view seen through a window (skip/take over the view's sort order) or through
//     field filters — gets `upsert` frames (full entity) when an entity enters it, `delete` frames
//     when one leaves, and the patch frames of the entities that stay in it.
//
// Channels exist only while someone holds them (Open/Close); frames addressed to a channel carry
// its id. Snapshot returns the entities a new subscriber starts from, together with the sequence
// number of the last batch they reflect, so a subscriber can skip live frames the snapshot already
// contains.
//
// # Concurrency
//
// A Store is safe for concurrent use. Apply is serialised by a write lock; Open, Close and Snapshot
// take a read or write lock for the time they need. Frames and snapshot entries share immutable
// byte slices: callers must not modify them.
//
// # Caveats
//
// Entities evicted from a cache leave plain list views silently (clients keep them), as with the
// original server; channels see the eviction as a `delete`. Appended arrays are capped in the cache
// (the newest MaxArrayLength items are kept) while clients keep growing their copies.
package projection
