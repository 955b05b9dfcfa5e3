package vm

import (
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/mr-tron/base58"

	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
	"github.com/hyperstack-go/hyperstack/internal/stack"
)

// evCtx is one decoded event as handlers see it. The event JSON of the reference runtime
// ({fields…, "__account_address"} for accounts, {"data", "accounts"} for instructions) is read through
// it without being built.
type evCtx struct {
	route     *Route
	isAccount bool
	// root holds the decoded account fields; data the instruction arguments or event fields. An
	// account decoded by the Machine itself has its top-level values in fields (names in acct's
	// FieldNames order) and root is built from them when first needed (see rootMap).
	root       map[string]any
	fields     []any
	acct       *idl.AccountDef
	rec        *record // the account as a record, once a handler loaded it whole
	data       any     // map[string]any, or a *record of arguments decoded by the Machine; nil for none
	ixDef      *idl.InstructionDef
	ixAccounts []solana.Pubkey
	accStr     [12]any // base58 texts (strings) of the first instruction accounts, once read
	accSet     uint16  // bit i: accStr[i] is set
	address    solana.Pubkey
	addrStr    string
	addrAny    any // addrStr as an interface value
	sig        solana.Signature
	hasSig     bool
	sigStr     any // the base58 text of sig (a string), once read
	names      *b58Cache

	slot, writeVersion, txnIndex, ixPos uint64
	// sub orders the events of one instruction: 0 for the instruction, i+1 for its i-th log event.
	sub uint64
}

// reset makes e a copy of b with no cached texts. It assigns field by field (accStr is only
// invalidated) instead of copying the whole struct, whose many pointer words would each need a
// write barrier while the collector runs.
func (e *evCtx) reset(b *evCtx) {
	e.route, e.isAccount = b.route, b.isAccount
	e.root, e.fields, e.acct, e.rec, e.data = b.root, b.fields, b.acct, b.rec, b.data
	e.ixDef, e.ixAccounts, e.accSet = b.ixDef, b.ixAccounts, 0
	e.address, e.addrStr, e.addrAny = b.address, b.addrStr, b.addrAny
	e.sig, e.hasSig, e.sigStr, e.names = b.sig, b.hasSig, b.sigStr, b.names
	e.slot, e.writeVersion, e.txnIndex, e.ixPos, e.sub = b.slot, b.writeVersion, b.txnIndex, b.ixPos, b.sub
}

// rootMap returns the account's decoded fields as an object.
func (e *evCtx) rootMap() map[string]any {
	if e.root == nil && e.fields != nil {
		e.root = e.fieldsObject()
	}
	return e.root
}

// fieldsObject builds a fresh object of the account's decoded top-level values (e.fields).
func (e *evCtx) fieldsObject() map[string]any {
	names := e.acct.FieldNames()
	out := make(map[string]any, len(names))
	for i, n := range names {
		out[n] = e.fields[i]
	}
	return out
}

func (e *evCtx) addressString() string {
	if e.addrStr == "" {
		e.addrAny = e.names.value(&e.address)
		e.addrStr = e.addrAny.(string)
	}
	return e.addrStr
}

// addressValue is addressString as an interface value.
func (e *evCtx) addressValue() any {
	if e.addrAny == nil {
		e.addressString()
	}
	return e.addrAny
}

func (e *evCtx) signatureString() any {
	if !e.hasSig {
		return nil
	}
	if e.sigStr == nil {
		e.sigStr = e.names.signature(&e.sig)
	}
	return e.sigStr
}

// ixAccount returns the base58 address of the instruction's account at position i, or nil.
func (e *evCtx) ixAccount(i int) any {
	if i < 0 || i >= len(e.ixAccounts) {
		return nil
	}
	if i < len(e.accStr) {
		if e.accSet&(1<<i) == 0 {
			e.accStr[i] = e.names.value(&e.ixAccounts[i])
			e.accSet |= 1 << i
		}
		return e.accStr[i]
	}
	return e.names.value(&e.ixAccounts[i])
}

