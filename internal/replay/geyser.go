package replay

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"time"

	"github.com/charmbracelet/log"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/geyserserver"
	"github.com/hyperstack-go/hyperstack/internal/geyserserver/filter"
)

// GeyserOptions configure ServeGeyser.
type GeyserOptions struct {
	// FromSlot and ToSlot bound the slots served (inclusive); ToSlot 0 means the end.
	FromSlot, ToSlot uint64
	// Speed scales the recorded pace (2 = twice as fast); 0 serves as fast as the subscribers take it.
	Speed float64
	// WaitSubscribers is how many subscriptions with a real filter must exist before the archive
	// starts flowing; 0 starts at once.
	WaitSubscribers int
	// XToken, when set, is required from clients.
	XToken string
	// PingInterval is the server's ping period; 0 means the Yellowstone default (10 s).
	PingInterval time.Duration
	// Ready, when set, is called once publishing starts; Done after the last update was published.
	Ready, Done func()
	Logger      *log.Logger
}

// ffRequest asks the publisher to move the stream's "now" forward to slot: every update before the
// first one of slot or later is published at once, then done is closed.
type ffRequest struct {
	slot uint64
	done chan struct{}
}

// ServeGeyser serves the archive's updates as a Yellowstone gRPC endpoint on lis, through the
// Yellowstone-compatible server core (internal/geyserserver): byte-exact updates, filters,
// commitment levels, pings and the from_slot replay buffer.
//
// The archive is a timeline whose "now" starts at FromSlot and advances as updates are published
// (paced by Speed). A subscription whose from_slot lies ahead of now moves now forward to that slot
// at once (the skipped updates still reach other live subscribers) and then streams from it; a
// from_slot behind now is replayed from the server's buffer like on the real service, or refused
// with OutOfRange when it is too old. Publishing waits for slow subscribers rather than dropping
// them. ServeGeyser returns when ctx ends; after the last update the endpoint stays up (pings only)
// until then.
func ServeGeyser(ctx context.Context, a *archive.Archive, lis net.Listener, opts GeyserOptions) error {
	var (
		mu      sync.Mutex
		pending = map[context.Context]bool{}
		applied int
		ready   = make(chan struct{})
		once    sync.Once
		ff      = make(chan ffRequest)
	)
	start := func() { once.Do(func() { close(ready) }) }
	hooks := geyserserver.Hooks{
		OnRequest: func(sctx context.Context, req *geyserpb.SubscribeRequest) error {
			if req.Ping != nil || !hasFilters(req) {
				return nil
			}
			mu.Lock()
			pending[sctx] = true
			mu.Unlock()
			if req.FromSlot == nil {
				return nil
			}
			r := ffRequest{slot: req.GetFromSlot(), done: make(chan struct{})}
			select {
			case ff <- r:
			case <-sctx.Done():
				return sctx.Err()
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case <-r.done:
				return nil
			case <-sctx.Done():
				return sctx.Err()
			case <-ctx.Done():
				return ctx.Err()
			}
		},
		OnApplied: func(sctx context.Context, _ *filter.Filter) {
			mu.Lock()
			defer mu.Unlock()
			if pending[sctx] {
				delete(pending, sctx)
				applied++
				if applied >= opts.WaitSubscribers {
					start()
				}
			}
		},
	}
	srv := geyserserver.New(geyserserver.Config{XToken: opts.XToken, Backpressure: true, Hooks: hooks,
		PingInterval: opts.PingInterval, Logger: opts.Logger})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx, lis) }()
	if opts.WaitSubscribers <= 0 {
		start()
	}

	p := &publisher{ctx: ctx, srv: srv, ff: ff, ready: ready, speed: opts.Speed, onReady: opts.Ready}
	to := opts.ToSlot
	if to == 0 {
		to = math.MaxUint64
	}
	err := a.Scan(ctx, opts.FromSlot, to, p.update)
	p.ackAll()
	if err != nil && ctx.Err() == nil {
		_ = waitServe(srv, errc)
		return err
	}
	if err == nil && opts.Done != nil {
		opts.Done()
	}
	for {
		select {
		case r := <-ff:
			close(r.done) // nothing left to move to
		case <-ctx.Done():
			return waitServe(srv, errc)
		case err := <-errc:
			return err
		}
	}
}

// publisher feeds the archive's updates to the server; it runs on ServeGeyser's goroutine.
type publisher struct {
	ctx     context.Context
	srv     *geyserserver.Server
	ff      chan ffRequest
	ready   chan struct{}
	started bool
	onReady func()
	speed   float64

	target  uint64          // fast-forward target slot
	waiting []chan struct{} // fast-forward requests to acknowledge

	first, wall time.Time // pacing baseline: an update's receive time and when it was published
}

func (p *publisher) take(r ffRequest) {
	if len(p.waiting) == 0 {
		p.target = r.slot
	} else {
		p.target = max(p.target, r.slot)
	}
	p.waiting = append(p.waiting, r.done)
}

func (p *publisher) ackAll() {
	for _, d := range p.waiting {
		close(d)
	}
	p.waiting = p.waiting[:0]
	p.first = time.Time{} // pacing restarts from here
}

func (p *publisher) update(u archive.Update) error {
	for {
		for more := true; more; {
			select {
			case r := <-p.ff:
				p.take(r)
			default:
				more = false
			}
		}
		if len(p.waiting) > 0 {
			if !u.HasSlot || u.Slot < p.target {
				return p.publish(u) // moving forward: no pacing
			}
			p.ackAll()
		}
		if p.started {
			break
		}
		// Before the first subscriber: wait, but serve fast-forward requests.
		select {
		case <-p.ready:
			p.started = true
			if p.onReady != nil {
				p.onReady()
			}
		case r := <-p.ff:
			p.take(r)
		case <-p.ctx.Done():
			return p.ctx.Err()
		}
	}
	if p.speed > 0 && !u.ReceivedAt.IsZero() {
		if p.first.IsZero() {
			p.first, p.wall = u.ReceivedAt, time.Now()
		} else if wait := time.Duration(float64(u.ReceivedAt.Sub(p.first))/p.speed) - time.Since(p.wall); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-p.ctx.Done():
				t.Stop()
				return p.ctx.Err()
			case r := <-p.ff:
				t.Stop()
				p.take(r)
				return p.update(u) // re-evaluate this update under the fast-forward
			case <-t.C:
			}
		}
	}
	return p.publish(u)
}

func (p *publisher) publish(u archive.Update) error {
	msg, err := u.Decode()
	if err != nil {
		return fmt.Errorf("update %d: %w", u.Seq, err)
	}
	return p.srv.Publish(msg, u.Raw)
}

func waitServe(srv *geyserserver.Server, errc chan error) error {
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	err := <-errc
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

func hasFilters(r *geyserpb.SubscribeRequest) bool {
	return len(r.Accounts)+len(r.Slots)+len(r.Transactions)+len(r.TransactionsStatus)+len(r.Blocks)+
		len(r.BlocksMeta)+len(r.Entry) > 0
}
