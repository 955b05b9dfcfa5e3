package projection

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Query is what a subscriber asks of a view.
type Query struct {
	// View is the view id.
	View string
	// Key selects one entity: required for state views; for list and append views it restricts the
	// subscription to that key; ignored by derived views.
	Key string
	// Skip and Take window a list, append or derived view in its sort order. Take zero means the
	// view's default window (derived views) or everything (list and append views).
	Skip, Take int
	// Filters keep only entities whose value at each dotted field path, as a string, equals the
	// given value. Ignored by state views.
	Filters map[string]string
}

// Target is an open subscription target: where its frames are routed and how it is announced.
// Close it when the subscription ends.
type Target struct {
	// View is the view id; frames carry it as their `entity`.
	View string
	// Mode is the view's mode.
	Mode Mode
	// Sort is the order announced in the `subscribed` frame (nil for state and append views).
	Sort *Sort
	// Channel is the Frame.Channel of the frames this target receives.
	Channel string
	// Key, when not empty, restricts routing to frames with this key.
	Key string

	v  *view
	ch *channel
}

// channel is a view seen through a window or filters, shared by every subscriber asking for the
// same one. Guarded by Store.mu.
type channel struct {
	id       string
	v        *view
	key      string
	filters  []filterKV
	windowed bool
	skip     int
	take     int
	refs     int
	members  map[string]struct{}
	order    []string // windowed: the window, in order
}

type filterKV struct {
	path  []string
	value string
}

// Open resolves q into a Target, opening (or sharing) the channel it needs. The error is
// ErrUnknownView, ErrKeyRequired or ErrTooManyChannels.
func (s *Store) Open(q Query) (*Target, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.views[q.View]
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownView, q.View)
	}
	t := &Target{View: v.id, Mode: v.mode, Sort: v.subscribedSort(), Channel: v.id, v: v}
	if v.mode == ModeState && !v.derived {
		if q.Key == "" {
			return nil, ErrKeyRequired
		}
		t.Key = q.Key
		return t, nil
	}
	skip, take := max(q.Skip, 0), max(q.Take, 0)
	if !v.derived && len(q.Filters) == 0 && skip == 0 && take == 0 {
		t.Key = q.Key
		return t, nil
	}
	ch := &channel{v: v, skip: skip, take: take, windowed: v.derived || skip > 0 || take > 0}
	if !v.derived {
		ch.key = q.Key
	}
	if ch.windowed {
		if ch.take == 0 {
			ch.take = s.maxEntities
			if v.derived {
				ch.take = v.limit
			}
		}
		ch.take = min(ch.take, s.maxEntities)
	}
	for _, p := range slices.Sorted(maps.Keys(q.Filters)) {
		ch.filters = append(ch.filters, filterKV{path: strings.Split(p, "."), value: q.Filters[p]})
	}
	ch.id = channelID(v.id, ch)
	t.Channel = ch.id
	for _, c := range v.channels {
		if c.id == ch.id {
			c.refs++
			t.ch = c
			return t, nil
		}
	}
	if len(v.channels) >= s.maxChannels {
		return nil, ErrTooManyChannels
	}
	if ch.windowed && v.index == nil {
		s.buildIndex(v)
	}
	ch.refs = 1
	ch.members = make(map[string]struct{})
	if ch.windowed {
		ch.order = s.window(ch)
		for _, k := range ch.order {
			ch.members[k] = struct{}{}
		}
	} else {
		for _, k := range v.typ.cache.Keys() {
			if e, ok := v.typ.cache.Peek(k); ok && ch.accepts(e) {
				ch.members[k] = struct{}{}
			}
		}
	}
	v.channels = append(v.channels, ch)
	t.ch = ch
	return t, nil
}

// channelID names a channel uniquely: the view id, then its canonical window and filters.
func channelID(view string, ch *channel) string {
	var b strings.Builder
	b.WriteString(view)
	b.WriteString("?")
	if ch.key != "" {
		b.WriteString("key=")
		b.WriteString(strconv.Quote(ch.key))
		b.WriteString("&")
	}
	if ch.windowed {
		fmt.Fprintf(&b, "skip=%d&take=%d", ch.skip, ch.take)
	}
	for _, f := range ch.filters {
		b.WriteString("&")
		b.WriteString(strconv.Quote(strings.Join(f.path, ".")))
		b.WriteString("=")
		b.WriteString(strconv.Quote(f.value))
	}
	return b.String()
}

