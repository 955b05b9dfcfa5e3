// Package geysertest runs an in-process Yellowstone Geyser gRPC server for tests: a real
// geyserserver.Server on 127.0.0.1, fed by the test, with fault injection (drop a stream after N
// messages, stall, refuse from_slot, require a token) and a log of the requests it received.
package geysertest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/log"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/geyserserver"
	"github.com/hyperstack-go/hyperstack/internal/geyserserver/filter"
)

// Options configure Start. Zero values are test-friendly defaults.
type Options struct {
	// XToken, when set, is required from clients.
	XToken string
	// PingInterval is the server ping period; 0 means 10 s, negative disables pings.
	PingInterval time.Duration
	// ReplaySlots bounds from_slot replay; 0 means 150, negative disables from_slot.
	ReplaySlots int
	// RingSize is the per-commitment ring capacity; 0 means 65536.
	RingSize int
	// Lossy turns backpressure off: slow streams are closed as lagged, as on a real server. By
	// default Feed waits for slow streams so no update is lost.
	Lossy bool
	// TLS, when set, serves over TLS with this configuration (its certificate must name 127.0.0.1);
	// Endpoint is then https://.
	TLS *tls.Config
	// Logger for the server; nil is silent.
	Logger *log.Logger
}

// Request is one SubscribeRequest the server received.
type Request struct {
	// Stream numbers Subscribe streams from 1 in the order they sent their first request.
	Stream int
	Msg    *geyserpb.SubscribeRequest
	// XToken and MinContextSlot are the x-token and x-min-context-slot metadata of the stream.
	XToken         string
	MinContextSlot string
}

// Server is a running test server.
type Server struct {
	*geyserserver.Server
	// Addr is host:port; Endpoint is "http://" + Addr ("https://" with Options.TLS).
	Addr     string
	Endpoint string

	t testing.TB

	mu        sync.Mutex
	requests  []Request
	streams   map[context.Context]int
	applied   int
	appliedCh chan struct{} // closed and replaced whenever applied grows
	dropAfter int64         // -1: off
	dropEvery bool          // dropAfter stays armed after firing
	drops     int
	stalled   chan struct{} // non-nil while stalled; closed by Resume
	refuse    *status.Status
}

// Start starts a server on 127.0.0.1:0; it is shut down by t.Cleanup.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("geysertest: listen: %v", err)
	}
	ts := &Server{
		t:         t,
		Addr:      lis.Addr().String(),
		streams:   make(map[context.Context]int),
		appliedCh: make(chan struct{}),
		dropAfter: -1,
	}
	ts.Endpoint = "http://" + ts.Addr
	if opts.TLS != nil {
		cfg := opts.TLS.Clone()
		cfg.NextProtos = []string{"h2"} // gRPC clients require HTTP/2 by ALPN
		lis = tls.NewListener(lis, cfg)
		ts.Endpoint = "https://" + ts.Addr
	}
	ts.Server = geyserserver.New(geyserserver.Config{
		XToken:       opts.XToken,
		PingInterval: opts.PingInterval,
		ReplaySlots:  opts.ReplaySlots,
		RingSize:     opts.RingSize,
		Backpressure: !opts.Lossy,
		Logger:       opts.Logger,
		Hooks: geyserserver.Hooks{
			OnRequest:  ts.onRequest,
			OnApplied:  ts.onApplied,
			BeforeSend: ts.beforeSend,
		},
	})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ts.Server.Serve(ctx, lis) }()
	t.Cleanup(func() {
		ts.Resume()
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = ts.Server.Shutdown(sctx)
		cancel()
		if err := <-served; err != nil {
			t.Errorf("geysertest: serve: %v", err)
		}
	})
	return ts
}

func (ts *Server) onRequest(ctx context.Context, req *geyserpb.SubscribeRequest) error {
	md, _ := metadata.FromIncomingContext(ctx)
	first := func(k string) string {
		if v := md.Get(k); len(v) > 0 {
			return v[0]
		}
		return ""
	}
	ts.mu.Lock()
	defer ts.mu.Unlock()
	id, ok := ts.streams[ctx]
	if !ok {
		id = len(ts.streams) + 1
		ts.streams[ctx] = id
	}
	ts.requests = append(ts.requests, Request{
		Stream:         id,
		Msg:            proto.Clone(req).(*geyserpb.SubscribeRequest),
		XToken:         first("x-token"),
		MinContextSlot: first("x-min-context-slot"),
	})
	if ts.refuse != nil && req.FromSlot != nil {
		return ts.refuse.Err()
	}
	return nil
}

