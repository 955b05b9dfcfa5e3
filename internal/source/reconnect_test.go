package source_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/log"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

// fakeClock never waits: Sleep records the delay and returns at once.
type fakeClock struct {
	mu     sync.Mutex
	sleeps []time.Duration
	onSl   func(n int)
}

func (c *fakeClock) Now() time.Time { return time.Now() }

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	n := len(c.sleeps)
	c.mu.Unlock()
	if c.onSl != nil {
		c.onSl(n)
	}
	return ctx.Err()
}

func (c *fakeClock) delays() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func closedPortEndpoint(t *testing.T) string {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := lis.Addr().String()
	require.NoError(t, lis.Close())
	return "http://" + addr
}

func TestUnreachableEndpointRetriesWithGrowingDelays(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &fakeClock{onSl: func(n int) {
		if n == 12 {
			cancel()
		}
	}}
	var logs syncBuffer
	y, err := source.New(source.Config{
		Endpoint: closedPortEndpoint(t),
		Filters:  source.Filters{Slots: true},
		Clock:    clock,
		Logger:   log.NewWithOptions(&logs, log.Options{Level: log.DebugLevel}),
		Backoff: source.Backoff{ // defaults, with the jitter pinned to its ceiling
			Jitter: func(c time.Duration) time.Duration { return c },
		},
	})
	require.NoError(t, err)
	err = y.Run(ctx, newCollector())
	require.ErrorIs(t, err, context.Canceled)

	ms := time.Millisecond
	want := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms, 3200 * ms, 6400 * ms,
		12800 * ms, 25600 * ms, 30 * time.Second, 30 * time.Second, 30 * time.Second}
	require.Equal(t, want, clock.delays())
	out := logs.String()
	require.Contains(t, out, "retrying")
	require.Contains(t, out, "attempt=12")
	require.Contains(t, out, "delay=30s")
	require.Contains(t, out, "Unavailable")
}

func TestFullJitterStaysBelowTheCeiling(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	clock := &fakeClock{onSl: func(n int) {
		if n == 8 {
			cancel()
		}
	}}
	y, err := source.New(source.Config{
		Endpoint: closedPortEndpoint(t),
		Filters:  source.Filters{Slots: true},
		Clock:    clock,
	})
	require.NoError(t, err)
	require.ErrorIs(t, y.Run(ctx, newCollector()), context.Canceled)
	var b source.Backoff
	for i, d := range clock.delays() {
		require.GreaterOrEqual(t, d, time.Duration(0))
		require.Less(t, d, b.Ceiling(i), "delay %d", i)
	}
}

// jumpClock advances by step on every Now call, so every stream looks long-lived.
type jumpClock struct {
	fakeClock
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func (c *jumpClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(c.step)
	return c.now
}

func TestBackoffResetsAfterAHealthyStream(t *testing.T) {
	for _, tc := range []struct {
		name  string
		step  time.Duration
		reset bool
	}{
		{"short-lived streams back off further", 0, false},
		{"streams healthy for a minute reset the backoff", 2 * time.Minute, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := geysertest.Start(t, geysertest.Options{PingInterval: -1})
			feedSlots(ts, 1, 2)
			ts.DropEvery(2)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			clock := &jumpClock{now: time.Unix(1000, 0), step: tc.step}
			clock.onSl = func(n int) {
				if n == 5 {
					cancel()
				}
			}
			y := newSource(t, ts, func(c *source.Config) {
				c.Clock = clock
				c.ResumeSlot = func() (uint64, bool) { return 1, true }
				c.StallTimeout = -1
				c.Backoff = source.Backoff{Jitter: func(c time.Duration) time.Duration { return c }}
			})
			require.ErrorIs(t, y.Run(ctx, newCollector()), context.Canceled)
			ms := time.Millisecond
			want := []time.Duration{100 * ms, 200 * ms, 400 * ms, 800 * ms, 1600 * ms}
			if tc.reset {
				want = []time.Duration{100 * ms, 100 * ms, 100 * ms, 100 * ms, 100 * ms}
			}
			require.Equal(t, want, clock.delays())
			require.GreaterOrEqual(t, ts.Drops(), 5)
		})
	}
}

