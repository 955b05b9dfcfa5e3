// Package source consumes a Yellowstone gRPC (Geyser) Subscribe stream.
//
// # Model
//
// A Yellowstone connects to one endpoint, sends one SubscribeRequest built from Config.Filters and hands
// every SubscribeUpdate to a Handler exactly as it arrived on the wire: Update.Raw holds the frame bytes
// (byte-exact, received through a pass-through codec), Kind and Slot are read from those bytes without a
// full decode, and (*Update).Message decodes on demand.
//
// The stream is kept alive forever: after any retryable failure it reconnects with exponential backoff
// and full jitter, resuming with from_slot = Config.ResumeSlot() − Config.ResumeMargin (two slots by
// default: the updates of one slot can arrive after those of a later one). Updates that were already delivered
// (or that Config.Seen reports as already stored) are dropped, keyed by DedupKey. When the server cannot
// replay that far back (OUT_OF_RANGE, or "from_slot is not supported"), the handler receives a Gap with
// the affected slot range and the stream continues from the live head. Unauthenticated and
// PermissionDenied stop Run at once with ErrUnauthenticated.
//
// # Concurrency
//
// Run calls the handler synchronously from the goroutine that receives the stream, so a slow handler
// back-pressures the server through gRPC flow control; nothing is ever dropped. A Yellowstone may run
// one Run at a time.
package source
