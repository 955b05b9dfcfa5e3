package idl

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/big"
	"reflect"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

type encoder struct {
	buf   []byte
	depth int
}

func encFail(n *node, format string, args ...any) error {
	return &EncodeError{Type: n.tname, Err: fmt.Errorf("%w: "+format, append([]any{ErrEncode}, args...)...)}
}

func (e *encoder) value(n *node, v any) error {
	switch n.kind {
	case KindBool:
		if n.boolAsNum {
			u, err := toUint(n, v, 1)
			if err != nil {
				if b, ok := v.(bool); ok {
					u, err = 0, nil
					if b {
						u = 1
					}
				}
			}
			if err != nil {
				return err
			}
			e.buf = append(e.buf, byte(u))
			return nil
		}
		b, ok := v.(bool)
		if !ok {
			return encFail(n, "want bool, got %T", v)
		}
		if b {
			e.buf = append(e.buf, 1)
		} else {
			e.buf = append(e.buf, 0)
		}
		return nil
	case KindU8, KindU16, KindU32, KindU64:
		u, err := toUint(n, v, n.size)
		if err != nil {
			return err
		}
		e.putUint(u, n.size)
		return nil
	case KindI8, KindI16, KindI32, KindI64:
		i, err := toInt(n, v, n.size)
		if err != nil {
			return err
		}
		e.putUint(uint64(i), n.size)
		return nil
	case KindF32, KindF64:
		f, err := toFloat(n, v)
		if err != nil {
			return err
		}
		if n.kind == KindF32 {
			e.buf = binary.LittleEndian.AppendUint32(e.buf, math.Float32bits(float32(f)))
		} else {
			e.buf = binary.LittleEndian.AppendUint64(e.buf, math.Float64bits(f))
		}
		return nil
	case KindU128, KindI128, KindU256, KindI256:
		return e.wide(n, v)
	case KindPubkey:
		pk, err := toPubkey(n, v)
		if err != nil {
			return err
		}
		e.buf = append(e.buf, pk[:]...)
		return nil
	case KindString:
		s, ok := v.(string)
		if !ok {
			return encFail(n, "want string, got %T", v)
		}
		if !utf8.ValidString(s) {
			return encFail(n, "string is not UTF-8")
		}
		if int64(len(s)) > math.MaxUint32 {
			return encFail(n, "string too long")
		}
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(s)))
		e.buf = append(e.buf, s...)
		return nil
	case KindBytes:
		b, err := toBytes(n, v)
		if err != nil {
			return err
		}
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(b)))
		e.buf = append(e.buf, b...)
		return nil
	case KindOption:
		if v == nil {
			e.buf = append(e.buf, 0)
			return nil
		}
		e.buf = append(e.buf, 1)
		return e.value(n.elem, v)
	case KindCOption:
		start := len(e.buf)
		if v == nil {
			e.buf = append(e.buf, 0, 0, 0, 0)
		} else {
			e.buf = append(e.buf, 1, 0, 0, 0)
		}
		e.pad(start + n.n)
		if v == nil {
			if n.size >= 0 {
				e.pad(start + n.size)
			}
			return nil
		}
		if err := e.value(n.elem, v); err != nil {
			return err
		}
		if n.size >= 0 {
			e.pad(start + n.size)
		}
		return nil
	case KindVec, KindHashSet, KindArray:
		items, err := toList(n, v)
		if err != nil {
			return err
		}
		if n.kind == KindArray {
			if len(items) != n.n {
				return encFail(n, "want %d elements, got %d", n.n, len(items))
			}
		} else {
			if int64(len(items)) > math.MaxUint32 {
				return encFail(n, "too many elements")
			}
			e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(items)))
		}
		for i, it := range items {
			if err := e.value(n.elem, it); err != nil {
				return prefixPath(err, "["+strconv.Itoa(i)+"]")
			}
		}
		return nil
	case KindHashMap:
		return e.hashMap(n, v)
	case kindStruct, kindEnum:
		if e.depth >= maxDepth {
			return encFail(n, "value nested deeper than %d", maxDepth)
		}
		e.depth++
		err := e.composite(n, v)
		e.depth--
		return err
	}
	return encFail(n, "unsupported type")
}

