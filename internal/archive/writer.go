package archive

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/charmbracelet/log"
	bolt "go.etcd.io/bbolt"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// Writer defaults.
const (
	DefaultBatchSize     = 4096
	DefaultBatchBytes    = 8 << 20
	DefaultBatchInterval = 100 * time.Millisecond
)

// WriterConfig configures a Writer. The zero value uses the defaults.
type WriterConfig struct {
	// BatchSize is the number of updates that fills a batch. Zero means DefaultBatchSize.
	BatchSize int
	// BatchBytes is the number of bytes that fills a batch. Zero means DefaultBatchBytes.
	BatchBytes int
	// BatchInterval bounds how long an update waits before its batch is committed, counted from the
	// first update of the batch. Zero means DefaultBatchInterval.
	BatchInterval time.Duration
	// OnCommit, if set, is called from the writer's goroutine after each durable commit with the new
	// checkpoint. It must not block for long and must not call the Writer.
	OnCommit func(Checkpoint)
	// Logger receives diagnostics. Nil means silent.
	Logger *log.Logger
	// Now is the clock for checkpoint commit times. Nil means time.Now; a generator that must produce
	// byte-identical archives passes a deterministic clock.
	Now func() time.Time

	// Test hooks.
	after        func(time.Duration) <-chan time.Time
	beforeCommit func(tx *bolt.Tx) error
}

// Incoming is an update handed to Writer.Append.
type Incoming struct {
	// Raw is the SubscribeUpdate exactly as received. Append copies it.
	Raw []byte
	// Kind is the update's case.
	Kind geyserpb.UpdateKind
	// Slot is the update's slot; ignored when HasSlot is false.
	Slot    uint64
	HasSlot bool
	// ReceivedAt is when the update was received. Zero means now.
	ReceivedAt time.Time
}

// Writer appends updates to an archive in batches. Each batch is committed in one bbolt transaction that
// also writes the slot index, gap records, queued key-value pairs, the counters and the checkpoint, so a
// crash leaves the archive at the end of some committed batch. A batch is committed when it holds
// BatchSize updates or BatchBytes bytes, when BatchInterval has passed since its first update, on Flush,
// and on Close, whichever comes first. While one batch commits the next one fills; if that commit is
// still running when the next batch is full, the batch keeps filling (group commit: one fsync then
// covers more updates) up to four times its limits, and only then does Append block (back-pressure).
//
// Methods are safe for concurrent use; sequence numbers follow the order in which Append calls take the
// writer's lock.
type Writer struct {
	a   *Archive
	cfg WriterConfig

	kick     chan struct{}   // wakes the committer; capacity 1
	flushReq chan chan error // Flush and Close requests
	quit     chan struct{}   // closed by Close after its final flush
	done     chan struct{}   // closed when the committer exits

	mu       sync.Mutex
	cond     *sync.Cond // signalled when cur is swapped out or the writer fails/closes
	cur      *batch     // the filling batch; guarded by mu
	spare    *batch     // a reset batch ready to become cur; guarded by mu
	nextSeq  uint64     // guarded by mu
	appended Checkpoint // position including uncommitted updates; guarded by mu
	durable  Checkpoint // last committed checkpoint; guarded by mu
	err      error      // first commit error; guarded by mu
	closing  bool       // guarded by mu
}

type record struct {
	seq     uint64
	slot    uint64
	hasSlot bool
	kind    geyserpb.UpdateKind
	rawLen  int
	off     int // value offset in the arena
	n       int // value length
}

type kvPut struct {
	bucket     string
	key, value []byte
}

type batch struct {
	arena []byte
	recs  []record
	slots map[uint64]slotEntry
	gaps  []Gap
	kvs   []kvPut
	keys  []byte
}

func newBatch() *batch { return &batch{slots: make(map[uint64]slotEntry)} }

func (b *batch) empty() bool { return len(b.recs) == 0 && len(b.gaps) == 0 && len(b.kvs) == 0 }

func (b *batch) reset() {
	b.arena = b.arena[:0]
	b.recs = b.recs[:0]
	clear(b.slots)
	b.gaps = b.gaps[:0]
	b.kvs = b.kvs[:0]
	b.keys = b.keys[:0]
}

// NewWriter starts the archive's writer. An archive has at most one open writer (ErrWriterActive).
func (a *Archive) NewWriter(cfg WriterConfig) (*Writer, error) {
	if a.readOnly {
		return nil, ErrReadOnly
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.BatchBytes <= 0 {
		cfg.BatchBytes = DefaultBatchBytes
	}
	if cfg.BatchInterval <= 0 {
		cfg.BatchInterval = DefaultBatchInterval
	}
	if cfg.after == nil {
		cfg.after = time.After
	}
	cp, err := a.Checkpoint()
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, ErrClosed
	}
	if a.writer != nil {
		return nil, ErrWriterActive
	}
	w := &Writer{
		a:        a,
		cfg:      cfg,
		kick:     make(chan struct{}, 1),
		flushReq: make(chan chan error),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		cur:      newBatch(),
		spare:    newBatch(),
		nextSeq:  cp.Seq + 1,
		appended: cp,
		durable:  cp,
	}
	w.cond = sync.NewCond(&w.mu)
	a.writer = w
	go w.run()
	return w, nil
}

