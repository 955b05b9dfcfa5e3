package vm

import (
	"errors"
	"fmt"

	"github.com/charmbracelet/log"
	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// Design defaults (see doc.go and the reference numbers they follow).
const (
	DefaultStateCapacity    = 2500
	DefaultLookupCapacity   = 2500
	DefaultPendingPerKey    = 50
	DefaultPendingKeys      = 2500
	DefaultPendingTTLSlots  = 750 // ≈300 s at 400 ms per slot
	DefaultWhenTTLSlots     = 150 // ≈60 s
	DefaultVersionCapacity  = 2500
	DefaultDedupCapacity    = 500
	DefaultRecentTxCapacity = 1000
	DefaultMaxArrayLength   = 100
	DefaultResolverCache    = 20000
	DefaultMaxRetries       = 100
	DefaultReplayBudget     = 100000
	maxLookupDepth          = 5
	sweepEverySlots         = 32
)

// Config configures a Machine. The zero value of every field means the design default.
type Config struct {
	// StateCapacity bounds the rows of each entity's state table (LRU); 0 means 2,500.
	StateCapacity int
	// LookupCapacity bounds each lookup index and each entity's PDA reverse lookup (LRU); 0 means
	// 2,500.
	LookupCapacity int
	// PendingPerKey bounds the updates queued under one unresolved key; 0 means 50.
	PendingPerKey int
	// PendingKeys bounds the number of unresolved keys with queued updates per entity (LRU); 0 means
	// 2,500.
	PendingKeys int
	// PendingTTLSlots drops queued updates this many slots older than the newest slot seen; 0 means
	// 750 (about 300 s).
	PendingTTLSlots uint64
	// WhenTTLSlots drops deferred "when" writes this many slots old; 0 means 150 (about 60 s).
	WhenTTLSlots uint64
	// VersionCapacity bounds each entity's (account, event type) → (slot, write_version) tracker;
	// 0 means 2,500.
	VersionCapacity int
	// DedupCapacity bounds each entity's instruction de-duplication cache; 0 means 500.
	DedupCapacity int
	// RecentTxCapacity bounds the signatures whose instruction types are remembered for "when"; 0
	// means 1,000.
	RecentTxCapacity int
	// MaxArrayLength bounds arrays built by Append (the oldest items are dropped); 0 means 100.
	MaxArrayLength int
	// ResolverCacheCapacity bounds the resolver answers kept (LRU); 0 means 20,000.
	ResolverCacheCapacity int
	// ReplayBudget bounds the queued updates one event may replay (a cascade of unblocked queues);
	// 0 means 100,000.
	ReplayBudget int
	// Resolvers answers token-metadata, URL, slot-hash and block-time questions; nil answers none.
	Resolvers Resolvers
	// OnResolve, when set, is called each time an answer enters the Machine (from Resolvers or
	// Deliver), so a live run can record what replay must feed back. It is called on the goroutine
	// running the Machine.
	OnResolve func(kind, key string, answer []byte)
	// UseDecoded makes Process use the Decoded payloads events already carry (from an extractor that
	// decoded them with this Program's IDLs, see ProgramInfo.IDL) instead of decoding again. Payloads
	// of another program name are ignored.
	UseDecoded bool
	// Logger receives debug lines about skipped events and failed handlers; nil is silent.
	Logger *log.Logger
}

func (c *Config) withDefaults() (Config, error) {
	var out Config
	if c != nil {
		out = *c
	}
	set := func(p *int, d int, name string) error {
		if *p < 0 {
			return fmt.Errorf("%w: %s is negative", ErrConfig, name)
		}
		if *p == 0 {
			*p = d
		}
		return nil
	}
	for _, f := range []struct {
		p    *int
		d    int
		name string
	}{
		{&out.StateCapacity, DefaultStateCapacity, "StateCapacity"},
		{&out.LookupCapacity, DefaultLookupCapacity, "LookupCapacity"},
		{&out.PendingPerKey, DefaultPendingPerKey, "PendingPerKey"},
		{&out.PendingKeys, DefaultPendingKeys, "PendingKeys"},
		{&out.VersionCapacity, DefaultVersionCapacity, "VersionCapacity"},
		{&out.DedupCapacity, DefaultDedupCapacity, "DedupCapacity"},
		{&out.RecentTxCapacity, DefaultRecentTxCapacity, "RecentTxCapacity"},
		{&out.MaxArrayLength, DefaultMaxArrayLength, "MaxArrayLength"},
		{&out.ResolverCacheCapacity, DefaultResolverCache, "ResolverCacheCapacity"},
		{&out.ReplayBudget, DefaultReplayBudget, "ReplayBudget"},
	} {
		if err := set(f.p, f.d, f.name); err != nil {
			return out, err
		}
	}
	if out.PendingTTLSlots == 0 {
		out.PendingTTLSlots = DefaultPendingTTLSlots
	}
	if out.WhenTTLSlots == 0 {
		out.WhenTTLSlots = DefaultWhenTTLSlots
	}
	if out.Logger == nil {
		out.Logger = log.New(discard{})
		out.Logger.SetLevel(log.FatalLevel + 1)
	}
	return out, nil
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Stats counts what a Machine did. All counters are cumulative except the *Now gauges.
type Stats struct {
	// Events is every event given to Process.
	Events uint64
	// Undecodable counts events whose data matched no type of the program's IDL or failed to decode;
	// they are skipped.
	Undecodable uint64
	// Unrouted counts events of programs outside the stack, or of types no handler listens to.
	Unrouted uint64
	// Failed counts instructions of failed transactions (skipped).
	Failed uint64
	// SlotHashUpdates counts SlotHashes sysvar updates ingested.
	SlotHashUpdates uint64
	// HandlerRuns counts handler executions (including replays of queued updates).
	HandlerRuns uint64
	// HandlerErrors counts handlers that failed (RuntimeError); their changes were rolled back.
	HandlerErrors uint64
	// Stale counts account updates older than one already applied, and duplicate instructions.
	Stale uint64
	// Mutations counts mutations produced.
	Mutations uint64
	// Queued counts updates queued because their key could not be resolved yet; Replayed those
	// run again after the key appeared; Expired those dropped by age; Dropped those pushed out by
	// the per-key bound or key eviction.
	Queued, Replayed, Expired, Dropped uint64
	// PendingNow is the number of updates waiting in the queues.
	PendingNow int
	// Evictions counts state rows evicted by the LRU bound.
	Evictions uint64
	// Deferred counts "when" writes deferred until their instruction; WhenApplied those applied later.
	Deferred, WhenApplied uint64
	// ResolverHits / ResolverMisses count resolver questions answered from the cache or the
	// Resolvers, and those left waiting.
	ResolverHits, ResolverMisses uint64
	// ComputedErrors counts computed fields whose expression failed (the field became null).
	ComputedErrors uint64
}

// Machine runs a Program over events. It is not safe for concurrent use: one goroutine owns it.
type Machine struct {
	p   *Program
	cfg Config
	log *log.Logger

	tables   []*table
	byID     map[solana.Pubkey]*ProgramInfo
	recentTx *simplelru.LRU[solana.Signature, []int]
	deferred map[deferKey][]*deferredOp
	defOrder []deferKey
	answers  *simplelru.LRU[answerKey, any]
	waiting  map[answerKey]*waiting
	waitKeys []answerKey
	sched    scheduler
	hashes   slotHashes
	hashMiss missMemo
	// answerGen counts answers delivered or slot-hash updates; memos of misses are only valid
	// within one generation.
	answerGen uint64
	asked     map[waitTarget]uint64 // question of a row → the stream slot it was last asked at

	tsSlot  uint64
	tsVal   any
	tsKnown bool

	// Per-run state.
	regs        [numRegs]any
	ev          *evCtx
	h           *Handler
	ent         *Entity
	tbl         *table
	pc          int
	state       map[string]any
	stateKey    key
	stateNew    bool
	dirty       []dirtyEntry
	dirtyApp    [][]any // items of appended dirty paths, by dirty index
	dirtyAt     []int32 // emitPath.id → 1 + its index in dirty, 0 when clean
	secs        []secEntry
	secGen      uint64
	order       []int32 // patch-building scratch
	undo        []undoEntry
	sundo       []slotUndo
	pdaMiss     string
	lookupMiss  string
	indexedKeys []string
	pdaKeys     []string
	written     uint64 // read-path bits written by this run (see Target.Affects)
	shared      bool   // the object register aliases the event's decoded fields (copy before changing)
	evaluated   bool   // the run evaluated computed fields

	box      boxer
	cenv     cenv    // computed-field evaluation environment (see evalComputed)
	cvars    [16]any // its variables
	names    b58Cache
	nums     numTexts
	out      []event.Mutation
	errs     []error
	work     []workItem
	draining bool
	replays  int // replays run for the current event (see Config.ReplayBudget)
	buf      []byte
	fields   []any // decoded account fields of the current event (see evCtx.fields)
	topEv    evCtx
	maxSlot  uint64
	sweptAt  uint64
	seq      uint64
	stats    Stats
}

// NewMachine prepares a Machine for p. A nil cfg means the defaults.
func NewMachine(p *Program, cfg *Config) (*Machine, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: nil program", ErrConfig)
	}
	c, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	m := &Machine{p: p, cfg: c, log: c.Logger, byID: map[solana.Pubkey]*ProgramInfo{}, deferred: map[deferKey][]*deferredOp{},
		waiting: map[answerKey]*waiting{}, asked: map[waitTarget]uint64{}, dirtyAt: make([]int32, len(p.emitPaths))}
	for _, info := range p.Programs {
		m.byID[info.ID] = info
	}
	if m.recentTx, err = simplelru.NewLRU[solana.Signature, []int](c.RecentTxCapacity, nil); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	if m.answers, err = simplelru.NewLRU[answerKey, any](c.ResolverCacheCapacity, nil); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrConfig, err)
	}
	for _, e := range p.Entities {
		if len(e.secNames) > len(m.secs) {
			m.secs = make([]secEntry, len(e.secNames))
		}
		t, err := m.newTable(e)
		if err != nil {
			return nil, err
		}
		m.tables = append(m.tables, t)
	}
	return m, nil
}

