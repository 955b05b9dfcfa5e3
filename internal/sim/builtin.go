package sim

import (
	"sync"

	"github.com/hyperstack-go/hyperstack/fixtures"
	"github.com/hyperstack-go/hyperstack/internal/idl"
)

var builtinSPL struct {
	once sync.Once
	p    *idl.IDL
	err  error
}

// BuiltinSPLTokenIDL returns the SPL Token IDL bundled with the binary (parsed once; an IDL is
// immutable and safe to share).
func BuiltinSPLTokenIDL() (*idl.IDL, error) {
	builtinSPL.once.Do(func() {
		builtinSPL.p, builtinSPL.err = idl.Parse(fixtures.SPLTokenIDL)
	})
	return builtinSPL.p, builtinSPL.err
}
