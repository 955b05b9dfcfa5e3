package vm

import (
	"math"
	"unsafe"
)

// Converting a float64 (or a u64 of 256 and above) to an interface allocates 8 bytes. Computed fields
// produce many such numbers (ORE's deployed_per_square_ui maps 25 of them per round update), so the
// Machine boxes them into a shared slab instead: the interface's data word points into a []uint64
// allocated once per slabSize values. A slot is never written again after it was handed out, so
// the interfaces stay immutable, as Go requires.

const slabSize = 512

type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

var (
	f64Type = efaceType(float64(0))
	u64Type = efaceType(uint64(0))
	i64Type = efaceType(int64(0))
)

func efaceType(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

type boxer struct{ slab []uint64 }

func (b *boxer) box(typ unsafe.Pointer, bits uint64) any {
	if len(b.slab) == cap(b.slab) {
		b.slab = make([]uint64, 0, slabSize)
	}
	b.slab = append(b.slab, bits)
	var v any
	e := (*eface)(unsafe.Pointer(&v))
	e.typ = typ
	e.data = unsafe.Pointer(&b.slab[len(b.slab)-1])
	return v
}

// f64 boxes a float64.
func (b *boxer) f64(f float64) any { return b.box(f64Type, math.Float64bits(f)) }

// u64 boxes a uint64 (small values need no slab: the runtime boxes them without allocating).
func (b *boxer) u64(u uint64) any {
	if u < 256 {
		return u
	}
	return b.box(u64Type, u)
}

// i64 boxes an int64 (small non-negative values need no slab).
func (b *boxer) i64(i int64) any {
	if i >= 0 && i < 256 {
		return i
	}
	return b.box(i64Type, uint64(i))
}