func TestBadTokenStopsWithoutRetry(t *testing.T) {
	ts := geysertest.Start(t, geysertest.Options{XToken: "secret"})
	clock := &fakeClock{}
	y := newSource(t, ts, func(c *source.Config) {
		c.XToken = "wrong"
		c.Clock = clock
	})
	err := y.Run(testCtx(t), newCollector())
	require.ErrorIs(t, err, source.ErrUnauthenticated)
	require.Contains(t, err.Error(), "invalid x-token")
	require.Empty(t, clock.delays(), "no retry after an auth failure")
	require.Empty(t, ts.Requests())

	// The right token works.
	y = newSource(t, ts, func(c *source.Config) { c.XToken = "secret" })
	running(t, y, newCollector())
	require.NoError(t, ts.WaitApplied(testCtx(t), 1))
	require.Equal(t, "secret", ts.Requests()[0].XToken)
}

func TestHandlerErrorStopsRun(t *testing.T) {
	ts := geysertest.Start(t, geysertest.Options{})
	y := newSource(t, ts, nil)
	c := newCollector()
	boom := errors.New("disk full")
	c.failOn = func(u *source.Update) error {
		if u.Kind == geyserpb.KindSlot {
			return boom
		}
		return nil
	}
	stop, done := running(t, y, c)
	require.NoError(t, ts.WaitApplied(testCtx(t), 1))
	ts.Feed(geysertest.Slot(5, geyserpb.SlotStatus_SLOT_PROCESSED))
	<-done
	require.ErrorIs(t, stop(), boom)
}

// feedSlots publishes, per slot: an owned account update, a block meta and the processed, confirmed
// and finalized statuses.
func feedSlots(ts *geysertest.Server, from, to uint64) {
	owner := geysertest.Key(1000)
	for s := from; s <= to; s++ {
		ts.Feed(
			geysertest.Account(s, geysertest.Key(int(s%7)), owner, s, []byte{byte(s)}, s*10),
			geysertest.Account(s, geysertest.Key(int(s%7)+100), owner, s, []byte{byte(s), 1}, s*10+1),
			geysertest.BlockMeta(s, "hash"+string(rune('a'+s%26)), s),
			geysertest.Slot(s, geyserpb.SlotStatus_SLOT_PROCESSED),
			geysertest.Slot(s, geyserpb.SlotStatus_SLOT_CONFIRMED),
			geysertest.Slot(s, geyserpb.SlotStatus_SLOT_FINALIZED),
		)
	}
}

// expectedKeys returns the dedup keys of what a confirmed subscriber to slots, blocks meta and the
// owner receives for feedSlots(from, to), in order.
func expectedKeys(t *testing.T, from, to uint64) []string {
	ts := geysertest.Start(t, geysertest.Options{})
	y := newSource(t, ts, nil)
	c := newCollector()
	stop, _ := running(t, y, c)
	ctx := testCtx(t)
	require.NoError(t, ts.WaitApplied(ctx, 1))
	feedSlots(ts, from, to)
	n := int(to-from+1) * 6
	c.waitUntil(t, ctx, "reference stream", func() bool { return len(c.data()) >= n })
	require.ErrorIs(t, stop(), context.Canceled)
	return keys(t, c.data())
}

func keys(t *testing.T, us []*source.Update) []string {
	t.Helper()
	var out []string
	for _, u := range us {
		k, ok := source.DedupKey(u)
		require.True(t, ok, "update kind %s has no key", u.Kind)
		out = append(out, k)
	}
	return out
}

