package record_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/charmbracelet/log"
	"github.com/stretchr/testify/require"
	berrors "go.etcd.io/bbolt/errors"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/record"
	"github.com/hyperstack-go/hyperstack/internal/source"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

func TestRecordWithFilters(t *testing.T) {
	ts := geysertest.Start(t, geysertest.Options{PingInterval: -1})
	path := newArchive(t)
	r := startRecording(t, ts, path, "", nil)
	require.NoError(t, ts.WaitApplied(context.Background(), 1))
	feed := streamFor(100, 120, 5)
	ts.Feed(feed...)
	want := wanted(feed)
	r.waitDurable(t, uint64(len(want)))
	r.stop(t)

	require.Equal(t, dedupKeys(t, want), archivedKeys(t, path))
	a, err := archive.Open(path, &archive.Options{ReadOnly: true})
	require.NoError(t, err)
	defer a.Close()
	st, err := a.Stats()
	require.NoError(t, err)
	require.Equal(t, uint64(len(want)), st.Messages)
	require.Equal(t, map[string]uint64{"account": 100, "slot": 20}, st.ByKind)
	require.Equal(t, uint64(100), st.FirstSlot)
	require.Equal(t, uint64(119), st.LastSlot)
	require.Empty(t, st.Gaps)
	u, err := a.Get(1)
	require.NoError(t, err)
	m, err := u.Decode()
	require.NoError(t, err)
	require.Equal(t, []string{source.FilterAccountOwners}, m.GetFilters(), "stored as received, with the server's filter names")
}

func TestRecordSurvivesDisconnectWithoutGapOrDuplicate(t *testing.T) {
	ts := geysertest.Start(t, geysertest.Options{PingInterval: -1})
	path := newArchive(t)
	r := startRecording(t, ts, path, "", nil)
	require.NoError(t, ts.WaitApplied(context.Background(), 1))
	ts.DropAfter(37) // mid-slot
	feed := streamFor(1, 30, 4)
	ts.Feed(feed...)
	want := wanted(feed)
	r.waitDurable(t, uint64(len(want)))
	r.stop(t)
	require.Equal(t, 1, ts.Drops())
	require.GreaterOrEqual(t, ts.Applied(), 2, "the source resubscribed")
	var resumed bool
	for _, req := range ts.Requests() {
		if req.Msg.FromSlot != nil {
			resumed = true
		}
	}
	require.True(t, resumed, "the resubscription carried from_slot")
	require.Equal(t, dedupKeys(t, want), archivedKeys(t, path))
}

func TestRecordResumesExistingArchive(t *testing.T) {
	ts := geysertest.Start(t, geysertest.Options{PingInterval: -1})
	path := newArchive(t)
	first := streamFor(1, 10, 3)
	r := startRecording(t, ts, path, "", nil)
	require.NoError(t, ts.WaitApplied(context.Background(), 1))
	ts.Feed(first...)
	r.waitDurable(t, uint64(len(wanted(first))))
	r.stop(t)

	// While nothing records, the stream goes on; the next run replays from the archive's last slot.
	second := streamFor(10, 20, 3)
	ts.Feed(second...)
	r = startRecording(t, ts, path, "", nil)
	third := streamFor(20, 25, 3)
	require.NoError(t, ts.WaitApplied(context.Background(), 2))
	// The second run's first subscription resumes from the last slot the first run made durable (9),
	// replaying two slots before it; what it replays of slots 7 to 9 is already stored and dropped.
	// (Asking the recorder after it started would race with it storing the replayed slots.)
	reqs := ts.Requests()
	require.Equal(t, uint64(7), reqs[1].Msg.GetFromSlot())
	ts.Feed(third...)
	all := wanted(append(append(append([]*geyserpb.SubscribeUpdate{}, first...), second...), third...))
	r.waitDurable(t, uint64(len(all)))
	r.stop(t)
	require.Equal(t, dedupKeys(t, all), archivedKeys(t, path))
	slot, ok := r.rec.ResumeSlot()
	require.True(t, ok)
	require.Equal(t, uint64(24), slot, "after the run, the resume slot is the last slot stored")
}

func TestRecordOutOfRangeStoresGap(t *testing.T) {
	ts := geysertest.Start(t, geysertest.Options{PingInterval: -1})
	path := newArchive(t)
	first := streamFor(1, 5, 2)
	r := startRecording(t, ts, path, "", nil)
	require.NoError(t, ts.WaitApplied(context.Background(), 1))
	ts.Feed(first...)
	r.waitDurable(t, uint64(len(wanted(first))))
	r.stop(t)

	ts.Feed(streamFor(5, 50, 2)...) // missed while not recording
	ts.RefuseFromSlot(true)
	r = startRecording(t, ts, path, "", nil)
	require.NoError(t, ts.WaitApplied(context.Background(), 2))
	live := streamFor(50, 53, 2)
	ts.Feed(live...)
	n := uint64(len(wanted(first)) + len(wanted(live)))
	r.waitDurable(t, n)
	r.stop(t)

	a, err := archive.Open(path, &archive.Options{ReadOnly: true})
	require.NoError(t, err)
	defer a.Close()
	gaps, err := a.Gaps()
	require.NoError(t, err)
	require.Len(t, gaps, 1)
	require.Equal(t, uint64(2), gaps[0].FromSlot, "the refused from_slot: two slots before the last stored, 4")
	require.Equal(t, uint64(50), gaps[0].ToSlot)
	require.Contains(t, gaps[0].Reason, "not available")
	require.Equal(t, uint64(len(wanted(first))), gaps[0].AfterSeq)
	require.Equal(t, append(dedupKeys(t, wanted(first)), dedupKeys(t, wanted(live))...), archivedKeys(t, path))
}