// accountsObject builds the "accounts" object of an instruction event: IDL account name → address.
func (e *evCtx) accountsObject() map[string]any {
	obj := map[string]any{}
	if e.ixDef == nil {
		return obj
	}
	for i, a := range e.ixDef.Accounts {
		if i >= len(e.ixAccounts) {
			break
		}
		obj[a.Name] = e.ixAccount(i)
	}
	return obj
}

// eventPath reads a path of the event JSON.
func (m *Machine) eventPath(e *evCtx, segs []string) (any, bool) {
	if len(segs) == 0 {
		return m.wholeEvent(e), true
	}
	switch segs[0] {
	case "__account_address":
		if e.isAccount && len(segs) == 1 {
			return e.addressValue(), true
		}
		return nil, false
	case "__update_context":
		if len(segs) == 1 {
			ctx := map[string]any{"slot": e.slot, "timestamp": m.blockTime(e.slot)}
			if s := e.signatureString(); s != nil {
				ctx["signature"] = s
			}
			return ctx, true
		}
		for i, n := range contextNames {
			if n == segs[1] && len(segs) == 2 {
				return m.contextValue(e, contextField(i)), true
			}
		}
		return nil, false
	}
	if e.isAccount {
		return getPath(e.rootMap(), segs)
	}
	switch segs[0] {
	case "data":
		if e.data == nil {
			return nil, false
		}
		return getPathIn(e.data, segs[1:])
	case "accounts":
		if len(segs) == 1 {
			return e.accountsObject(), true
		}
		if len(segs) == 2 && e.ixDef != nil {
			if pos := accountPosition(e.ixDef, segs[1]); pos >= 0 {
				v := e.ixAccount(pos)
				return v, v != nil
			}
		}
	}
	return nil, false
}

// wholeEvent is the event without its __* keys, as a fresh top-level object.
func (m *Machine) wholeEvent(e *evCtx) map[string]any {
	if e.isAccount {
		if e.root == nil && e.fields != nil {
			// Decoded account fields never carry __* keys.
			return e.fieldsObject()
		}
		out := make(map[string]any, len(e.root))
		for k, v := range e.root {
			if !strings.HasPrefix(k, "__") {
				out[k] = v
			}
		}
		return out
	}
	out := map[string]any{"data": e.data}
	if e.data == nil {
		out["data"] = map[string]any{}
	}
	if e.ixDef != nil {
		out["accounts"] = e.accountsObject()
	}
	return out
}

func (m *Machine) contextValue(e *evCtx, f contextField) any {
	switch f {
	case ctxSlot:
		return e.slot
	case ctxSignature:
		return e.signatureString()
	case ctxTimestamp:
		return m.blockTime(e.slot)
	case ctxWriteVersion:
		if e.isAccount {
			return e.writeVersion
		}
	case ctxTxnIndex:
		if !e.isAccount {
			return e.txnIndex
		}
	}
	return nil
}

// envelope wraps data as a capture ({timestamp, account_address, data, slot, signature}) or an event
// ({timestamp, data, slot, signature}); signature only when known. The object is a record of one of
// four shapes, allocated with its values in one piece.
func (m *Machine) envelope(e *evCtx, data any, capture bool) any {
	env := new(envelopeRecord)
	env.vals[0], env.vals[1], env.vals[2] = m.blockTime(e.slot), data, m.box.u64(e.slot)
	n, shape := 3, 0
	if capture {
		var addr any = ""
		if e.isAccount {
			addr = e.addressValue()
		}
		env.vals[n] = addr
		n, shape = n+1, shape|1
	}
	if s := e.signatureString(); s != nil {
		env.vals[n] = s
		n, shape = n+1, shape|2
	}
	env.r.shape, env.r.vals = envelopeShapes[shape], env.vals[:n:n]
	return &env.r
}

// envelopeRecord is a record with room for its values.
type envelopeRecord struct {
	r    record
	vals [5]any
}

// envelopeShapes are the shapes of envelopes: bit 0 capture (account_address), bit 1 signature.
var envelopeShapes = [4]*recordShape{
	newRecordShape([]string{"timestamp", "data", "slot"}),
	newRecordShape([]string{"timestamp", "data", "slot", "account_address"}),
	newRecordShape([]string{"timestamp", "data", "slot", "signature"}),
	newRecordShape([]string{"timestamp", "data", "slot", "account_address", "signature"}),
}