func TestDisconnectResumesFromSlotWithoutGapOrDuplicate(t *testing.T) {
	want := expectedKeys(t, 1, 20)
	require.Len(t, want, 120)

	for _, dropAt := range []int{1, 17, 59, 100} {
		t.Run("drop after "+itoa(dropAt), func(t *testing.T) {
			ts := geysertest.Start(t, geysertest.Options{PingInterval: -1})
			c := newCollector()
			y := newSource(t, ts, func(cfg *source.Config) {
				// Resume from the highest slot delivered so far, as a recorder resumes from its
				// last durable slot: part of that slot is replayed and must be deduplicated.
				cfg.ResumeSlot = func() (uint64, bool) {
					var hi uint64
					for _, u := range c.data() {
						hi = max(hi, u.Slot)
					}
					return hi, hi > 0
				}
			})
			ts.DropAfter(dropAt)
			running(t, y, c)
			ctx := testCtx(t)
			require.NoError(t, ts.WaitApplied(ctx, 1))
			feedSlots(ts, 1, 20)
			c.waitUntil(t, ctx, "all updates", func() bool { return len(c.data()) >= len(want) })
			require.Equal(t, 1, ts.Drops())
			require.Equal(t, want, keys(t, c.data()), "no gap, no duplicate, same order")
			require.Empty(t, c.gapList())

			reqs := ts.Requests()
			require.Len(t, reqs, 2)
			require.Nil(t, reqs[0].Msg.FromSlot)
			// The first stream delivered at least one slotted update, so the second resumes.
			require.NotNil(t, reqs[1].Msg.FromSlot)
			require.GreaterOrEqual(t, reqs[1].Msg.GetFromSlot(), uint64(1))
			require.Equal(t, itoa(int(reqs[1].Msg.GetFromSlot())), reqs[1].MinContextSlot)
			require.Equal(t, reqs[0].Msg.GetAccounts(), reqs[1].Msg.GetAccounts(), "same filter on resume")
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestOutOfRangeDeliversGapAndContinuesLive(t *testing.T) {
	cases := []struct {
		name   string
		opts   geysertest.Options
		refuse func(ts *geysertest.Server)
		reason string
	}{
		{name: "injected out of range", refuse: func(ts *geysertest.Server) { ts.RefuseFromSlot(true) },
			reason: "OutOfRange: broadcast from requested slot is not available"},
		{name: "beyond the replay buffer", opts: geysertest.Options{ReplaySlots: 10},
			reason: "OutOfRange: broadcast from 3 is not available, last available: 41"},
		{name: "replay disabled", opts: geysertest.Options{ReplaySlots: -1},
			reason: "Internal: from_slot is not supported"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ts := geysertest.Start(t, tc.opts)
			feedSlots(ts, 1, 50) // history: slots 41..50 are replayable with ReplaySlots 10
			if tc.refuse != nil {
				tc.refuse(ts)
			}
			c := newCollector()
			var logs syncBuffer
			y := newSource(t, ts, func(cfg *source.Config) {
				cfg.ResumeSlot = func() (uint64, bool) { return 5, true } // from_slot 3
				cfg.Logger = log.New(&logs)
			})
			running(t, y, c)
			ctx := testCtx(t)
			require.NoError(t, ts.WaitApplied(ctx, 1)) // the live subscription after the refusal
			feedSlots(ts, 60, 61)
			c.waitUntil(t, ctx, "live updates", func() bool { return len(c.data()) >= 12 })

			require.Equal(t, []source.Gap{{FromSlot: 3, ToSlot: 60, Reason: tc.reason}}, c.gapList())
			for _, u := range c.data() {
				require.GreaterOrEqual(t, u.Slot, uint64(60), "live only")
			}
			reqs := ts.Requests()
			require.Len(t, reqs, 2)
			require.Equal(t, uint64(3), reqs[0].Msg.GetFromSlot())
			require.Nil(t, reqs[1].Msg.FromSlot, "reconnects without from_slot")
			require.Contains(t, logs.String(), "gap")
			require.Contains(t, logs.String(), "from_slot=3")
			require.Contains(t, logs.String(), "to_slot=60")
		})
	}
}

func TestSeenHookDropsAlreadyStoredUpdates(t *testing.T) {
	ts := geysertest.Start(t, geysertest.Options{})
	feedSlots(ts, 1, 12)
	// Resuming at slot 10 replays from slot 8: pretend an earlier process stored slots 8 and 9 and part
	// of slot 10.
	want := expectedKeys(t, 8, 14)
	stored := map[string]bool{}
	for _, k := range want[:16] {
		stored[k] = true
	}
	c := newCollector()
	y := newSource(t, ts, func(cfg *source.Config) {
		cfg.ResumeSlot = func() (uint64, bool) { return 10, true }
		cfg.Seen = func(key string) bool { return stored[key] }
	})
	running(t, y, c)
	ctx := testCtx(t)
	require.NoError(t, ts.WaitApplied(ctx, 1))
	feedSlots(ts, 13, 14)
	c.waitUntil(t, ctx, "the rest", func() bool { return len(c.data()) >= len(want)-16 })
	require.Equal(t, want[16:], keys(t, c.data()))
	require.Equal(t, uint64(8), ts.Requests()[0].Msg.GetFromSlot())
}

func TestStalledStreamIsReplaced(t *testing.T) {
	want := expectedKeys(t, 1, 2)
	ts := geysertest.Start(t, geysertest.Options{PingInterval: -1})
	c := newCollector()
	y := newSource(t, ts, func(cfg *source.Config) { cfg.StallTimeout = 100 * time.Millisecond })
	running(t, y, c)
	ctx := testCtx(t)
	require.NoError(t, ts.WaitApplied(ctx, 1))
	feedSlots(ts, 1, 1)
	c.waitUntil(t, ctx, "slot 1", func() bool { return len(c.data()) >= 6 })
	ts.Stall()
	feedSlots(ts, 2, 2)
	require.NoError(t, ts.WaitApplied(ctx, 2)) // the client gave up on the silent stream
	ts.Resume()
	c.waitUntil(t, ctx, "slot 2 after the stall", func() bool { return len(c.data()) >= 12 })
	require.Equal(t, want, keys(t, c.data()))
	require.Equal(t, uint64(1), ts.Requests()[1].Msg.GetFromSlot())
}

func TestServerPingsAreAnsweredAndKeepTheFilter(t *testing.T) {
	ts := geysertest.Start(t, geysertest.Options{PingInterval: 20 * time.Millisecond})
	c := newCollector()
	y := newSource(t, ts, nil)
	running(t, y, c)
	ctx := testCtx(t)
	require.NoError(t, ts.WaitApplied(ctx, 1))
	kinds := func(k geyserpb.UpdateKind) int {
		n := 0
		for _, u := range c.all() {
			if u.Kind == k {
				n++
			}
		}
		return n
	}
	c.waitUntil(t, ctx, "pongs", func() bool { return kinds(geyserpb.KindPong) >= 3 })
	feedSlots(ts, 7, 7)
	c.waitUntil(t, ctx, "data after pings", func() bool { return len(c.data()) >= 6 })

	pings := 0
	for _, r := range ts.Requests()[1:] {
		require.NotNil(t, r.Msg.Ping, "only pings after the subscription")
		require.Equal(t, int32(1), r.Msg.GetPing().GetId())
		pings++
	}
	require.GreaterOrEqual(t, pings, 3)
	require.Equal(t, 1, ts.Applied(), "pings never replaced the filter")
	require.Equal(t, 1, len(ts.Requests())-pings)
}

var _ = codes.OK

// The updates of one slot can arrive after those of a later one. A reconnect replays from two slots
// below the resume slot, so a late update of an earlier slot that the dropped stream never delivered
// is not lost, and what was delivered is not delivered twice.
func TestResumeMarginRecoversLateUpdatesOfEarlierSlots(t *testing.T) {
	for _, tc := range []struct {
		name   string
		margin int
		from   uint64
		lost   bool
	}{
		{name: "default margin", from: 10},
		{name: "no margin", margin: -1, from: 12, lost: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := geysertest.Start(t, geysertest.Options{PingInterval: -1})
			owner := geysertest.Key(1000)
			us := []*geyserpb.SubscribeUpdate{
				geysertest.Account(10, geysertest.Key(1), owner, 1, []byte{1}, 1),
				geysertest.Account(11, geysertest.Key(2), owner, 1, []byte{2}, 2),
				geysertest.Account(12, geysertest.Key(3), owner, 1, []byte{3}, 3),
				geysertest.Account(11, geysertest.Key(4), owner, 1, []byte{4}, 4), // late: slot 11 after slot 12
				geysertest.Account(12, geysertest.Key(5), owner, 1, []byte{5}, 5),
			}
			var want []string
			for i, u := range us {
				if tc.lost && i == 3 {
					continue
				}
				raw, err := proto.Marshal(u)
				require.NoError(t, err)
				k, ok := source.DedupKeyOf(raw)
				require.True(t, ok)
				want = append(want, k)
			}
			c := newCollector()
			y := newSource(t, ts, func(cfg *source.Config) {
				cfg.Commitment = "processed"
				cfg.ResumeMargin = tc.margin
			})
			ts.DropAfter(3) // the first stream ends before the late update
			running(t, y, c)
			ctx := testCtx(t)
			require.NoError(t, ts.WaitApplied(ctx, 1))
			for _, u := range us {
				require.NoError(t, ts.Publish(u, nil))
			}
			c.waitUntil(t, ctx, "the updates", func() bool { return len(c.data()) >= len(want) })
			require.Equal(t, 1, ts.Drops())
			require.NoError(t, ts.WaitApplied(ctx, 2))
			require.Equal(t, tc.from, ts.Requests()[1].Msg.GetFromSlot())
			require.Equal(t, want, keys(t, c.data()), "each update once, in the order received")
		})
	}
}