// Program returns the program the Machine runs.
func (m *Machine) Program() *Program { return m.p }

// Stats returns the counters.
func (m *Machine) Stats() Stats {
	s := m.stats
	s.PendingNow = 0
	for _, t := range m.tables {
		s.PendingNow += t.pendingCount
	}
	return s
}

// Process runs one event: it decodes it with the stack's IDLs, runs the handlers its type routes to,
// replays queued updates the event unblocks, and returns the mutations in production order with Seq
// numbers from the Machine's counter. A handler that fails is rolled back and reported in err (a
// *RuntimeError, several joined); the mutations of the other handlers are still returned. Events that
// cannot be decoded or belong to no handler are counted and skipped without error.
func (m *Machine) Process(ev *event.Event) ([]event.Mutation, error) {
	m.out = m.out[:0]
	m.errs = m.errs[:0]
	m.replays = 0
	m.stats.Events++
	if ev == nil {
		m.stats.Undecodable++
		return nil, nil
	}
	if ev.Slot > m.maxSlot {
		m.advance(ev.Slot)
	}
	switch ev.Kind {
	case event.KindAccount:
		m.account(ev)
	case event.KindInstruction:
		m.instruction(ev)
	default:
		m.stats.Undecodable++
	}
	m.drain()
	return m.finish()
}