func TestRecordBadTokenStops(t *testing.T) {
	ts := geysertest.Start(t, geysertest.Options{XToken: "right", PingInterval: -1})
	path := newArchive(t)
	r := startRecording(t, ts, path, "wrong", nil)
	err := <-r.done
	require.ErrorIs(t, err, source.ErrUnauthenticated)
	require.NoError(t, r.arch.Close())
	a, err := archive.Open(path, nil)
	require.NoError(t, err, "the archive stays valid")
	require.NoError(t, a.Close())
}

func TestRecordStopsOnDiskFullKeepingArchive(t *testing.T) {
	ts := geysertest.Start(t, geysertest.Options{PingInterval: -1})
	path := newArchive(t)
	a, err := archive.Create(path, archive.Meta{}, nil)
	require.NoError(t, err)
	require.NoError(t, a.Close())
	// MaxSize makes bbolt fail the commit that would grow the file past 2 MiB: the same path a full
	// disk takes. The first commit always fits (a batch holds at most 4 × 64 updates of ~2 KB before
	// Append waits), so some updates are durable before the failure.
	r := startRecording(t, ts, path, "", &archive.Options{MaxSize: 2 << 20})
	require.NoError(t, ts.WaitApplied(context.Background(), 1))
	big := make([]byte, 2000)
	go func() {
		for s := uint64(1); ; s++ {
			u := geysertest.Account(s, geysertest.Key(1), ownerA, 1, big, s)
			if ts.Publish(u, nil) != nil {
				return
			}
			select {
			case <-r.done:
				r.done <- nil
				return
			default:
			}
		}
	}()
	err = <-r.done
	r.done <- err
	require.ErrorIs(t, err, berrors.ErrMaxSizeReached)
	require.ErrorIs(t, err, archive.ErrWriterFailed)
	require.NoError(t, r.arch.Close())

	a, err = archive.Open(path, nil)
	require.NoError(t, err)
	defer a.Close()
	require.NoError(t, a.Check())
	cp, err := a.Checkpoint()
	require.NoError(t, err)
	require.Positive(t, cp.Seq)
	var next uint64 = 1
	require.NoError(t, a.Scan(context.Background(), 0, math.MaxUint64, func(u archive.Update) error {
		require.Equal(t, next, u.Seq)
		next++
		return nil
	}))
	require.Equal(t, cp.Seq+1, next)
}

// fakeSource delivers scripted updates and then waits for cancellation.
type fakeSource struct {
	updates []*source.Update
	gaps    map[int]source.Gap // delivered before updates[i]
	err     error              // returned after the script instead of waiting
}

func (f *fakeSource) Run(ctx context.Context, h source.Handler) error {
	for i, u := range f.updates {
		if g, ok := f.gaps[i]; ok {
			if err := h.OnGap(g); err != nil {
				return err
			}
		}
		if err := h.OnUpdate(u); err != nil {
			return err
		}
	}
	if f.err != nil {
		return f.err
	}
	<-ctx.Done()
	return ctx.Err()
}

func rawUpdate(t *testing.T, u *geyserpb.SubscribeUpdate, at time.Time) *source.Update {
	t.Helper()
	raw, err := protoMarshal(u)
	require.NoError(t, err)
	return source.NewUpdate(raw, at)
}

