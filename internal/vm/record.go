package vm

import "sort"

// A record is the object of a decoded account as a whole (captures and whole-event sources): the
// account's top-level values in field order, with the key order and the JSON keys shared by every
// record of the account type. It stands for a map[string]any everywhere a runtime value can be an
// object (reads, equality, JSON), without building a map per event. Writing through a record (a
// path that goes into it) turns it into its map for good: the record keeps the map, so every holder
// sees the write, as with a shared map.
type record struct {
	shape *recordShape
	vals  []any          // in shape.names order
	m     map[string]any // once written through: the authoritative object
}

// recordShape is what records of one account type share.
type recordShape struct {
	names []string
	order []int32  // indexes of names in key order
	keys  []string // keys[i] is names[order[i]] as a JSON key and colon
}

func newRecordShape(names []string) *recordShape {
	s := &recordShape{names: names}
	s.order, s.keys = keyOrder(names)
	return s
}

// keyOrder returns the indexes of names in key order and, in that order, each name as a JSON
// object key and colon.
func keyOrder(names []string) (order []int32, keys []string) {
	order = make([]int32, len(names))
	for i := range order {
		order[i] = int32(i)
	}
	sort.SliceStable(order, func(i, j int) bool { return names[order[i]] < names[order[j]] })
	keys = make([]string, len(order))
	for i, o := range order {
		keys[i] = jsonKey(names[o])
	}
	return order, keys
}

// jsonKey is k as a JSON object key followed by its colon.
func jsonKey(k string) string { return string(append(appendString(nil, k), ':')) }

// get returns the value of key k.
func (r *record) get(k string) (any, bool) {
	if r.m != nil {
		v, ok := r.m[k]
		return v, ok
	}
	for i, n := range r.shape.names {
		if n == k {
			return r.vals[i], true
		}
	}
	return nil, false
}

func (r *record) len() int {
	if r.m != nil {
		return len(r.m)
	}
	return len(r.vals)
}

// each calls fn for every entry until it returns false.
func (r *record) each(fn func(k string, v any) bool) {
	if r.m != nil {
		for k, v := range r.m {
			if !fn(k, v) {
				return
			}
		}
		return
	}
	for i, n := range r.shape.names {
		if !fn(n, r.vals[i]) {
			return
		}
	}
}

// object returns the record as its map, which from then on is the record's content.
func (r *record) object() map[string]any {
	if r.m == nil {
		r.m = make(map[string]any, len(r.vals))
		for i, n := range r.shape.names {
			r.m[n] = r.vals[i]
		}
		r.vals = nil
	}
	return r.m
}

// appendJSON writes the record as a canonical JSON object.
func (r *record) appendJSON(b []byte) []byte {
	if r.m != nil {
		return appendObject(b, r.m)
	}
	b = append(b, '{')
	for i, o := range r.shape.order {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r.shape.keys[i]...)
		b = appendJSON(b, r.vals[o])
	}
	return append(b, '}')
}

// objectGet looks a key up in an object value (map, record or section record); ok is false for
// non-objects too.
func objectGet(v any, k string) (any, bool) {
	switch x := v.(type) {
	case map[string]any:
		e, ok := x[k]
		return e, ok
	case *record:
		return x.get(k)
	case *srec:
		return x.get(k)
	}
	return nil, false
}

// objectLen is the number of keys of an object value; ok is false for non-objects.
func objectLen(v any) (int, bool) {
	switch x := v.(type) {
	case map[string]any:
		return len(x), true
	case *record:
		return x.len(), true
	case *srec:
		return x.len(), true
	}
	return 0, false
}

// objectEach calls fn for every entry of an object value until it returns false.
func objectEach(v any, fn func(k string, v any) bool) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if !fn(k, e) {
				return
			}
		}
	case *record:
		x.each(fn)
	case *srec:
		x.each(fn)
	}
}

// equalObjects compares two object values of any kind key by key.
func equalObjects(a, b any) bool {
	na, okA := objectLen(a)
	nb, okB := objectLen(b)
	if !okA || !okB || na != nb {
		return false
	}
	eq := true
	objectEach(a, func(k string, v any) bool {
		w, ok := objectGet(b, k)
		eq = ok && equalValues(v, w)
		return eq
	})
	return eq
}
