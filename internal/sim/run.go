package sim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// EmitFunc receives each update with its deterministic protobuf encoding. raw is freshly allocated and
// may be retained.
type EmitFunc func(u *geyserpb.SubscribeUpdate, raw []byte) error

// RunOptions pace Run.
type RunOptions struct {
	// SlotInterval is the wall time between slot starts; a slot's updates are spread over it. 0 means
	// as fast as possible. SlotDuration (400 ms) is mainnet's pace.
	SlotInterval time.Duration
	// Now and Sleep replace the wall clock (tests); nil means time.Now and a context-aware sleep.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// minSleep is the smallest wait worth a timer: paced updates due sooner go out at once.
const minSleep = 2 * time.Millisecond

// Run generates the scenario and hands every update to emit, pacing slots at opts.SlotInterval, until
// the generator ends (nil), ctx is done (ctx.Err()) or emit fails (its error). Pacing never changes
// the content: the same seed gives the same updates at any pace.
func (s *Sim) Run(ctx context.Context, opts RunOptions, emit EmitFunc) error {
	now, sleep := opts.Now, opts.Sleep
	if now == nil {
		now = time.Now
	}
	if sleep == nil {
		sleep = sleepCtx
	}
	mo := proto.MarshalOptions{Deterministic: true}
	start := now()
	startSlots := s.stats.Slots
	for n := 0; ; n++ {
		if n&255 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		u, err := s.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if opts.SlotInterval > 0 && !s.done {
			// Update head-1 of len(queue) in the slot generated as number stats.Slots (1-based).
			k := time.Duration(s.stats.Slots - startSlots - 1)
			j, total := time.Duration(s.head-1), time.Duration(len(s.queue))
			due := start.Add(k*opts.SlotInterval + j*opts.SlotInterval/total)
			if d := due.Sub(now()); d > minSleep {
				if err := sleep(ctx, d); err != nil {
					return err
				}
			}
		}
		raw, err := mo.Marshal(u)
		if err != nil {
			return fmt.Errorf("marshal update: %w", err)
		}
		if err := emit(u, raw); err != nil {
			return err
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
