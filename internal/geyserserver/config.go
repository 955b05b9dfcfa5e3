package geyserserver

import (
	"context"
	"time"

	"github.com/charmbracelet/log"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/geyserserver/filter"
)

// Defaults for zero Config fields.
const (
	DefaultPingInterval     = 10 * time.Second
	DefaultReplaySlots      = 150
	DefaultRingSize         = 1 << 16
	DefaultMaxRecvBytes     = 64 << 20
	DefaultKeepaliveMinTime = 5 * time.Second
	DefaultMaxPendingSlots  = 1024
	// MaxRecentBlockhashes is how many block heights a blockhash stays valid (Solana's
	// MAX_RECENT_BLOCKHASHES).
	MaxRecentBlockhashes = 300
)

// Config configures a Server. The zero value is a usable real-server configuration.
type Config struct {
	// XToken, when set, is required in the x-token metadata of every call (else UNAUTHENTICATED).
	XToken string
	// PingInterval is the period of the server's ping updates on every Subscribe stream; 0 means
	// DefaultPingInterval (10 s), negative disables pings.
	PingInterval time.Duration
	// ReplaySlots is how many of the most recent slots a from_slot request may replay; 0 means
	// DefaultReplaySlots (150), negative disables from_slot (INTERNAL "from_slot is not supported").
	// Replay is also limited to what the rings still hold.
	ReplaySlots int
	// RingSize is the number of updates each commitment ring holds (rounded up to a power of two): the
	// replay depth in updates and how far a stream may fall behind before it is closed as lagged; 0
	// means DefaultRingSize (65536). Memory: the rings share entries, each holding the update's
	// encoding and its decoded form, so budget about RingSize × 2.5 × the average encoded size.
	RingSize int
	// Backpressure makes Publish wait for the slowest stream instead of closing it as lagged.
	Backpressure bool
	// MaxSubscribers bounds concurrent Subscribe streams (RESOURCE_EXHAUSTED beyond); 0 is unlimited.
	MaxSubscribers int
	// MaxRecvBytes bounds one received request; 0 means DefaultMaxRecvBytes (64 MiB).
	MaxRecvBytes int
	// KeepaliveMinTime is the shortest client keepalive interval tolerated; 0 means 5 s.
	KeepaliveMinTime time.Duration
	// MaxPendingSlots bounds the slots whose updates are held for confirmed/finalized release; 0
	// means DefaultMaxPendingSlots (1024).
	MaxPendingSlots int
	// Limits bound the filters a request may ask for; zero fields take filter.DefaultLimits.
	Limits filter.Limits
	// Version is reported by GetVersion; empty means "dev".
	Version string
	// UnaryDisabled makes the unary methods answer UNIMPLEMENTED("method disabled").
	UnaryDisabled bool
	// Hooks observe and perturb streams (tests, fault injection); all optional.
	Hooks Hooks
	// Logger receives stream lifecycle messages; nil is silent.
	Logger *log.Logger
}

// Hooks let an owner observe requests and inject faults. They run on the stream's goroutines and
// must be safe for concurrent use across streams.
type Hooks struct {
	// OnRequest sees every request received on a Subscribe stream (pings included) before it is
	// applied; a non-nil error (use a gRPC status) ends the stream with it.
	OnRequest func(ctx context.Context, req *geyserpb.SubscribeRequest) error
	// OnApplied is called after a non-ping request became the stream's filter.
	OnApplied func(ctx context.Context, f *filter.Filter)
	// BeforeSend runs before each message sent on a stream, with the number sent so far on it. It may
	// block (a stall) until ctx is done; a non-nil error ends the stream with it.
	BeforeSend func(ctx context.Context, sent uint64) error
}

func (c Config) withDefaults() Config {
	if c.PingInterval == 0 {
		c.PingInterval = DefaultPingInterval
	}
	if c.ReplaySlots == 0 {
		c.ReplaySlots = DefaultReplaySlots
	}
	if c.RingSize <= 0 {
		c.RingSize = DefaultRingSize
	}
	n := 1
	for n < c.RingSize {
		n <<= 1
	}
	c.RingSize = n
	if c.MaxRecvBytes <= 0 {
		c.MaxRecvBytes = DefaultMaxRecvBytes
	}
	if c.KeepaliveMinTime <= 0 {
		c.KeepaliveMinTime = DefaultKeepaliveMinTime
	}
	if c.MaxPendingSlots <= 0 {
		c.MaxPendingSlots = DefaultMaxPendingSlots
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	return c
}
