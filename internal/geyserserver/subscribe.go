package geyserserver

import (
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/geyserserver/filter"
)

const readBatch = 256

// pingFrame is SubscribeUpdate{ping{}}.
var pingFrame = &frame{body: []byte{0x32, 0x00}}

// inbox is what the receiving goroutine hands to the sending one. Guarded by mu.
type inbox struct {
	mu     sync.Mutex
	req    *geyserpb.SubscribeRequest // newest non-ping request not applied yet
	pongs  []int32
	err    error // the stream must end with this
	signal chan struct{}
}

func (in *inbox) notify() {
	select {
	case in.signal <- struct{}{}:
	default:
	}
}

// stream is one Subscribe call's sending side. Owned by the handler goroutine.
type stream struct {
	s      *Server
	ctx    context.Context
	grpc   grpc.ServerStream
	in     *inbox
	filter *filter.Filter

	level  int
	rd     *reader
	ring   *ring // nil while the filter is empty
	replay struct {
		active bool
		from   uint64
		end    uint64
	}

	sent       uint64
	batch      []*entry
	ids        []int
	prefixes   map[uint64][]byte
	lastMask   uint64
	lastPrefix []byte
	out        frame
}

// Subscribe serves one bidirectional Subscribe stream.
func (s *Server) Subscribe(gs grpc.BidiStreamingServer[geyserpb.SubscribeRequest, geyserpb.SubscribeUpdate]) error {
	ctx := gs.Context()
	if err := s.authorize(ctx); err != nil {
		return err
	}
	if !s.addSubscriber() {
		return status.Error(codes.ResourceExhausted, "max amount of subscriptions is reached")
	}
	defer s.removeSubscriber()
	if s.isShutdown() {
		return status.Error(codes.Unavailable, "server is shutting down")
	}
	st := &stream{
		s:     s,
		ctx:   ctx,
		grpc:  gs,
		in:    &inbox{signal: make(chan struct{}, 1)},
		rd:    &reader{wake: make(chan struct{}, 1)},
		batch: make([]*entry, 0, readBatch),
	}
	defer st.detach()
	// Send the response headers now, as tonic servers do: clients built on tonic (the official Rust
	// and Node clients) wait for them before their first request reaches the wire, and grpc-go would
	// otherwise hold them back until the first update (a ping, up to 10 s later).
	if err := gs.SendHeader(nil); err != nil {
		return err
	}
	go st.receive(gs)
	err := st.run()
	if err != nil {
		s.log.Debug("subscribe stream ended", "err", err, "sent", st.sent)
	}
	return err
}

// receive reads requests until the client half-closes or the RPC ends.
func (st *stream) receive(gs grpc.BidiStreamingServer[geyserpb.SubscribeRequest, geyserpb.SubscribeUpdate]) {
	for {
		req, err := gs.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return // half-close: keep streaming
			}
			st.in.mu.Lock()
			if st.in.err == nil {
				st.in.err = err
			}
			st.in.mu.Unlock()
			st.in.notify()
			return
		}
		if h := st.s.cfg.Hooks.OnRequest; h != nil {
			if err := h(st.ctx, req); err != nil {
				st.in.mu.Lock()
				if st.in.err == nil {
					st.in.err = err
				}
				st.in.mu.Unlock()
				st.in.notify()
				return
			}
		}
		st.in.mu.Lock()
		if req.Ping != nil {
			st.in.pongs = append(st.in.pongs, req.GetPing().GetId())
		} else {
			st.in.req = req
		}
		st.in.mu.Unlock()
		st.in.notify()
	}
}

