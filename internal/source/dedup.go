package source

// dedupSet remembers the DedupKeys delivered in recent slots.
type dedupSet struct {
	bySlot  map[uint64]map[string]struct{}
	minSlot uint64 // no slot below this is held
}

func newDedupSet() *dedupSet { return &dedupSet{bySlot: make(map[uint64]map[string]struct{})} }

func (d *dedupSet) has(key string) bool {
	m := d.bySlot[keySlot(key)]
	if m == nil {
		return false
	}
	_, ok := m[key]
	return ok
}

func (d *dedupSet) add(key string, slot uint64) {
	if slot < d.minSlot {
		return
	}
	m := d.bySlot[slot]
	if m == nil {
		m = make(map[string]struct{})
		d.bySlot[slot] = m
	}
	m[key] = struct{}{}
}

// prune forgets every slot below cutoff.
func (d *dedupSet) prune(cutoff uint64) {
	if cutoff <= d.minSlot {
		return
	}
	if cutoff-d.minSlot <= uint64(2*len(d.bySlot)+8) {
		for s := d.minSlot; s < cutoff; s++ {
			delete(d.bySlot, s)
		}
	} else {
		for s := range d.bySlot {
			if s < cutoff {
				delete(d.bySlot, s)
			}
		}
	}
	d.minSlot = cutoff
}

func (d *dedupSet) len() int {
	n := 0
	for _, m := range d.bySlot {
		n += len(m)
	}
	return n
}