// transform applies a transformation, encoding 32-byte keys through the Machine's cache.
func (m *Machine) transform(t transformation, v any) (any, error) {
	if t == trBase58Encode {
		if p, ok := bytes32Of(v); ok {
			return m.names.value(&p), nil
		}
	}
	return transform(t, v)
}

// transform applies a transformation. Null stays null.
func transform(t transformation, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch t {
	case trNone:
		return v, nil
	case trBase58Encode, trHexEncode:
		if _, ok := v.(string); ok {
			return v, nil
		}
		b, ok := toBytes(v)
		if !ok {
			return nil, fmt.Errorf("%w: %s of %s", ErrTransform, t, typeName(v))
		}
		if t == trHexEncode {
			return hex.EncodeToString(b), nil
		}
		return base58.Encode(b), nil
	case trHexDecode, trBase58Decode:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("%w: %s of %s", ErrTransform, t, typeName(v))
		}
		var b []byte
		var err error
		if t == trHexDecode {
			b, err = hex.DecodeString(strings.TrimPrefix(s, "0x"))
		} else {
			b, err = base58.Decode(s)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrTransform, t, err)
		}
		return toJSONValue(b), nil
	case trToString:
		return string(appendJSON(nil, v)), nil
	case trToNumber:
		s, ok := v.(string)
		if !ok {
			return v, nil
		}
		i, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%w: ToNumber of %q", ErrTransform, s)
		}
		if i >= 0 {
			return uint64(i), nil
		}
		return i, nil
	}
	return nil, fmt.Errorf("%w: unknown transformation %d", ErrBadOperand, t)
}

// table is one entity's state and the structures that find its keys.
type table struct {
	ent          *Entity
	rows         *simplelru.LRU[key, map[string]any]
	indexes      []*simplelru.LRU[string, any]
	pda          *simplelru.LRU[string, string]
	versions     *simplelru.LRU[versionKey, version]
	dedup        *simplelru.LRU[dedupKey, dedupVal]
	pending      *simplelru.LRU[string, *pendingList]
	pendingCount int
}

type versionKey struct {
	addr solana.Pubkey
	typ  int
}

type version struct{ slot, wv uint64 }

type dedupKey struct {
	k   key
	typ int
}

type dedupVal struct{ slot, txnIndex, pos, sub uint64 }

type pendingList struct{ items []*evCtx }

type workItem struct {
	entity int
	item   *evCtx
}

func (m *Machine) newTable(e *Entity) (*table, error) {
	t := &table{ent: e}
	var err error
	wrap := func(e error) error { return fmt.Errorf("%w: %v", ErrConfig, e) }
	if t.rows, err = simplelru.NewLRU[key, map[string]any](m.cfg.StateCapacity, func(key, map[string]any) { m.stats.Evictions++ }); err != nil {
		return nil, wrap(err)
	}
	for range e.Indexes {
		ix, err := simplelru.NewLRU[string, any](m.cfg.LookupCapacity, nil)
		if err != nil {
			return nil, wrap(err)
		}
		t.indexes = append(t.indexes, ix)
	}
	if t.pending, err = simplelru.NewLRU[string, *pendingList](m.cfg.PendingKeys, func(_ string, l *pendingList) {
		m.stats.Dropped += uint64(len(l.items))
		t.pendingCount -= len(l.items)
		l.items = nil
	}); err != nil {
		return nil, wrap(err)
	}
	if t.pda, err = simplelru.NewLRU[string, string](m.cfg.LookupCapacity, func(pda string, _ string) {
		t.pending.Remove(pda)
	}); err != nil {
		return nil, wrap(err)
	}
	if t.versions, err = simplelru.NewLRU[versionKey, version](m.cfg.VersionCapacity, nil); err != nil {
		return nil, wrap(err)
	}
	if t.dedup, err = simplelru.NewLRU[dedupKey, dedupVal](m.cfg.DedupCapacity, nil); err != nil {
		return nil, wrap(err)
	}
	return t, nil
}

