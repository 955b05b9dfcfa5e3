package source

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/log"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding/gzip"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// Yellowstone is a reconnecting Yellowstone gRPC Subscribe client. Create it with New.
type Yellowstone struct {
	cfg        Config
	target     Target
	commitment geyserpb.CommitmentLevel
	request    *geyserpb.SubscribeRequest
	backoff    Backoff
	log        *log.Logger
	clock      Clock
	running    atomic.Bool
}

// New validates cfg and returns a client; it does not connect (Run does).
func New(cfg Config) (*Yellowstone, error) {
	t, err := ParseEndpoint(cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	c, err := ParseCommitment(cfg.Commitment)
	if err != nil {
		return nil, err
	}
	req, err := cfg.Filters.Request(c)
	if err != nil {
		return nil, err
	}
	if cfg.MaxRecvBytes < 0 {
		return nil, fmt.Errorf("%w: max receive bytes %d is negative", ErrBadConfig, cfg.MaxRecvBytes)
	}
	if cfg.MaxRecvBytes == 0 {
		cfg.MaxRecvBytes = DefaultMaxRecvBytes
	}
	if cfg.Keepalive.Time == 0 {
		cfg.Keepalive.Time = DefaultKeepaliveTime
	}
	if cfg.Keepalive.Timeout <= 0 {
		cfg.Keepalive.Timeout = DefaultKeepaliveTimeout
	}
	if cfg.StallTimeout == 0 {
		cfg.StallTimeout = DefaultStallTimeout
	}
	if cfg.DedupSlots == 0 {
		cfg.DedupSlots = DefaultDedupSlots
	}
	switch {
	case cfg.ResumeMargin == 0:
		cfg.ResumeMargin = DefaultResumeMargin
	case cfg.ResumeMargin < 0:
		cfg.ResumeMargin = 0
	}
	y := &Yellowstone{
		cfg:        cfg,
		target:     t,
		commitment: c,
		request:    req,
		backoff:    cfg.Backoff.withDefaults(),
		log:        cfg.Logger,
		clock:      cfg.Clock,
	}
	if y.log == nil {
		y.log = log.New(io.Discard)
	}
	if y.clock == nil {
		y.clock = systemClock{}
	}
	return y, nil
}

// Request returns a copy of the SubscribeRequest sent on every connection (without from_slot).
func (y *Yellowstone) Request() *geyserpb.SubscribeRequest {
	return proto.Clone(y.request).(*geyserpb.SubscribeRequest)
}

// Endpoint returns the endpoint with anything but scheme, host and port removed.
func (y *Yellowstone) Endpoint() string { return RedactEndpoint(y.cfg.Endpoint) }

// Target returns the parsed endpoint.
func (y *Yellowstone) Target() Target { return y.target }

// Commitment returns the subscription's commitment level.
func (y *Yellowstone) Commitment() geyserpb.CommitmentLevel { return y.commitment }

// runState is what survives reconnects within one Run.
type runState struct {
	dedup        *dedupSet
	maxDelivered uint64 // highest slot handed to the handler; 0 before the first
	pendingGap   *Gap   // a refused from_slot whose end is not known yet
	delivered    uint64
	duplicates   uint64
}

// handlerError marks an error returned by the Handler: Run returns it as is.
type handlerError struct{ err error }

func (e *handlerError) Error() string { return e.err.Error() }
func (e *handlerError) Unwrap() error { return e.err }

// errStalled ends a stream that went silent for longer than Config.StallTimeout.
var errStalled = errors.New("stream stalled")

// Run subscribes and delivers updates to h until ctx is done (returning ctx.Err()), the handler fails
// (returning its error), or the server rejects the subscription for good (ErrUnauthenticated,
// ErrRejected). Every other failure is retried forever with backoff.
func (y *Yellowstone) Run(ctx context.Context, h Handler) error {
	if !y.running.CompareAndSwap(false, true) {
		return ErrRunning
	}
	defer y.running.Store(false)

	st := &runState{dedup: newDedupSet()}
	attempt := 0
	for {
		resume, hasFrom := y.resumeSlot(st)
		if st.pendingGap != nil {
			hasFrom = false // the server refused to replay: join the live head
		}
		from := y.fromSlot(resume)
		healthy, err := y.stream(ctx, h, st, from, resume, hasFrom)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var he *handlerError
		if errors.As(err, &he) {
			return he.err
		}
		s, _ := status.FromError(err)
		code := s.Code()
		if errors.Is(err, io.EOF) || errors.Is(err, errStalled) {
			code = codes.Unavailable
		}
		switch code {
		case codes.Unauthenticated, codes.PermissionDenied:
			y.log.Error("server rejected the credentials; not retrying", "code", code, "message", s.Message())
			return fmt.Errorf("%w (%s: %s)", ErrUnauthenticated, code, s.Message())
		case codes.InvalidArgument, codes.NotFound, codes.AlreadyExists, codes.FailedPrecondition,
			codes.Unimplemented:
			y.log.Error("server rejected the subscription; not retrying", "code", code, "message", s.Message())
			return fmt.Errorf("%w (%s: %s)", ErrRejected, code, s.Message())
		}
		if hasFrom && replayRefused(s) {
			reason := fmt.Sprintf("%s: %s", code, s.Message())
			st.pendingGap = &Gap{FromSlot: from, Reason: reason}
			y.log.Warn("server cannot replay from the resume slot; continuing from the live head",
				"from_slot", from, "reason", reason)
			continue // not a connectivity failure: reconnect at once, live
		}
		if healthy {
			attempt = 0
		}
		delay := y.backoff.Jitter(y.backoff.Ceiling(attempt))
		attempt++
		y.log.Warn("stream failed; retrying", "attempt", attempt, "delay", delay, "err", errText(err))
		if err := y.clock.Sleep(ctx, delay); err != nil {
			return err
		}
	}
}

func errText(err error) string {
	if s, ok := status.FromError(err); ok && err != nil {
		return s.Code().String() + ": " + s.Message()
	}
	if err == nil {
		return "stream ended"
	}
	return err.Error()
}

// replayRefused tells whether s is the server's answer to a from_slot it cannot serve.
func replayRefused(s *status.Status) bool {
	switch s.Code() {
	case codes.OutOfRange:
		return true
	case codes.Internal:
		return strings.Contains(s.Message(), "from_slot is not supported")
	}
	return false
}

// fromSlot is the from_slot that resumes at resume: ResumeMargin slots earlier, but not below slot 1.
func (y *Yellowstone) fromSlot(resume uint64) uint64 {
	if m := uint64(y.cfg.ResumeMargin); resume > m {
		return resume - m
	}
	return min(resume, 1)
}

func (y *Yellowstone) resumeSlot(st *runState) (uint64, bool) {
	if y.cfg.ResumeSlot != nil {
		return y.cfg.ResumeSlot()
	}
	if st.maxDelivered > 0 {
		return st.maxDelivered, true
	}
	return 0, false
}

// HTTP/2 flow-control windows and the transport read buffer of the client connection.
const (
	streamWindow = 4 << 20
	connWindow   = 8 << 20
	readBuffer   = 256 << 10
)

func (y *Yellowstone) dialOptions() []grpc.DialOption {
	var opts []grpc.DialOption
	if y.target.TLS {
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{
			ServerName: y.target.ServerName,
			RootCAs:    y.cfg.RootCAs,
			MinVersion: tls.VersionTLS12,
		})))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if y.cfg.Keepalive.Time > 0 {
		opts = append(opts, grpc.WithKeepaliveParams(keepalive.ClientParameters{
			Time:                y.cfg.Keepalive.Time,
			Timeout:             y.cfg.Keepalive.Timeout,
			PermitWithoutStream: true,
		}))
	}
	opts = append(opts,
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(y.cfg.MaxRecvBytes)),
		grpc.WithUserAgent("hyperstack"),
		// A Geyser stream is one long, fast, one-way flow: fixed large HTTP/2 windows keep the
		// server sending instead of waiting for window updates (the default starts at 64 KiB and
		// grows by estimation), and a larger read buffer takes in several frames per system call.
		grpc.WithInitialWindowSize(streamWindow),
		grpc.WithInitialConnWindowSize(connWindow),
		grpc.WithReadBufferSize(readBuffer),
	)
	return append(opts, y.cfg.DialOptions...)
}

