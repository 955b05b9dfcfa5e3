package idl

import (
	"sync"
	"sync/atomic"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// Registry maps program ids to their IDLs. Lookups are lock-free and may run concurrently with Add.
type Registry struct {
	mu sync.Mutex // serialises writers
	m  atomic.Pointer[map[solana.Pubkey]*IDL]
}

// NewRegistry returns a registry holding the given IDLs (later ones replace earlier ones with the
// same program id).
func NewRegistry(idls ...*IDL) *Registry {
	r := &Registry{}
	m := make(map[solana.Pubkey]*IDL, len(idls))
	for _, p := range idls {
		m[p.Address] = p
	}
	r.m.Store(&m)
	return r
}

// Add registers p under its Address, replacing any IDL registered for that program.
func (r *Registry) Add(p *IDL) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var old map[solana.Pubkey]*IDL
	if cur := r.m.Load(); cur != nil {
		old = *cur
	}
	m := make(map[solana.Pubkey]*IDL, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	m[p.Address] = p
	r.m.Store(&m)
}

// Lookup returns the IDL of a program.
func (r *Registry) Lookup(programID solana.Pubkey) (*IDL, bool) {
	cur := r.m.Load()
	if cur == nil {
		return nil, false
	}
	p, ok := (*cur)[programID]
	return p, ok
}

// All returns the registered IDLs in no particular order.
func (r *Registry) All() []*IDL {
	cur := r.m.Load()
	if cur == nil {
		return nil
	}
	out := make([]*IDL, 0, len(*cur))
	for _, p := range *cur {
		out = append(out, p)
	}
	return out
}