func (st *stream) run() error {
	var tick <-chan time.Time
	if st.s.cfg.PingInterval > 0 {
		t := time.NewTicker(st.s.cfg.PingInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		if err := st.control(); err != nil {
			return err
		}
		if st.ring != nil {
			batch, seq, lagged := st.ring.read(st.rd, st.batch, true)
			if lagged {
				return status.Error(codes.Internal, "lagged to receive geyser messages")
			}
			if len(batch) > 0 {
				for i, e := range batch {
					batch[i] = nil
					if err := st.deliver(e, seq+uint64(i)); err != nil {
						return err
					}
				}
				// Check the clock between batches so pings still flow on a busy stream.
				select {
				case <-tick:
					if err := st.send(pingFrame); err != nil {
						return err
					}
				default:
				}
				continue
			}
		}
		select {
		case <-st.ctx.Done():
			return st.ctx.Err()
		case <-st.s.done:
			return status.Error(codes.Unavailable, "server is shutting down")
		case <-st.in.signal:
		case <-st.rd.wake:
		case <-tick:
			if err := st.send(pingFrame); err != nil {
				return err
			}
		}
	}
}

// control applies what the receiving side queued: an error, pongs, the newest request.
func (st *stream) control() error {
	st.in.mu.Lock()
	err, req, pongs := st.in.err, st.in.req, st.in.pongs
	st.in.req, st.in.pongs = nil, nil
	st.in.mu.Unlock()
	if err != nil {
		if _, ok := status.FromError(err); ok {
			return err
		}
		return status.Error(codes.Canceled, err.Error())
	}
	for _, id := range pongs {
		b, _ := proto.Marshal(&geyserpb.SubscribeUpdate{
			UpdateOneof: &geyserpb.SubscribeUpdate_Pong{Pong: &geyserpb.SubscribeUpdatePong{Id: id}},
		})
		if err := st.send(&frame{body: b}); err != nil {
			return err
		}
	}
	if req != nil {
		return st.apply(req)
	}
	return nil
}

func (st *stream) apply(req *geyserpb.SubscribeRequest) error {
	f, err := filter.CompileWithLimits(req, st.s.cfg.Limits)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "failed to create filter: %v", err)
	}
	level := levelOf(f.Commitment())
	if req.FromSlot != nil {
		if st.s.cfg.ReplaySlots < 0 {
			return status.Error(codes.Internal, "from_slot is not supported")
		}
		st.detach()
		r := st.s.rings[level]
		end, first, ok := r.replayStart(st.rd, req.GetFromSlot(), uint64(st.s.cfg.ReplaySlots))
		if !ok {
			return status.Errorf(codes.OutOfRange, "broadcast from %d is not available, last available: %d",
				req.GetFromSlot(), first)
		}
		st.ring, st.level = r, level
		st.replay.active, st.replay.from, st.replay.end = true, req.GetFromSlot(), end
	} else if f.Empty() {
		st.detach()
	} else if st.ring == nil || level != st.level {
		st.detach()
		st.ring, st.level = st.s.rings[level], level
		st.ring.attachLive(st.rd)
	}
	st.filter = f
	st.prefixes, st.lastMask, st.lastPrefix = nil, 0, nil
	if h := st.s.cfg.Hooks.OnApplied; h != nil {
		h(st.ctx, f)
	}
	return nil
}

func (st *stream) detach() {
	if st.ring != nil {
		st.ring.detach(st.rd)
		st.ring = nil
	}
	st.replay.active = false
}

// deliver sends what entry seq becomes under the stream's filter. While replaying (entries older than
// the from_slot request), updates of slots below from_slot are skipped.
func (st *stream) deliver(e *entry, seq uint64) error {
	if st.replay.active {
		if seq >= st.replay.end {
			st.replay.active = false
		} else if e.slot < st.replay.from {
			return nil
		}
	}
	f := st.filter
	st.ids = f.AppendMatch(st.ids[:0], e.msg)
	if len(st.ids) > 0 {
		switch {
		case e.kind == geyserpb.KindBlock:
			for _, id := range st.ids {
				b, err := proto.MarshalOptions{Deterministic: true}.Marshal(f.BlockView(e.msg, id))
				if err != nil {
					return status.Errorf(codes.Internal, "encode block: %v", err)
				}
				if err := st.send(&frame{body: b}); err != nil {
					return err
				}
			}
		case e.kind == geyserpb.KindAccount && f.HasDataSlices():
			m := f.AccountView(e.msg)
			m.Filters = f.Names(st.ids)
			b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
			if err != nil {
				return status.Errorf(codes.Internal, "encode account: %v", err)
			}
			if err := st.send(&frame{body: b}); err != nil {
				return err
			}
		default:
			st.out.prefix, st.out.body = st.prefix(st.ids), e.body
			if err := st.send(&st.out); err != nil {
				return err
			}
		}
	}
	if e.kind == geyserpb.KindTransaction {
		st.ids = f.AppendMatchStatus(st.ids[:0], e.msg)
		if len(st.ids) > 0 {
			st.out.prefix, st.out.body = st.prefix(st.ids), e.transactionStatusBody()
			if err := st.send(&st.out); err != nil {
				return err
			}
		}
	}
	return nil
}

// prefix returns the encoded `filters` entries for ids, cached per match set.
func (st *stream) prefix(ids []int) []byte {
	f := st.filter
	if f.Len() > 64 {
		return appendFilterNames(nil, f.Names(ids)...)
	}
	var mask uint64
	for _, id := range ids {
		mask |= 1 << uint(id)
	}
	if mask == st.lastMask && st.lastPrefix != nil {
		return st.lastPrefix
	}
	p, ok := st.prefixes[mask]
	if !ok {
		if st.prefixes == nil {
			st.prefixes = make(map[uint64][]byte)
		}
		p = appendFilterNames(nil, f.Names(ids)...)
		st.prefixes[mask] = p
	}
	st.lastMask, st.lastPrefix = mask, p
	return p
}

func (st *stream) send(f *frame) error {
	if h := st.s.cfg.Hooks.BeforeSend; h != nil {
		if err := h(st.ctx, st.sent); err != nil {
			return err
		}
	}
	if err := st.grpc.SendMsg(f); err != nil {
		return err
	}
	st.sent++
	return nil
}