func TestProgressLogLinesWithoutTerminal(t *testing.T) {
	path := newArchive(t)
	a, err := archive.Create(path, archive.Meta{}, nil)
	require.NoError(t, err)
	defer a.Close()

	var logs bytes.Buffer
	logger := log.NewWithOptions(&logs, log.Options{Formatter: log.JSONFormatter})
	ticks := make(chan time.Time)
	var intervals []time.Duration
	clock := time.Unix(1_770_000_000, 0)
	at := time.Unix(1_770_000_005, 0)
	src := &fakeSource{}
	for i := range 10 {
		src.updates = append(src.updates, rawUpdate(t, geysertest.Slot(uint64(700+i), geyserpb.SlotStatus_SLOT_PROCESSED), at))
	}
	rec := &record.Recorder{Source: src, Archive: a, Logger: logger, Progress: &record.Progress{
		NewTicker: func(d time.Duration) (<-chan time.Time, func()) {
			intervals = append(intervals, d)
			return ticks, func() {}
		},
		Now: func() time.Time { clock = clock.Add(2 * time.Second); return clock },
	}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	ticks <- time.Now() // after the script has likely been delivered; the line reports whatever arrived
	ticks <- time.Now()
	cancel()
	require.NoError(t, <-done)
	require.Equal(t, []time.Duration{10 * time.Second}, intervals)
	require.Contains(t, logs.String(), `"msg":"progress"`)
	require.Contains(t, logs.String(), `"msg":"recording stopped"`)
	require.Contains(t, logs.String(), `"messages":10`)
}

func TestProgressLiveLineOnTerminal(t *testing.T) {
	path := newArchive(t)
	a, err := archive.Create(path, archive.Meta{}, nil)
	require.NoError(t, err)
	defer a.Close()
	var out bytes.Buffer
	created := time.Unix(1_770_000_000, 0)
	u := geysertest.Slot(42, geyserpb.SlotStatus_SLOT_PROCESSED)
	u.CreatedAt = timestamppbNew(created)
	src := &fakeSource{updates: []*source.Update{rawUpdate(t, u, created.Add(250*time.Millisecond))}}
	ticks := make(chan time.Time)
	rec := &record.Recorder{Source: src, Archive: a, Progress: &record.Progress{Terminal: true, Out: &out,
		NewTicker: func(time.Duration) (<-chan time.Time, func()) { return ticks, func() {} }}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- rec.Run(ctx) }()
	ticks <- time.Now()
	cancel()
	require.NoError(t, <-done)
	line := out.String()
	require.Contains(t, line, "\r\033[K")
	require.Contains(t, line, "slot 42")
	require.Contains(t, line, "lag 250ms")
	require.Contains(t, line, "msg/s")
}

func TestRecorderGapFromSourceAndSourceError(t *testing.T) {
	path := newArchive(t)
	a, err := archive.Create(path, archive.Meta{}, nil)
	require.NoError(t, err)
	defer a.Close()
	boom := errors.New("permission denied by server")
	src := &fakeSource{
		updates: []*source.Update{
			rawUpdate(t, geysertest.Slot(5, geyserpb.SlotStatus_SLOT_PROCESSED), time.Now()),
			rawUpdate(t, geysertest.Slot(9, geyserpb.SlotStatus_SLOT_PROCESSED), time.Now()),
		},
		gaps: map[int]source.Gap{1: {FromSlot: 6, ToSlot: 9, Reason: "OutOfRange: test"}},
		err:  boom,
	}
	rec := &record.Recorder{Source: src, Archive: a}
	require.ErrorIs(t, rec.Run(context.Background()), boom)
	gaps, err := a.Gaps()
	require.NoError(t, err)
	require.Len(t, gaps, 1)
	require.Equal(t, uint64(1), gaps[0].AfterSeq)
	cp, err := a.Checkpoint()
	require.NoError(t, err)
	require.Equal(t, uint64(2), cp.Seq, "everything before the error is flushed")
	require.ErrorIs(t, (&record.Recorder{}).Run(context.Background()), record.ErrNoArchive)
}

// With the source lending update bytes from the transport's buffers (the record command without
// --stack), the archive still holds every update byte-exact and in order: the recorder copies each one
// before its buffer is reused. The stream server packs many updates per HTTP/2 frame, so most are lent.
func TestRecordLentUpdatesByteExact(t *testing.T) {
	var raws [][]byte
	for i := range 6000 {
		data := bytes.Repeat([]byte{byte(i), byte(i >> 8)}, 50+(i*53)%900)
		if i%211 == 0 {
			data = bytes.Repeat([]byte{byte(i)}, 70_000) // spans HTTP/2 frames
		}
		raw, err := proto.Marshal(geysertest.Account(uint64(100+i/40), geysertest.Key(i), ownerA, uint64(i), data, uint64(i)))
		require.NoError(t, err)
		raws = append(raws, raw)
	}
	ss := geysertest.StartStream(t, raws)
	ss.Release()
	path := filepath.Join(t.TempDir(), "lent.archive")
	a, err := archive.Create(path, archive.Meta{}, nil)
	require.NoError(t, err)
	done := make(chan struct{})
	rec := &record.Recorder{Archive: a, Writer: archive.WriterConfig{OnCommit: func(cp archive.Checkpoint) {
		if cp.Seq == uint64(len(raws)) {
			close(done)
		}
	}}}
	src, err := source.New(source.Config{Endpoint: ss.Endpoint, Commitment: "processed",
		Filters: source.Filters{AccountOwners: []string{ownerA.String()}}, ResumeSlot: rec.ResumeSlot, Seen: rec.Seen,
		LendRaw: true})
	require.NoError(t, err)
	rec.Source = src
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- rec.Run(ctx) }()
	select {
	case <-done:
	case err := <-stopped:
		t.Fatalf("recorder stopped early: %v", err)
	}
	cancel()
	require.NoError(t, <-stopped)
	i := 0
	require.NoError(t, a.Scan(context.Background(), 0, math.MaxUint64, func(u archive.Update) error {
		require.Less(t, i, len(raws))
		require.Equal(t, uint64(i+1), u.Seq)
		require.True(t, bytes.Equal(raws[i], u.Raw), "update %d differs from what the server sent", i)
		i++
		return nil
	}))
	require.Equal(t, len(raws), i)
	require.NoError(t, a.Close())
}