// Close releases a target opened by Open. Closing twice is harmless.
func (s *Store) Close(t *Target) {
	if t == nil || t.ch == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ch := t.ch
	t.ch = nil
	ch.refs--
	if ch.refs > 0 {
		return
	}
	v := ch.v
	v.channels = slices.DeleteFunc(v.channels, func(c *channel) bool { return c == ch })
	if !v.derived && !slices.ContainsFunc(v.channels, func(c *channel) bool { return c.windowed }) {
		v.index = nil
	}
}

func (s *Store) buildIndex(v *view) {
	v.index = newSortedIndex(v.sort)
	for _, k := range v.typ.cache.Keys() {
		if e, ok := v.typ.cache.Peek(k); ok {
			s.reindex(v, e)
		}
	}
}

// accepts reports whether an entity passes the channel's key and filters (not its window).
func (ch *channel) accepts(e *entity) bool {
	if ch.key != "" && e.key != ch.key {
		return false
	}
	for _, f := range ch.filters {
		v, ok := lookup(e.data, f.path)
		if !ok {
			return false
		}
		sv, ok := filterString(v)
		if !ok || sv != f.value {
			return false
		}
	}
	return true
}

// window computes the keys of a windowed channel, in order.
func (s *Store) window(ch *channel) []string {
	ix := ch.v.index
	out := make([]string, 0, min(ch.take, ix.len()))
	skipped := 0
	for _, it := range ix.items {
		if len(out) >= ch.take {
			break
		}
		if ch.key != "" || len(ch.filters) > 0 {
			e, ok := ch.v.typ.cache.Peek(it.key)
			if !ok || !ch.accepts(e) {
				continue
			}
		}
		if skipped < ch.skip {
			skipped++
			continue
		}
		out = append(out, it.key)
	}
	return out
}

// updateChannels emits the frames of every channel of t's views for the keys changed in this batch.
func (s *Store) updateChannels(st *batchState, t *entityType, tl *touchList) {
	for _, v := range t.views {
		for _, ch := range v.channels {
			if ch.windowed {
				s.updateWindow(st, ch, tl)
			} else {
				s.updateFiltered(st, ch, tl)
			}
		}
	}
}

func (s *Store) updateFiltered(st *batchState, ch *channel, tl *touchList) {
	for _, k := range tl.order {
		e, present := ch.v.typ.cache.Peek(k)
		in := present && ch.accepts(e)
		_, was := ch.members[k]
		switch {
		case in && (!was || tl.evicted[k]):
			ch.members[k] = struct{}{}
			s.emitUpsert(st, ch, e)
		case in:
			s.emitPatches(st, ch, k, tl.muts[k])
		case was:
			delete(ch.members, k)
			s.emitDelete(st, ch, k)
		}
	}
}

func (s *Store) updateWindow(st *batchState, ch *channel, tl *touchList) {
	next := s.window(ch)
	nextSet := make(map[string]struct{}, len(next))
	for _, k := range next {
		nextSet[k] = struct{}{}
	}
	for _, k := range ch.order {
		if _, stays := nextSet[k]; !stays {
			s.emitDelete(st, ch, k)
		}
	}
	for _, k := range next {
		_, was := ch.members[k]
		switch {
		case !was || tl.evicted[k]:
			if e, ok := ch.v.typ.cache.Peek(k); ok {
				s.emitUpsert(st, ch, e)
			}
		default:
			if idxs, touched := tl.muts[k]; touched {
				s.emitPatches(st, ch, k, idxs)
			}
		}
	}
	ch.order = next
	ch.members = nextSet
}

func (s *Store) emitUpsert(st *batchState, ch *channel, e *entity) {
	vk := viewKey{ch.v, e.key}
	p, ok := st.upserts[vk]
	if !ok {
		data := s.encoded(e)
		p = appendUpsertFrame(make([]byte, 0, len(data)+len(ch.v.id)+len(e.key)+96), ch.v.mode, ch.v.id, e.key, data, appendSeq(nil, e.slot, e.seq))
		if st.upserts == nil {
			st.upserts = make(map[viewKey][]byte)
		}
		st.upserts[vk] = p
	}
	st.batch.Frames = append(st.batch.Frames, Frame{Channel: ch.id, Key: e.key, Payload: p})
}

