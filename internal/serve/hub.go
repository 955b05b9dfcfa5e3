package serve

import (
	"hash/maphash"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/hyperstack-go/hyperstack/internal/projection"
)

// numHubShards is the number of shards of the subscription registry.
const numHubShards = 64

// hub routes frames to subscriptions. The registry is sharded by channel. Delivery reads a route's
// subscriber lists under the shard's read lock; add and remove change them in place under its write
// lock, so subscribing n clients to one view costs O(n), not O(n²) in copies.
type hub struct {
	seed   maphash.Seed
	shards [numHubShards]hubShard
}

type hubShard struct {
	mu     sync.RWMutex
	routes map[string]*route
}

// route holds the subscriptions of one channel: those taking every frame and those taking only one
// key's frames. The slices are only read or written with the shard lock held; their order does not
// matter.
type route struct {
	all   []*subscription
	byKey map[string][]*subscription
}

func newHub() *hub {
	h := &hub{seed: maphash.MakeSeed()}
	for i := range h.shards {
		h.shards[i].routes = make(map[string]*route)
	}
	return h
}

func (h *hub) shard(channel string) *hubShard {
	return &h.shards[maphash.String(h.seed, channel)%numHubShards]
}

func (h *hub) add(s *subscription) {
	sh := h.shard(s.channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := sh.routes[s.channel]
	if r == nil {
		r = &route{}
		sh.routes[s.channel] = r
	}
	if s.key == "" {
		r.all = append(r.all, s)
		return
	}
	if r.byKey == nil {
		r.byKey = make(map[string][]*subscription)
	}
	r.byKey[s.key] = append(r.byKey[s.key], s)
}

func (h *hub) remove(s *subscription) {
	sh := h.shard(s.channel)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	r := sh.routes[s.channel]
	if r == nil {
		return
	}
	without := func(list []*subscription) []*subscription {
		i := slices.Index(list, s)
		if i < 0 {
			return list
		}
		last := len(list) - 1
		list[i] = list[last]
		list[last] = nil // let the removed subscription be collected
		return list[:last]
	}
	if s.key == "" {
		r.all = without(r.all)
	} else {
		if l := without(r.byKey[s.key]); len(l) > 0 {
			r.byKey[s.key] = l
		} else {
			delete(r.byKey, s.key)
		}
	}
	if len(r.all) == 0 && len(r.byKey) == 0 {
		delete(sh.routes, s.channel)
	}
}

// dispatch delivers a batch. It runs on the broker's delivery goroutine and never blocks on a
// client.
func (h *hub) dispatch(b *projection.Batch) {
	var (
		sh      *hubShard
		lastCh  string
		r       *route
		started bool
	)
	for i := range b.Frames {
		f := &b.Frames[i]
		if !started || f.Channel != lastCh {
			if sh != nil {
				sh.mu.RUnlock()
			}
			sh = h.shard(f.Channel)
			sh.mu.RLock()
			r = sh.routes[f.Channel]
			lastCh, started = f.Channel, true
		}
		if r == nil {
			continue
		}
		var keyed []*subscription
		if r.byKey != nil {
			keyed = r.byKey[f.Key]
		}
		if len(r.all) == 0 && len(keyed) == 0 {
			continue
		}
		// Frame once; every subscriber shares the bytes.
		wire := liveFrame(f.Payload)
		for _, s := range r.all {
			s.deliver(b.Seq, wire)
		}
		for _, s := range keyed {
			s.deliver(b.Seq, wire)
		}
	}
	if sh != nil {
		sh.mu.RUnlock()
	}
}

// subscription is one client subscription. It is registered in the hub before its snapshot is
// read; until activate runs, live frames are held in pending.
type subscription struct {
	id      string // view + ":" + (key or "*"), the dedup id of the protocol
	c       *conn
	target  *projection.Target
	channel string
	key     string

	// active and minSeq are written by activate under mu and read by deliver without it once
	// active is true: frames of batches up to minSeq are contained in the snapshot.
	active atomic.Bool
	minSeq atomic.Uint64

	// mu guards pending, pendingBytes and removed. deliver (the hub goroutine) appends while the
	// subscription is not active; activate (the connection's reader) drains once.
	mu           sync.Mutex
	pending      []pendingFrame
	pendingBytes int
	removed      bool
}

type pendingFrame struct {
	seq     uint64
	payload []byte // a complete WebSocket frame
}

// deliver hands a live frame (see liveFrame) to the connection, or holds it until activate.
func (s *subscription) deliver(seq uint64, payload []byte) {
	if !s.active.Load() {
		s.mu.Lock()
		if !s.active.Load() {
			if !s.removed {
				s.pending = append(s.pending, pendingFrame{seq, payload})
				s.pendingBytes += msgCost(payload)
				if s.pendingBytes > s.c.srv.cfg.MaxQueueBytes {
					s.removed = true
					s.pending = nil
					s.mu.Unlock()
					s.c.closeSlow()
					return
				}
			}
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
	}
	if seq > s.minSeq.Load() {
		s.c.enqueueLive(payload)
	}
}

// activate releases the held frames newer than snapSeq and switches to direct delivery.
func (s *subscription) activate(snapSeq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.minSeq.Store(snapSeq)
	if !s.removed {
		for _, p := range s.pending {
			if p.seq > snapSeq {
				s.c.enqueueLive(p.payload)
			}
		}
	}
	s.pending = nil
	s.pendingBytes = 0
	s.active.Store(true)
}

// stop marks the subscription removed so held frames are dropped.
func (s *subscription) stop() {
	s.mu.Lock()
	s.removed = true
	s.pending = nil
	s.mu.Unlock()
}
