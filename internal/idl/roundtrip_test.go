package idl

import (
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// newTestIDL builds an IDL from type definitions alone.
func newTestIDL(t testing.TB, types ...TypeDef) *IDL {
	t.Helper()
	p := &IDL{Name: "test", Types: types, typeIndex: map[string]int{}}
	for i, td := range types {
		p.typeIndex[td.Name] = i
	}
	require.NoError(t, p.resolve())
	return p
}

func ty(k Kind) Type           { return Type{Kind: k} }
func ptr(t Type) *Type         { return &t }
func option(t Type) Type       { return Type{Kind: KindOption, Elem: ptr(t)} }
func coption(t Type) Type      { return Type{Kind: KindCOption, Elem: ptr(t)} }
func vec(t Type) Type          { return Type{Kind: KindVec, Elem: ptr(t)} }
func array(t Type, n int) Type { return Type{Kind: KindArray, Elem: ptr(t), Len: n} }
func defined(name string) Type { return Type{Kind: KindDefined, Name: name} }
func hashMap(k, v Type) Type   { return Type{Kind: KindHashMap, Key: ptr(k), Elem: ptr(v)} }
func field(name string, t Type) Field {
	return Field{Name: name, Key: SnakeCase(name), Type: t}
}

var primitiveKinds = []Kind{KindBool, KindU8, KindI8, KindU16, KindI16, KindU32, KindI32, KindU64, KindI64,
	KindU128, KindI128, KindU256, KindI256, KindF32, KindF64, KindString, KindBytes, KindPubkey}

// gen produces random canonical values of a resolved layout: exactly the values the decoder returns.
type gen struct{ r *rand.Rand }

func (g gen) uintBits(bits int) uint64 {
	// Mix edge values with uniform ones.
	switch g.r.IntN(6) {
	case 0:
		return 0
	case 1:
		if bits == 64 {
			return math.MaxUint64
		}
		return 1<<bits - 1
	case 2:
		return uint64(g.r.IntN(256))
	}
	v := g.r.Uint64()
	if bits < 64 {
		v &= 1<<bits - 1
	}
	return v
}

func (g gen) intBits(bits int) int64 {
	u := g.uintBits(bits)
	shift := 64 - bits
	return int64(u<<shift) >> shift
}

func (g gen) wide(bytes int, signed bool) string {
	b := make([]byte, bytes)
	for i := range b {
		b[i] = byte(g.r.IntN(256))
	}
	switch g.r.IntN(5) {
	case 0:
		clear(b)
	case 1:
		clear(b[8:])
	}
	v := new(big.Int).SetBytes(b)
	if signed && b[0]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*bytes)))
	}
	return v.String()
}

func (g gen) pubkey() string {
	var pk solana.Pubkey
	if g.r.IntN(4) > 0 {
		for i := range pk {
			pk[i] = byte(g.r.IntN(256))
		}
		if g.r.IntN(3) == 0 {
			pk[0], pk[1] = 0, 0
		}
	}
	return pk.String()
}

func (g gen) value(n *node, depth int) any {
	switch n.kind {
	case KindBool:
		b := g.r.IntN(2) == 1
		if n.boolAsNum {
			if b {
				return uint64(1)
			}
			return uint64(0)
		}
		return b
	case KindU8:
		return g.uintBits(8)
	case KindU16:
		return g.uintBits(16)
	case KindU32:
		return g.uintBits(32)
	case KindU64:
		return g.uintBits(64)
	case KindI8:
		return g.intBits(8)
	case KindI16:
		return g.intBits(16)
	case KindI32:
		return g.intBits(32)
	case KindI64:
		return g.intBits(64)
	case KindU128, KindI128, KindU256, KindI256:
		return g.wide(n.size, n.kind == KindI128 || n.kind == KindI256)
	case KindF32:
		return float64(float32(g.r.NormFloat64() * 1e6))
	case KindF64:
		return g.r.NormFloat64() * 1e12
	case KindString:
		alphabet := []rune("abcXYZ019 _-é€😀")
		l := g.r.IntN(12)
		out := make([]rune, l)
		for i := range out {
			out[i] = alphabet[g.r.IntN(len(alphabet))]
		}
		return string(out)
	case KindBytes:
		out := make([]any, g.r.IntN(10))
		for i := range out {
			out[i] = uint64(g.r.IntN(256))
		}
		return out
	case KindPubkey:
		return g.pubkey()
	case KindOption, KindCOption:
		if g.r.IntN(3) == 0 || depth > 6 {
			return nil
		}
		return g.value(n.elem, depth+1)
	case KindVec, KindHashSet:
		l := g.r.IntN(4)
		if depth > 6 {
			l = 0
		}
		out := make([]any, l)
		for i := range out {
			out[i] = g.value(n.elem, depth+1)
		}
		return out
	case KindArray:
		out := make([]any, n.n)
		for i := range out {
			out[i] = g.value(n.elem, depth+1)
		}
		return out
	case KindHashMap:
		out := map[string]any{}
		for i := g.r.IntN(4); i > 0 && depth <= 6; i-- {
			out[keyString(g.value(n.key, depth+1))] = g.value(n.elem, depth+1)
		}
		return out
	case kindStruct:
		if n.tuple {
			out := make([]any, len(n.fields))
			for i := range n.fields {
				out[i] = g.value(n.fields[i].node, depth+1)
			}
			return out
		}
		out := make(map[string]any, len(n.fields))
		for _, f := range n.fields {
			out[f.key] = g.value(f.node, depth+1)
		}
		return out
	case kindEnum:
		v := n.variants[g.r.IntN(len(n.variants))]
		switch {
		case v.unit:
			return v.name
		case v.tuple:
			out := make([]any, len(v.fields))
			for i := range v.fields {
				out[i] = g.value(v.fields[i].node, depth+1)
			}
			return map[string]any{v.name: out}
		default:
			m := map[string]any{}
			for _, f := range v.fields {
				m[f.key] = g.value(f.node, depth+1)
			}
			return map[string]any{v.name: m}
		}
	}
	panic(fmt.Sprintf("no generator for %s", n.tname))
}