func (m *Machine) finish() ([]event.Mutation, error) {
	var out []event.Mutation
	if len(m.out) > 0 {
		out = make([]event.Mutation, len(m.out))
		copy(out, m.out)
		for i := range out {
			m.seq++
			out[i].Seq = m.seq
		}
		m.stats.Mutations += uint64(len(out))
	}
	var err error
	switch len(m.errs) {
	case 0:
	case 1:
		err = m.errs[0]
	default:
		err = errors.Join(m.errs...)
	}
	return out, err
}

// account decodes and dispatches an account update.
func (m *Machine) account(ev *event.Event) {
	a := ev.Account
	if a == nil {
		m.stats.Undecodable++
		return
	}
	if a.Pubkey == SlotHashesSysvar {
		m.hashes.ingest(a.Data)
		m.answerGen++
		m.stats.SlotHashUpdates++
		return
	}
	info := m.byID[a.Owner]
	if info == nil {
		m.stats.Unrouted++
		return
	}
	var name string
	var val map[string]any
	var fields []any
	var acct *idl.AccountDef
	var err error
	if d := a.Decoded; m.cfg.UseDecoded && d != nil && d.Kind == event.DecodedAccount && d.Program == info.Name {
		name, val = d.Name, d.Fields
	} else {
		// The top-level values only: handlers read them by field index and the object is built
		// only when a handler needs it (captures, conditions).
		acct, fields, err = info.IDL.DecodeAccountFields(a.Data, m.fields)
		m.fields = fields
		if errors.Is(err, idl.ErrNotStruct) {
			acct, fields = nil, nil
			name, val, err = info.IDL.DecodeAccount(a.Data)
		} else if acct != nil {
			name = acct.Name
		}
	}
	if err != nil {
		m.stats.Undecodable++
		m.log.Debug("undecodable account", "program", info.Name, "account", a.Pubkey, "slot", ev.Slot, "err", err)
		return
	}
	route := info.accounts[name]
	if route == nil {
		m.stats.Unrouted++
		return
	}
	ec := &m.topEv
	ec.reset(&evCtx{
		route: route, isAccount: true, root: val, fields: fields, acct: acct, address: a.Pubkey, names: &m.names,
		slot: ev.Slot, writeVersion: a.WriteVersion, sig: a.TxnSignature, hasSig: !a.TxnSignature.IsZero(),
	})
	m.dispatch(route, ec)
}

