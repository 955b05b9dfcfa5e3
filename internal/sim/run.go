package sim

import (
	"context"
	"errors"
	"fmt"
	"slices"
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

// batch is one slot's updates (or the trailing statuses, last set) handed to the emitting goroutine.
type batch struct {
	ups  []*geyserpb.SubscribeUpdate
	k    uint64 // 0-based number of the slot in this run
	last bool
}

// Run generates the scenario and hands every update to emit, in order, pacing slots at
// opts.SlotInterval, until the generator ends (nil), ctx is done (ctx.Err()) or emit fails (its
// error). Generation runs on the calling goroutine; encoding, pacing and emit run on a second one
// (emit is never called concurrently with itself), so the two overlap on a multi-core machine.
// Pacing never changes the content: the same seed gives the same updates at any pace.
func (s *Sim) Run(ctx context.Context, opts RunOptions, emit EmitFunc) error {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepCtx
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan batch, 4)
	done := make(chan error, 1)
	go func() {
		err := emitBatches(ctx, opts, batches, emit)
		if err != nil {
			cancel() // unblocks the producer
		}
		done <- err
	}()

	err := s.produce(ctx, batches)
	close(batches)
	if err != nil {
		cancel()
		if eerr := <-done; eerr != nil && !errors.Is(eerr, context.Canceled) {
			return eerr
		}
		return err
	}
	return <-done
}

// produce generates slot after slot into batches.
func (s *Sim) produce(ctx context.Context, batches chan<- batch) error {
	start := s.stats.Slots
	for {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if !s.fill() || s.err != nil {
			return s.err
		}
		b := batch{ups: slices.Clone(s.queue[s.head:]), last: s.done}
		s.resetQueue()
		if !b.last {
			b.k = s.stats.Slots - start - 1
		}
		select {
		case batches <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// emitBatches encodes, paces and emits the batches in order.
func emitBatches(ctx context.Context, opts RunOptions, batches <-chan batch, emit EmitFunc) error {
	mo := proto.MarshalOptions{Deterministic: true}
	var start time.Time
	started := false
	for b := range batches {
		if !started {
			start, started = opts.Now(), true
		}
		for j, u := range b.ups {
			if opts.SlotInterval > 0 && !b.last {
				k, n := time.Duration(b.k), time.Duration(len(b.ups))
				due := start.Add(k*opts.SlotInterval + time.Duration(j)*opts.SlotInterval/n)
				if d := due.Sub(opts.Now()); d > minSleep {
					if err := opts.Sleep(ctx, d); err != nil {
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
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
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
