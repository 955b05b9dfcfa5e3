package vm

import (
	"encoding/binary"

	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// b58Cache remembers the base58 text of recently seen 32-byte keys. The same addresses come back on
// almost every event (the round, the entropy var, busy token accounts), and encoding one costs more
// than everything else a handler does with it. It is direct-mapped: a key evicts whatever shared its
// slot.
type b58Cache struct {
	keys [b58CacheSize]solana.Pubkey
	vals [b58CacheSize]string
	// boxed holds vals[i] as an interface, so handing the text to a register does not allocate.
	boxed [b58CacheSize]any

	sigs [sigCacheSize]sigEntry
}

const (
	b58CacheBits = 12
	b58CacheSize = 1 << b58CacheBits
	sigCacheSize = 64
)

// sigEntry caches the base58 text of a transaction signature: the instruction and the account
// updates of one transaction carry the same signature.
type sigEntry struct {
	sig solana.Signature
	val any
}

func (c *b58Cache) slot(p *solana.Pubkey) uint32 {
	i := uint32((binary.LittleEndian.Uint64(p[:8])*0x9E3779B97F4A7C15)>>(64-b58CacheBits)) & (b58CacheSize - 1)
	if c.vals[i] == "" || c.keys[i] != *p {
		var buf [44]byte
		s := string(idl.AppendPubkeyBase58(buf[:0], (*[32]byte)(p)))
		c.keys[i], c.vals[i], c.boxed[i] = *p, s, s
	}
	return i
}

func (c *b58Cache) text(p *solana.Pubkey) string { return c.vals[c.slot(p)] }

// value is text as an interface value (a string).
func (c *b58Cache) value(p *solana.Pubkey) any { return c.boxed[c.slot(p)] }

// signature returns the base58 text of s as an interface value (a string).
func (c *b58Cache) signature(s *solana.Signature) any {
	e := &c.sigs[(binary.LittleEndian.Uint32(s[:4])^binary.LittleEndian.Uint32(s[60:]))&(sigCacheSize-1)]
	if e.val == nil || e.sig != *s {
		e.sig, e.val = *s, s.String()
	}
	return e.val
}

// bytes32 reads a JSON array of exactly 32 bytes into a key.
func bytes32Of(v any) (solana.Pubkey, bool) {
	var p solana.Pubkey
	arr, ok := v.([]any)
	if !ok || len(arr) != 32 {
		return p, false
	}
	for i, el := range arr {
		u, ok := asU64(el)
		if !ok || u > 255 {
			return p, false
		}
		p[i] = byte(u)
	}
	return p, true
}