// instruction decodes and dispatches an instruction, or the Anchor event of a self-CPI instruction,
// then the events its program logged (`Program data:`).
func (m *Machine) instruction(ev *event.Event) {
	ix := ev.Instruction
	if ix == nil {
		m.stats.Undecodable++
		return
	}
	if ix.Failed {
		m.stats.Failed++
		return
	}
	info := m.byID[ix.ProgramID]
	if info == nil {
		m.stats.Unrouted++
		return
	}
	base := evCtx{
		slot: ev.Slot, sig: ix.Signature, hasSig: !ix.Signature.IsZero(), txnIndex: ix.TxnIndex,
		ixPos: ixPosition(ix.Path), ixAccounts: ix.Accounts, names: &m.names,
	}
	if ix.CPIEvent || (len(ix.Data) >= 16 && [8]byte(ix.Data[:8]) == idl.EventIxTag) {
		m.logEvent(info, &base, ix.Data, ix.Decoded, 0)
	} else {
		var def *idl.InstructionDef
		var args any
		var err error
		if d := ix.Decoded; m.cfg.UseDecoded && d != nil && d.Kind == event.DecodedInstruction && d.Program == info.Name {
			def, _ = info.IDL.Instruction(d.Name)
			if d.Fields != nil {
				args = d.Fields
			}
		}
		if def == nil {
			def, args, err = m.decodeArgs(info, ix.Data)
		}
		switch {
		case err != nil:
			m.stats.Undecodable++
			m.log.Debug("undecodable instruction", "program", info.Name, "slot", ev.Slot, "err", err)
		case info.ixs[def.Name] == nil:
			m.stats.Unrouted++
		default:
			ec := &m.topEv
			ec.reset(&base)
			ec.route, ec.data, ec.ixDef = info.ixs[def.Name], args, def
			m.dispatch(ec.route, ec)
		}
	}
	for i := range ix.LogEvents {
		m.logEvent(info, &base, ix.LogEvents[i].Data, ix.LogEvents[i].Decoded, uint64(i+1))
	}
}

// logEvent dispatches an Anchor event (self-CPI data or a log payload) as <program>::<Event>CpiEvent.
func (m *Machine) logEvent(info *ProgramInfo, base *evCtx, data []byte, d *event.Decoded, sub uint64) {
	var name string
	var val map[string]any
	var err error
	if m.cfg.UseDecoded && d != nil && d.Kind == event.DecodedEvent && d.Program == info.Name {
		name, val = d.Name, d.Fields
	} else {
		name, val, err = info.IDL.DecodeEvent(data)
	}
	if err != nil {
		m.stats.Undecodable++
		return
	}
	route := info.events[name]
	if route == nil {
		m.stats.Unrouted++
		return
	}
	ec := &m.topEv
	ec.reset(base)
	ec.route, ec.data, ec.sub = route, nil, sub
	if val != nil {
		ec.data = val
	}
	m.dispatch(route, ec)
}