func (e *encoder) composite(n *node, v any) error {
	switch n.kind {
	case kindStruct:
		start := len(e.buf)
		if n.tuple {
			items, err := toList(n, v)
			if err != nil {
				return err
			}
			if len(items) != len(n.fields) {
				return encFail(n, "want %d elements, got %d", len(n.fields), len(items))
			}
			for i := range n.fields {
				if n.cLayout {
					e.pad(start + n.fields[i].off)
				}
				if err := e.value(n.fields[i].node, items[i]); err != nil {
					return prefixPath(err, "["+n.fields[i].key+"]")
				}
			}
		} else if err := e.fields(n, n.fields, n.cLayout, start, v); err != nil {
			return err
		}
		if n.cLayout {
			e.pad(start + n.size)
		}
		return nil
	case kindEnum:
		return e.enum(n, v)
	}
	return encFail(n, "unsupported type")
}

// pad appends zero bytes up to absolute length to.
func (e *encoder) pad(to int) {
	for len(e.buf) < to {
		e.buf = append(e.buf, 0)
	}
}

func (e *encoder) putUint(u uint64, size int) {
	switch size {
	case 1:
		e.buf = append(e.buf, byte(u))
	case 2:
		e.buf = binary.LittleEndian.AppendUint16(e.buf, uint16(u))
	case 4:
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(u))
	default:
		e.buf = binary.LittleEndian.AppendUint64(e.buf, u)
	}
}

func (e *encoder) fields(n *node, fields []nfield, cLayout bool, start int, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return encFail(n, "want map[string]any, got %T", v)
	}
	for i := range fields {
		f := &fields[i]
		fv, ok := m[f.key]
		if !ok {
			if fv, ok = m[f.name]; !ok {
				return prefixPath(encFail(f.node, "missing field"), f.key)
			}
		}
		if cLayout {
			e.pad(start + f.off)
		}
		if err := e.value(f.node, fv); err != nil {
			return prefixPath(err, f.key)
		}
	}
	return nil
}

func (e *encoder) enum(n *node, v any) error {
	var name string
	var payload any
	switch x := v.(type) {
	case string:
		name = x
	case map[string]any:
		if len(x) != 1 {
			return encFail(n, "want a one-key object naming the variant, got %d keys", len(x))
		}
		for k, val := range x {
			name, payload = k, val
		}
	default:
		if idx, err := toUint(n, v, 1); err == nil && int(idx) < len(n.variants) && n.variants[idx].unit {
			name = n.variants[idx].name
		} else {
			return encFail(n, "want variant name or {variant: data}, got %T", v)
		}
	}
	for tag := range n.variants {
		vr := &n.variants[tag]
		if vr.name != name {
			continue
		}
		e.buf = append(e.buf, byte(tag))
		switch {
		case vr.unit:
			if payload != nil {
				return encFail(n, "variant %s carries no data", name)
			}
			return nil
		case vr.tuple:
			items, err := toList(n, payload)
			if err != nil {
				return prefixPath(err, name)
			}
			if len(items) != len(vr.fields) {
				return prefixPath(encFail(n, "want %d elements, got %d", len(vr.fields), len(items)), name)
			}
			for i := range vr.fields {
				if err := e.value(vr.fields[i].node, items[i]); err != nil {
					return prefixPath(err, name+"["+vr.fields[i].key+"]")
				}
			}
			return nil
		default:
			if err := e.fields(n, vr.fields, false, 0, payload); err != nil {
				return prefixPath(err, name)
			}
			return nil
		}
	}
	return encFail(n, "no variant %q", name)
}

type mapEntry struct {
	text string
	key  []byte
	sort any // uint64, int64, *big.Int or string ordering the key as Rust's Ord does
	val  any
}

