package pipeline

import (
	"context"
	"time"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/sim"
	"github.com/hyperstack-go/hyperstack/internal/source"
)

// ArchiveOptions select and pace the updates RunArchive feeds.
type ArchiveOptions struct {
	// FromSlot and ToSlot bound the slots replayed (inclusive); ToSlot 0 means the end.
	FromSlot, ToSlot uint64
	// Speed scales the recorded pace: 1 replays at the pace the updates were received, 10 ten times
	// faster; 0 means as fast as possible.
	Speed float64
	// OnUpdate, when set, is called after each update is fed (progress). u.Raw is only valid during
	// the call.
	OnUpdate func(u archive.Update)
	// Sleep waits between paced updates; nil means a context-aware time.Sleep (tests replace it).
	Sleep func(ctx context.Context, d time.Duration) error
}

// RunArchive feeds the archive's updates in sequence order. Pacing changes only when updates are fed,
// never what the pipeline produces.
func RunArchive(ctx context.Context, a *archive.Archive, p *Pipeline, opts ArchiveOptions) error {
	to := opts.ToSlot
	if to == 0 {
		to = ^uint64(0)
	}
	sleep := opts.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	var first time.Time
	var start time.Time
	// Feed copies what it keeps, so the scan can lend each update's bytes.
	return a.ScanBorrowed(ctx, opts.FromSlot, to, func(u archive.Update) error {
		if opts.Speed > 0 && !u.ReceivedAt.IsZero() {
			if first.IsZero() {
				first, start = u.ReceivedAt, time.Now()
			} else {
				due := time.Duration(float64(u.ReceivedAt.Sub(first)) / opts.Speed)
				if wait := due - time.Since(start); wait > 0 {
					if err := sleep(ctx, wait); err != nil {
						return err
					}
				}
			}
		}
		if err := p.Feed(u.Seq, u.Raw); err != nil {
			return err
		}
		if opts.OnUpdate != nil {
			opts.OnUpdate(u)
		}
		return nil
	})
}

// RunSim feeds a simulator's updates, numbering them from 1, at the given pace (0 = as fast as
// possible). onUpdate, when set, sees every update after it was fed (tees, progress).
func RunSim(ctx context.Context, s *sim.Sim, p *Pipeline, slotInterval time.Duration, onUpdate func(seq uint64, u *geyserpb.SubscribeUpdate, raw []byte) error) error {
	var seq uint64
	return s.Run(ctx, sim.RunOptions{SlotInterval: slotInterval}, func(u *geyserpb.SubscribeUpdate, raw []byte) error {
		seq++
		if err := p.FeedMessage(seq, u); err != nil {
			return err
		}
		if onUpdate != nil {
			return onUpdate(seq, u, raw)
		}
		return nil
	})
}

// LiveHandler adapts a Pipeline to source.Handler for a live Yellowstone stream: updates are numbered
// from 1 in arrival order and fed; Tee, when set, receives every update and gap first (recording
// while serving), and its error stops the stream.
type LiveHandler struct {
	Pipeline *Pipeline
	Tee      source.Handler
	seq      uint64
}

// OnUpdate implements source.Handler.
func (h *LiveHandler) OnUpdate(u *source.Update) error {
	if h.Tee != nil {
		if err := h.Tee.OnUpdate(u); err != nil {
			return err
		}
	}
	h.seq++
	return h.Pipeline.Feed(h.seq, u.Raw)
}

// OnGap implements source.Handler.
func (h *LiveHandler) OnGap(g source.Gap) error {
	if h.Tee != nil {
		return h.Tee.OnGap(g)
	}
	return nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