// lookup resolves v through the entity's lookup indexes and PDA reverse lookups (chained, at most
// maxLookupDepth steps). On a miss it records what the event waits for (pdaMiss / lookupMiss).
func (m *Machine) lookup(idx uint32, v any) any {
	if v == nil {
		return nil
	}
	t := m.tbl
	cur := v
	for depth := 0; depth < maxLookupDepth; depth++ {
		s := m.nums.stringify(cur)
		r, found := t.indexLookup(idx, s)
		fromPDA := false
		if !found {
			if str, ok := cur.(string); ok {
				if seed, ok := t.pda.Get(str); ok {
					r, found, fromPDA = seed, true, true
				}
			}
		}
		if !found {
			if str, ok := cur.(string); ok && depth == 0 {
				m.pdaMiss = str
			}
			return nil
		}
		rs := m.nums.stringify(r)
		if !t.inAnyIndex(rs) && !t.pda.Contains(rs) {
			if fromPDA {
				m.lookupMiss = rs
				return nil
			}
			return r
		}
		cur = r
	}
	return cur
}

func (t *table) indexLookup(idx uint32, s string) (any, bool) {
	if idx != noIndex && int(idx) < len(t.indexes) {
		if v, ok := t.indexes[idx].Get(s); ok {
			return v, true
		}
	}
	for i, ix := range t.indexes {
		if uint32(i) == idx {
			continue
		}
		if v, ok := ix.Get(s); ok {
			return v, true
		}
	}
	return nil, false
}

func (t *table) inAnyIndex(s string) bool {
	for _, ix := range t.indexes {
		if ix.Contains(s) {
			return true
		}
	}
	return false
}

// readState checks freshness (accounts: (slot, write_version) per account and event type) or
// duplication (instructions: (slot, txn_index, instruction position) per key and event type), then
// loads the state of k or starts an empty one. It reports false for stale or duplicate events.
func (m *Machine) readState(kv any) bool {
	k := makeKey(kv)
	e := m.ev
	if e.isAccount {
		vk := versionKey{addr: e.address, typ: m.h.typeID}
		if last, ok := m.tbl.versions.Get(vk); ok {
			if e.slot < last.slot || (e.slot == last.slot && e.writeVersion <= last.wv) {
				return false
			}
		}
		m.tbl.versions.Add(vk, version{e.slot, e.writeVersion})
	} else {
		dk := dedupKey{k: k, typ: m.h.typeID}
		cur := dedupVal{e.slot, e.txnIndex, e.ixPos, e.sub}
		if last, ok := m.tbl.dedup.Get(dk); ok && last == cur {
			return false
		}
		m.tbl.dedup.Add(dk, cur)
	}
	st, ok := m.tbl.rows.Get(k)
	if !ok {
		st = make(map[string]any, 8)
		m.stateNew = true
	}
	m.state, m.stateKey = st, k
	m.secGen++
	return true
}

func (m *Machine) writeState() {
	m.stashWritten()
	if m.stateNew && m.state != nil {
		m.tbl.rows.Add(m.stateKey, m.state)
		m.stateNew = false
	}
}

func (m *Machine) updateIndex(i int, v, k any) {
	if v == nil || k == nil || i >= len(m.tbl.indexes) {
		return
	}
	s := m.nums.stringify(v)
	m.tbl.indexes[i].Add(s, k)
	if _, ok := v.(string); ok && m.tbl.pendingCount > 0 {
		m.indexedKeys = append(m.indexedKeys, s)
	}
}

// updatePda maps a PDA to its seed in t. When the PDA already mapped to another seed, the PDA's
// cached entries in the lookup indexes are dropped (they point at the old entity).
func (m *Machine) updatePda(t *table, a, b any) {
	pda, ok := a.(string)
	if !ok || pda == "" {
		return
	}
	var seed string
	switch x := b.(type) {
	case string:
		seed = x
	case uint64:
		seed = strconv.FormatUint(x, 10)
	case int64:
		if x < 0 {
			return
		}
		seed = strconv.FormatInt(x, 10)
	default:
		return
	}
	if seed == "" {
		return
	}
	old, had := t.pda.Peek(pda)
	if had && old == seed {
		t.pda.Get(pda)
		return
	}
	t.pda.Add(pda, seed)
	if had {
		for _, ix := range t.indexes {
			ix.Remove(pda)
		}
	}
	if t.pendingCount > 0 {
		m.pdaKeys = append(m.pdaKeys, pda)
	}
}

