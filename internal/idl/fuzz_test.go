package idl

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// kitchenSinkIDL declares every type kind the decoder knows, in the Anchor 0.30+ dialect.
const kitchenSinkIDL = `{
  "address": "oreV3EG1i9BEgiAJ8b177Z2S2rMarzak4NMv1kULvWv",
  "metadata": {"name": "sink", "version": "0.1.0", "spec": "0.1.0"},
  "instructions": [
    {"name": "everything", "discriminator": [1, 2, 3, 4, 5, 6, 7, 8], "accounts": [{"name": "a", "writable": true}],
     "args": [{"name": "all", "type": {"defined": {"name": "All"}}}]},
    {"name": "short", "discriminator": [9], "accounts": [],
     "args": [{"name": "x", "type": "u16"}, {"name": "tree", "type": {"defined": {"name": "Tree"}}}]},
    {"name": "none", "discriminator": [10, 11], "accounts": [], "args": []}
  ],
  "accounts": [
    {"name": "All", "discriminator": [11, 12, 13, 14, 15, 16, 17, 18]},
    {"name": "Zero", "discriminator": [21, 22, 23, 24, 25, 26, 27, 28]},
    {"name": "Tree", "discriminator": [31, 32, 33, 34, 35, 36, 37, 38]}
  ],
  "events": [{"name": "Evt", "discriminator": [41, 42, 43, 44, 45, 46, 47, 48]}],
  "types": [
    {"name": "All", "type": {"kind": "struct", "fields": [
      {"name": "b", "type": "bool"}, {"name": "u8", "type": "u8"}, {"name": "i8", "type": "i8"},
      {"name": "u16", "type": "u16"}, {"name": "i16", "type": "i16"}, {"name": "u32", "type": "u32"},
      {"name": "i32", "type": "i32"}, {"name": "u64", "type": "u64"}, {"name": "i64", "type": "i64"},
      {"name": "u128", "type": "u128"}, {"name": "i128", "type": "i128"}, {"name": "u256", "type": "u256"},
      {"name": "f32", "type": "f32"}, {"name": "f64", "type": "f64"}, {"name": "s", "type": "string"},
      {"name": "bytes", "type": "bytes"}, {"name": "key", "type": "pubkey"},
      {"name": "opt", "type": {"option": "u64"}}, {"name": "copt", "type": {"coption": "pubkey"}},
      {"name": "v", "type": {"vec": {"option": "string"}}}, {"name": "arr", "type": {"array": ["i16", 3]}},
      {"name": "map", "type": {"hashMap": ["u32", "string"]}}, {"name": "set", "type": {"hashSet": "u8"}},
      {"name": "shape", "type": {"defined": {"name": "Shape"}}},
      {"name": "gen", "type": {"defined": {"name": "Gen", "generics": [{"kind": "type", "type": "u8"}, {"kind": "const", "value": "2"}]}}},
      {"name": "empties", "type": {"vec": {"defined": {"name": "Empty"}}}}
    ]}},
    {"name": "Shape", "type": {"kind": "enum", "variants": [
      {"name": "Unit"}, {"name": "Named", "fields": [{"name": "r", "type": "f64"}]}, {"name": "Tuple", "fields": ["u8", "string"]}]}},
    {"name": "Gen", "generics": [{"kind": "type", "name": "T"}, {"kind": "const", "name": "N", "type": "usize"}],
     "type": {"kind": "struct", "fields": [{"name": "items", "type": {"array": [{"generic": "T"}, {"generic": "N"}]}}]}},
    {"name": "Empty", "type": {"kind": "struct", "fields": []}},
    {"name": "Zero", "serialization": "bytemuck", "repr": {"kind": "c"}, "type": {"kind": "struct", "fields": [
      {"name": "flag", "type": "bool"}, {"name": "wide", "type": "u128"}, {"name": "small", "type": "u16"},
      {"name": "inner", "type": {"array": [{"defined": {"name": "ZeroInner"}}, 2]}}]}},
    {"name": "ZeroInner", "type": {"kind": "struct", "fields": [{"name": "a", "type": "u8"}, {"name": "b", "type": "u64"}]}},
    {"name": "Tree", "type": {"kind": "struct", "fields": [
      {"name": "value", "type": "u8"}, {"name": "children", "type": {"vec": {"defined": {"name": "Tree"}}}}]}},
    {"name": "Evt", "type": {"kind": "struct", "fields": [{"name": "who", "type": "pubkey"}, {"name": "n", "type": "i64"}]}}
  ]
}`