func (w *Writer) now() time.Time {
	if w.cfg.Now != nil {
		return w.cfg.Now()
	}
	return time.Now()
}

func (w *Writer) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

func (w *Writer) full(b *batch) bool {
	return len(b.recs) >= w.cfg.BatchSize || len(b.arena) >= w.cfg.BatchBytes
}

// overfull reports that b has reached the hard limit at which Append waits for the committer.
func (w *Writer) overfull(b *batch) bool {
	return len(b.recs) >= 4*w.cfg.BatchSize || len(b.arena) >= 4*w.cfg.BatchBytes
}

// waitRoom blocks until the filling batch has room. Called with mu held.
func (w *Writer) waitRoom() error {
	for w.overfull(w.cur) && w.err == nil && !w.closing {
		w.wake()
		w.cond.Wait()
	}
	if w.err != nil {
		return w.err
	}
	if w.closing {
		return ErrClosed
	}
	return nil
}

// Append queues an update and returns its sequence number. The update is durable once a later commit
// covers it (see Durable, Flush, WriterConfig.OnCommit). After a failed commit Append returns that error.
func (w *Writer) Append(in Incoming) (uint64, error) {
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = time.Now()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.waitRoom(); err != nil {
		return 0, err
	}
	b := w.cur
	seq := w.nextSeq
	w.nextSeq++
	off := len(b.arena)
	b.arena = appendUpdateValue(b.arena, in.Slot, in.HasSlot, in.Kind, in.ReceivedAt, in.Raw)
	b.recs = append(b.recs, record{seq: seq, slot: in.Slot, hasSlot: in.HasSlot, kind: in.Kind,
		rawLen: len(in.Raw), off: off, n: len(b.arena) - off})
	w.appended.Seq = seq
	if in.HasSlot {
		e, ok := b.slots[in.Slot]
		if !ok {
			e.first = seq
		}
		e.last = seq
		e.count++
		b.slots[in.Slot] = e
		w.appended.Slot = in.Slot
		w.appended.MaxSlot = max(w.appended.MaxSlot, in.Slot)
	}
	if len(b.recs) == 1 || w.full(b) {
		w.wake()
	}
	return seq, nil
}

// AppendGap queues a gap record; it is committed with the current batch. Gap.AfterSeq is set to the
// sequence number of the last update appended before it, and RecordedAt to now when zero.
func (w *Writer) AppendGap(g Gap) error {
	if g.RecordedAt.IsZero() {
		g.RecordedAt = time.Now()
	}
	g.RecordedAt = g.RecordedAt.UTC()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.closing {
		return ErrClosed
	}
	g.AfterSeq = w.nextSeq - 1
	w.cur.gaps = append(w.cur.gaps, g)
	w.wake()
	return nil
}