// roundTrip checks decode(encode(v)) == v and encode(decode(b)) == b for random values of t.
func roundTrip(t *testing.T, p *IDL, typ Type, g gen, runs int) {
	t.Helper()
	n, err := p.layoutOf(typ)
	require.NoError(t, err, typ.String())
	for i := 0; i < runs; i++ {
		v := g.value(n, 0)
		b, err := p.EncodeType(typ, v)
		require.NoError(t, err, "%s: encode %#v", typ, v)
		if n.size >= 0 {
			require.Len(t, b, n.size, "%s: fixed size", typ)
		}
		got, err := p.DecodeType(typ, b)
		require.NoError(t, err, "%s: decode %x", typ, b)
		require.Equal(t, v, got, "%s: round trip of %x", typ, b)
		again, err := p.EncodeType(typ, got)
		require.NoError(t, err)
		require.Equal(t, b, again, "%s: re-encoding", typ)
		// Every strict prefix is too short, and one extra byte is trailing.
		if len(b) > 0 {
			_, err = p.DecodeType(typ, b[:g.r.IntN(len(b))])
			require.Error(t, err, "%s: truncated %x", typ, b)
		}
		_, err = p.DecodeType(typ, append(b, 0))
		require.ErrorIs(t, err, ErrTrailingBytes, "%s", typ)
	}
}

func TestRoundTripEveryKind(t *testing.T) {
	t.Parallel()
	p := newTestIDL(t,
		TypeDef{Name: "Point", Kind: TypeDefStruct, Fields: []Field{field("x", ty(KindI32)), field("yValue", ty(KindU64))}},
		TypeDef{Name: "Pair", Kind: TypeDefTupleStruct, Tuple: []Type{ty(KindU8), ty(KindPubkey)}},
		TypeDef{Name: "Shape", Kind: TypeDefEnum, Variants: []Variant{
			{Name: "Empty"},
			{Name: "Circle", Fields: []Field{field("center", defined("Point")), field("radius", ty(KindF64))}},
			{Name: "Tagged", Tuple: []Type{ty(KindString), option(ty(KindU16))}},
		}},
		TypeDef{Name: "Side", Kind: TypeDefEnum, Variants: []Variant{{Name: "Bid"}, {Name: "Ask"}}},
		TypeDef{Name: "Amount", Kind: TypeDefAlias, Alias: ptr(ty(KindU128))},
		TypeDef{Name: "Wrapper", Kind: TypeDefStruct, Generics: []GenericParam{{Name: "T"}, {Name: "N", Const: true}},
			Fields: []Field{field("items", Type{Kind: KindArray, Elem: ptr(Type{Kind: KindGeneric, Name: "T"}), LenGeneric: "N"})}},
		TypeDef{Name: "Node", Kind: TypeDefStruct, Fields: []Field{field("value", ty(KindU8)), field("children", vec(defined("Node")))}},
		TypeDef{Name: "Zc", Kind: TypeDefStruct, Serialization: SerializationBytemuck, Repr: &Repr{Kind: "c"},
			Fields: []Field{field("flag", ty(KindBool)), field("big", ty(KindU128)), field("small", ty(KindU16)),
				field("key", ty(KindPubkey)), field("inner", defined("ZcInner")), field("tail", ty(KindU8))}},
		TypeDef{Name: "ZcInner", Kind: TypeDefStruct, Fields: []Field{field("a", ty(KindU8)), field("b", ty(KindU64)), field("c", array(ty(KindI16), 3))}},
		TypeDef{Name: "ZcPacked", Kind: TypeDefStruct, Serialization: SerializationBytemuck, Repr: &Repr{Kind: "c", Packed: true},
			Fields: []Field{field("a", ty(KindU8)), field("b", ty(KindU64)), field("c", coption(ty(KindU32)))}},
	)
	g := gen{r: rand.New(rand.NewPCG(1, 2))}
	var types []Type
	for _, k := range primitiveKinds {
		types = append(types, ty(k))
	}
	types = append(types,
		option(ty(KindU64)), option(ty(KindString)), coption(ty(KindPubkey)), coption(ty(KindU64)), coption(vec(ty(KindU8))),
		vec(ty(KindI64)), vec(vec(ty(KindBool))), array(ty(KindU8), 32), array(ty(KindU64), 25), array(array(ty(KindI8), 2), 3),
		hashMap(ty(KindU64), ty(KindString)), hashMap(ty(KindString), vec(ty(KindU8))), hashMap(ty(KindPubkey), ty(KindI32)),
		hashMap(ty(KindI16), ty(KindBool)), hashMap(ty(KindU128), ty(KindU8)),
		Type{Kind: KindHashSet, Elem: ptr(ty(KindU32))},
		defined("Point"), defined("Pair"), defined("Shape"), defined("Side"), defined("Amount"), defined("Node"),
		defined("Zc"), defined("ZcPacked"), vec(defined("Shape")), option(defined("Zc")),
		Type{Kind: KindDefined, Name: "Wrapper", Generics: []GenericArg{{Type: ptr(ty(KindU16))}, {Value: "4"}}},
		Type{Kind: KindDefined, Name: "Wrapper", Generics: []GenericArg{{Type: ptr(defined("Side"))}, {Value: "2"}}},
	)
	for _, typ := range types {
		t.Run(typ.String(), func(t *testing.T) { roundTrip(t, p, typ, g, 60) })
	}
}

