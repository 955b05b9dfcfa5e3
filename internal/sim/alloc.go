package sim

import (
	"unsafe"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
)

// slab hands out slices carved from larger allocations, so the many small slices of one update
// message cost a fraction of an allocation each. A piece is never handed out twice and the generator
// never writes to it after filling it, so pieces can go to callers like separately allocated
// slices; a caller that keeps one keeps its chunk alive. Only memory that leaves with update
// messages comes from slabs, never state the generator keeps (which would pin whole chunks).
type slab[T any] struct {
	buf   []T
	chunk int
}

// take returns n zero values.
func (s *slab[T]) take(n int) []T {
	if n > len(s.buf) {
		if n > s.chunk/4 {
			return make([]T, n)
		}
		s.buf = make([]T, s.chunk)
	}
	p := s.buf[:n:n]
	s.buf = s.buf[n:]
	return p
}

// one returns a pointer to one zero value.
func (s *slab[T]) one() *T { return &s.take(1)[0] }

// slabs are the Sim's slabs, sized to about 8 KiB per chunk.
type slabs struct {
	bytes    slab[byte]
	strs     slab[string]
	u64s     slab[uint64]
	u32s     slab[uint32]
	keys     slab[[]byte]
	txs      slab[txMsg]
	accounts slab[accountMsg]
	slots    slab[slotMsg]

	ixs         slab[geyserpb.CompiledInstruction]
	ixPtrs      slab[*geyserpb.CompiledInstruction]
	inner       slab[geyserpb.InnerInstruction]
	innerPtrs   slab[*geyserpb.InnerInstruction]
	balances    slab[geyserpb.TokenBalance]
	amounts     slab[geyserpb.UiTokenAmount]
	balancePtrs slab[*geyserpb.TokenBalance]
}

func newSlabs() slabs {
	return slabs{
		bytes:    slab[byte]{chunk: 8192},
		strs:     slab[string]{chunk: 512},
		u64s:     slab[uint64]{chunk: 1024},
		u32s:     slab[uint32]{chunk: 2048},
		keys:     slab[[]byte]{chunk: 341},
		txs:      slab[txMsg]{chunk: 8},
		accounts: slab[accountMsg]{chunk: 21},
		slots:    slab[slotMsg]{chunk: 35},

		ixs:         slab[geyserpb.CompiledInstruction]{chunk: 85},
		ixPtrs:      slab[*geyserpb.CompiledInstruction]{chunk: 1024},
		inner:       slab[geyserpb.InnerInstruction]{chunk: 78},
		innerPtrs:   slab[*geyserpb.InnerInstruction]{chunk: 1024},
		balances:    slab[geyserpb.TokenBalance]{chunk: 78},
		amounts:     slab[geyserpb.UiTokenAmount]{chunk: 93},
		balancePtrs: slab[*geyserpb.TokenBalance]{chunk: 1024},
	}
}

// string returns b as a string backed by the byte slab.
func (s *slabs) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	p := s.bytes.take(len(b))
	copy(p, b)
	return unsafe.String(&p[0], len(p))
}
