package vm

import "math/bits"

// A section record is a top-level object of a state row (a section: state, results, rewards...)
// created by the Machine when a write first goes into it. Its keys are the second segments of the
// paths the entity's handlers, computed fields and resolvers write or read in that section, known
// at compile time; each has a slot, so reads and writes of known paths index a slice instead of
// hashing a key. It stands for a map[string]any everywhere an object can be read, compared or
// written as JSON. Only the Machine writes into it, by slot (Target.slot and friends).
type srec struct {
	shape *secShape
	vals  []any
	// present is a bit set, slot i holds a value (possibly nil): the first 64 slots in bits, the
	// others in more.
	bits uint64
	more []uint64
	// extra holds keys outside the shape, which only writes through a whole section object held
	// elsewhere can add.
	extra map[string]any
}

// secShape is the key set of one section of an entity.
type secShape struct {
	index map[string]int32
	keys  []string
	// Filled when the entity is compiled: the slots in key order, and their JSON keys.
	order    []int32
	jsonKeys []string
}

func (s *secShape) slot(key string) int32 {
	if i, ok := s.index[key]; ok {
		return i
	}
	i := int32(len(s.keys))
	s.index[key] = i
	s.keys = append(s.keys, key)
	return i
}

func (s *secShape) finish() { s.order, s.jsonKeys = keyOrder(s.keys) }

func newSrec(shape *secShape) *srec {
	r := &srec{shape: shape, vals: make([]any, len(shape.keys))}
	if len(shape.keys) > 64 {
		r.more = make([]uint64, (len(shape.keys)-1)/64)
	}
	return r
}

func (r *srec) has(i int32) bool {
	if i < 64 {
		return r.bits&(1<<i) != 0
	}
	return r.more[(i>>6)-1]&(1<<(i&63)) != 0
}

// at returns the value of slot i.
func (r *srec) at(i int32) (any, bool) {
	if !r.has(i) {
		return nil, false
	}
	return r.vals[i], true
}

func (r *srec) put(i int32, v any) {
	r.vals[i] = v
	if i < 64 {
		r.bits |= 1 << i
	} else {
		r.more[(i>>6)-1] |= 1 << (i & 63)
	}
}

func (r *srec) remove(i int32) {
	r.vals[i] = nil
	if i < 64 {
		r.bits &^= 1 << i
	} else {
		r.more[(i>>6)-1] &^= 1 << (i & 63)
	}
}

// slotOf returns the slot of key k, or -1 for a key outside the shape.
func (r *srec) slotOf(k string) int32 {
	if i, ok := r.shape.index[k]; ok {
		return i
	}
	return -1
}

func (r *srec) extraGet(k string) (any, bool) {
	v, ok := r.extra[k]
	return v, ok
}

func (r *srec) putExtra(k string, v any) {
	if r.extra == nil {
		r.extra = map[string]any{}
	}
	r.extra[k] = v
}

// removeExtra undoes putExtra: old is the value before it, existed whether there was one.
func (r *srec) removeExtra(k string, old any, existed bool) {
	if existed {
		r.extra[k] = old
	} else {
		delete(r.extra, k)
	}
}

// get returns the value of key k.
func (r *srec) get(k string) (any, bool) {
	if i, ok := r.shape.index[k]; ok {
		return r.at(i)
	}
	return r.extraGet(k)
}

func (r *srec) len() int {
	n := len(r.extra) + bits.OnesCount64(r.bits)
	for _, w := range r.more {
		n += bits.OnesCount64(w)
	}
	return n
}

// each calls fn for every entry until it returns false.
func (r *srec) each(fn func(k string, v any) bool) {
	for i, k := range r.shape.keys {
		if r.has(int32(i)) && !fn(k, r.vals[i]) {
			return
		}
	}
	for k, v := range r.extra {
		if !fn(k, v) {
			return
		}
	}
}

// appendJSON writes the section as a canonical JSON object.
func (r *srec) appendJSON(b []byte) []byte {
	if len(r.extra) > 0 {
		// Rare: merge the extra keys in, through a map.
		obj := make(map[string]any, r.len())
		r.each(func(k string, v any) bool { obj[k] = v; return true })
		return appendObject(b, obj)
	}
	b = append(b, '{')
	first := true
	for i, o := range r.shape.order {
		if !r.has(o) {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, r.shape.jsonKeys[i]...)
		b = appendJSON(b, r.vals[o])
	}
	return append(b, '}')
}

// slotGet reads key k (slot i of a section record) of an object: a section record, a map or a
// record. ok is false when the key is absent or obj is not an object.
func slotGet(obj any, i int32, k string) (any, bool) {
	if r, ok := obj.(*srec); ok && i >= 0 {
		return r.at(i)
	}
	return objectGet(obj, k)
}
