package replay

import (
	"context"
	"errors"
	"fmt"
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
	// Speed scales the recorded pace; 0 serves as fast as the subscribers take it.
	Speed float64
	// WaitSubscribers is how many subscriptions with a real filter must exist before the archive
	// starts flowing; 0 starts at once.
	WaitSubscribers int
	// XToken, when set, is required from clients.
	XToken string
	// Ready, when set, is called once publishing starts.
	Ready  func()
	Logger *log.Logger
}

// ServeGeyser serves the archive's updates as a Yellowstone gRPC endpoint on lis: byte-exact, with
// filters, commitment, pings and the from_slot replay buffer of the real service. It returns when
// ctx ends; after the last update the endpoint stays up (pings only) until then.
func ServeGeyser(ctx context.Context, a *archive.Archive, lis net.Listener, opts GeyserOptions) error {
	var (
		mu      sync.Mutex
		real    = map[context.Context]bool{}
		applied int
		ready   = make(chan struct{})
		once    sync.Once
	)
	hooks := geyserserver.Hooks{
		OnRequest: func(sctx context.Context, req *geyserpb.SubscribeRequest) error {
			if req.Ping == nil && hasFilters(req) {
				mu.Lock()
				real[sctx] = true
				mu.Unlock()
			}
			return nil
		},
		OnApplied: func(sctx context.Context, _ *filter.Filter) {
			mu.Lock()
			defer mu.Unlock()
			if real[sctx] {
				delete(real, sctx)
				applied++
				if applied >= opts.WaitSubscribers {
					once.Do(func() { close(ready) })
				}
			}
		},
	}
	srv := geyserserver.New(geyserserver.Config{XToken: opts.XToken, Backpressure: true, Hooks: hooks, Logger: opts.Logger})
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ctx, lis) }()
	if opts.WaitSubscribers <= 0 {
		once.Do(func() { close(ready) })
	}
	select {
	case <-ready:
	case <-ctx.Done():
		return waitServe(srv, errc)
	case err := <-errc:
		return err
	}
	if opts.Ready != nil {
		opts.Ready()
	}
	to := opts.ToSlot
	if to == 0 {
		to = ^uint64(0)
	}
	var first time.Time
	var start time.Time
	err := a.Scan(ctx, opts.FromSlot, to, func(u archive.Update) error {
		msg, err := u.Decode()
		if err != nil {
			return fmt.Errorf("update %d: %w", u.Seq, err)
		}
		if opts.Speed > 0 {
			if first.IsZero() {
				first, start = u.ReceivedAt, time.Now()
			} else if wait := time.Duration(float64(u.ReceivedAt.Sub(first))/opts.Speed) - time.Since(start); wait > 0 {
				t := time.NewTimer(wait)
				select {
				case <-ctx.Done():
					t.Stop()
					return ctx.Err()
				case <-t.C:
				}
			}
		}
		return srv.Publish(msg, u.Raw)
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	<-ctx.Done()
	return waitServe(srv, errc)
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
