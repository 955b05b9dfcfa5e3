package source_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

// collector is a Handler recording everything; it can fail on demand.
type collector struct {
	mu      sync.Mutex
	updates []*source.Update
	gaps    []source.Gap
	changed chan struct{}
	failOn  func(u *source.Update) error
}

func newCollector() *collector { return &collector{changed: make(chan struct{}, 1)} }

func (c *collector) OnUpdate(u *source.Update) error {
	if c.failOn != nil {
		if err := c.failOn(u); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.updates = append(c.updates, u)
	c.mu.Unlock()
	c.poke()
	return nil
}

func (c *collector) OnGap(g source.Gap) error {
	c.mu.Lock()
	c.gaps = append(c.gaps, g)
	c.mu.Unlock()
	c.poke()
	return nil
}

func (c *collector) poke() {
	select {
	case c.changed <- struct{}{}:
	default:
	}
}

// data returns the delivered updates other than pings and pongs.
func (c *collector) data() []*source.Update {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*source.Update
	for _, u := range c.updates {
		if u.Kind != geyserpb.KindPing && u.Kind != geyserpb.KindPong {
			out = append(out, u)
		}
	}
	return out
}

func (c *collector) all() []*source.Update {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*source.Update(nil), c.updates...)
}

func (c *collector) gapList() []source.Gap {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]source.Gap(nil), c.gaps...)
}

// waitUntil blocks until cond holds (re-checked on every delivery) or ctx ends.
func (c *collector) waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-c.changed:
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		}
	}
}

// running starts y.Run in the background. stop cancels it and returns Run's error; done is closed
// when Run returns, after which stop returns at once.
func running(t *testing.T, y *source.Yellowstone, h source.Handler) (stop func() error, done <-chan struct{}) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	finished := make(chan struct{})
	var err error
	go func() {
		err = y.Run(ctx, h)
		close(finished)
	}()
	stop = func() error {
		cancel()
		<-finished
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop, finished
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func newSource(t *testing.T, ts *geysertest.Server, mod func(*source.Config)) *source.Yellowstone {
	t.Helper()
	cfg := source.Config{
		Endpoint: ts.Endpoint,
		Filters:  source.Filters{Slots: true, BlocksMeta: true, AccountOwners: []string{geysertest.Key(1000).String()}},
		Backoff:  source.Backoff{Initial: time.Millisecond, Max: 5 * time.Millisecond},
	}
	if mod != nil {
		mod(&cfg)
	}
	y, err := source.New(cfg)
	require.NoError(t, err)
	return y
}
