// Package serve is the HyperStack WebSocket server: it speaks the protocol of the official
// `hyperstack-typescript` client (subscribe, unsubscribe, ping, refresh_auth; `subscribed`
// acknowledgements, batched and gzip-compressed snapshots, live patch/upsert/delete frames), fed by
// the pipeline through Server.Apply, and exposes health, readiness, status and Prometheus metrics
// on a separate handler.
//
// # Model
//
// Apply hands mutations to a projection.Store, which returns one sequenced batch of frames encoded
// once. The batch crosses a Broker (in memory by default; the seam where a message broker can sit
// between one pipeline and many servers) and reaches the hub, which routes each frame to the
// subscriptions of its channel: the hub's registry is sharded by channel, and every subscriber
// shares the same payload bytes.
//
// A subscription is registered before its snapshot is read; live frames that arrive meanwhile are
// held in the subscription and released after the snapshot, minus those the snapshot already
// contains (compared by batch sequence number). A client therefore sees `subscribed`, then the
// snapshot, then every later change exactly once.
//
// # Concurrency
//
// Each connection has one reader goroutine (started after the upgrade, not the HTTP handler's) and
// an outbound queue. The hub frames each live frame once (a complete WebSocket frame whose bytes
// every subscriber shares), queues it and marks the connection for its flusher: the server runs
// one flusher goroutine per GOMAXPROCS, each owning a share of the connections, and a flusher
// sends each marked connection's queue with one non-blocking write system call (several messages
// per call when frames piled up meanwhile). Most deliveries therefore cost one write system call
// and no goroutine hand-off. When the socket does not take everything, the rest is handed to the
// connection's writer goroutine, which may block (bounded by Config.WriteTimeout); the writer also
// sends acknowledgements, snapshots, error and close frames, framing what it finds into a pooled
// batch buffer and flushing once. A writer runs only while its queue is non-empty, so an idle
// connection holds no goroutine besides its reader and no write buffer.
//
// The outbound queue is bounded in bytes (Config.MaxQueueBytes, counting what is being written).
// A live frame that would overflow it disconnects the client with close code CloseSlowClient
// (4008); the broadcaster never waits for a client. Snapshots wait for queue space instead, up to
// Config.WriteTimeout, the way the reader would wait for a slow socket.
//
// Server methods are safe for concurrent use. Shutdown is idempotent.
//
// # Caveats
//
// A client whose socket buffer is full cannot receive the close frame; it sees the TCP connection
// reset (1006) instead. The differences from the original HyperStack server are listed in
// docs/protocol.md.
package serve