// decodeArgs decodes an instruction's arguments as a record (idl.DecodeInstructionFields), or as a
// map for instructions whose arguments are not a named struct. Arguments of instructions no handler
// listens to are decoded (to count undecodable ones) but not returned.
func (m *Machine) decodeArgs(info *ProgramInfo, data []byte) (*idl.InstructionDef, any, error) {
	rec := new(argsRecord)
	def, vals, err := info.IDL.DecodeInstructionFields(data, rec.arr[:0])
	if errors.Is(err, idl.ErrNotStruct) {
		var args map[string]any
		def, args, err = info.IDL.DecodeInstruction(data)
		if args == nil {
			return def, nil, err
		}
		return def, args, err
	}
	if err != nil {
		return def, nil, err
	}
	r := info.ixs[def.Name]
	if r == nil {
		return def, nil, nil
	}
	if r.argShape == nil {
		shape := newRecordShape(def.ArgNames())
		rec.r.shape, rec.r.vals = shape, vals
		return def, &rec.r, nil
	}
	rec.r.shape, rec.r.vals = r.argShape, vals
	return def, &rec.r, nil
}

// argsRecord is a record with room for the arguments of most instructions.
type argsRecord struct {
	r   record
	arr [4]any
}

func ixPosition(path []int) uint64 {
	var p uint64
	if len(path) > 0 {
		p = uint64(uint32(path[0])) << 32
	}
	if len(path) > 1 {
		p |= uint64(uint32(path[1] + 1))
	}
	return p
}

// dispatch runs everything a route holds for one event.
func (m *Machine) dispatch(route *Route, ec *evCtx) {
	if route.When && ec.hasSig && !ec.isAccount {
		m.noteTx(ec.sig, route.typeID)
		m.applyDeferred(ec, route)
	}
	// Replays of what a handler unblocks run right after it, before the next entity's handler.
	for _, h := range route.Handlers {
		m.runEntity(h, ec)
		m.drain()
	}
	for _, h := range route.Hooks {
		m.runHook(h, ec)
		m.drain()
	}
}

// runEntity runs one entity's handler and deals with what it leaves behind: queueing the event when
// its key is unknown, replaying queued events its index updates unblock.
func (m *Machine) runEntity(h *Handler, ec *evCtx) {
	res := m.exec(h, ec)
	t := m.tables[h.Entity]
	if res == resNullKey {
		if m.pdaMiss != "" {
			m.enqueue(t, m.pdaMiss, h, ec)
		} else if m.lookupMiss != "" {
			m.enqueue(t, m.lookupMiss, h, ec)
		}
	}
	m.flushKeys(t)
}

// runHook runs an instruction hook (PDA registrations) and replays what they unblock.
func (m *Machine) runHook(h *Handler, ec *evCtx) {
	m.exec(h, ec)
	m.flushKeys(m.tables[h.Entity])
}

// flushKeys queues the replay of pending updates waiting for keys the last run indexed.
func (m *Machine) flushKeys(t *table) {
	if len(m.indexedKeys) == 0 && len(m.pdaKeys) == 0 {
		return
	}
	keys := append(m.indexedKeys, m.pdaKeys...)
	for _, k := range keys {
		if t.pendingCount == 0 {
			break
		}
		list, ok := t.pending.Peek(k)
		if !ok {
			continue
		}
		items := list.items
		list.items = nil // so the eviction callback does not count them as dropped
		t.pendingCount -= len(items)
		t.pending.Remove(k)
		for _, it := range items {
			m.work = append(m.work, workItem{entity: t.ent.StateID, item: it})
		}
	}
	m.indexedKeys = m.indexedKeys[:0]
	m.pdaKeys = m.pdaKeys[:0]
}