func (e *encoder) hashMap(n *node, v any) error {
	m, ok := v.(map[string]any)
	if !ok {
		return encFail(n, "want map[string]any, got %T", v)
	}
	entries := make([]mapEntry, 0, len(m))
	for ks, val := range m {
		kv, err := parseKey(n.key, ks)
		if err != nil {
			return prefixPath(err, "["+strconv.Quote(ks)+"]")
		}
		sub := encoder{}
		if err := sub.value(n.key, kv); err != nil {
			return prefixPath(err, "["+strconv.Quote(ks)+"]")
		}
		entries = append(entries, mapEntry{text: ks, key: sub.buf, sort: sortKey(n.key, kv, sub.buf), val: val})
	}
	// Borsh writes map entries in key order.
	sort.Slice(entries, func(i, j int) bool { return lessKey(entries[i].sort, entries[j].sort) })
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(entries)))
	for _, en := range entries {
		e.buf = append(e.buf, en.key...)
		if err := e.value(n.elem, en.val); err != nil {
			return prefixPath(err, "["+strconv.Quote(en.text)+"]")
		}
	}
	return nil
}

// parseKey turns an object key back into a value of the map's key type.
func parseKey(k *node, s string) (any, error) {
	switch k.kind {
	case KindU8, KindU16, KindU32, KindU64:
		u, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return nil, encFail(k, "map key %q: %v", s, err)
		}
		return u, nil
	case KindI8, KindI16, KindI32, KindI64:
		i, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, encFail(k, "map key %q: %v", s, err)
		}
		return i, nil
	case KindF32, KindF64:
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, encFail(k, "map key %q: %v", s, err)
		}
		return f, nil
	case KindBool:
		b, err := strconv.ParseBool(s)
		if err != nil {
			return nil, encFail(k, "map key %q: %v", s, err)
		}
		return b, nil
	case KindString, KindPubkey, KindU128, KindI128, KindU256, KindI256:
		return s, nil
	case kindEnum:
		if k.unitEnum {
			return s, nil
		}
	}
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		return nil, encFail(k, "map key %q: %v", s, err)
	}
	return normaliseJSON(v), nil
}

// normaliseJSON converts encoding/json output (float64 numbers) to the decoded value model.
func normaliseJSON(v any) any {
	switch x := v.(type) {
	case float64:
		if x >= 0 && x == math.Trunc(x) && x < 1<<63 {
			return uint64(x)
		}
		if x == math.Trunc(x) && x >= -(1<<63) {
			return int64(x)
		}
		return x
	case []any:
		for i := range x {
			x[i] = normaliseJSON(x[i])
		}
	case map[string]any:
		for k := range x {
			x[k] = normaliseJSON(x[k])
		}
	}
	return v
}

func sortKey(k *node, v any, enc []byte) any {
	switch k.kind {
	case KindU8, KindU16, KindU32, KindU64:
		return v.(uint64)
	case KindI8, KindI16, KindI32, KindI64:
		return v.(int64)
	case KindU128, KindI128, KindU256, KindI256:
		b, _ := toBig(v)
		return b
	case KindString:
		return v.(string)
	}
	return string(enc)
}

func lessKey(a, b any) bool {
	switch x := a.(type) {
	case uint64:
		return x < b.(uint64)
	case int64:
		return x < b.(int64)
	case *big.Int:
		y, _ := b.(*big.Int)
		if x == nil || y == nil {
			return false
		}
		return x.Cmp(y) < 0
	case string:
		return x < b.(string)
	}
	return false
}

func (e *encoder) wide(n *node, v any) error {
	b, err := toBig(v)
	if err != nil {
		return encFail(n, "%v", err)
	}
	bits := uint(8 * n.size)
	signed := n.kind == KindI128 || n.kind == KindI256
	lo, hi := new(big.Int), new(big.Int)
	if signed {
		lo.Neg(new(big.Int).Lsh(big.NewInt(1), bits-1))
		hi.Lsh(big.NewInt(1), bits-1)
	} else {
		hi.Lsh(big.NewInt(1), bits)
	}
	if b.Cmp(lo) < 0 || b.Cmp(hi) >= 0 {
		return encFail(n, "%s out of range", b)
	}
	if b.Sign() < 0 {
		b = new(big.Int).Add(b, new(big.Int).Lsh(big.NewInt(1), bits))
	}
	be := b.FillBytes(make([]byte, n.size))
	for i := len(be) - 1; i >= 0; i-- {
		e.buf = append(e.buf, be[i])
	}
	return nil
}