// enqueue queues an event whose key is not known yet under the key it waits for. For account updates
// the newest update of an account replaces older ones of the same type.
func (m *Machine) enqueue(t *table, k string, h *Handler, e *evCtx) {
	if e == &m.topEv {
		c := *e
		c.ixAccounts = append([]solana.Pubkey(nil), e.ixAccounts...)
		if e.fields != nil {
			c.fields = append([]any(nil), e.fields...) // e.fields is the Machine's buffer
		}
		e = &c
	}
	list, ok := t.pending.Get(k)
	if !ok {
		list = &pendingList{}
		t.pending.Add(k, list)
	}
	if e.isAccount {
		kept := list.items[:0]
		for _, it := range list.items {
			if it.route == e.route && it.address == e.address && it.slot <= e.slot {
				m.stats.Dropped++
				t.pendingCount--
				continue
			}
			kept = append(kept, it)
		}
		list.items = kept
	}
	if len(list.items) >= m.cfg.PendingPerKey {
		list.items = append(list.items[:0], list.items[1:]...)
		m.stats.Dropped++
		t.pendingCount--
	}
	list.items = append(list.items, e)
	t.pendingCount++
	m.stats.Queued++
}

// record notes the previous value of obj[k] so a failing handler can be rolled back.
func (m *Machine) record(obj map[string]any, k string) {
	if m.stateNew {
		return
	}
	old, existed := obj[k]
	m.undo = append(m.undo, undoEntry{obj: obj, k: k, old: old, existed: existed})
}

// recordSlot notes the previous value of slot i of a section record. Slot writes have their own,
// smaller undo entries: they never touch the locations map entries do, so the two lists can be
// undone one after the other.
func (m *Machine) recordSlot(r *srec, i int32) {
	if m.stateNew {
		return
	}
	old, existed := r.at(i)
	m.sundo = append(m.sundo, slotUndo{sr: r, old: old, slot: i, existed: existed})
}

type slotUndo struct {
	sr      *srec
	old     any
	slot    int32
	existed bool
}

type undoEntry struct {
	obj     map[string]any
	k       string
	old     any
	existed bool
	set     *uniqueSet
	sr      *srec // an extra key of a section record
}

func (m *Machine) rollback() {
	for i := len(m.undo) - 1; i >= 0; i-- {
		u := &m.undo[i]
		switch {
		case u.set != nil:
			delete(u.set.m, u.k)
		case u.sr != nil:
			u.sr.removeExtra(u.k, u.old, u.existed)
		case u.existed:
			u.obj[u.k] = u.old
		default:
			delete(u.obj, u.k)
		}
	}
	m.undo = m.undo[:0]
	for i := len(m.sundo) - 1; i >= 0; i-- {
		if u := &m.sundo[i]; u.existed {
			u.sr.put(u.slot, u.old)
		} else {
			u.sr.remove(u.slot)
		}
	}
	m.sundo = m.sundo[:0]
	m.clearDirty()
	m.secGen++
}

// putKey writes obj[k] = v (slot i of a section record, -1 when unknown), noting the previous
// value. obj is a map or a section record.
func (m *Machine) putKey(obj any, i int32, k string, v any) {
	switch o := obj.(type) {
	case *srec:
		if i < 0 {
			i = o.slotOf(k)
		}
		if i < 0 {
			old, existed := o.extraGet(k)
			if !m.stateNew {
				m.undo = append(m.undo, undoEntry{sr: o, k: k, old: old, existed: existed})
			}
			o.putExtra(k, v)
			return
		}
		m.recordSlot(o, i)
		o.put(i, v)
	case map[string]any:
		m.record(o, k)
		o[k] = v
	}
}