func (s *Store) emitDelete(st *batchState, ch *channel, key string) {
	vk := viewKey{ch.v, key}
	p, ok := st.deletes[vk]
	if !ok {
		p = appendDeleteFrame(nil, ch.v.mode, ch.v.id, key)
		if st.deletes == nil {
			st.deletes = make(map[viewKey][]byte)
		}
		st.deletes[vk] = p
	}
	st.batch.Frames = append(st.batch.Frames, Frame{Channel: ch.id, Key: key, Payload: p})
}

func (s *Store) emitPatches(st *batchState, ch *channel, key string, idxs []int) {
	for _, i := range idxs {
		var p []byte
		switch {
		case ch.v == ch.v.typ.base[1]:
			p = st.applied[i].base[1]
		case ch.v == ch.v.typ.base[2]:
			p = st.applied[i].base[2]
		default:
			vi := viewIdx{ch.v, i}
			var ok bool
			if p, ok = st.dpatches[vi]; !ok {
				a := &st.applied[i]
				p = appendPatchFrame(nil, ch.v.mode, ch.v.id, a.key, a.data, a.appendPaths, a.seq)
				if st.dpatches == nil {
					st.dpatches = make(map[viewIdx][]byte)
				}
				st.dpatches[vi] = p
			}
		}
		st.batch.Frames = append(st.batch.Frames, Frame{Channel: ch.id, Key: key, Payload: p})
	}
}

// SnapshotOptions shape the snapshot of list and append views (ignored for state views and
// windows).
type SnapshotOptions struct {
	// After, a `_seq` cursor, keeps only entities updated after it, oldest first.
	After string
	// Limit keeps at most this many entities: the first ones after After, or else the most
	// recently updated ones. Zero means no limit.
	Limit int
}

// Snapshot returns the entities a new subscriber of t starts from, in the order it should see
// them, and the sequence number of the last batch they reflect: live frames of batches up to that
// number are already contained in the snapshot.
func (s *Store) Snapshot(t *Target, opts SnapshotOptions) ([]Entry, uint64, error) {
	var afterSlot, afterSeq uint64
	hasAfter := opts.After != ""
	if hasAfter {
		var err error
		if afterSlot, afterSeq, err = ParseSeq(opts.After); err != nil {
			return nil, 0, fmt.Errorf("%w: %v", ErrBadCursor, err)
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	v := t.v
	cache := v.typ.cache
	var ents []*entity
	switch {
	case t.ch != nil && t.ch.windowed:
		for _, k := range t.ch.order {
			if e, ok := cache.Peek(k); ok {
				ents = append(ents, e)
			}
		}
		return s.entries(ents), s.seq, nil
	case v.mode == ModeState && !v.derived:
		if e, ok := cache.Peek(t.Key); ok {
			ents = append(ents, e)
		}
		return s.entries(ents), s.seq, nil
	case t.Key != "":
		if e, ok := cache.Peek(t.Key); ok {
			ents = append(ents, e)
		}
	default:
		keys := cache.Keys() // oldest first
		for i := len(keys) - 1; i >= 0; i-- {
			e, ok := cache.Peek(keys[i])
			if !ok {
				continue
			}
			if t.ch != nil {
				if _, in := t.ch.members[e.key]; !in {
					continue
				}
			}
			ents = append(ents, e)
		}
	}
	bySeq := func(a, b *entity) int {
		if c := cmp.Compare(a.slot, b.slot); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	}
	switch {
	case hasAfter:
		ents = slices.DeleteFunc(ents, func(e *entity) bool {
			return e.slot < afterSlot || (e.slot == afterSlot && e.seq <= afterSeq)
		})
		slices.SortStableFunc(ents, bySeq)
		if opts.Limit > 0 && len(ents) > opts.Limit {
			ents = ents[:opts.Limit]
		}
	case opts.Limit > 0:
		slices.SortStableFunc(ents, func(a, b *entity) int { return bySeq(b, a) })
		if len(ents) > opts.Limit {
			ents = ents[:opts.Limit]
		}
	}
	return s.entries(ents), s.seq, nil
}

func (s *Store) entries(ents []*entity) []Entry {
	out := make([]Entry, len(ents))
	for i, e := range ents {
		out[i] = Entry{Key: e.key, Data: s.encoded(e)}
	}
	return out
}