func fuzzIDLs(t testing.TB) []*IDL {
	sink, err := Parse([]byte(kitchenSinkIDL))
	require.NoError(t, err)
	return []*IDL{sink, loadSPLToken(t)}
}

// checkStable asserts that a decoded value encodes back to a value that decodes to itself.
func checkStable(t *testing.T, v map[string]any, encode func(map[string]any) ([]byte, error), decode func([]byte) (map[string]any, error)) {
	t.Helper()
	b, err := encode(v)
	if err != nil {
		t.Fatalf("re-encoding a decoded value: %v", err)
	}
	again, err := decode(b)
	if err != nil {
		t.Fatalf("decoding a re-encoded value: %v", err)
	}
	require.Equal(t, v, again)
}

func FuzzDecodeAccount(f *testing.F) {
	idls := fuzzIDLs(f)
	for _, p := range idls {
		for _, a := range p.Accounts {
			seed := append(append([]byte{}, a.Discriminator...), make([]byte, max(a.Size-len(a.Discriminator), 64))...)
			f.Add(seed)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range idls {
			name, v, err := p.DecodeAccount(data)
			if err != nil {
				continue
			}
			checkStable(t, v,
				func(v map[string]any) ([]byte, error) { return p.EncodeAccount(name, v) },
				func(b []byte) (map[string]any, error) { return p.DecodeAccountAs(name, b) })
		}
	})
}

func FuzzDecodeInstruction(f *testing.F) {
	idls := fuzzIDLs(f)
	for _, p := range idls {
		for _, ix := range p.Instructions {
			f.Add(append(append([]byte{}, ix.Discriminator...), make([]byte, 40)...))
		}
		for _, ev := range p.Events {
			f.Add(append(append(append([]byte{}, EventIxTag[:]...), ev.Discriminator...), make([]byte, 40)...))
		}
	}
	transfer := binary.LittleEndian.AppendUint64([]byte{3}, 1_000_000)
	f.Add(transfer)
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, p := range idls {
			if ix, args, err := p.DecodeInstruction(data); err == nil {
				checkStable(t, args,
					func(v map[string]any) ([]byte, error) { return p.EncodeInstruction(ix.Name, v) },
					func(b []byte) (map[string]any, error) { _, a, err := p.DecodeInstruction(b); return a, err })
			}
			if name, v, err := p.DecodeEvent(data); err == nil {
				checkStable(t, v,
					func(v map[string]any) ([]byte, error) { return p.EncodeEvent(name, v) },
					func(b []byte) (map[string]any, error) { _, a, err := p.DecodeEvent(b); return a, err })
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(kitchenSinkIDL))
	f.Add([]byte(`{"name":"x","version":"1","instructions":[{"name":"a","discriminant":{"type":"u8","value":3},"accounts":[],"args":[{"name":"v","type":{"array":["u8",4]}}]}],"accounts":[{"name":"S","discriminator":[1,0,0,0,0,0,0,0],"type":{"kind":"struct","fields":[{"name":"a","type":"u64"}]}}],"metadata":{"origin":"steel"}}`))
	f.Add([]byte(`{"name":"s","program_id":"11111111111111111111111111111111","version":"1","accounts":[{"name":"A","discriminator":[],"size":4,"fields":[{"name":"x","type":"u32"}]}],"instructions":[],"discriminant_size":1}`))
	f.Add([]byte(`{"idls":[{"name":"s","version":"1","accounts":[],"instructions":[]}]}`))
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := Parse(doc)
		if err != nil {
			return
		}
		// A parsed IDL decodes arbitrary bytes without panicking.
		probe := []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 0, 0, 0, 0, 0, 0, 0, 0}
		_, _, _ = p.DecodeAccount(probe)
		_, _, _ = p.DecodeInstruction(probe)
		_, _, _ = p.DecodeEvent(probe)
		for i := range p.Types {
			_, _ = p.DecodeType(Type{Kind: KindDefined, Name: p.Types[i].Name}, probe)
		}
	})
}
