package geyserserver

import (
	"sync"

	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/geyserserver/filter"
)

// entry is one published update. Immutable once appended to a ring, except for the lazily built
// transaction_status encoding (guarded by statusOnce).
type entry struct {
	kind geyserpb.UpdateKind
	slot uint64
	msg  *geyserpb.SubscribeUpdate // decoded; used for matching and views, never sent or modified
	body []byte                    // the encoded update without its `filters` field

	statusOnce sync.Once
	statusBody []byte
}

// transactionStatusBody returns the encoding of the transaction_status update derived from a
// transaction entry.
func (e *entry) transactionStatusBody() []byte {
	e.statusOnce.Do(func() {
		e.statusBody, _ = proto.MarshalOptions{Deterministic: true}.Marshal(filter.TransactionStatusOf(e.msg))
	})
	return e.statusBody
}

// reader is one stream's position in a ring. Guarded by the ring's mu.
type reader struct {
	cursor uint64        // next sequence to read
	wake   chan struct{} // capacity 1; signalled when the ring grows while parked
	parked bool
}

// ring is a bounded broadcast log of entries for one commitment level. Sequence numbers grow from 0;
// the ring holds [head-len(buf), head).
type ring struct {
	mu   sync.Mutex
	buf  []*entry
	mask uint64
	head uint64

	readers      map[*reader]struct{}
	parked       []*reader
	backpressure bool
	minCursor    uint64 // lower bound of every reader's cursor (exact after recomputeMin)
	pubWaiting   bool
	space        *sync.Cond
	closed       bool

	// Replay bookkeeping.
	hasSlot     bool
	minSlotSeen uint64 // lowest slot ever appended
	maxSlot     uint64 // highest slot appended
	evicted     bool
	evictedMax  uint64 // highest slot among overwritten entries
}

func newRing(size int, backpressure bool) *ring {
	r := &ring{
		buf:          make([]*entry, size),
		mask:         uint64(size - 1),
		readers:      make(map[*reader]struct{}),
		backpressure: backpressure,
	}
	r.space = sync.NewCond(&r.mu)
	return r
}

// append adds e. With backpressure it first waits until no reader would be overrun; it returns false
// if the ring was closed meanwhile.
func (r *ring) append(e *entry) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	size := uint64(len(r.buf))
	if r.backpressure {
		for !r.closed && r.head-r.minCursor >= size {
			if !r.recomputeMin() {
				r.pubWaiting = true
				r.space.Wait()
				r.pubWaiting = false
			}
		}
	}
	if r.closed {
		return false
	}
	idx := r.head & r.mask
	if old := r.buf[idx]; old != nil {
		if !r.evicted || old.slot > r.evictedMax {
			r.evictedMax = old.slot
		}
		r.evicted = true
	}
	r.buf[idx] = e
	r.head++
	if !r.hasSlot || e.slot < r.minSlotSeen {
		r.minSlotSeen = e.slot
	}
	if !r.hasSlot || e.slot > r.maxSlot {
		r.maxSlot = e.slot
	}
	r.hasSlot = true
	for _, rd := range r.parked {
		rd.parked = false
		select {
		case rd.wake <- struct{}{}:
		default:
		}
	}
	r.parked = r.parked[:0]
	return true
}

// recomputeMin refreshes minCursor; it reports whether there is room for one more entry.
func (r *ring) recomputeMin() bool {
	m := r.head
	for rd := range r.readers {
		if rd.cursor < m {
			m = rd.cursor
		}
	}
	r.minCursor = m
	return r.head-m < uint64(len(r.buf))
}

// attachLive registers rd at the head.
func (r *ring) attachLive(rd *reader) {
	r.mu.Lock()
	rd.cursor = r.head
	rd.parked = false
	r.readers[rd] = struct{}{}
	r.mu.Unlock()
}

func (r *ring) detach(rd *reader) {
	r.mu.Lock()
	delete(r.readers, rd)
	for i, p := range r.parked {
		if p == rd {
			r.parked = append(r.parked[:i], r.parked[i+1:]...)
			break
		}
	}
	rd.parked = false
	if r.pubWaiting {
		r.space.Broadcast()
	}
	r.mu.Unlock()
}

// read copies up to cap(dst) entries from rd's cursor into dst and advances the cursor; first is the
// sequence of out[0]. lagged means
// entries rd had not read were overwritten. When nothing is available and park is set, rd is parked:
// its wake channel is signalled by the next append.
func (r *ring) read(rd *reader, dst []*entry, park bool) (out []*entry, first uint64, lagged bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	size := uint64(len(r.buf))
	first = rd.cursor
	if r.head > size && rd.cursor < r.head-size {
		return dst[:0], first, true
	}
	n := r.head - rd.cursor
	if n == 0 {
		if park && !rd.parked {
			rd.parked = true
			r.parked = append(r.parked, rd)
		}
		return dst[:0], first, false
	}
	if c := uint64(cap(dst)); n > c {
		n = c
	}
	out = dst[:0]
	for i := uint64(0); i < n; i++ {
		out = append(out, r.buf[(rd.cursor+i)&r.mask])
	}
	rd.cursor += n
	if r.pubWaiting {
		r.space.Broadcast()
	}
	return out, first, false
}

// firstAvailable returns the oldest slot whose updates the ring still holds completely, bounded to
// the last replaySlots slots; ok is false while the ring is empty.
func (r *ring) firstAvailable(replaySlots uint64) (slot uint64, ok bool) {
	if !r.hasSlot {
		return 0, false
	}
	first := r.minSlotSeen
	if r.evicted && r.evictedMax+1 > first {
		first = r.evictedMax + 1
	}
	if replaySlots > 0 && r.maxSlot+1 > replaySlots && r.maxSlot+1-replaySlots > first {
		first = r.maxSlot + 1 - replaySlots
	}
	return first, true
}

// replayStart attaches rd at the first held entry of a slot >= from. It fails, returning the first
// available slot, when from is older than what can be replayed. end is the head at attach time:
// entries before it are replay, after it live.
func (r *ring) replayStart(rd *reader, from, replaySlots uint64) (end uint64, first uint64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	first, has := r.firstAvailable(replaySlots)
	if has && from < first {
		return 0, first, false
	}
	size := uint64(len(r.buf))
	start := uint64(0)
	if r.head > size {
		start = r.head - size
	}
	cursor := r.head
	for seq := start; seq < r.head; seq++ {
		if r.buf[seq&r.mask].slot >= from {
			cursor = seq
			break
		}
	}
	rd.cursor = cursor
	rd.parked = false
	r.readers[rd] = struct{}{}
	if cursor < r.minCursor {
		r.minCursor = cursor
	}
	return r.head, first, true
}

func (r *ring) info(replaySlots uint64) (first uint64, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.firstAvailable(replaySlots)
}

func (r *ring) close() {
	r.mu.Lock()
	r.closed = true
	r.space.Broadcast()
	for _, rd := range r.parked {
		rd.parked = false
		select {
		case rd.wake <- struct{}{}:
		default:
		}
	}
	r.parked = nil
	r.mu.Unlock()
}
