package idl

import (
	"math"
	"unsafe"
)

// Decoded values are interface trees. Converting a number, a string or a slice to an interface
// allocates a small object per value, which dominates the cost of decoding number-heavy accounts. A
// boxer hands out interface values whose data words point into shared slabs instead — one slab of
// 8-byte numbers, one of []any elements, one of []any headers — each allocated once per decode and
// sized from the resolved layout. A slab slot is never written again after its value has been handed
// out, so the interfaces stay immutable as Go requires.

type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

var (
	u64Type  = typeOf(uint64(0))
	i64Type  = typeOf(int64(0))
	f64Type  = typeOf(float64(0))
	listType = typeOf([]any(nil))
)

func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

func makeAny(typ, data unsafe.Pointer) any {
	var v any
	e := (*eface)(unsafe.Pointer(&v))
	e.typ = typ
	e.data = data
	return v
}

type boxer struct {
	nums  []uint64
	elems []any
	hdrs  [][]any
}

// reserve sizes the slabs for a value of layout n (exact for fixed-size layouts).
func (b *boxer) reserve(n *node) {
	if n.boxes > 0 {
		b.nums = make([]uint64, 0, n.boxes)
	}
	if n.listElems > 0 {
		b.elems = make([]any, 0, n.listElems)
	}
	if n.lists > 0 {
		b.hdrs = make([][]any, 0, n.lists)
	}
}

func (b *boxer) box(typ unsafe.Pointer, bits uint64) any {
	if len(b.nums) == cap(b.nums) {
		b.nums = make([]uint64, 0, max(16, 2*cap(b.nums)))
	}
	b.nums = append(b.nums, bits)
	return makeAny(typ, unsafe.Pointer(&b.nums[len(b.nums)-1]))
}

func (b *boxer) u64(v uint64) any {
	if v < 256 {
		return v // the runtime boxes small values without allocating
	}
	return b.box(u64Type, v)
}

func (b *boxer) i64(v int64) any {
	if v >= 0 && v < 256 {
		return v
	}
	return b.box(i64Type, uint64(v))
}

func (b *boxer) f64(v float64) any { return b.box(f64Type, math.Float64bits(v)) }

// list returns a zeroed []any of length n carved from the element slab (its capacity is n, so an
// append by the caller never reaches a neighbour).
func (b *boxer) list(n int) []any {
	if n == 0 {
		return []any{} // empty, never nil: an empty list is [] and not null
	}
	if n > cap(b.elems)-len(b.elems) {
		if n > 256 {
			return make([]any, n)
		}
		b.elems = make([]any, 0, max(256, n))
	}
	start := len(b.elems)
	b.elems = b.elems[:start+n]
	return b.elems[start : start+n : start+n]
}

// listAny boxes a []any.
func (b *boxer) listAny(l []any) any {
	if len(b.hdrs) == cap(b.hdrs) {
		b.hdrs = make([][]any, 0, max(8, 2*cap(b.hdrs)))
	}
	b.hdrs = append(b.hdrs, l)
	return makeAny(listType, unsafe.Pointer(&b.hdrs[len(b.hdrs)-1]))
}