// stream runs one connection, replaying from from_slot from when hasFrom (resume is the slot it
// resumes at). healthy reports that it received messages and lasted at least Backoff.ResetAfter.
func (y *Yellowstone) stream(ctx context.Context, h Handler, st *runState, from, resume uint64, hasFrom bool) (healthy bool, err error) {
	cc, err := grpc.NewClient(y.target.Address, y.dialOptions()...)
	if err != nil {
		return false, err
	}
	defer cc.Close()

	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	md := metadata.MD{}
	if y.cfg.XToken != "" {
		md.Set("x-token", y.cfg.XToken)
	}
	req := y.request
	if hasFrom {
		req = proto.Clone(y.request).(*geyserpb.SubscribeRequest)
		req.FromSlot = &from
		md.Set("x-min-context-slot", strconv.FormatUint(from, 10))
	}
	sctx = metadata.NewOutgoingContext(sctx, md)
	callOpts := []grpc.CallOption{grpc.ForceCodecV2(rawCodec{})}
	if y.cfg.Gzip {
		callOpts = append(callOpts, grpc.UseCompressor(gzip.Name))
	}
	stream, err := geyserpb.NewGeyserClient(cc).Subscribe(sctx, callOpts...)
	if err != nil {
		return false, err
	}
	if err := stream.SendMsg(req); err != nil {
		// The real error arrives with the status on the receive side.
		if _, rerr := stream.Header(); rerr != nil {
			return false, rerr
		}
		var f rawFrame
		if rerr := stream.RecvMsg(&f); rerr != nil {
			return false, rerr
		}
		return false, err
	}
	start := y.clock.Now()
	received := false
	if hasFrom {
		y.log.Info("subscribed", "endpoint", y.Endpoint(), "commitment", y.commitment, "from_slot", from)
	} else {
		y.log.Info("subscribed", "endpoint", y.Endpoint(), "commitment", y.commitment)
	}

	var lastRecv atomic.Int64
	lastRecv.Store(start.UnixNano())
	if y.cfg.StallTimeout > 0 {
		done := make(chan struct{})
		defer close(done)
		go y.watchStall(sctx, done, cancel, &lastRecv)
	}

	// Duplicates can only be replays of what an earlier connection (or process) delivered.
	dedupHigh := st.maxDelivered
	seenHigh := uint64(0)
	if hasFrom {
		seenHigh = resume
	}
	pingReply := &geyserpb.SubscribeRequest{Ping: &geyserpb.SubscribeRequestPing{Id: 1}}
	// A lent frame is released when the next one is read, or when the stream ends: after the
	// handler is done with it whichever way the iteration left.
	f := rawFrame{lend: y.cfg.LendRaw}
	defer f.release()
	for {
		f.release()
		if err := stream.RecvMsg(&f); err != nil {
			healthy = received && y.clock.Now().Sub(start) >= y.backoff.ResetAfter
			if c := context.Cause(sctx); errors.Is(c, errStalled) {
				return healthy, c
			}
			return healthy, err
		}
		now := y.clock.Now()
		received = true
		lastRecv.Store(now.UnixNano())
		var sc scanned
		if err := scanUpdate(f.b, &sc); err != nil {
			y.log.Warn("malformed update from the server", "bytes", len(f.b), "err", err)
		}
		kind, slot := sc.kind, sc.slot
		if kind == geyserpb.KindPing {
			// Answering keeps load balancers that close client-silent streams happy. A ping request
			// never replaces the filter.
			if err := stream.SendMsg(pingReply); err != nil {
				y.log.Debug("ping reply failed", "err", err)
			}
		}
		var kh keyHash
		if sc.hasKey {
			kh = st.dedup.hash(sc.key)
			// Only a replay (slots up to what was delivered, or stored before, when this stream
			// started) can repeat an update.
			if (slot <= dedupHigh && st.dedup.has(slot, kh)) ||
				(slot <= seenHigh && y.cfg.Seen != nil && y.cfg.Seen(string(sc.key))) {
				st.duplicates++
				continue
			}
		}
		if st.pendingGap != nil && slot > 0 {
			g := *st.pendingGap
			g.ToSlot = max(slot, g.FromSlot)
			st.pendingGap = nil
			y.log.Warn("gap: updates in these slots may be missing", "from_slot", g.FromSlot, "to_slot", g.ToSlot,
				"reason", g.Reason)
			if err := h.OnGap(g); err != nil {
				return false, &handlerError{err}
			}
		}
		if err := h.OnUpdate(&Update{Raw: f.b, Kind: kind, Slot: slot, ReceivedAt: now}); err != nil {
			return false, &handlerError{err}
		}
		st.delivered++
		if sc.hasKey {
			st.dedup.add(slot, kh)
		}
		if slot > st.maxDelivered {
			st.maxDelivered = slot
			st.dedup.prune(y.dedupCutoff(slot))
		}
	}
}

