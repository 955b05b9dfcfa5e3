package vm

import (
	"encoding/binary"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// b58Cache remembers the base58 text of recently seen 32-byte keys. The same addresses come back on
// almost every event (the round, the entropy var, busy token accounts), and encoding one costs more
// than everything else a handler does with it. It is direct-mapped: a key evicts whatever shared its
// slot.
type b58Cache struct {
	keys [b58CacheSize]solana.Pubkey
	vals [b58CacheSize]string
}

const b58CacheSize = 1024

func (c *b58Cache) text(p *solana.Pubkey) string {
	i := (binary.LittleEndian.Uint32(p[:4]) ^ binary.LittleEndian.Uint32(p[28:])) & (b58CacheSize - 1)
	if c.vals[i] != "" && c.keys[i] == *p {
		return c.vals[i]
	}
	s := p.String()
	c.keys[i], c.vals[i] = *p, s
	return s
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
