package projection

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/charmbracelet/log"
	lru "github.com/hashicorp/golang-lru/v2"

	"github.com/hyperstack-go/hyperstack/internal/event"
)

// Defaults used when a Config field is zero.
const (
	DefaultMaxEntities        = 500
	DefaultMaxArrayLength     = 100
	DefaultMaxChannelsPerView = 256
)

// Config configures a Store. The zero value is usable: every field documents what zero means.
type Config struct {
	// MaxEntities bounds the entity cache of each entity type (least recently updated entities are
	// evicted first). Zero means DefaultMaxEntities.
	MaxEntities int
	// MaxArrayLength caps arrays extended through `append` paths; the newest items are kept. Zero
	// means DefaultMaxArrayLength; negative means no cap.
	MaxArrayLength int
	// MaxChannelsPerView bounds the distinct windows and filters open on one view. Zero means
	// DefaultMaxChannelsPerView.
	MaxChannelsPerView int
	// Entities are the entity types served from the start; types seen in mutations are added as
	// they appear. Each type gets the views "E/state", "E/list" and "E/append".
	Entities []string
	// Views are the derived views.
	Views []ViewDef
	// Logger receives debug and warning lines; nil means silent.
	Logger *log.Logger
}

// Store is the entity cache and view state. Create it with New.
type Store struct {
	maxEntities int
	maxArray    int
	maxChannels int
	log         *log.Logger

	// mu guards every field below. Apply holds it for writing; Open and Close for writing; Snapshot
	// and the read-only accessors for reading.
	mu    sync.RWMutex
	seq   uint64
	types map[string]*entityType
	order []*entityType // types in creation order, for deterministic frame order
	views map[string]*view
	// cur is the batch being built; set only while Apply holds mu.
	cur *batchState
}

type entityType struct {
	name  string
	cache *lru.Cache[string, *entity]
	base  [3]*view // state, list, append
	views []*view  // base views then derived views
}

// entity is one cached entity. data is mutated only under Store.mu held for writing; enc caches its
// encoding and is reset whenever data changes.
type entity struct {
	key  string
	data map[string]any
	slot uint64
	seq  uint64
	enc  atomic.Pointer[[]byte]
}

type view struct {
	id      string
	typ     *entityType
	mode    Mode
	derived bool
	sort    Sort
	limit   int
	filter  *Predicate
	// index orders the view's entities; always present on derived views, present on base list and
	// append views while a windowed channel is open.
	index    *sortedIndex
	channels []*channel
}

// MutationError reports a mutation that Apply skipped.
type MutationError struct {
	Index  int
	Entity string
	Err    error
}

func (e *MutationError) Error() string {
	return fmt.Sprintf("mutation %d (%s): %v", e.Index, e.Entity, e.Err)
}

func (e *MutationError) Unwrap() error { return e.Err }

// New creates a Store. A nil cfg means defaults.
func New(cfg *Config) (*Store, error) {
	if cfg == nil {
		cfg = &Config{}
	}
	s := &Store{
		maxEntities: cfg.MaxEntities,
		maxArray:    cfg.MaxArrayLength,
		maxChannels: cfg.MaxChannelsPerView,
		log:         cfg.Logger,
		types:       make(map[string]*entityType),
		views:       make(map[string]*view),
	}
	if s.maxEntities <= 0 {
		s.maxEntities = DefaultMaxEntities
	}
	if s.maxArray == 0 {
		s.maxArray = DefaultMaxArrayLength
	}
	if s.maxChannels <= 0 {
		s.maxChannels = DefaultMaxChannelsPerView
	}
	if s.log == nil {
		s.log = log.New(nilWriter{})
		s.log.SetLevel(log.FatalLevel + 1)
	}
	for _, name := range cfg.Entities {
		if name == "" || strings.Contains(name, "/") {
			return nil, fmt.Errorf("%w: entity name %q", ErrBadView, name)
		}
		s.typeFor(name)
	}
	for i := range cfg.Views {
		d := cfg.Views[i]
		if err := d.validate(); err != nil {
			return nil, err
		}
		if _, dup := s.views[d.ID]; dup {
			return nil, fmt.Errorf("%w: view %q defined twice", ErrBadView, d.ID)
		}
		typ := s.typeFor(d.Entity)
		v := &view{id: d.ID, typ: typ, mode: d.Mode, derived: true, sort: seqSort, limit: d.Limit}
		if v.mode == "" {
			v.mode = ModeList
		}
		if d.Sort != nil {
			v.sort = Sort{Field: slices.Clone(d.Sort.Field), Desc: d.Sort.Desc}
		}
		if v.limit == 0 {
			v.limit = defaultWindow
		}
		if d.Filter != nil {
			f := *d.Filter
			v.filter = &f
		}
		v.index = newSortedIndex(v.sort)
		typ.views = append(typ.views, v)
		s.views[v.id] = v
	}
	return s, nil
}