// dedupCutoff is the lowest slot whose keys must be kept: a reconnect replays from ResumeMargin
// slots below the resume slot, so nothing below that is replayed; and no more than DedupSlots slots
// are kept in any case.
func (y *Yellowstone) dedupCutoff(maxDelivered uint64) uint64 {
	cutoff := uint64(0)
	if maxDelivered > y.cfg.DedupSlots {
		cutoff = maxDelivered - y.cfg.DedupSlots
	}
	resume := maxDelivered
	if y.cfg.ResumeSlot != nil {
		r, ok := y.cfg.ResumeSlot()
		if !ok {
			return cutoff
		}
		resume = r
	}
	return max(cutoff, y.fromSlot(min(resume, maxDelivered)))
}

func (y *Yellowstone) watchStall(ctx context.Context, done <-chan struct{}, cancel context.CancelCauseFunc, last *atomic.Int64) {
	tick := y.cfg.StallTimeout / 4
	if tick < time.Millisecond {
		tick = time.Millisecond
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			idle := y.clock.Now().Sub(time.Unix(0, last.Load()))
			if idle >= y.cfg.StallTimeout {
				y.log.Warn("stream stalled; reconnecting", "idle", idle.Round(time.Millisecond))
				cancel(errStalled)
				return
			}
		}
	}
}