// child returns the object at obj[k] (slot i) for a write below it, creating a map there when the
// value is missing or not an object. Records become their maps.
func (m *Machine) child(obj any, i int32, k string) any {
	v, _ := slotGet(obj, i, k)
	switch x := v.(type) {
	case map[string]any, *srec:
		return x
	case *record:
		return x.object()
	}
	next := make(map[string]any, 4)
	m.putKey(obj, i, k, next)
	return next
}

// setPath writes v at t's path, creating intermediate objects. A missing section is created as a
// section record when the entity has one for it.
func (m *Machine) setPath(t *Target, v any) {
	segs := t.Segs
	if len(segs) == 1 {
		m.record(m.state, segs[0])
		m.state[segs[0]] = v
		m.secGen++
		return
	}
	sec := m.section(t.sec, segs[0])
	if sec == nil {
		if t.sec >= 0 && int(t.sec) < len(m.ent.secShapes) {
			sec = newSrec(m.ent.secShapes[t.sec])
		} else {
			sec = make(map[string]any, 4)
		}
		m.record(m.state, segs[0])
		m.state[segs[0]] = sec
		m.secGen++ // a top-level key changed
	}
	obj := sec
	slot := t.slot
	for _, s := range segs[1 : len(segs)-1] {
		obj = m.child(obj, slot, s)
		slot = -1
	}
	m.putKey(obj, slot, segs[len(segs)-1], v)
}

// The section cache: within a run, the objects at the top-level keys of the row (the sections
// most paths go through) are remembered by section id, so a path is not looked up from the top
// again and again. Entries are valid for one generation: a new row, a rollback or any write of a
// top-level key starts a new one.
type secEntry struct {
	gen uint64
	obj any // *srec or map[string]any
}

// sectionOf returns v as a section object (a section record or a map; a record becomes its map),
// or nil.
func sectionOf(v any) any {
	switch x := v.(type) {
	case *srec:
		return x
	case map[string]any:
		return x
	case *record:
		return x.object()
	}
	return nil
}

// section returns the object at the top-level key name (section id id, -1 for none) of the current
// row, a section record or a map, or nil when there is none.
func (m *Machine) section(id int32, name string) any {
	if id < 0 || int(id) >= len(m.secs) {
		return sectionOf(m.state[name])
	}
	e := &m.secs[id]
	if e.gen == m.secGen && e.obj != nil {
		return e.obj
	}
	obj := sectionOf(m.state[name])
	if obj != nil {
		e.gen, e.obj = m.secGen, obj
	}
	return obj
}

// pathValue is getPath(m.state, segs), the first steps through the section cache and the section
// record's slot (sec and slot locate segs[0] and segs[1], see Entity.slotOf).
func (m *Machine) pathValue(sec, slot int32, segs []string) (any, bool) {
	if sec < 0 || len(segs) < 2 {
		return getPath(m.state, segs)
	}
	obj := m.section(sec, segs[0])
	if obj == nil {
		if m.state == nil {
			return nil, false
		}
		return getPath(m.state, segs) // a non-object or missing top-level value
	}
	v, ok := slotGet(obj, slot, segs[1])
	if !ok || len(segs) == 2 {
		return v, ok
	}
	return getPathIn(v, segs[2:])
}

func (m *Machine) set(t *Target, v any) {
	m.written |= t.Affects
	m.setPath(t, v)
	if t.Emit {
		m.markDirty(t.ep)
	}
}

func (m *Machine) setOnce(t *Target, v any) {
	if v == nil {
		return
	}
	if cur, ok := m.pathValue(t.sec, t.slot, t.Segs); ok && cur != nil {
		return
	}
	m.set(t, v)
}

func (m *Machine) setExtreme(t *Target, v any, max bool) {
	if v == nil {
		return
	}
	cur, ok := m.pathValue(t.sec, t.slot, t.Segs)
	if !ok || cur == nil {
		m.set(t, v)
		return
	}
	c, ok := compareNumbers(v, cur)
	if !ok {
		return
	}
	if (max && c > 0) || (!max && c < 0) {
		m.set(t, v)
	}
}

