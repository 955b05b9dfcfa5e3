package serve

import (
	"fmt"
	"time"

	"github.com/charmbracelet/log"

	"github.com/hyperstack-go/hyperstack/internal/projection"
)

// Defaults used when a Config field is zero.
const (
	DefaultAddr               = ":8877"
	DefaultHealthAddr         = ":8081"
	DefaultMaxClients         = 10000
	DefaultMaxMessageBytes    = 64 << 10
	DefaultMaxQueueBytes      = 1 << 20
	DefaultMaxSubscriptions   = 1024
	DefaultWriteTimeout       = 5 * time.Second
	DefaultSendBufferBytes    = 128 << 10
	DefaultReadBufferSize     = 1024
	DefaultWriteBufferSize    = 4096
	DefaultGzipThreshold      = 1024
	DefaultSnapshotFirstBatch = 50
	DefaultSnapshotBatch      = 100
	DefaultCloseGrace         = time.Second
	DefaultShutdownTimeout    = 10 * time.Second
)

// Close codes the server sends. Codes 4000-4999 are the application range of RFC 6455; the
// official client reconnects with backoff after any of them.
const (
	// CloseSlowClient closes a connection whose outbound queue overflowed, reason "slow client".
	CloseSlowClient = 4008
)

// Config configures a Server. The zero value serves on the default ports with auth off; every field
// documents what zero means.
type Config struct {
	// Addr is the WebSocket listen address. Empty means DefaultAddr.
	Addr string
	// HealthAddr is the health, status and metrics listen address. Empty means DefaultHealthAddr;
	// "-" disables the listener (HealthHandler still works).
	HealthAddr string
	// Store configures the entity cache and views.
	Store projection.Config
	// Broker carries frame batches from Apply to the hub. Nil means a private in-memory broker,
	// closed by Shutdown; a supplied broker is not closed.
	Broker Broker
	// Auth enables token checks. Nil means every connection is let in.
	Auth *AuthConfig
	// MaxClients bounds concurrent WebSocket clients. Zero means DefaultMaxClients.
	MaxClients int
	// MaxConnectionsPerIP bounds concurrent clients per remote IP. Zero means no per-IP limit.
	MaxConnectionsPerIP int
	// TrustForwardedFor takes the client IP from X-Forwarded-For (first address) when set. Only
	// enable it behind a proxy that sets the header.
	TrustForwardedFor bool
	// MaxMessageBytes bounds one inbound message; a larger one closes the connection with 1009.
	// Zero means DefaultMaxMessageBytes.
	MaxMessageBytes int64
	// MaxQueueBytes bounds the bytes queued or being written to one client. Zero means
	// DefaultMaxQueueBytes.
	MaxQueueBytes int
	// MaxSubscriptions bounds the subscriptions of one connection. Zero means
	// DefaultMaxSubscriptions.
	MaxSubscriptions int
	// WriteTimeout bounds one flush to a client and the wait of a snapshot for queue space. Zero
	// means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// SendBufferBytes sets the kernel send buffer of each client socket, so that a stalled client
	// holds little host memory and is detected quickly. Zero means DefaultSendBufferBytes; negative
	// leaves the system default.
	SendBufferBytes int
	// ReadBufferSize is each connection's read buffer. Zero means DefaultReadBufferSize.
	ReadBufferSize int
	// WriteBufferSize is the size of the pooled buffers messages are framed in. Zero means
	// DefaultWriteBufferSize.
	WriteBufferSize int
	// GzipThreshold is the smallest snapshot frame that is gzip-compressed (and sent compressed
	// only when that makes it smaller). Zero means DefaultGzipThreshold; negative disables gzip.
	GzipThreshold int
	// SnapshotFirstBatch and SnapshotBatch are the entities per snapshot frame: the first frame,
	// then each later one. Zero means DefaultSnapshotFirstBatch and DefaultSnapshotBatch.
	SnapshotFirstBatch int
	SnapshotBatch      int
	// CloseGrace is how long a closed connection waits for the client's close reply before the
	// socket is dropped. Zero means DefaultCloseGrace.
	CloseGrace time.Duration
	// ShutdownTimeout bounds the Shutdown that ListenAndServe runs when its context ends. Zero
	// means DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
	// Debug serves /debug/views and /debug/entities on the health handler.
	Debug bool
	// Logger receives the server's log lines; nil means silent.
	Logger *log.Logger
}

func (c *Config) normalize() error {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	if c.Addr == "" {
		c.Addr = DefaultAddr
	}
	if c.HealthAddr == "" {
		c.HealthAddr = DefaultHealthAddr
	}
	def(&c.MaxClients, DefaultMaxClients)
	def(&c.MaxQueueBytes, DefaultMaxQueueBytes)
	def(&c.MaxSubscriptions, DefaultMaxSubscriptions)
	def(&c.SendBufferBytes, DefaultSendBufferBytes)
	def(&c.ReadBufferSize, DefaultReadBufferSize)
	def(&c.WriteBufferSize, DefaultWriteBufferSize)
	def(&c.GzipThreshold, DefaultGzipThreshold)
	def(&c.SnapshotFirstBatch, DefaultSnapshotFirstBatch)
	def(&c.SnapshotBatch, DefaultSnapshotBatch)
	if c.MaxMessageBytes == 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = DefaultWriteTimeout
	}
	if c.CloseGrace == 0 {
		c.CloseGrace = DefaultCloseGrace
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = DefaultShutdownTimeout
	}
	switch {
	case c.MaxClients < 0, c.MaxConnectionsPerIP < 0, c.MaxQueueBytes < 0, c.MaxSubscriptions < 0,
		c.ReadBufferSize < 0, c.WriteBufferSize < 0, c.SnapshotFirstBatch < 0, c.SnapshotBatch < 0,
		c.MaxMessageBytes < 0, c.WriteTimeout < 0, c.CloseGrace < 0, c.ShutdownTimeout < 0:
		return fmt.Errorf("%w: limits, sizes and durations must not be negative", ErrBadConfig)
	}
	if c.Auth != nil {
		if err := c.Auth.validate(); err != nil {
			return fmt.Errorf("%w: %v", ErrBadConfig, err)
		}
	}
	return nil
}
