package vm

import ()

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
		m.secGen++
	}
	// The environment and its variables live in the Machine: closures take them by pointer, which
	// would move locals to the heap on every call.
	env := &m.cenv
	*env = cenv{m: m, state: m.state, slot: m.ev.slot}
	tsDone := false
	vars := &m.cvars
	for _, sec := range secs {
		gated := true
		for i, g := range sec.Gates {
			if m.section(sec.gateIDs[i], g) == nil {
				gated = false
				break
			}
		}
		if !gated {
			continue
		}
		obj := m.section(sec.id, sec.Name)
		for _, f := range sec.Fields {
			old, had := slotGet(obj, f.slot, f.Leaf)
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
			v, err := f.eval(env)
			if err != nil {
				m.stats.ComputedErrors++
				v = nil
			}
			v = toJSONValue(v)
			if had && equalValues(old, v) {
				continue
			}
			m.putKey(obj, f.slot, f.Leaf, v)
			m.written |= f.affects
			if f.Emit && !(nonNullOnly && v == nil) {
				m.markDirty(f.ep)
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
	m.secGen++
}
