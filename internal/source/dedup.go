package source

import "hash/maphash"

// keyHash identifies a DedupKey by two independent 64-bit hashes (a false match needs a 128-bit
// collision), so remembering a key allocates nothing.
type keyHash [2]uint64

// dedupSet remembers the keys delivered in recent slots.
type dedupSet struct {
	seeds   [2]maphash.Seed
	bySlot  map[uint64]map[keyHash]struct{}
	minSlot uint64 // no slot below this is held
}

func newDedupSet() *dedupSet {
	return &dedupSet{
		seeds:  [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		bySlot: make(map[uint64]map[keyHash]struct{}),
	}
}

func (d *dedupSet) hash(key []byte) keyHash {
	return keyHash{maphash.Bytes(d.seeds[0], key), maphash.Bytes(d.seeds[1], key)}
}

func (d *dedupSet) has(slot uint64, h keyHash) bool {
	m := d.bySlot[slot]
	if m == nil {
		return false
	}
	_, ok := m[h]
	return ok
}

func (d *dedupSet) add(slot uint64, h keyHash) {
	if slot < d.minSlot {
		return
	}
	m := d.bySlot[slot]
	if m == nil {
		m = make(map[keyHash]struct{})
		d.bySlot[slot] = m
	}
	m[h] = struct{}{}
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
