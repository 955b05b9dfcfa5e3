package record

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/charmbracelet/log"

	"github.com/hyperstack-go/hyperstack/internal/archive"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/source"
)

// Source is a stream of updates; *source.Yellowstone implements it.
type Source interface {
	Run(ctx context.Context, h source.Handler) error
}

// DefaultSeenSlots is how many slots below the resume slot seed duplicate detection: the slots a
// reconnect replays with the source's default resume margin (source.DefaultResumeMargin).
const DefaultSeenSlots = source.DefaultResumeMargin

// Recorder writes a Source into an Archive. Fill the fields, pass ResumeSlot and Seen to the source's
// configuration, then call Run once.
type Recorder struct {
	// Source is the stream to record. Required by Run.
	Source Source
	// Archive receives the updates; it must be open for writing. Required. Run does not close it.
	Archive *archive.Archive
	// Logger receives resume, gap and summary messages (and periodic progress without a terminal).
	// Nil means silent.
	Logger *log.Logger
	// Progress configures progress reporting; nil means none.
	Progress *Progress
	// Writer configures batching; the zero value uses the archive defaults.
	Writer archive.WriterConfig
	// SeenSlots is how many slots below the resume slot are read back to seed duplicate detection;
	// 0 means DefaultSeenSlots. It must be at least the source's ResumeMargin, or replayed updates of
	// the slots in between are stored twice.
	SeenSlots uint64
	// AfterAppend, when set, is called on the receive goroutine after each update is appended, with
	// the archive writer and the update's sequence number. Key-value data it queues with
	// w.AppendKV commits atomically with that update's batch or a later one (live goldens). Its
	// error stops the recording. u.Raw is only valid during the call when the source lends it
	// (source.Config.LendRaw).
	AfterAppend func(w *archive.Writer, seq uint64, u *source.Update) error

	initOnce sync.Once
	initErr  error
	start    archive.Checkpoint  // the archive's checkpoint when the recorder started
	seen     map[string]struct{} // keys of stored updates near the resume slot; read-only after init

	writer atomic.Pointer[archive.Writer]
	stats  liveStats
}

// liveStats are updated by the receive goroutine and read by the progress reporter.
type liveStats struct {
	messages atomic.Uint64
	bytes    atomic.Uint64
	slot     atomic.Uint64
	durable  atomic.Uint64
	lagNanos atomic.Int64
	lagValid atomic.Bool
	sample   atomic.Bool // set by the reporter: measure lag on the next update
	gaps     atomic.Uint64
}

func (r *Recorder) init() error {
	r.initOnce.Do(func() {
		if r.Archive == nil {
			r.initErr = ErrNoArchive
			return
		}
		cp, err := r.Archive.Checkpoint()
		if err != nil {
			r.initErr = err
			return
		}
		r.start = cp
		r.seen = map[string]struct{}{}
		if cp.MaxSlot == 0 {
			return
		}
		n := r.SeenSlots
		if n == 0 {
			n = DefaultSeenSlots
		}
		from := cp.MaxSlot - min(n, cp.MaxSlot)
		r.initErr = r.Archive.Scan(context.Background(), from, cp.MaxSlot, func(u archive.Update) error {
			if k, ok := source.DedupKeyOf(u.Raw); ok {
				r.seen[k] = struct{}{}
			}
			return nil
		})
	})
	return r.initErr
}

// ResumeSlot is the source's Config.ResumeSlot: the highest slot already in the archive (including
// updates of this run that are still being committed), or false for an empty archive.
func (r *Recorder) ResumeSlot() (uint64, bool) {
	if err := r.init(); err != nil {
		return 0, false
	}
	cp := r.start
	if w := r.writer.Load(); w != nil {
		cp = w.Appended()
	}
	return cp.MaxSlot, cp.MaxSlot > 0
}

// Seen is the source's Config.Seen: whether an update with this dedup key was stored by an earlier
// run in the slots just below the resume slot. Updates of the current run are tracked by the source.
func (r *Recorder) Seen(key string) bool {
	if err := r.init(); err != nil {
		return false
	}
	_, ok := r.seen[key]
	return ok
}

