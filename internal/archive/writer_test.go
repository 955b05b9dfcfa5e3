package archive_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/archive/archivetest"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

func TestWriterCommitsPerBatchSize(t *testing.T) {
	a := archivetest.MustCreate(t, nil)
	commits := make(chan archive.Checkpoint, 100)
	never := make(chan time.Time)
	cfg := archive.WithTimer(archive.WriterConfig{BatchSize: 10, OnCommit: func(cp archive.Checkpoint) { commits <- cp }},
		func(time.Duration) <-chan time.Time { return never })
	w, err := a.NewWriter(cfg)
	require.NoError(t, err)
	for i := range 25 {
		_, err := w.Append(archivetest.Incoming(t, archivetest.SlotUpdate(uint64(i), geyserpb.SlotStatus_SLOT_PROCESSED)))
		require.NoError(t, err)
	}
	// Full batches commit on their own (a batch that fills while a commit runs may grow past 10: group
	// commit); what is left below the batch size waits for the timer, which never fires here.
	var cp archive.Checkpoint
	for 25-cp.Seq >= 10 {
		cp = <-commits
		require.GreaterOrEqual(t, cp.Seq, uint64(10), "no commit before a batch is full")
	}
	require.Equal(t, cp, w.Durable())
	require.Equal(t, uint64(25), w.Appended().Seq)
	onDisk, err := a.Checkpoint()
	require.NoError(t, err)
	require.Equal(t, cp.Seq, onDisk.Seq)
	require.NoError(t, w.Flush())
	require.Equal(t, uint64(25), w.Durable().Seq)
	require.NoError(t, w.Flush(), "an empty flush is fine")
	require.NoError(t, w.Close())
	require.NoError(t, w.Close(), "close is idempotent")
}

func TestWriterCommitsAfterInterval(t *testing.T) {
	a := archivetest.MustCreate(t, nil)
	commits := make(chan archive.Checkpoint, 10)
	timers := make(chan chan time.Time, 10)
	cfg := archive.WithTimer(archive.WriterConfig{BatchSize: 1000, BatchInterval: time.Hour,
		OnCommit: func(cp archive.Checkpoint) { commits <- cp }},
		func(d time.Duration) <-chan time.Time {
			require.Equal(t, time.Hour, d)
			c := make(chan time.Time, 1)
			timers <- c
			return c
		})
	w, err := a.NewWriter(cfg)
	require.NoError(t, err)
	_, err = w.Append(archivetest.Incoming(t, archivetest.PingUpdate()))
	require.NoError(t, err)
	timer := <-timers // armed by the first update of the batch
	_, err = w.Append(archivetest.Incoming(t, archivetest.PingUpdate()))
	require.NoError(t, err)
	require.Equal(t, uint64(0), w.Durable().Seq)
	timer <- time.Now()
	require.Equal(t, uint64(2), (<-commits).Seq)
	require.NoError(t, w.Close())
}

func TestWriterStopsOnCommitErrorAndKeepsPrefix(t *testing.T) {
	a := archivetest.MustCreate(t, nil)
	injected := errors.New("injected: no space left on device")
	var mu sync.Mutex
	calls := 0
	cfg := archive.WithBeforeCommit(archive.WriterConfig{BatchSize: 4}, func() error {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if calls == 3 {
			return injected
		}
		return nil
	})
	w, err := a.NewWriter(cfg)
	require.NoError(t, err)
	var appendErr error
	for i := range 100 {
		if _, appendErr = w.Append(archivetest.Incoming(t, archivetest.AccountUpdate(uint64(i), uint64(i), 1, 64))); appendErr != nil {
			break
		}
	}
	if appendErr == nil {
		appendErr = w.Flush()
	}
	require.ErrorIs(t, appendErr, injected)
	require.ErrorIs(t, appendErr, archive.ErrWriterFailed)
	var ce *archive.CommitError
	require.ErrorAs(t, appendErr, &ce)
	require.GreaterOrEqual(t, ce.LastSeq, ce.FirstSeq)
	durable := ce.FirstSeq - 1
	require.GreaterOrEqual(t, durable, uint64(8), "two batches of at least 4 committed first")
	require.ErrorIs(t, w.Flush(), injected)
	require.ErrorIs(t, w.AppendGap(archive.Gap{}), injected)
	require.ErrorIs(t, w.Close(), injected)
	require.NoError(t, a.Close())

	a, err = archive.Open(a.Path(), &archive.Options{ReadOnly: true})
	require.NoError(t, err)
	defer a.Close()
	require.NoError(t, a.Check())
	cp, err := a.Checkpoint()
	require.NoError(t, err)
	require.Equal(t, durable, cp.Seq)
	st, err := a.Stats()
	require.NoError(t, err)
	require.Equal(t, durable, st.Messages)
}