func TestZeroCopyLayout(t *testing.T) {
	t.Parallel()
	p := newTestIDL(t,
		TypeDef{Name: "Zc", Kind: TypeDefStruct, Serialization: SerializationBytemuck, Repr: &Repr{Kind: "c"},
			Fields: []Field{field("flag", ty(KindBool)), field("big", ty(KindU128)), field("small", ty(KindU16)),
				field("key", ty(KindPubkey)), field("tail", ty(KindU8))}},
		TypeDef{Name: "Packed", Kind: TypeDefStruct, Serialization: SerializationBytemuck, Repr: &Repr{Kind: "c", Packed: true},
			Fields: []Field{field("a", ty(KindU8)), field("b", ty(KindU64))}},
	)
	zc, _ := p.layoutOf(defined("Zc"))
	// flag@0, big@8 (8-aligned on SBF), small@24, key@26, tail@58, size 64 (align 8).
	offs := []int{0, 8, 24, 26, 58}
	for i, f := range zc.fields {
		require.Equal(t, offs[i], f.off, f.key)
	}
	require.Equal(t, 64, zc.size)
	data := make([]byte, 64)
	data[0] = 1
	data[8] = 0x10
	data[24] = 7
	data[58] = 9
	data[59] = 0xff // padding is ignored
	v, err := p.DecodeType(defined("Zc"), data)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"flag": uint64(1), "big": "16", "small": uint64(7),
		"key": "11111111111111111111111111111111", "tail": uint64(9)}, v)

	packed, _ := p.layoutOf(defined("Packed"))
	require.Equal(t, 9, packed.size)
	require.Equal(t, 1, packed.fields[1].off)
}

func TestEncodeConveniences(t *testing.T) {
	t.Parallel()
	p := newTestIDL(t, TypeDef{Name: "S", Kind: TypeDefStruct, Fields: []Field{
		field("a", ty(KindU32)), field("b", ty(KindI64)), field("c", ty(KindU128)), field("d", ty(KindPubkey)),
		field("e", ty(KindBytes)), field("f", array(ty(KindU8), 2)), field("g", ty(KindF32)),
	}})
	pk := solana.MustPubkey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA")
	b, err := p.EncodeType(defined("S"), map[string]any{
		"a": 7, "b": float64(-3), "c": big.NewInt(1 << 40), "d": pk, "e": []byte{1, 2}, "f": []byte{3, 4}, "g": 1.5,
	})
	require.NoError(t, err)
	v, err := p.DecodeType(defined("S"), b)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"a": uint64(7), "b": int64(-3), "c": strconv.Itoa(1 << 40), "d": pk.String(),
		"e": []any{uint64(1), uint64(2)}, "f": []any{uint64(3), uint64(4)}, "g": 1.5}, v)

	for name, bad := range map[string]map[string]any{
		"out of range": {"a": int64(1) << 33},
		"negative":     {"a": -1},
		"fraction":     {"a": 1.5},
		"wrong type":   {"a": "7"},
	} {
		val := map[string]any{"a": 1, "b": 1, "c": "1", "d": pk.String(), "e": []byte{}, "f": []byte{0, 0}, "g": 0.0}
		for k, x := range bad {
			val[k] = x
		}
		_, err := p.EncodeType(defined("S"), val)
		var ee *EncodeError
		require.ErrorAs(t, err, &ee, name)
		require.Equal(t, "a", ee.Path, name)
		require.ErrorIs(t, err, ErrEncode, name)
	}
	_, err = p.EncodeType(defined("S"), map[string]any{"a": 1})
	require.ErrorContains(t, err, "missing field")
}
