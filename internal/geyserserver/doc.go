// Package geyserserver is a Yellowstone-compatible Geyser gRPC server core: it implements
// geyserpb.GeyserServer over a feed of SubscribeUpdates that its owner publishes (a test, the traffic
// simulator, or a replayed archive).
//
// # Model
//
// The owner calls Publish for every update, in stream order. Each update is published at processed
// commitment; slot status updates drive the other levels: when SLOT_CONFIRMED (SLOT_FINALIZED) is
// published for slot S, every update of S published so far is released to the confirmed (finalized)
// stream, followed by the status update itself. Updates that arrive for a slot that already reached a
// level are released to that level at once. Slot status updates go to every level as they are
// published (filter_by_commitment then selects the one matching the stream's commitment). Updates of a
// slot reported SLOT_DEAD are never released beyond processed.
//
// Each commitment level has a bounded broadcast ring of published updates (Config.RingSize). A
// Subscribe stream reads its level's ring with its own cursor, applies its compiled filter
// (package filter) and sends the matching updates. The bytes of each update are encoded once at
// Publish (or taken as given, byte-exact, from the raw argument); per stream only the `filters`
// field is encoded, and the two parts are handed to gRPC without copying, through the server codec
// (Codec; installed by ServerOptions). A stream that falls more than a ring behind is closed with
// INTERNAL "lagged to receive geyser messages"; Publish never waits for subscribers unless
// Config.Backpressure is set (tests, simulators and benchmarks that must not lose updates).
//
// The rings double as the from_slot replay buffer: a request with from_slot replays the ring from the
// first update of that slot, if the slot is within the last Config.ReplaySlots slots and still held.
//
// # Concurrency
//
// Publish may be called from any goroutine; calls are serialised. Every Subscribe stream has one
// sending goroutine (the gRPC handler) and one receiving goroutine, which ends with the RPC.
// Shutdown is idempotent.
package geyserserver