func TestWriterMaxSizeReachedKeepsArchiveIntact(t *testing.T) {
	a := archivetest.MustCreate(t, nil)
	path := a.Path()
	require.NoError(t, a.Close())
	a, err := archive.Open(path, &archive.Options{MaxSize: 1 << 20})
	require.NoError(t, err)
	w, err := a.NewWriter(archive.WriterConfig{BatchSize: 64})
	require.NoError(t, err)
	var werr error
	for i := range 10_000 {
		if _, werr = w.Append(archivetest.Incoming(t, archivetest.AccountUpdate(uint64(i/10), uint64(i), 2, 1000))); werr != nil {
			break
		}
	}
	if werr == nil {
		werr = w.Flush()
	}
	require.ErrorIs(t, werr, berrors.ErrMaxSizeReached)
	_ = a.Close()

	a, err = archive.Open(path, nil)
	require.NoError(t, err)
	defer a.Close()
	require.NoError(t, a.Check())
	cp, err := a.Checkpoint()
	require.NoError(t, err)
	require.Positive(t, cp.Seq)
	n := uint64(0)
	require.NoError(t, a.Scan(context.Background(), 0, math.MaxUint64, func(u archive.Update) error {
		n++
		require.Equal(t, n, u.Seq)
		return nil
	}))
	require.Equal(t, cp.Seq, n)
}

func TestWriterGapsAndKV(t *testing.T) {
	a := archivetest.MustCreate(t, nil)
	w, err := a.NewWriter(archive.WriterConfig{})
	require.NoError(t, err)
	for i := range 3 {
		_, err := w.Append(archivetest.Incoming(t, archivetest.SlotUpdate(uint64(100+i), geyserpb.SlotStatus_SLOT_CONFIRMED)))
		require.NoError(t, err)
	}
	require.NoError(t, w.AppendGap(archive.Gap{FromSlot: 103, ToSlot: 150, Reason: "out of range"}))
	require.NoError(t, w.AppendKV("goldens/abc", archive.SlotKey(102), []byte("digest-102")))
	require.ErrorIs(t, w.AppendKV("elsewhere", []byte("k"), nil), archive.ErrBadBucket)
	_, err = w.Append(archivetest.Incoming(t, archivetest.SlotUpdate(151, geyserpb.SlotStatus_SLOT_CONFIRMED)))
	require.NoError(t, err)
	require.NoError(t, w.Flush())

	gaps, err := a.Gaps()
	require.NoError(t, err)
	require.Len(t, gaps, 1)
	require.Equal(t, uint64(1), gaps[0].ID)
	require.Equal(t, uint64(103), gaps[0].FromSlot)
	require.Equal(t, uint64(150), gaps[0].ToSlot)
	require.Equal(t, uint64(3), gaps[0].AfterSeq)
	require.Equal(t, "out of range", gaps[0].Reason)
	v, err := a.GetKV("goldens/abc", archive.SlotKey(102))
	require.NoError(t, err)
	require.Equal(t, "digest-102", string(v))
	st, err := a.Stats()
	require.NoError(t, err)
	require.Len(t, st.Gaps, 1)
}

func TestConcurrentReadersDuringWrites(t *testing.T) {
	a := archivetest.MustCreate(t, &archive.Options{NoSync: true})
	w, err := a.NewWriter(archive.WriterConfig{BatchSize: 50, BatchInterval: time.Millisecond})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				var last uint64
				err := a.Scan(context.Background(), 0, math.MaxUint64, func(u archive.Update) error {
					if u.Seq != last+1 {
						return errors.New("hole in sequence seen by a reader")
					}
					last = u.Seq
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
				if _, err := a.Stats(); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	for i := range 3000 {
		_, err := w.Append(archivetest.Incoming(t, archivetest.AccountUpdate(uint64(i/20), uint64(i), 3, 200)))
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestWriterFlushRacingClose(t *testing.T) {
	for range 20 {
		a := archivetest.MustCreate(t, &archive.Options{NoSync: true})
		w, err := a.NewWriter(archive.WriterConfig{})
		require.NoError(t, err)
		_, err = w.Append(archivetest.Incoming(t, archivetest.PingUpdate()))
		require.NoError(t, err)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := w.Flush(); err != nil {
					require.ErrorIs(t, err, archive.ErrClosed)
				}
			}()
		}
		require.NoError(t, w.Close())
		wg.Wait()
		cp, err := a.Checkpoint()
		require.NoError(t, err)
		require.Equal(t, uint64(1), cp.Seq)
	}
}
