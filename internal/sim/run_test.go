package sim

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// fakeClock advances only when Run sleeps.
type fakeClock struct {
	now    time.Time
	slept  time.Duration
	sleeps int
}

func (c *fakeClock) Now() time.Time { return c.now }
func (c *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	c.now = c.now.Add(d)
	c.slept += d
	c.sleeps++
	return nil
}

func TestRunPacesSlots(t *testing.T) {
	t.Parallel()
	const slots = 12
	s, err := New(ScenarioSPLToken, 1, Options{Slots: slots, TxPerSlot: 5})
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{now: time.Unix(1000, 0)}
	firstOfSlot := map[uint64]time.Time{}
	n := 0
	err = s.Run(context.Background(), RunOptions{SlotInterval: SlotDuration, Now: clock.Now, Sleep: clock.Sleep},
		func(u *geyserpb.SubscribeUpdate, raw []byte) error {
			n++
			if len(raw) == 0 {
				t.Fatal("empty encoding")
			}
			if st := u.GetSlot(); st != nil && st.GetStatus() == geyserpb.SlotStatus_SLOT_PROCESSED {
				return nil
			}
			if slot, ok := geyserpb.SlotOf(u); ok {
				if _, seen := firstOfSlot[slot]; !seen {
					firstOfSlot[slot] = clock.now
				}
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if uint64(n) != s.Stats().Updates {
		t.Fatalf("emitted %d of %d updates", n, s.Stats().Updates)
	}
	// Slot k starts k slot intervals after the first, and the run spans the slots it paced.
	start := firstOfSlot[DefaultStartSlot]
	for k := uint64(1); k < slots; k++ {
		if got := firstOfSlot[DefaultStartSlot+k].Sub(start); got < time.Duration(k)*SlotDuration-time.Millisecond*5 || got > time.Duration(k)*SlotDuration {
			t.Errorf("slot %d started %v after the first, want %v", k, got, time.Duration(k)*SlotDuration)
		}
	}
	if clock.slept < (slots-1)*SlotDuration-SlotDuration/4 || clock.slept > slots*SlotDuration {
		t.Errorf("slept %v in total for %d slots", clock.slept, slots)
	}
}

func TestRunStopsOnEmitErrorAndContext(t *testing.T) {
	t.Parallel()
	s, err := New(ScenarioSPLToken, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	n := 0
	err = s.Run(context.Background(), RunOptions{}, func(*geyserpb.SubscribeUpdate, []byte) error {
		if n++; n == 100 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Run = %v, want the emit error", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Run(ctx, RunOptions{}, func(*geyserpb.SubscribeUpdate, []byte) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("Run on a cancelled context = %v", err)
	}
}

func TestNewRejectsBadInput(t *testing.T) {
	t.Parallel()
	if _, err := New("nope", 1, Options{}); !errors.Is(err, ErrUnknownScenario) {
		t.Errorf("unknown scenario: %v", err)
	}
	if _, err := New(ScenarioOre, 1, Options{}); !errors.Is(err, ErrMissingIDL) {
		t.Errorf("ore without IDLs: %v", err)
	}
	if _, err := New(ScenarioSPLToken, 1, Options{SkipRate: 1}); !errors.Is(err, ErrBadOptions) {
		t.Errorf("skip rate 1: %v", err)
	}
}

func TestSkippedSlotsChainParents(t *testing.T) {
	t.Parallel()
	s, err := New(ScenarioSPLToken, 1, Options{Slots: 200, SkipRate: 0.2, TxPerSlot: 1})
	if err != nil {
		t.Fatal(err)
	}
	ups := collect(t, s)
	checkStream(t, ups)
	if s.Slot()-DefaultStartSlot+1 <= 200 {
		t.Fatalf("no slot skipped: last slot %d after 200 blocks", s.Slot())
	}
}