func toBig(v any) (*big.Int, error) {
	switch x := v.(type) {
	case string:
		b, ok := new(big.Int).SetString(x, 10)
		if !ok {
			return nil, fmt.Errorf("%q is not a decimal integer", x)
		}
		return b, nil
	case json.Number:
		return toBig(string(x))
	case *big.Int:
		if x == nil {
			return nil, fmt.Errorf("nil *big.Int")
		}
		return x, nil
	case big.Int:
		return &x, nil
	case float64:
		if x != math.Trunc(x) || math.IsInf(x, 0) {
			return nil, fmt.Errorf("%v is not a whole number", x)
		}
		b, _ := big.NewFloat(x).Int(nil)
		return b, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return big.NewInt(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return new(big.Int).SetUint64(rv.Uint()), nil
	}
	return nil, fmt.Errorf("want a decimal string or integer, got %T", v)
}

// toUint accepts any Go integer, a whole non-negative float64, json.Number or decimal string, and
// checks it fits in size bytes.
func toUint(n *node, v any, size int) (uint64, error) {
	var u uint64
	switch x := v.(type) {
	case uint64:
		u = x
	case float64:
		if x < 0 || x != math.Trunc(x) || x >= 1<<64 {
			return 0, encFail(n, "%v is not an unsigned whole number", x)
		}
		u = uint64(x)
	case json.Number:
		p, err := strconv.ParseUint(string(x), 10, 64)
		if err != nil {
			return 0, encFail(n, "%v", err)
		}
		u = p
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			u = rv.Uint()
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			if rv.Int() < 0 {
				return 0, encFail(n, "%d is negative", rv.Int())
			}
			u = uint64(rv.Int())
		default:
			return 0, encFail(n, "want an unsigned integer, got %T", v)
		}
	}
	if size < 8 && u >= 1<<(8*size) {
		return 0, encFail(n, "%d out of range", u)
	}
	return u, nil
}

func toInt(n *node, v any, size int) (int64, error) {
	var i int64
	switch x := v.(type) {
	case int64:
		i = x
	case float64:
		if x != math.Trunc(x) || x < -(1<<63) || x >= 1<<63 {
			return 0, encFail(n, "%v is not a whole number in range", x)
		}
		i = int64(x)
	case json.Number:
		p, err := strconv.ParseInt(string(x), 10, 64)
		if err != nil {
			return 0, encFail(n, "%v", err)
		}
		i = p
	default:
		rv := reflect.ValueOf(v)
		switch rv.Kind() {
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			i = rv.Int()
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			if rv.Uint() > math.MaxInt64 {
				return 0, encFail(n, "%d out of range", rv.Uint())
			}
			i = int64(rv.Uint())
		default:
			return 0, encFail(n, "want an integer, got %T", v)
		}
	}
	if size < 8 {
		lim := int64(1) << (8*size - 1)
		if i < -lim || i >= lim {
			return 0, encFail(n, "%d out of range", i)
		}
	}
	return i, nil
}

func toFloat(n *node, v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case json.Number:
		f, err := x.Float64()
		if err != nil {
			return 0, encFail(n, "%v", err)
		}
		return f, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return float64(rv.Int()), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return float64(rv.Uint()), nil
	}
	return 0, encFail(n, "want a number, got %T", v)
}

func toPubkey(n *node, v any) (solana.Pubkey, error) {
	switch x := v.(type) {
	case string:
		pk, err := solana.ParsePubkey(x)
		if err != nil {
			return pk, encFail(n, "%v", err)
		}
		return pk, nil
	case solana.Pubkey:
		return x, nil
	case *solana.Pubkey:
		if x != nil {
			return *x, nil
		}
	case [32]byte:
		return solana.Pubkey(x), nil
	case []byte:
		pk, err := solana.PubkeyFromBytes(x)
		if err != nil {
			return pk, encFail(n, "%v", err)
		}
		return pk, nil
	}
	return solana.Pubkey{}, encFail(n, "want a base58 string, got %T", v)
}