// Run records until ctx is cancelled (then it flushes and returns nil), the source stops with an error
// (bad token, rejected filter), or a commit fails (disk full, I/O error). Every batch committed before
// an error stays in the archive. The archive is left open.
func (r *Recorder) Run(ctx context.Context) error {
	if r.Source == nil || r.Archive == nil {
		return ErrNoArchive
	}
	if err := r.init(); err != nil {
		return fmt.Errorf("read archive checkpoint: %w", err)
	}
	logger := r.Logger
	cfg := r.Writer
	userCommit := cfg.OnCommit
	cfg.OnCommit = func(cp archive.Checkpoint) {
		r.stats.durable.Store(cp.Seq)
		if userCommit != nil {
			userCommit(cp)
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = logger
	}
	w, err := r.Archive.NewWriter(cfg)
	if err != nil {
		return err
	}
	r.writer.Store(w)
	r.stats.durable.Store(r.start.Seq)
	r.stats.sample.Store(true)
	if logger != nil {
		if r.start.Seq > 0 {
			logger.Info("resuming recording", "archive", r.Archive.Path(), "seq", r.start.Seq,
				"from_slot", r.start.MaxSlot, "dedup_keys", len(r.seen))
		} else {
			logger.Info("recording", "archive", r.Archive.Path())
		}
	}

	var wg sync.WaitGroup
	pctx, stopProgress := context.WithCancel(context.Background())
	if r.Progress != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Progress.run(pctx, &r.stats, logger)
		}()
	}
	began := time.Now()
	runErr := r.Source.Run(ctx, handler{r: r, w: w})
	closeErr := w.Close()
	stopProgress()
	wg.Wait()

	if runErr != nil && ctx.Err() != nil && errors.Is(runErr, ctx.Err()) {
		runErr = nil // Ctrl-C / SIGTERM: a clean stop
	}
	if closeErr != nil && (runErr == nil || !errors.Is(runErr, archive.ErrWriterFailed)) {
		runErr = errors.Join(runErr, closeErr)
	}
	if logger != nil {
		cp := w.Durable()
		kv := []any{"messages", r.stats.messages.Load(), "bytes", r.stats.bytes.Load(), "durable_seq", cp.Seq,
			"last_slot", cp.MaxSlot, "gaps", r.stats.gaps.Load(), "elapsed", time.Since(began).Round(time.Millisecond)}
		if runErr != nil {
			logger.Error("recording stopped", append(kv, "err", runErr)...)
		} else {
			logger.Info("recording stopped", kv...)
		}
	}
	return runErr
}

// handler adapts the recorder to source.Handler; it runs on the source's receive goroutine.
type handler struct {
	r *Recorder
	w *archive.Writer
}

// hasSlot tells whether updates of kind k carry a slot.
func hasSlot(k geyserpb.UpdateKind) bool {
	switch k {
	case geyserpb.KindPing, geyserpb.KindPong, geyserpb.KindUnknown:
		return false
	}
	return true
}

func (h handler) OnUpdate(u *source.Update) error {
	seq, err := h.w.Append(archive.Incoming{Raw: u.Raw, Kind: u.Kind, Slot: u.Slot, HasSlot: hasSlot(u.Kind),
		ReceivedAt: u.ReceivedAt})
	if err != nil {
		return err
	}
	if h.r.AfterAppend != nil {
		if err := h.r.AfterAppend(h.w, seq, u); err != nil {
			return err
		}
	}
	st := &h.r.stats
	st.messages.Add(1)
	st.bytes.Add(uint64(len(u.Raw)))
	if u.Slot > st.slot.Load() {
		st.slot.Store(u.Slot)
	}
	if st.sample.Load() {
		if created, ok := createdAt(u.Raw); ok {
			st.sample.Store(false)
			st.lagNanos.Store(int64(u.ReceivedAt.Sub(created)))
			st.lagValid.Store(true)
		}
	}
	return nil
}

func (h handler) OnGap(g source.Gap) error {
	h.r.stats.gaps.Add(1)
	if l := h.r.Logger; l != nil {
		l.Warn("gap recorded: updates in these slots may be missing", "from_slot", g.FromSlot, "to_slot", g.ToSlot,
			"reason", g.Reason)
	}
	return h.w.AppendGap(archive.Gap{FromSlot: g.FromSlot, ToSlot: g.ToSlot, Reason: g.Reason})
}
