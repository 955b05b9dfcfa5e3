package vm

import (
	"fmt"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// "when": writes that wait for an instruction of the same transaction, and writes to stored rows
// outside a handler run.

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
	m.state, m.stateKey, m.stateNew = st, k, false
	m.clearDirty()
	m.secGen++
	m.undo, m.sundo = m.undo[:0], m.sundo[:0]
	m.written, m.evaluated = 0, false
	defer func() {
		if r := recover(); r != nil {
			m.rollback()
			m.stats.HandlerErrors++
			m.errs = append(m.errs, &RuntimeError{Entity: m.ent.Name, Handler: handler, PC: -1, Op: OpInvalid,
				Loc: fmt.Sprintf("entities[%d]", entity), Slot: e.slot, Err: fmt.Errorf("%w: %v", ErrPanic, r)})
		}
	}()
	fn()
	m.evalComputed(nonNullOnly)
	m.emit(handler)
}