func toBytes(n *node, v any) ([]byte, error) {
	switch x := v.(type) {
	case []byte:
		return x, nil
	case []any:
		out := make([]byte, len(x))
		for i, it := range x {
			u, err := toUint(n, it, 1)
			if err != nil {
				return nil, prefixPath(err, "["+strconv.Itoa(i)+"]")
			}
			out[i] = byte(u)
		}
		return out, nil
	}
	return nil, encFail(n, "want []any of byte values or []byte, got %T", v)
}

// toList accepts []any, []byte (for byte arrays) and any other slice or array.
func toList(n *node, v any) ([]any, error) {
	switch x := v.(type) {
	case []any:
		return x, nil
	case []byte:
		out := make([]any, len(x))
		for i, c := range x {
			out[i] = uint64(c)
		}
		return out, nil
	case nil:
		return nil, encFail(n, "want a list, got nil")
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, encFail(n, "want a list, got %T", v)
	}
	out := make([]any, rv.Len())
	for i := range out {
		out[i] = rv.Index(i).Interface()
	}
	return out, nil
}

func encodeRoot(n *node, prefix []byte, v any) ([]byte, error) {
	e := encoder{buf: make([]byte, 0, len(prefix)+max(n.minSize, 16))}
	e.buf = append(e.buf, prefix...)
	if err := e.value(n, v); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// EncodeAccount encodes value as the named account: its discriminator, then its data. It is the
// inverse of DecodeAccount.
func (p *IDL) EncodeAccount(name string, value map[string]any) ([]byte, error) {
	a, ok := p.Account(name)
	if !ok {
		return nil, fmt.Errorf("account %q: %w", name, ErrUnknownName)
	}
	out, err := encodeRoot(a.layout, a.Discriminator, value)
	if err != nil {
		return nil, prefixPath(err, a.Name)
	}
	return out, nil
}

// EncodeInstruction encodes the named instruction's discriminator and arguments (args may be nil for
// an instruction without arguments). It is the inverse of DecodeInstruction.
func (p *IDL) EncodeInstruction(name string, args map[string]any) ([]byte, error) {
	ix, ok := p.Instruction(name)
	if !ok {
		return nil, fmt.Errorf("instruction %q: %w", name, ErrUnknownName)
	}
	if args == nil {
		args = map[string]any{}
	}
	out, err := encodeRoot(ix.layout, ix.Discriminator, args)
	if err != nil {
		return nil, prefixPath(err, ix.Name)
	}
	return out, nil
}

// EncodeEvent encodes the named event as its discriminator followed by its payload — the bytes of a
// `Program data:` log line. For an event whose struct begins with its discriminator
// (DiscriminatorInPayload) the struct alone is encoded. Prefix the result with EventIxTag for the
// instruction data of a self-CPI event.
func (p *IDL) EncodeEvent(name string, value map[string]any) ([]byte, error) {
	ev, ok := p.Event(name)
	if !ok {
		return nil, fmt.Errorf("event %q: %w", name, ErrUnknownName)
	}
	prefix := ev.Discriminator
	if ev.DiscriminatorInPayload {
		prefix = nil
		// The struct's first field is the discriminator; supply it when the caller left it out.
		if first := ev.layout.fields[0]; value[first.key] == nil && value[first.name] == nil {
			filled := make(map[string]any, len(value)+1)
			for k, v := range value {
				filled[k] = v
			}
			if first.node.kind == KindU64 {
				filled[first.key] = binary.LittleEndian.Uint64(ev.Discriminator)
			} else {
				filled[first.key] = append([]byte(nil), ev.Discriminator...)
			}
			value = filled
		}
	}
	out, err := encodeRoot(ev.layout, prefix, value)
	if err != nil {
		return nil, prefixPath(err, ev.Name)
	}
	return out, nil
}

// EncodeType encodes value as the type expression t; the inverse of DecodeType.
func (p *IDL) EncodeType(t Type, value any) ([]byte, error) {
	n, err := p.layoutOf(t)
	if err != nil {
		return nil, err
	}
	return encodeRoot(n, nil, value)
}
