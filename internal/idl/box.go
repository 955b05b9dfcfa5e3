package idl

import (
	"math"
	"unsafe"
)

// Decoded numbers are returned as interface values (uint64, int64, float64). Converting a number to
// an interface allocates 8 bytes per value (except small unsigned values), which dominates the cost
// of decoding number-heavy accounts. A boxer instead hands out interface values whose data words
// point into one shared slab, allocated once per decode and sized from the layout. The slab is never
// written again after a value has been handed out, so the interfaces stay immutable as Go requires.

type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

var (
	u64Type = typeOf(uint64(0))
	i64Type = typeOf(int64(0))
	f64Type = typeOf(float64(0))
)

func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

type boxer struct {
	slab []uint64
}

// grow prepares room for at least n more values.
func (b *boxer) grow(n int) {
	if n < 8 {
		n = 8
	}
	b.slab = make([]uint64, 0, n)
}

func (b *boxer) box(typ unsafe.Pointer, bits uint64) any {
	if len(b.slab) == cap(b.slab) {
		b.grow(2 * cap(b.slab))
	}
	b.slab = append(b.slab, bits)
	var v any
	e := (*eface)(unsafe.Pointer(&v))
	e.typ = typ
	e.data = unsafe.Pointer(&b.slab[len(b.slab)-1])
	return v
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
