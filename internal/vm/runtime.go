package vm

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/hashicorp/golang-lru/v2/simplelru"
	"github.com/mr-tron/base58"

	"github.com/hyperstack-go/hyperstack/internal/event"
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
	// root holds the decoded account fields; data the instruction arguments or event fields.
	root       map[string]any
	data       map[string]any
	ixDef      *idl.InstructionDef
	ixAccounts []solana.Pubkey
	accStr     [12]string
	address    solana.Pubkey
	addrStr    string
	sig        solana.Signature
	hasSig     bool
	sigStr     string

	slot, writeVersion, txnIndex, ixPos uint64
	// sub orders the events of one instruction: 0 for the instruction, i+1 for its i-th log event.
	sub uint64
}

func (e *evCtx) addressString() string {
	if e.addrStr == "" {
		e.addrStr = e.address.String()
	}
	return e.addrStr
}

func (e *evCtx) signatureString() any {
	if !e.hasSig {
		return nil
	}
	if e.sigStr == "" {
		e.sigStr = e.sig.String()
	}
	return e.sigStr
}

// ixAccount returns the base58 address of the instruction's account at position i, or nil.
func (e *evCtx) ixAccount(i int) any {
	if i < 0 || i >= len(e.ixAccounts) {
		return nil
	}
	if i < len(e.accStr) {
		if e.accStr[i] == "" {
			e.accStr[i] = e.ixAccounts[i].String()
		}
		return e.accStr[i]
	}
	return e.ixAccounts[i].String()
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
			return e.addressString(), true
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
		return getPath(e.root, segs)
	}
	switch segs[0] {
	case "data":
		if e.data == nil {
			return nil, false
		}
		return getPath(e.data, segs[1:])
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
// ({timestamp, data, slot, signature}); signature only when known.
func (m *Machine) envelope(e *evCtx, data any, capture bool) map[string]any {
	out := map[string]any{"timestamp": m.blockTime(e.slot), "data": data, "slot": e.slot}
	if capture {
		addr := ""
		if e.isAccount {
			addr = e.addressString()
		}
		out["account_address"] = addr
	}
	if s := e.signatureString(); s != nil {
		out["signature"] = s
	}
	return out
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
		if s, ok := v.(string); ok {
			return s, nil
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
		s := stringify(cur)
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
		rs := stringify(r)
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
	s := stringify(v)
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

type undoEntry struct {
	obj     map[string]any
	k       string
	old     any
	existed bool
	set     *uniqueSet
}

func (m *Machine) rollback() {
	for i := len(m.undo) - 1; i >= 0; i-- {
		u := &m.undo[i]
		switch {
		case u.set != nil:
			delete(u.set.m, u.k)
		case u.existed:
			u.obj[u.k] = u.old
		default:
			delete(u.obj, u.k)
		}
	}
	m.undo = m.undo[:0]
	m.dirty = m.dirty[:0]
}

// setPath writes v at segs, creating intermediate objects.
func (m *Machine) setPath(segs []string, v any) {
	obj := m.state
	for _, s := range segs[:len(segs)-1] {
		next, ok := obj[s].(map[string]any)
		if !ok {
			next = make(map[string]any, 4)
			m.record(obj, s)
			obj[s] = next
		}
		obj = next
	}
	last := segs[len(segs)-1]
	m.record(obj, last)
	obj[last] = v
}

// dirtyEntry is a path changed by the current run.
type dirtyEntry struct {
	segs     []string
	text     string
	isAppend bool
	appended []any
	value    any // the current value, filled when the patch is built
}

func (m *Machine) markDirty(segs []string, text string) {
	for i := range m.dirty {
		if m.dirty[i].text == text {
			m.dirty[i].isAppend, m.dirty[i].appended = false, nil
			return
		}
	}
	m.dirty = append(m.dirty, dirtyEntry{segs: segs, text: text})
}

func (m *Machine) markAppended(t *Target, v any) {
	for i := range m.dirty {
		if m.dirty[i].text == t.Text {
			if m.dirty[i].isAppend {
				m.dirty[i].appended = append(m.dirty[i].appended, v)
			}
			return
		}
	}
	m.dirty = append(m.dirty, dirtyEntry{segs: t.Segs, text: t.Text, isAppend: true, appended: []any{v}})
}

func (m *Machine) set(t *Target, v any) {
	m.written |= t.Affects
	m.setPath(t.Segs, v)
	if t.Emit {
		m.markDirty(t.Segs, t.Text)
	}
}

func (m *Machine) setOnce(t *Target, v any) {
	if v == nil {
		return
	}
	if cur, ok := getPath(m.state, t.Segs); ok && cur != nil {
		return
	}
	m.set(t, v)
}

func (m *Machine) setExtreme(t *Target, v any, max bool) {
	if v == nil {
		return
	}
	cur, ok := getPath(m.state, t.Segs)
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
	cur, _ := getPath(m.state, t.Segs)
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
	cur, _ := getPath(m.state, t.Segs)
	if cur == nil || !isNumber(cur) || isFloat(cur) {
		cur = uint64(0)
	}
	m.set(t, addInts(cur, uint64(1)))
}

func (m *Machine) appendTo(t *Target, v any) {
	cur, _ := getPath(m.state, t.Segs)
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
	m.setPath(t.Segs, out)
	if t.Emit {
		m.markAppended(t, v)
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

// emit builds the mutation of the current run from its dirty paths.
func (m *Machine) emit(handler string) {
	if m.stateKey.kind == keyNull || len(m.dirty) == 0 {
		return
	}
	patch, appends := m.buildPatch()
	if patch == nil {
		return
	}
	m.out = append(m.out, event.Mutation{
		Export:  m.ent.Name,
		Key:     m.stateKey.appendJSON(nil),
		Patch:   patch,
		Append:  appends,
		Slot:    m.ev.slot,
		Handler: handler,
	})
}

// buildPatch writes the dirty paths as one nested JSON object (keys sorted). Replaced paths carry the
// current value (skipped when missing); appended paths carry the appended items.
func (m *Machine) buildPatch() ([]byte, []string) {
	d := m.dirty
	order := m.order[:0]
	for i := range d {
		if !d[i].isAppend {
			v, ok := getPath(m.state, d[i].segs)
			if !ok {
				continue
			}
			d[i].value = v
		}
		order = append(order, int32(i))
	}
	// Sort by segments (insertion sort of indexes: patches are small).
	for i := 1; i < len(order); i++ {
		for j := i; j > 0 && segsLess(d[order[j]].segs, d[order[j-1]].segs); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	// Drop entries under another entry.
	kept := order[:0]
	for _, i := range order {
		if len(kept) > 0 && isPrefix(d[kept[len(kept)-1]].segs, d[i].segs) {
			continue
		}
		kept = append(kept, i)
	}
	m.order = kept
	if len(kept) == 0 {
		return nil, nil
	}
	var appends []string
	for _, i := range kept {
		if d[i].isAppend {
			appends = append(appends, d[i].text)
		}
	}
	m.buf = m.writeGroup(m.buf[:0], kept, 0)
	return bytes.Clone(m.buf), appends
}

func (m *Machine) writeGroup(b []byte, es []int32, depth int) []byte {
	d := m.dirty
	b = append(b, '{')
	for i := 0; i < len(es); {
		seg := d[es[i]].segs[depth]
		j := i + 1
		for j < len(es) && d[es[j]].segs[depth] == seg {
			j++
		}
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, seg)
		b = append(b, ':')
		if e := &d[es[i]]; len(e.segs) == depth+1 {
			if e.isAppend {
				b = appendJSON(b, e.appended)
			} else {
				b = appendJSON(b, e.value)
			}
		} else {
			b = m.writeGroup(b, es[i:j], depth+1)
		}
		i = j
	}
	return append(b, '}')
}

func segsLess(a, b []string) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

func isPrefix(p, s []string) bool {
	if len(p) >= len(s) {
		return false
	}
	for i := range p {
		if p[i] != s[i] {
			return false
		}
	}
	return true
}

// pendingComputedKey holds, in a row, the read-path bits written by runs that did not evaluate
// computed fields (hook-only handlers), so the next evaluation does not skip them.
const pendingComputedKey = "__computed_pending"

// evalComputed evaluates the entity's computed fields section by section. A section runs only when
// it and every section its expressions read are objects in state. Within it, a field is evaluated
// when it is missing, volatile, or reads a path written since its last evaluation; its value is a
// function of those inputs, so the others cannot change. A field whose value changes (a missing
// field counts as changed) is written and marked dirty; with nonNullOnly, null results are written
// but not marked.
func (m *Machine) evalComputed(nonNullOnly bool) {
	secs := m.ent.sections
	if len(secs) == 0 || m.state == nil {
		return
	}
	m.evaluated = true
	if p, ok := m.state[pendingComputedKey].(uint64); ok {
		m.written |= p
		m.record(m.state, pendingComputedKey)
		delete(m.state, pendingComputedKey)
	}
	env := cenv{m: m, state: m.state, slot: m.ev.slot}
	tsDone := false
	var vars [16]any
	for _, sec := range secs {
		gated := true
		for _, g := range sec.Gates {
			if _, ok := m.state[g].(map[string]any); !ok {
				gated = false
				break
			}
		}
		if !gated {
			continue
		}
		obj := m.state[sec.Name].(map[string]any)
		for _, f := range sec.Fields {
			old, had := obj[f.Leaf]
			if had && !f.volatile && f.reads&m.written == 0 {
				continue
			}
			if !tsDone {
				env.ts = m.blockTime(env.slot)
				tsDone = true
			}
			if f.nvars <= len(vars) {
				env.vars = vars[:f.nvars]
			} else {
				env.vars = make([]any, f.nvars)
			}
			env.old = old
			v, err := f.eval(&env)
			if err != nil {
				m.stats.ComputedErrors++
				v = nil
			}
			v = toJSONValue(v)
			if had && equalValues(old, v) {
				continue
			}
			m.record(obj, f.Leaf)
			obj[f.Leaf] = v
			m.written |= f.affects
			if f.Emit && !(nonNullOnly && v == nil) {
				m.markDirty(f.Segs, f.Path)
			}
		}
	}
}

// stashWritten keeps the read-path bits a run wrote without evaluating computed fields.
func (m *Machine) stashWritten() {
	if m.evaluated || m.written == 0 || len(m.ent.sections) == 0 || m.state == nil {
		return
	}
	p, _ := m.state[pendingComputedKey].(uint64)
	m.record(m.state, pendingComputedKey)
	m.state[pendingComputedKey] = p | m.written
}

// --- "when": writes that wait for an instruction of the same transaction --------------------------

type deferKey struct {
	sig solana.Signature
	typ int
}

type deferredOp struct {
	entity  int
	key     key
	target  *Target
	value   any
	slot    uint64
	handler string
}

func (m *Machine) noteTx(sig solana.Signature, typ int) {
	list, _ := m.recentTx.Get(sig)
	for _, t := range list {
		if t == typ {
			return
		}
	}
	m.recentTx.Add(sig, append(list, typ))
}

func (m *Machine) txHas(sig solana.Signature, typ int) bool {
	list, _ := m.recentTx.Peek(sig)
	for _, t := range list {
		if t == typ {
			return true
		}
	}
	return false
}

func (m *Machine) setWhen(t *Target, v any, w *whenSpec, keyVal any) {
	e := m.ev
	if w.Cond >= 0 && !m.condHolds(&m.p.conds[w.Cond], e) {
		return
	}
	if !e.hasSig {
		return
	}
	if m.txHas(e.sig, w.typeID) {
		m.set(t, v)
		return
	}
	dk := deferKey{sig: e.sig, typ: w.typeID}
	m.deferred[dk] = append(m.deferred[dk], &deferredOp{
		entity: m.h.Entity, key: m.stateKey, target: t, value: v, slot: e.slot, handler: m.h.EventType,
	})
	m.stats.Deferred++
}

// applyDeferred applies the writes that waited for this instruction: per row, all of them, then the
// computed fields, in one mutation (the written fields when emitted, and the computed fields that
// changed to a non-null value).
func (m *Machine) applyDeferred(e *evCtx, r *Route) {
	dk := deferKey{sig: e.sig, typ: r.typeID}
	ops := m.deferred[dk]
	if len(ops) == 0 {
		return
	}
	delete(m.deferred, dk)
	for i, op := range ops {
		if op == nil {
			continue
		}
		group := []*deferredOp{op}
		for j := i + 1; j < len(ops); j++ {
			if o := ops[j]; o != nil && o.entity == op.entity && o.key == op.key {
				group = append(group, o)
				ops[j] = nil
			}
		}
		m.stats.WhenApplied += uint64(len(group))
		m.applyToRow(op.entity, op.key, e, op.handler, true, func() {
			for _, o := range group {
				m.set(o.target, o.value)
			}
		})
	}
}

// applyToRow changes a stored row outside a handler run (deferred writes, resolver answers), then
// re-evaluates computed fields and emits the change.
func (m *Machine) applyToRow(entity int, k key, e *evCtx, handler string, nonNullOnly bool, fn func()) {
	t := m.tables[entity]
	st, ok := t.rows.Get(k)
	if !ok {
		return
	}
	m.ent, m.tbl, m.ev = m.p.Entities[entity], t, e
	m.state, m.stateKey, m.stateNew = st, k, true // nothing to roll back
	m.dirty = m.dirty[:0]
	m.undo = m.undo[:0]
	m.written, m.evaluated = 0, false
	fn()
	m.evalComputed(nonNullOnly)
	m.stateNew = false
	m.emit(handler)
}

// --- slot-driven housekeeping ------------------------------------------------------------------

// advance moves the Machine's clock (the newest slot seen): scheduled resolvers fall due and old
// queue entries expire.
func (m *Machine) advance(slot uint64) {
	m.maxSlot = slot
	m.runScheduled(slot)
	if slot >= m.sweptAt+sweepEverySlots {
		m.sweep(slot)
		m.sweptAt = slot
	}
}

func (m *Machine) sweep(slot uint64) {
	if slot > m.cfg.PendingTTLSlots {
		limit := slot - m.cfg.PendingTTLSlots
		for _, t := range m.tables {
			if t.pendingCount == 0 {
				continue
			}
			for _, k := range t.pending.Keys() {
				list, _ := t.pending.Peek(k)
				kept := list.items[:0]
				for _, it := range list.items {
					if it.slot < limit {
						m.stats.Expired++
						t.pendingCount--
						continue
					}
					kept = append(kept, it)
				}
				list.items = kept
				if len(kept) == 0 {
					t.pending.Remove(k)
				}
			}
		}
	}
	if slot > m.cfg.WhenTTLSlots {
		limit := slot - m.cfg.WhenTTLSlots
		for dk, ops := range m.deferred {
			kept := ops[:0]
			for _, op := range ops {
				if op.slot >= limit {
					kept = append(kept, op)
				}
			}
			if len(kept) == 0 {
				delete(m.deferred, dk)
			} else {
				m.deferred[dk] = kept
			}
		}
	}
}

// --- resolvers -----------------------------------------------------------------------------------

// answer returns a resolver answer from the cache or the Resolvers.
func (m *Machine) answer(kind ResolverKind, k string) (any, bool) {
	ck := string(kind) + "\x00" + k
	if v, ok := m.answers.Get(ck); ok {
		m.stats.ResolverHits++
		return v, true
	}
	if m.cfg.Resolvers != nil {
		if raw, ok := m.cfg.Resolvers.Resolve(kind, k); ok {
			v, err := parseJSONValue(raw)
			if err != nil {
				m.log.Debug("bad resolver answer", "kind", kind, "key", k, "err", err)
				return nil, false
			}
			m.answers.Add(ck, v)
			if m.cfg.OnResolve != nil {
				m.cfg.OnResolve(string(kind), k, raw)
			}
			m.stats.ResolverHits++
			return v, true
		}
	}
	m.stats.ResolverMisses++
	return nil, false
}

// waiting is a resolver question without an answer yet and the rows that want it.
type waiting struct {
	kind    ResolverKind
	key     string
	targets []waitTarget
}

type waitTarget struct {
	entity int
	key    key
	spec   *resolverSpec
}

const maxWaiting = 4096

func (m *Machine) wait(kind ResolverKind, k string, wt waitTarget) {
	ck := string(kind) + "\x00" + k
	w, ok := m.waiting[ck]
	if !ok {
		if len(m.waitKeys) >= maxWaiting {
			delete(m.waiting, m.waitKeys[0])
			m.waitKeys = m.waitKeys[1:]
		}
		w = &waiting{kind: kind, key: k}
		m.waiting[ck] = w
		m.waitKeys = append(m.waitKeys, ck)
	}
	for _, t := range w.targets {
		if t == wt {
			return
		}
	}
	if len(w.targets) < 1024 {
		w.targets = append(w.targets, wt)
	}
}

// Waiting returns the resolver questions still unanswered, as (kind, key) pairs in the order they
// were first asked. A live pipeline answers them with Deliver.
func (m *Machine) Waiting() [][2]string {
	out := make([][2]string, 0, len(m.waitKeys))
	for _, ck := range m.waitKeys {
		if w, ok := m.waiting[ck]; ok {
			out = append(out, [2]string{string(w.kind), w.key})
		}
	}
	return out
}

// resolverInput renders the question a resolver spec asks for the current state.
func resolverInput(spec *resolverSpec, state map[string]any) (string, bool) {
	if spec.Kind == ResolveURL {
		var u string
		if spec.Template != nil {
			var b strings.Builder
			for _, p := range spec.Template {
				if p.Ref == nil {
					b.WriteString(p.Literal)
					continue
				}
				v, _ := getPath(state, p.Ref)
				if v == nil {
					return "", false
				}
				b.WriteString(percentEncode(displayString(v)))
			}
			u = b.String()
		} else {
			v, _ := getPath(state, spec.URLPath)
			s, ok := v.(string)
			if !ok || s == "" {
				return "", false
			}
			u = s
		}
		return spec.Method + " " + u, true
	}
	v := spec.Input
	if v == nil && spec.InputPath != nil {
		v, _ = getPath(state, spec.InputPath)
	}
	if v == nil {
		return "", false
	}
	return displayString(v), true
}

func extractsSet(spec *resolverSpec, state map[string]any) bool {
	for _, ex := range spec.Extracts {
		if v, _ := getPath(state, ex.Target.Segs); v == nil {
			return false
		}
	}
	return true
}

func resolverCond(spec *resolverSpec, state map[string]any) bool {
	if spec.Cond == nil {
		return true
	}
	v, _ := getPath(state, spec.Cond.Path)
	return compareOp(spec.Cond.Op, v, spec.Cond.Value)
}

// resolve runs a resolver spec for the current row (OpResolve).
func (m *Machine) resolve(spec *resolverSpec, keyVal any) {
	if keyVal == nil || !resolverCond(spec, m.state) {
		return
	}
	if spec.Schedule != nil {
		v, _ := getPath(m.state, spec.Schedule)
		at, ok := asU64(v)
		if !ok || isFloat(v) {
			return
		}
		if m.ev.slot < at {
			m.sched.add(&callback{entity: m.h.Entity, key: m.stateKey, spec: spec, slot: at})
			return
		}
	}
	m.resolveNow(spec)
}

// resolveNow asks the question of spec for the current row and applies a known answer in place.
func (m *Machine) resolveNow(spec *resolverSpec) bool {
	if spec.SetOnce && extractsSet(spec, m.state) {
		return true
	}
	// A row that asked and got no answer asks again once the stream moves to a new slot (or an
	// answer arrives), not on every update.
	wt := waitTarget{entity: m.ent.StateID, key: m.stateKey, spec: spec}
	if at, ok := m.asked[wt]; ok && at == m.maxSlot<<8|m.answerGen&0xff {
		return true
	}
	in, ok := resolverInput(spec, m.state)
	if !ok {
		return false
	}
	if ans, ok := m.answer(spec.Kind, in); ok {
		m.applyExtracts(spec, ans)
		return true
	}
	m.wait(spec.Kind, in, wt)
	if len(m.asked) >= maxWaiting {
		clear(m.asked)
	}
	m.asked[wt] = m.maxSlot<<8 | m.answerGen&0xff
	return true
}

func (m *Machine) applyExtracts(spec *resolverSpec, ans any) {
	for _, ex := range spec.Extracts {
		v := ans
		if ex.Source != nil {
			v, _ = getPath(asObject(ans), ex.Source)
		}
		if ex.Transform != trNone {
			tv, err := transform(ex.Transform, v)
			if err != nil {
				continue
			}
			v = tv
		}
		if spec.SetOnce {
			if cur, _ := getPath(m.state, ex.Target.Segs); cur != nil {
				continue
			}
		}
		m.set(&ex.Target, deepCopy(v))
	}
}

func asObject(v any) map[string]any {
	o, _ := v.(map[string]any)
	return o
}

// Deliver hands the Machine an answer that was not available when asked (see Resolvers). The rows
// waiting for it are updated and their mutations returned. Deliver is called from the goroutine
// that runs Process, between events.
func (m *Machine) Deliver(kind ResolverKind, k string, answer []byte) ([]event.Mutation, error) {
	switch kind {
	case ResolveToken, ResolveURL, ResolveSlotHash, ResolveBlockTime:
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnknownResolver, kind)
	}
	v, err := parseJSONValue(answer)
	if err != nil {
		return nil, fmt.Errorf("deliver %s %s: %w", kind, k, err)
	}
	ck := string(kind) + "\x00" + k
	m.answers.Add(ck, v)
	m.answerGen++
	if kind == ResolveBlockTime {
		m.tsKnown = false
	}
	if m.cfg.OnResolve != nil {
		m.cfg.OnResolve(string(kind), k, answer)
	}
	m.out = m.out[:0]
	m.errs = m.errs[:0]
	if w, ok := m.waiting[ck]; ok {
		delete(m.waiting, ck)
		for i, wk := range m.waitKeys {
			if wk == ck {
				m.waitKeys = append(m.waitKeys[:i], m.waitKeys[i+1:]...)
				break
			}
		}
		e := &evCtx{slot: m.maxSlot}
		for _, t := range w.targets {
			spec := t.spec
			m.applyToRow(t.entity, t.key, e, "resolver:"+string(kind), false, func() {
				if spec.SetOnce && extractsSet(spec, m.state) {
					return
				}
				m.applyExtracts(spec, v)
			})
		}
	}
	m.drain()
	return m.finish()
}

// --- scheduled resolvers -------------------------------------------------------------------------

type callback struct {
	entity  int
	key     key
	spec    *resolverSpec
	slot    uint64
	retries int
	seq     uint64
}

type schedKey struct {
	entity int
	key    key
	spec   *resolverSpec
}

// scheduler holds resolver questions to ask at a slot, in (slot, registration) order.
type scheduler struct {
	byKey map[schedKey]*callback
	queue []*callback
	seq   uint64
}

func (s *scheduler) add(cb *callback) {
	if s.byKey == nil {
		s.byKey = map[schedKey]*callback{}
	}
	sk := schedKey{cb.entity, cb.key, cb.spec}
	if old, ok := s.byKey[sk]; ok {
		s.remove(old)
	}
	s.seq++
	cb.seq = s.seq
	s.byKey[sk] = cb
	i := len(s.queue)
	for i > 0 && (s.queue[i-1].slot > cb.slot) {
		i--
	}
	s.queue = append(s.queue, nil)
	copy(s.queue[i+1:], s.queue[i:])
	s.queue[i] = cb
	if len(s.queue) > maxWaiting {
		s.remove(s.queue[0])
	}
}

func (s *scheduler) remove(cb *callback) {
	for i, c := range s.queue {
		if c == cb {
			s.queue = append(s.queue[:i], s.queue[i+1:]...)
			break
		}
	}
	delete(s.byKey, schedKey{cb.entity, cb.key, cb.spec})
}

// runScheduled asks the questions that fell due at slot.
func (m *Machine) runScheduled(slot uint64) {
	if len(m.sched.queue) == 0 || m.sched.queue[0].slot > slot {
		return
	}
	var due []*callback
	for len(m.sched.queue) > 0 && m.sched.queue[0].slot <= slot {
		cb := m.sched.queue[0]
		m.sched.remove(cb)
		due = append(due, cb)
	}
	e := &evCtx{slot: slot}
	for _, cb := range due {
		t := m.tables[cb.entity]
		if _, ok := t.rows.Peek(cb.key); !ok {
			m.retry(cb, slot)
			continue
		}
		spec := cb.spec
		m.applyToRow(cb.entity, cb.key, e, "resolver:"+string(spec.Kind), false, func() {
			if !resolverCond(spec, m.state) {
				return
			}
			if !m.resolveNow(spec) {
				m.retry(cb, slot)
			}
		})
	}
}

func (m *Machine) retry(cb *callback, slot uint64) {
	if cb.retries >= DefaultMaxRetries {
		return
	}
	cb.retries++
	cb.slot = slot + 1
	m.sched.add(cb)
}

// percentEncode escapes everything but the unreserved characters (ALPHA, DIGIT, "-", ".", "_", "~").
func percentEncode(s string) string {
	const hexUpper = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexUpper[c>>4])
		b.WriteByte(hexUpper[c&15])
	}
	return b.String()
}