type nilWriter struct{}

func (nilWriter) Write(p []byte) (int, error) { return len(p), nil }

// typeFor returns the entity type named name, creating it and its base views. Caller holds mu for
// writing (or is New).
func (s *Store) typeFor(name string) *entityType {
	if t, ok := s.types[name]; ok {
		return t
	}
	t := &entityType{name: name}
	cache, err := lru.NewWithEvict[string, *entity](s.maxEntities, func(key string, _ *entity) {
		s.onEvict(t, key)
	})
	if err != nil {
		// Only a non-positive size fails, and maxEntities is positive.
		panic(err)
	}
	t.cache = cache
	for i, m := range []Mode{ModeState, ModeList, ModeAppend} {
		v := &view{id: name + "/" + string(m), typ: t, mode: m}
		if m == ModeList {
			v.sort = seqSort
		}
		t.base[i] = v
		t.views = append(t.views, v)
		s.views[v.id] = v
	}
	s.types[name] = t
	s.order = append(s.order, t)
	return t
}

// onEvict runs inside cache.Add during Apply, with mu held for writing.
func (s *Store) onEvict(t *entityType, key string) {
	for _, v := range t.views {
		if v.index != nil {
			v.index.remove(key)
		}
	}
	if s.cur != nil {
		s.cur.touch(t, key, -1)
	}
}

// batchState is what Apply collects while it runs.
type batchState struct {
	batch   *Batch
	applied []applied
	touched map[*entityType]*touchList
	// frame caches, so that each distinct frame is encoded once per batch.
	upserts  map[viewKey][]byte
	deletes  map[viewKey][]byte
	dpatches map[viewIdx][]byte
}

type viewKey struct {
	v   *view
	key string
}

type viewIdx struct {
	v   *view
	idx int
}

type applied struct {
	key         string
	data        []byte
	appendPaths []string
	seq         []byte
	base        [3][]byte
}

type touchList struct {
	order   []string
	muts    map[string][]int
	evicted map[string]bool
}

// touch records that key of t changed; idx is the applied mutation, or -1 for an eviction.
func (st *batchState) touch(t *entityType, key string, idx int) {
	tl := st.touched[t]
	if tl == nil {
		tl = &touchList{muts: make(map[string][]int), evicted: make(map[string]bool)}
		st.touched[t] = tl
	}
	if _, seen := tl.muts[key]; !seen {
		tl.order = append(tl.order, key)
		tl.muts[key] = nil
	}
	if idx < 0 {
		tl.evicted[key] = true
		tl.muts[key] = tl.muts[key][:0]
		return
	}
	tl.muts[key] = append(tl.muts[key], idx)
}

// Apply merges mutations into the caches, in order, and returns the frames they produce. A
// mutation whose key or patch is malformed is skipped and reported in the returned error (a join of
// *MutationError); the other mutations are applied and the batch is valid.
func (s *Store) Apply(muts []event.Mutation) (*Batch, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	st := &batchState{
		batch:   &Batch{Seq: s.seq, Frames: make([]Frame, 0, 3*len(muts))},
		touched: make(map[*entityType]*touchList),
	}
	s.cur = st
	defer func() { s.cur = nil }()

	var errs []error
	for i := range muts {
		if err := s.applyOne(st, &muts[i]); err != nil {
			errs = append(errs, &MutationError{Index: i, Entity: muts[i].Export, Err: err})
		}
	}
	for _, t := range s.order {
		if tl := st.touched[t]; tl != nil {
			s.updateChannels(st, t, tl)
		}
	}
	if len(errs) > 0 {
		s.log.Warn("skipped malformed mutations", "count", len(errs), "first", errs[0])
	}
	return st.batch, errors.Join(errs...)
}

