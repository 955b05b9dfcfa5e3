package vm

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
	e := &evCtx{slot: slot, names: &m.names}
	for _, cb := range due {
		t := m.tables[cb.entity]
		if _, ok := t.rows.Peek(cb.key); !ok {
			m.retry(cb, slot)
			continue
		}
		spec := cb.spec
		m.applyToRow(cb.entity, cb.key, e, "resolver:"+string(spec.Kind), false, func() {
			if !m.resolverCond(spec) {
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