// setSum adds an integer; the total is exact in 64 bits (u64 when non-negative, else i64) and
// saturates at the bounds.
func (m *Machine) setSum(t *Target, v any) error {
	if v == nil {
		return nil
	}
	if !isNumber(v) || isFloat(v) {
		return fmt.Errorf("%w: Sum of %s at %s", ErrNotNumber, typeName(v), t.Text)
	}
	cur, _ := m.pathValue(t.sec, t.slot, t.Segs)
	if cur == nil {
		cur = uint64(0)
	}
	if !isNumber(cur) || isFloat(cur) {
		return fmt.Errorf("%w: Sum into %s at %s", ErrNotNumber, typeName(cur), t.Text)
	}
	m.set(t, addInts(cur, v))
	return nil
}

func addInts(a, b any) any {
	au, aOK := asU64(a)
	bu, bOK := asU64(b)
	if aOK && bOK {
		s := au + bu
		if s < au {
			return uint64(1<<64 - 1)
		}
		return s
	}
	r, err := saturating(true, toSigned(a), toSigned(b))
	if err != nil {
		return a
	}
	if i, ok := r.(int64); ok && i >= 0 {
		return uint64(i)
	}
	return r
}

func toSigned(v any) any {
	if u, ok := v.(uint64); ok {
		if u > 1<<63-1 {
			return int64(1<<63 - 1)
		}
		return int64(u)
	}
	return v
}

func (m *Machine) increment(t *Target) {
	cur, _ := m.pathValue(t.sec, t.slot, t.Segs)
	if cur == nil || !isNumber(cur) || isFloat(cur) {
		cur = uint64(0)
	}
	m.set(t, addInts(cur, uint64(1)))
}

func (m *Machine) appendTo(t *Target, v any) {
	cur, _ := m.pathValue(t.sec, t.slot, t.Segs)
	arr, _ := cur.([]any)
	n := len(arr) + 1
	drop := 0
	if n > m.cfg.MaxArrayLength {
		drop = n - m.cfg.MaxArrayLength
	}
	out := make([]any, 0, n-drop)
	out = append(out, arr[min(drop, len(arr)):]...)
	out = append(out, v)
	m.written |= t.Affects
	m.setPath(t, out)
	if t.Emit {
		m.markAppended(t.ep, v)
	}
}

// uniqueSet is the hidden set behind a UniqueCount target.
type uniqueSet struct{ m map[string]struct{} }

func (m *Machine) uniqueCount(t *Target, v any) {
	if v == nil {
		return
	}
	hidden := "__unique_set:" + t.Text
	set, ok := m.state[hidden].(*uniqueSet)
	if !ok {
		set = &uniqueSet{m: map[string]struct{}{}}
		m.record(m.state, hidden)
		m.state[hidden] = set
		m.secGen++
	}
	member := string(appendJSON(nil, v))
	if _, ok := set.m[member]; ok {
		return
	}
	set.m[member] = struct{}{}
	if !m.stateNew {
		m.undo = append(m.undo, undoEntry{set: set, k: member})
	}
	m.set(t, uint64(len(set.m)))
}

// condHolds compares an event field with a condition's literal. Ordering comparisons of values that
// are not numbers are false.
func (m *Machine) condHolds(c *condition, e *evCtx) bool {
	switch c.Logical {
	case stack.LogicalAnd:
		for _, i := range c.Subs {
			if !m.condHolds(&m.p.conds[i], e) {
				return false
			}
		}
		return true
	case stack.LogicalOr:
		for _, i := range c.Subs {
			if m.condHolds(&m.p.conds[i], e) {
				return true
			}
		}
		return false
	}
	v, _ := m.eventPath(e, c.Path)
	return compareOp(c.Op, v, c.Value)
}

func compareOp(op stack.ComparisonOp, v, lit any) bool {
	switch op {
	case "Equal":
		return equalValues(v, lit)
	case "NotEqual":
		return !equalValues(v, lit)
	}
	c, ok := compareNumbers(v, lit)
	if !ok {
		return false
	}
	switch op {
	case "GreaterThan":
		return c > 0
	case "GreaterThanOrEqual":
		return c >= 0
	case "LessThan":
		return c < 0
	case "LessThanOrEqual":
		return c <= 0
	}
	return false
}