// AppendKV queues a key-value put into bucket (see kv.go for bucket paths); it is committed atomically
// with the current batch, so derived data such as digests can move together with the updates.
// key and value are copied.
func (w *Writer) AppendKV(bucket string, key, value []byte) error {
	if _, err := splitBucket(bucket); err != nil {
		return err
	}
	if len(key) == 0 {
		return fmt.Errorf("%w: empty key", ErrBadBucket)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	if w.closing {
		return ErrClosed
	}
	w.cur.kvs = append(w.cur.kvs, kvPut{bucket: bucket, key: append([]byte(nil), key...),
		value: append([]byte(nil), value...)})
	w.wake()
	return nil
}

// Appended returns the position including updates not yet committed.
func (w *Writer) Appended() Checkpoint {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.appended
}

// Durable returns the last committed checkpoint.
func (w *Writer) Durable() Checkpoint {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.durable
}

// Err returns the commit error that stopped the writer, or nil.
func (w *Writer) Err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// Flush commits everything appended so far and waits for it to be durable.
func (w *Writer) Flush() error {
	ack := make(chan error, 1)
	select {
	case w.flushReq <- ack:
		return <-ack
	case <-w.done:
		w.mu.Lock()
		defer w.mu.Unlock()
		if w.err != nil {
			return w.err
		}
		return ErrClosed
	}
}

// Close flushes, stops the writer and detaches it from the archive; the archive stays open. It is
// idempotent and returns the writer's error, if any.
func (w *Writer) Close() error {
	w.mu.Lock()
	already := w.closing
	w.closing = true
	w.cond.Broadcast()
	w.mu.Unlock()
	if !already {
		ack := make(chan error, 1)
		select {
		case w.flushReq <- ack:
			<-ack
		case <-w.done:
		}
		close(w.quit)
	}
	<-w.done
	w.a.mu.Lock()
	if w.a.writer == w {
		w.a.writer = nil
	}
	w.a.mu.Unlock()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// run is the committer goroutine; it owns every bbolt write transaction of the writer.
func (w *Writer) run() {
	defer close(w.done)
	var timer <-chan time.Time
	for {
		var acks []chan error
		now := false
		select {
		case <-w.kick:
		case <-timer:
			timer, now = nil, true
		case ack := <-w.flushReq:
			acks, now = append(acks, ack), true
		case <-w.quit:
			return
		}
		w.mu.Lock()
		if w.err != nil {
			err := w.err
			w.mu.Unlock()
			for _, a := range acks {
				a <- err
			}
			continue
		}
		b := w.cur
		if b.empty() || (!now && !w.full(b)) {
			if !b.empty() && timer == nil {
				timer = w.cfg.after(w.cfg.BatchInterval)
			}
			w.mu.Unlock()
			for _, a := range acks {
				a <- nil
			}
			continue
		}
		w.cur, w.spare = w.spare, nil
		cp := w.appended
		w.cond.Broadcast()
		w.mu.Unlock()
		timer = nil

		cp.CommittedAt = w.now().UTC()
		err := w.commit(b, cp)
		b.reset()
		w.mu.Lock()
		w.spare = b
		if err != nil {
			w.err = err
		} else {
			w.durable = cp
		}
		again := !w.cur.empty()
		w.cond.Broadcast()
		w.mu.Unlock()
		if err != nil && w.cfg.Logger != nil {
			w.cfg.Logger.Error("archive commit failed", "err", err)
		}
		if err == nil && w.cfg.OnCommit != nil {
			w.cfg.OnCommit(cp)
		}
		for _, a := range acks {
			a <- err
		}
		if again {
			w.wake()
		}
	}
}

func (w *Writer) commit(b *batch, cp Checkpoint) error {
	var first, last uint64
	if len(b.recs) > 0 {
		first, last = b.recs[0].seq, b.recs[len(b.recs)-1].seq
	}
	err := w.a.update(func(tx *bolt.Tx) error {
		ub := tx.Bucket(bucketUpdates)
		ub.FillPercent = 1.0 // keys only ever grow: pack pages full
		mb := tx.Bucket(bucketMeta)
		ctr, err := decodeCounters(mb.Get(keyCounters))
		if err != nil {
			return err
		}
		if cap(b.keys) < 8*len(b.recs) {
			b.keys = make([]byte, 0, 8*len(b.recs))
		}
		for _, r := range b.recs {
			off := len(b.keys)
			b.keys = binary.BigEndian.AppendUint64(b.keys, r.seq)
			if err := ub.Put(b.keys[off:off+8:off+8], b.arena[r.off:r.off+r.n:r.off+r.n]); err != nil {
				return fmt.Errorf("put update %d: %w", r.seq, err)
			}
			ctr.messages++
			ctr.bytes += uint64(r.rawLen)
			ctr.byKind[r.kind]++
		}
		sb := tx.Bucket(bucketSlots)
		for slot, e := range b.slots {
			k := u64(slot)
			if old := sb.Get(k); old != nil {
				oe, err := decodeSlotEntry(old)
				if err != nil {
					return err
				}
				e.first = oe.first
				e.count += oe.count
			}
			if err := sb.Put(k, e.encode()); err != nil {
				return fmt.Errorf("put slot index %d: %w", slot, err)
			}
		}
		gb := tx.Bucket(bucketGaps)
		for _, g := range b.gaps {
			id, err := gb.NextSequence()
			if err != nil {
				return err
			}
			g.ID = id
			v, err := json.Marshal(g)
			if err != nil {
				return err
			}
			if err := gb.Put(u64(id), v); err != nil {
				return fmt.Errorf("put gap record: %w", err)
			}
		}
		for _, kv := range b.kvs {
			bk, err := bucketForWrite(tx, kv.bucket)
			if err != nil {
				return err
			}
			if err := bk.Put(kv.key, kv.value); err != nil {
				return fmt.Errorf("put %s: %w", kv.bucket, err)
			}
		}
		if err := mb.Put(keyCounters, ctr.encode()); err != nil {
			return err
		}
		if err := mb.Put(keyCheckpoint, cp.encode()); err != nil {
			return err
		}
		if w.cfg.beforeCommit != nil {
			return w.cfg.beforeCommit(tx)
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrClosed) {
			return err
		}
		return &CommitError{FirstSeq: first, LastSeq: last, Err: err}
	}
	return nil
}