// drain replays queued updates until none are left.
func (m *Machine) drain() {
	if m.draining {
		return
	}
	m.draining = true
	for i := 0; i < len(m.work); i++ {
		if m.replays >= m.cfg.ReplayBudget {
			// The per-event budget is spent: what is left is dropped (it never happens with the
			// default bounds unless queues are configured very large).
			m.stats.Dropped += uint64(len(m.work) - i)
			m.log.Warn("replay budget exhausted", "dropped", len(m.work)-i)
			break
		}
		m.replays++
		w := m.work[i]
		m.stats.Replayed++
		h := w.item.route.handlerFor(w.entity)
		if h != nil {
			m.runEntity(h, w.item)
		}
	}
	m.work = m.work[:0]
	m.draining = false
}

func (r *Route) handlerFor(entity int) *Handler {
	for _, h := range r.Handlers {
		if h.Entity == entity {
			return h
		}
	}
	return nil
}

type execResult uint8

const (
	resDone execResult = iota
	resNullKey
	resStale
	resFailed
)

// exec runs one handler's code: the VM loop.
func (m *Machine) exec(h *Handler, ec *evCtx) (res execResult) {
	m.h, m.ev, m.ent, m.tbl = h, ec, m.p.Entities[h.Entity], m.tables[h.Entity]
	m.regs = [numRegs]any{}
	m.state, m.stateNew = nil, false
	m.clearDirty()
	m.undo, m.sundo = m.undo[:0], m.sundo[:0]
	m.secGen++
	m.written, m.evaluated = 0, false
	m.pdaMiss, m.lookupMiss = "", ""
	m.stats.HandlerRuns++
	defer func() {
		if r := recover(); r != nil {
			m.rollback()
			m.fail(fmt.Errorf("%w: %v", ErrPanic, r))
			res = resFailed
		}
	}()
	code, evField := m.p.Code, m.p.evField
	regs := &m.regs
	for pc := h.Start; pc < h.End; pc++ {
		m.pc = pc
		in := &code[pc]
		if debugVM {
			m.trace(pc, *in)
		}
		var err error
		switch in.Op {
		case OpLoadEvent:
			var v any
			var ok bool
			if fi := fieldAt(evField, pc); fi > 0 && ec.fields != nil {
				v, ok = ec.fields[fi-1], true
				if segs := m.p.Paths[in.B].Segs; len(segs) > 1 {
					v, ok = getPathIn(v, segs[1:])
				}
			} else if fi < 0 && ec.fields != nil {
				v, ok = nil, false
			} else {
				v, ok = m.eventPath(ec, m.p.Paths[in.B].Segs)
			}
			if (!ok || v == nil) && in.C > 0 {
				v = m.p.Consts[in.C-1]
			}
			regs[in.A] = v
		case OpLoadAddress:
			if ec.isAccount {
				regs[in.A] = ec.addressValue()
			} else {
				regs[in.A] = nil
			}
		case OpLoadIxAccount:
			regs[in.A] = ec.ixAccount(int(in.B))
		case OpLoadWhole:
			// Decoded account fields never carry __* keys. A copy that will be changed is only made
			// when a change happens (OpObjTransform): capture transforms of pubkeys, already base58
			// text, change nothing.
			if ec.isAccount {
				if ec.fields != nil && ec.route.shape != nil && ec.root == nil {
					// The account as a record (no map built); every handler of the event gets the
					// same one, as they would get the same decoded map.
					if ec.rec == nil {
						ec.rec = &record{shape: ec.route.shape, vals: append([]any(nil), ec.fields...)}
					}
					regs[in.A] = ec.rec
				} else {
					regs[in.A] = ec.rootMap()
				}
				m.shared = in.C == 1
			} else {
				regs[in.A] = m.wholeEvent(ec)
				m.shared = false
			}
		case OpLoadContext:
			regs[in.A] = m.contextValue(ec, contextField(in.B))
		case OpLoadConst:
			regs[in.A] = m.p.Consts[in.B]
		case OpLoadResolved:
			regs[in.A] = nil
			if ec.isAccount {
				if seed, ok := m.tbl.pda.Get(ec.addressString()); ok {
					regs[in.A] = seed
				}
			}
		case OpCopy:
			regs[in.A] = regs[in.B]
		case OpCopyIfNull:
			if regs[in.A] == nil {
				regs[in.A] = regs[in.B]
			}
		case OpTransform:
			regs[in.A], err = m.transform(transformation(in.C), regs[in.B])
		case OpNewObject:
			regs[in.A] = map[string]any{}
		case OpObjSet:
			if obj, ok := regs[in.A].(map[string]any); ok {
				obj[m.p.Paths[in.B].Text] = regs[in.C]
			}
		case OpObjTransform:
			k := m.p.Paths[in.B].Text
			if v, ok := objectGet(regs[in.A], k); ok {
				var nv any
				nv, err = m.transform(transformation(in.C), v)
				if s, isStr := v.(string); err == nil && (!isStr || s != nv) {
					obj, isMap := regs[in.A].(map[string]any)
					if m.shared || !isMap {
						obj = m.wholeEvent(ec)
						regs[in.A], m.shared = obj, false
					}
					obj[k] = nv
				}
			}
		case OpCapture:
			regs[in.A] = m.envelope(ec, regs[in.B], true)
		case OpEventWrap:
			regs[in.A] = m.envelope(ec, regs[in.B], false)
		case OpLookupIndex:
			regs[in.A] = m.lookup(in.B, regs[in.C])
		case OpAbortIfNullKey:
			if regs[in.A] == nil {
				return resNullKey
			}
		case OpReadState:
			if !m.readState(regs[in.A]) {
				m.stats.Stale++
				return resStale
			}
		case OpUpdateIndex:
			m.updateIndex(int(in.A), regs[in.B], regs[in.C])
		case OpUpdatePda:
			m.updatePda(m.tbl, regs[in.A], regs[in.B])
		case OpWriteState:
			m.writeState()
		case OpEmit:
			m.emit(h.EventType)
		case OpSet:
			m.set(&m.p.Targets[in.A], regs[in.B])
		case OpSetOnce:
			m.setOnce(&m.p.Targets[in.A], regs[in.B])
		case OpSetMax, OpSetMin:
			m.setExtreme(&m.p.Targets[in.A], regs[in.B], in.Op == OpSetMax)
		case OpSetSum:
			err = m.setSum(&m.p.Targets[in.A], regs[in.B])
		case OpIncrement:
			m.increment(&m.p.Targets[in.A])
		case OpAppend:
			m.appendTo(&m.p.Targets[in.A], regs[in.B])
		case OpUniqueCount:
			m.uniqueCount(&m.p.Targets[in.A], regs[in.B])
		case OpSetIf:
			if m.condHolds(&m.p.conds[in.C], ec) {
				m.set(&m.p.Targets[in.A], regs[in.B])
			}
		case OpIncrementIf:
			if m.condHolds(&m.p.conds[in.C], ec) {
				m.increment(&m.p.Targets[in.A])
			}
		case OpSetWhen:
			m.setWhen(&m.p.Targets[in.A], regs[in.B], &m.p.whens[in.C], regs[rKey])
		case OpSetUnlessStopped:
			if flag, _ := m.pathValue(-1, -1, m.p.Paths[in.C].Segs); flag != true {
				m.set(&m.p.Targets[in.A], regs[in.B])
			}
		case OpResolve:
			m.resolve(m.p.resolvers[in.A], regs[rKey])
		case OpComputed:
			m.evalComputed(false)
		case OpRegisterPda:
			m.updatePda(m.tbl, regs[in.A], regs[in.B])
		default:
			err = fmt.Errorf("%w: opcode %d", ErrBadOperand, in.Op)
		}
		if err != nil {
			m.rollback()
			m.fail(err)
			return resFailed
		}
	}
	return resDone
}

func fieldAt(evField []int32, pc int) int32 {
	if pc < len(evField) {
		return evField[pc]
	}
	return 0
}

// fail records a RuntimeError for the current handler and instruction.
func (m *Machine) fail(err error) {
	m.stats.HandlerErrors++
	re := &RuntimeError{Entity: m.ent.Name, Handler: m.h.EventType, PC: m.pc, Slot: m.ev.slot, Err: err}
	if m.pc >= 0 && m.pc < len(m.p.Code) {
		re.Op = m.p.Code[m.pc].Op
		re.Loc = m.p.Locs[m.pc]
	}
	m.errs = append(m.errs, re)
	m.log.Debug("handler failed", "err", re)
}