func (ts *Server) onApplied(context.Context, *filter.Filter) {
	ts.mu.Lock()
	ts.applied++
	close(ts.appliedCh)
	ts.appliedCh = make(chan struct{})
	ts.mu.Unlock()
}

func (ts *Server) beforeSend(ctx context.Context, sent uint64) error {
	ts.mu.Lock()
	stall := ts.stalled
	drop := ts.dropAfter >= 0 && sent >= uint64(ts.dropAfter)
	if drop {
		if !ts.dropEvery {
			ts.dropAfter = -1
		}
		ts.drops++
	}
	ts.mu.Unlock()
	if drop {
		return status.Error(codes.Unavailable, "geysertest: injected disconnect")
	}
	if stall != nil {
		select {
		case <-stall:
		case <-ctx.Done():
			return status.FromContextError(ctx.Err()).Err()
		}
	}
	return nil
}

// Feed publishes updates in order, failing the test on a malformed one.
func (ts *Server) Feed(updates ...*geyserpb.SubscribeUpdate) {
	ts.t.Helper()
	for _, u := range updates {
		if err := ts.Publish(u, nil); err != nil {
			ts.t.Fatalf("geysertest: publish: %v", err)
		}
	}
}

// FeedRaw publishes pre-encoded updates byte-exact.
func (ts *Server) FeedRaw(raws ...[]byte) {
	ts.t.Helper()
	for _, r := range raws {
		if err := ts.Publish(nil, r); err != nil {
			ts.t.Fatalf("geysertest: publish raw: %v", err)
		}
	}
}

// WaitApplied blocks until at least n non-ping requests (counted over all streams since Start) have
// been applied as filters, or ctx is done. Feed after it to be sure a new stream sees the updates.
func (ts *Server) WaitApplied(ctx context.Context, n int) error {
	for {
		ts.mu.Lock()
		got, ch := ts.applied, ts.appliedCh
		ts.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("geysertest: %d of %d filters applied: %w", got, n, ctx.Err())
		}
	}
}

// Applied returns how many non-ping requests were applied so far.
func (ts *Server) Applied() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.applied
}

// Requests returns the requests received so far, pings included.
func (ts *Server) Requests() []Request {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]Request(nil), ts.requests...)
}

// DropAfter arms a one-shot fault: the first stream that is about to send its (n+1)-th message
// (pings included) is closed with UNAVAILABLE instead.
func (ts *Server) DropAfter(n int) {
	ts.mu.Lock()
	ts.dropAfter, ts.dropEvery = int64(n), false
	ts.mu.Unlock()
}

// DropEvery closes every stream with UNAVAILABLE when it is about to send its (n+1)-th message,
// until DropAfter or StopDropping is called; n < 0 stops dropping.
func (ts *Server) DropEvery(n int) {
	ts.mu.Lock()
	ts.dropAfter, ts.dropEvery = int64(n), n >= 0
	ts.mu.Unlock()
}

// StopDropping disarms DropAfter and DropEvery.
func (ts *Server) StopDropping() { ts.DropEvery(-1) }

// Drops returns how many injected disconnects fired.
func (ts *Server) Drops() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.drops
}

// Stall makes every stream stop sending (pings included) until Resume; the connections stay open.
func (ts *Server) Stall() {
	ts.mu.Lock()
	if ts.stalled == nil {
		ts.stalled = make(chan struct{})
	}
	ts.mu.Unlock()
}

// Resume ends a Stall.
func (ts *Server) Resume() {
	ts.mu.Lock()
	if ts.stalled != nil {
		close(ts.stalled)
		ts.stalled = nil
	}
	ts.mu.Unlock()
}

// RefuseFromSlot makes every request carrying from_slot fail with OUT_OF_RANGE in the upstream
// wording, whatever the replay buffer holds; RefuseFromSlot(false) restores normal replay.
func (ts *Server) RefuseFromSlot(on bool) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if !on {
		ts.refuse = nil
		return
	}
	ts.refuse = status.New(codes.OutOfRange, "broadcast from requested slot is not available")
}

// RefuseFromSlotWith makes every request carrying from_slot fail with the given status.
func (ts *Server) RefuseFromSlotWith(code codes.Code, msg string) {
	ts.mu.Lock()
	ts.refuse = status.New(code, msg)
	ts.mu.Unlock()
}
