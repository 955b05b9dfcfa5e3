package idl

import (
	"bytes"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Short fixed byte arrays come from the decode cache: equal bytes decode to the same []any, other
// bytes to their own, longer arrays and vectors as before, and truncated data fails as before.
func TestByteArraysShareStorage(t *testing.T) {
	p := newTestIDL(t, TypeDef{Name: "S", Kind: TypeDefStruct, Fields: []Field{
		field("hash", array(ty(KindU8), 32)), field("bits", array(ty(KindU8), 16)),
		field("long", array(ty(KindU8), 65)), field("vec", vec(ty(KindU8))),
	}})
	enc := func(hash, bits byte) []byte {
		b, err := p.EncodeType(defined("S"), map[string]any{
			"hash": bytes.Repeat([]byte{hash}, 32), "bits": bytes.Repeat([]byte{bits}, 16),
			"long": bytes.Repeat([]byte{hash}, 65), "vec": []byte{1, 2},
		})
		require.NoError(t, err)
		return b
	}
	decode := func(data []byte) map[string]any {
		v, err := p.DecodeType(defined("S"), data)
		require.NoError(t, err)
		return v.(map[string]any)
	}
	first, again, other := decode(enc(0, 3)), decode(enc(0, 3)), decode(enc(9, 3))
	require.Equal(t, first, again)
	require.Equal(t, u64List(bytes.Repeat([]byte{0}, 32)), first["hash"])
	require.Equal(t, u64List(bytes.Repeat([]byte{9}, 32)), other["hash"])
	same := func(a, b any) bool { return &a.([]any)[0] == &b.([]any)[0] }
	require.True(t, same(first["hash"], again["hash"]), "equal hashes share one []any")
	require.True(t, same(first["bits"], other["bits"]))
	require.False(t, same(first["hash"], other["hash"]))
	require.False(t, same(first["long"], again["long"]), "arrays over 64 bytes are not cached")
	require.False(t, same(first["vec"], again["vec"]), "vectors are not cached")

	_, err := p.DecodeType(defined("S"), enc(0, 3)[:20])
	require.EqualError(t, err, `decode hash[20] (u8) at offset 20: short buffer`)

	// Concurrent decodes of the same IDL (run with -race).
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				v := decode(enc(byte(i%7), byte(g)))
				require.Equal(t, u64List(bytes.Repeat([]byte{byte(i % 7)}, 32)), v["hash"])
			}
		}(g)
	}
	wg.Wait()
}

func u64List(b []byte) []any {
	out := make([]any, len(b))
	for i, x := range b {
		out[i] = uint64(x)
	}
	return out
}