func (s *Store) applyOne(st *batchState, m *event.Mutation) error {
	if m.Export == "" || strings.Contains(m.Export, "/") {
		return fmt.Errorf("bad entity name %q", m.Export)
	}
	key, err := keyString(m.Key)
	if err != nil {
		return err
	}
	patch, err := decodeObject(m.Patch)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrBadPatch, err)
	}
	t := s.typeFor(m.Export)
	seq := appendSeq(make([]byte, 0, 32), m.Slot, m.Seq)
	quoted := make([]byte, 0, len(seq)+2)
	quoted = append(append(append(quoted, '"'), seq...), '"')
	data := appendObject(make([]byte, 0, len(m.Patch)+len(quoted)+8), patch, "_seq", quoted)

	a := applied{key: key, data: data, appendPaths: clonePaths(m.Append), seq: seq}
	for i, v := range t.base {
		p := appendPatchFrame(make([]byte, 0, len(data)+len(v.id)+len(key)+96), v.mode, v.id, key, data, a.appendPaths, seq)
		a.base[i] = p
		st.batch.Frames = append(st.batch.Frames, Frame{Channel: v.id, Key: key, Payload: p})
	}

	e, ok := t.cache.Get(key)
	if !ok {
		e = &entity{key: key, data: make(map[string]any, len(patch)+1)}
		t.cache.Add(key, e)
	}
	(&merger{appendPaths: a.appendPaths, maxArray: s.maxArray}).merge(e.data, patch, "")
	e.data["_seq"] = string(seq)
	e.slot, e.seq = m.Slot, m.Seq
	e.enc.Store(nil)
	for _, v := range t.views {
		s.reindex(v, e)
	}
	st.applied = append(st.applied, a)
	st.touch(t, key, len(st.applied)-1)
	return nil
}

func (s *Store) reindex(v *view, e *entity) {
	if v.index == nil {
		return
	}
	if v.filter != nil && !v.filter.match(e.data) {
		v.index.remove(e.key)
		return
	}
	v.index.set(e.key, sortValue(v.sort, e))
}

// encoded returns the entity's full JSON. Safe under mu held for reading: concurrent callers may
// both encode, and store equal bytes.
func (s *Store) encoded(e *entity) []byte {
	if p := e.enc.Load(); p != nil {
		return *p
	}
	b := appendObject(nil, e.data, "", nil)
	e.enc.Store(&b)
	return b
}

// Seq returns the sequence number of the last batch Apply produced.
func (s *Store) Seq() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.seq
}

// ViewInfo describes a served view.
type ViewInfo struct {
	ID       string `json:"id"`
	Entity   string `json:"entity"`
	Mode     Mode   `json:"mode"`
	Derived  bool   `json:"derived,omitempty"`
	Sort     *Sort  `json:"sort,omitempty"`
	Entities int    `json:"entities"`
	Channels int    `json:"channels,omitempty"`
}

// Views lists the views the store serves, sorted by id.
func (s *Store) Views() []ViewInfo {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]ViewInfo, 0, len(s.views))
	for _, v := range s.views {
		vi := ViewInfo{ID: v.id, Entity: v.typ.name, Mode: v.mode, Derived: v.derived, Channels: len(v.channels)}
		if v.derived {
			vi.Entities = v.index.len()
		} else {
			vi.Entities = v.typ.cache.Len()
		}
		if srt := v.subscribedSort(); srt != nil {
			vi.Sort = srt
		}
		out = append(out, vi)
	}
	slices.SortFunc(out, func(a, b ViewInfo) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// HasView reports whether id is a served view.
func (s *Store) HasView(id string) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, ok := s.views[id]
	return ok
}

// subscribedSort is the sort announced in the `subscribed` frame: the view's sort for list mode,
// none for state and append.
func (v *view) subscribedSort() *Sort {
	if v.mode != ModeList {
		return nil
	}
	srt := Sort{Field: slices.Clone(v.sort.Field), Desc: v.sort.Desc}
	return &srt
}
