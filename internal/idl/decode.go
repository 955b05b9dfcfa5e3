package idl

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"
)

// EventIxTag is the 8-byte prefix of the instruction data of an Anchor self-CPI event (emit_cpi!):
// the little-endian bytes of Anchor's EVENT_IX_TAG (sha256("anchor:event")[..8]), followed by the
// event discriminator and the Borsh payload.
var EventIxTag = [8]byte{0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1d}

// maxZeroSizeElems bounds the element count of a vec whose elements may encode to zero bytes, where
// the remaining input length cannot bound it.
const maxZeroSizeElems = 1 << 16

// maxDepth bounds the nesting of structs and enums while decoding or encoding; only recursive types
// can reach it.
const maxDepth = 128

type decoder struct {
	data  []byte
	box   boxer
	depth int
	keys  *decodeCache
}

func (d *decoder) fail(n *node, off int, err error) error {
	return &DecodeError{Offset: off, Type: n.tname, Err: err}
}

// need reports whether k bytes are available at off.
func (d *decoder) need(off, k int) bool { return k >= 0 && off <= len(d.data) && k <= len(d.data)-off }

func (d *decoder) value(n *node, off int) (any, int, error) {
	data := d.data
	switch n.kind {
	case KindBool:
		if !d.need(off, 1) {
			return nil, off, d.fail(n, off, ErrShortBuffer)
		}
		b := data[off]
		if n.boolAsNum {
			return uint64(b), off + 1, nil
		}
		if b > 1 {
			return nil, off, d.fail(n, off, ErrInvalidValue)
		}
		return b == 1, off + 1, nil
	case KindU8, KindI8, KindU16, KindI16, KindU32, KindI32, KindU64, KindI64, KindF32, KindF64:
		if !d.need(off, n.size) {
			return nil, off, d.fail(n, off, ErrShortBuffer)
		}
		b := data[off:]
		var v any
		switch n.kind {
		case KindU8:
			v = uint64(b[0])
		case KindI8:
			v = d.box.i64(int64(int8(b[0])))
		case KindU16:
			v = d.box.u64(uint64(binary.LittleEndian.Uint16(b)))
		case KindI16:
			v = d.box.i64(int64(int16(binary.LittleEndian.Uint16(b))))
		case KindU32:
			v = d.box.u64(uint64(binary.LittleEndian.Uint32(b)))
		case KindI32:
			v = d.box.i64(int64(int32(binary.LittleEndian.Uint32(b))))
		case KindU64:
			v = d.box.u64(binary.LittleEndian.Uint64(b))
		case KindI64:
			v = d.box.i64(int64(binary.LittleEndian.Uint64(b)))
		case KindF32:
			v = d.box.f64(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))))
		case KindF64:
			v = d.box.f64(math.Float64frombits(binary.LittleEndian.Uint64(b)))
		}
		return v, off + n.size, nil
	case KindU128, KindI128, KindU256, KindI256:
		if !d.need(off, n.size) {
			return nil, off, d.fail(n, off, ErrShortBuffer)
		}
		return wideString(data[off:off+n.size], n.kind == KindI128 || n.kind == KindI256), off + n.size, nil
	case KindPubkey:
		if !d.need(off, 32) {
			return nil, off, d.fail(n, off, ErrShortBuffer)
		}
		k := (*[32]byte)(data[off : off+32])
		if d.keys != nil {
			return d.keys.text(k), off + 32, nil // a boxed string, shared
		}
		var buf [44]byte
		return string(appendPubkeyBase58(buf[:0], k)), off + 32, nil
	case KindString, KindBytes:
		if !d.need(off, 4) {
			return nil, off, d.fail(n, off, ErrShortBuffer)
		}
		l := int64(binary.LittleEndian.Uint32(data[off:]))
		if l > int64(len(data)-off-4) {
			return nil, off, d.fail(n, off, ErrShortBuffer)
		}
		body := data[off+4 : off+4+int(l)]
		if n.kind == KindString {
			if !utf8.Valid(body) {
				return nil, off, d.fail(n, off, ErrInvalidValue)
			}
			return string(body), off + 4 + int(l), nil
		}
		out := make([]any, len(body))
		for i, c := range body {
			out[i] = uint64(c)
		}
		return out, off + 4 + int(l), nil
	case KindOption:
		if !d.need(off, 1) {
			return nil, off, d.fail(n, off, ErrShortBuffer)
		}
		switch data[off] {
		case 0:
			return nil, off + 1, nil
		case 1:
			return d.value(n.elem, off+1)
		}
		return nil, off, d.fail(n, off, ErrInvalidValue)
	case KindCOption:
		if !d.need(off, 4) {
			return nil, off, d.fail(n, off, ErrShortBuffer)
		}
		body := off + n.n
		switch binary.LittleEndian.Uint32(data[off:]) {
		case 0:
			if n.size >= 0 {
				if !d.need(off, n.size) {
					return nil, off, d.fail(n, off, ErrShortBuffer)
				}
				return nil, off + n.size, nil
			}
			return nil, body, nil
		case 1:
			v, end, err := d.value(n.elem, body)
			if err != nil {
				return nil, off, err
			}
			if n.size >= 0 {
				end = off + n.size
			}
			return v, end, nil
		}
		return nil, off, d.fail(n, off, ErrInvalidValue)
	case KindVec, KindHashSet:
		if !d.need(off, 4) {
			return nil, off, d.fail(n, off, ErrShortBuffer)
		}
		l := int(binary.LittleEndian.Uint32(data[off:]))
		if err := d.checkCount(n, off, l, n.elem.minSize); err != nil {
			return nil, off, err
		}
		return d.elems(n.elem, l, off+4)
	case KindArray:
		if n.byteArray && d.keys != nil && d.need(off, n.n) {
			return d.keys.byteArray(data[off : off+n.n]), off + n.n, nil
		}
		return d.elems(n.elem, n.n, off)
	case KindHashMap:
		if !d.need(off, 4) {
			return nil, off, d.fail(n, off, ErrShortBuffer)
		}
		l := int(binary.LittleEndian.Uint32(data[off:]))
		if err := d.checkCount(n, off, l, n.key.minSize+n.elem.minSize); err != nil {
			return nil, off, err
		}
		m := make(map[string]any, min(l, 64))
		pos := off + 4
		for i := 0; i < l; i++ {
			k, next, err := d.value(n.key, pos)
			if err != nil {
				return nil, off, prefixPath(err, "["+strconv.Itoa(i)+"].key")
			}
			v, next2, err := d.value(n.elem, next)
			if err != nil {
				return nil, off, prefixPath(err, "["+strconv.Itoa(i)+"].value")
			}
			m[keyString(k)] = v
			pos = next2
		}
		return m, pos, nil
	case kindStruct, kindEnum:
		if d.depth >= maxDepth {
			return nil, off, d.fail(n, off, ErrTooLarge)
		}
		d.depth++
		v, end, err := d.composite(n, off)
		d.depth--
		return v, end, err
	}
	return nil, off, d.fail(n, off, ErrInvalidValue)
}

func (d *decoder) composite(n *node, off int) (any, int, error) {
	data := d.data
	switch n.kind {
	case kindStruct:
		if n.cLayout && !d.need(off, n.size) {
			return nil, off, d.fail(n, off, ErrShortBuffer)
		}
		if n.tuple {
			out := make([]any, len(n.fields))
			pos := off
			for i := range n.fields {
				f := &n.fields[i]
				at := pos
				if n.cLayout {
					at = off + f.off
				}
				v, next, err := d.value(f.node, at)
				if err != nil {
					return nil, off, prefixPath(err, "["+f.key+"]")
				}
				out[i] = v
				pos = next
			}
			if n.cLayout {
				pos = off + n.size
			}
			return out, pos, nil
		}
		m, pos, err := d.structFields(n.fields, n.cLayout, off)
		if err != nil {
			return nil, off, err
		}
		if n.cLayout {
			pos = off + n.size
		}
		return m, pos, nil
	case kindEnum:
		if !d.need(off, 1) {
			return nil, off, d.fail(n, off, ErrShortBuffer)
		}
		tag := int(data[off])
		if tag >= len(n.variants) {
			return nil, off, d.fail(n, off, ErrInvalidValue)
		}
		v := &n.variants[tag]
		if v.unit {
			return v.nameAny, off + 1, nil
		}
		if v.tuple {
			out := make([]any, len(v.fields))
			pos := off + 1
			for i := range v.fields {
				x, next, err := d.value(v.fields[i].node, pos)
				if err != nil {
					return nil, off, prefixPath(err, v.name+"["+v.fields[i].key+"]")
				}
				out[i] = x
				pos = next
			}
			return map[string]any{v.name: out}, pos, nil
		}
		m, pos, err := d.structFields(v.fields, false, off+1)
		if err != nil {
			return nil, off, prefixPath(err, v.name)
		}
		return map[string]any{v.name: m}, pos, nil
	}
	return nil, off, d.fail(n, off, ErrInvalidValue)
}

func (d *decoder) structFields(fields []nfield, cLayout bool, off int) (map[string]any, int, error) {
	m := make(map[string]any, len(fields))
	pos := off
	for i := range fields {
		f := &fields[i]
		at := pos
		if cLayout {
			at = off + f.off
		}
		v, next, err := d.value(f.node, at)
		if err != nil {
			return nil, off, prefixPath(err, f.key)
		}
		m[f.key] = v
		pos = next
	}
	return m, pos, nil
}

func (d *decoder) checkCount(n *node, off, count, minElem int) error {
	rest := len(d.data) - off - 4
	if minElem > 0 {
		if count > rest/minElem {
			return d.fail(n, off, ErrShortBuffer)
		}
	} else if count > maxZeroSizeElems {
		return d.fail(n, off, ErrTooLarge)
	}
	return nil
}

func (d *decoder) elems(elem *node, count, off int) (any, int, error) {
	if elem.minSize == 0 && count > maxZeroSizeElems {
		return nil, off, d.fail(elem, off, ErrTooLarge)
	}
	if elem.minSize > 0 && count > (len(d.data)-off)/elem.minSize && elem.size < 0 {
		return nil, off, prefixPath(d.fail(elem, off, ErrShortBuffer), "[0]")
	}
	if elem.size > 0 && !d.need(off, elem.size*count) {
		// Report the first element that does not fit.
		i := (len(d.data) - off) / elem.size
		return nil, off, prefixPath(d.fail(elem, off+i*elem.size, ErrShortBuffer), "["+strconv.Itoa(i)+"]")
	}
	out := d.box.list(count)
	pos := off
	if elem.kind == KindU8 && elem.size == 1 {
		for i, c := range d.data[off : off+count] {
			out[i] = uint64(c)
		}
		return d.box.listAny(out), off + count, nil
	}
	if elem.kind == KindU64 && !elem.cLayout {
		b := d.data[off : off+8*count]
		for i := range out {
			out[i] = d.box.u64(binary.LittleEndian.Uint64(b[8*i:]))
		}
		return d.box.listAny(out), off + 8*count, nil
	}
	for i := range out {
		v, next, err := d.value(elem, pos)
		if err != nil {
			return nil, off, prefixPath(err, "["+strconv.Itoa(i)+"]")
		}
		out[i] = v
		pos = next
	}
	return d.box.listAny(out), pos, nil
}

// wideString renders a little-endian 128- or 256-bit integer as a decimal string.
func wideString(le []byte, signed bool) string {
	if len(le) == 16 {
		lo := binary.LittleEndian.Uint64(le)
		hi := binary.LittleEndian.Uint64(le[8:])
		if hi == 0 {
			return strconv.FormatUint(lo, 10)
		}
		if signed && hi == math.MaxUint64 && lo != 0 && lo>>63 == 1 {
			return "-" + strconv.FormatUint(-lo, 10)
		}
	}
	be := make([]byte, len(le))
	for i, c := range le {
		be[len(le)-1-i] = c
	}
	v := new(big.Int).SetBytes(be)
	if signed && le[len(le)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(le))))
	}
	return v.String()
}

// keyString renders a decoded map key as an object key: numbers in decimal, strings as they are,
// bools as true/false, anything else as its compact JSON-like text.
func keyString(k any) string {
	switch v := k.(type) {
	case string:
		return v
	case uint64:
		return strconv.FormatUint(v, 10)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "null"
	}
	var b strings.Builder
	writeCompact(&b, k)
	return b.String()
}

func writeCompact(b *strings.Builder, v any) {
	switch x := v.(type) {
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeCompact(b, e)
		}
		b.WriteByte(']')
	case string:
		b.WriteString(strconv.Quote(x))
	default:
		b.WriteString(keyString(x))
	}
}

// decodeRoot decodes n at off; strict requires the value to end exactly at the end of data.
func decodeRoot(n *node, data []byte, off int, strict bool, keys *decodeCache) (any, int, error) {
	d := decoder{data: data, keys: keys}
	d.box.reserve(n)
	v, end, err := d.value(n, off)
	if err != nil {
		return nil, off, err
	}
	if strict && end != len(data) {
		return nil, off, &DecodeError{Offset: end, Type: n.tname, Err: ErrTrailingBytes}
	}
	return v, end, nil
}

// AccountFor returns the account definition the data belongs to: the longest discriminator that
// prefixes it, else (for discriminator-less programs) the account whose Size equals the data length.
func (p *IDL) AccountFor(data []byte) (*AccountDef, bool) {
	if i := p.match.accounts.lookup(data); i >= 0 {
		return &p.Accounts[i], true
	}
	if i, ok := p.match.accountSizes[len(data)]; ok {
		return &p.Accounts[i], true
	}
	return nil, false
}

// DecodeAccount identifies the account type of data (see AccountFor) and decodes it. Bytes after the
// account struct are allowed (accounts are often allocated with spare room) unless Strict is set.
func (p *IDL) DecodeAccount(data []byte) (name string, value map[string]any, err error) {
	a, ok := p.AccountFor(data)
	if !ok {
		return "", nil, ErrUnknownDiscriminator
	}
	v, err := a.decode(data, p.Strict, p.keys)
	if err != nil {
		return a.Name, nil, err
	}
	return a.Name, v, nil
}

// DecodeAccountAs decodes data as the named account, checking its discriminator (or size).
func (p *IDL) DecodeAccountAs(name string, data []byte) (map[string]any, error) {
	a, ok := p.Account(name)
	if !ok {
		return nil, ErrUnknownName
	}
	if len(a.Discriminator) > 0 {
		if len(data) < len(a.Discriminator) || string(data[:len(a.Discriminator)]) != string(a.Discriminator) {
			return nil, ErrUnknownDiscriminator
		}
	} else if a.Size > 0 && len(data) != a.Size {
		return nil, ErrUnknownDiscriminator
	}
	return a.decode(data, p.Strict, p.keys)
}

// FieldNames returns the names of the account's top-level fields, in the order DecodeAccountFields
// gives their values (nil for an AccountDef that does not come from a parsed IDL). The slice is
// shared: do not change it.
func (a *AccountDef) FieldNames() []string { return a.fieldNames }

// DecodeAccountFields is DecodeAccount without the top-level object: it identifies the account the
// same way and appends the values of its top-level fields, in FieldNames order, to dst[:0]. The
// values, and the errors, are those DecodeAccount gives. Accounts that are not structs with named
// fields give ErrNotStruct (decode them with DecodeAccount).
func (p *IDL) DecodeAccountFields(data []byte, dst []any) (*AccountDef, []any, error) {
	a, ok := p.AccountFor(data)
	if !ok {
		return nil, dst[:0], ErrUnknownDiscriminator
	}
	if !namedStruct(a.layout) {
		return a, dst[:0], ErrNotStruct
	}
	out, err := p.structValues(a.layout, data, len(a.Discriminator), p.Strict, dst)
	return a, out, err
}

func namedStruct(n *node) bool { return n != nil && n.kind == kindStruct && !n.tuple }

// fieldKeys returns the keys of a named struct's fields, in order (nil for any other node).
func fieldKeys(n *node) []string {
	if !namedStruct(n) {
		return nil
	}
	keys := make([]string, len(n.fields))
	for i := range n.fields {
		keys[i] = n.fields[i].key
	}
	return keys
}

// structValues decodes the named struct n at off as decodeRoot would, appending the values of its
// fields to dst[:0] instead of building the object; the errors are decodeRoot's.
func (p *IDL) structValues(n *node, data []byte, off int, strict bool, dst []any) ([]any, error) {
	d := decoder{data: data, keys: p.keys, depth: 1}
	d.box.reserve(n)
	if n.cLayout && !d.need(off, n.size) {
		return dst[:0], d.fail(n, off, ErrShortBuffer)
	}
	out := dst[:0]
	pos := off
	for i := range n.fields {
		f := &n.fields[i]
		at := pos
		if n.cLayout {
			at = off + f.off
		}
		v, next, err := d.value(f.node, at)
		if err != nil {
			clear(out)
			return out[:0], prefixPath(err, f.key)
		}
		out = append(out, v)
		pos = next
	}
	if n.cLayout {
		pos = off + n.size
	}
	if strict && pos != len(data) {
		clear(out)
		return out[:0], &DecodeError{Offset: pos, Type: n.tname, Err: ErrTrailingBytes}
	}
	return out, nil
}

// ArgNames returns the names of the instruction's arguments, in the order DecodeInstructionFields
// gives their values (nil for an InstructionDef that does not come from a parsed IDL). The slice
// is shared: do not change it.
func (ix *InstructionDef) ArgNames() []string { return ix.argNames }

// DecodeInstructionFields is DecodeInstruction without the arguments object: it identifies the
// instruction the same way (PadShortArgs and Strict included) and appends the argument values, in
// ArgNames order, to dst[:0]. The values, and the errors, are those DecodeInstruction gives.
func (p *IDL) DecodeInstructionFields(data []byte, dst []any) (*InstructionDef, []any, error) {
	ix, ok := p.InstructionFor(data)
	if !ok {
		return nil, dst[:0], ErrUnknownDiscriminator
	}
	if !namedStruct(ix.layout) {
		return ix, dst[:0], ErrNotStruct
	}
	off := len(ix.Discriminator)
	out, err := p.structValues(ix.layout, data, off, p.Strict, dst)
	if padded, retry := p.padShortArgs(ix, data, err); retry {
		out, err = p.structValues(ix.layout, padded, off, false, dst)
	}
	if err != nil {
		return ix, out, prefixPath(err, ix.Name)
	}
	return ix, out, nil
}

func (a *AccountDef) decode(data []byte, strict bool, keys *decodeCache) (map[string]any, error) {
	v, _, err := decodeRoot(a.layout, data, len(a.Discriminator), strict, keys)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

// InstructionFor returns the instruction whose discriminator prefixes data (the longest match).
func (p *IDL) InstructionFor(data []byte) (*InstructionDef, bool) {
	if i := p.match.instructions.lookup(data); i >= 0 {
		return &p.Instructions[i], true
	}
	return nil, false
}

// DecodeInstruction identifies the instruction by its discriminator and decodes its arguments (an
// instruction without arguments gives an empty map). Bytes after the arguments are allowed, as the
// programs themselves allow them, unless Strict is set. With PadShortArgs, arguments that end early are decoded again
// from the data zero-padded to 256 bytes.
func (p *IDL) DecodeInstruction(data []byte) (ix *InstructionDef, args map[string]any, err error) {
	ix, ok := p.InstructionFor(data)
	if !ok {
		return nil, nil, ErrUnknownDiscriminator
	}
	v, _, err := decodeRoot(ix.layout, data, len(ix.Discriminator), p.Strict, p.keys)
	if padded, retry := p.padShortArgs(ix, data, err); retry {
		v, _, err = decodeRoot(ix.layout, padded, len(ix.Discriminator), false, p.keys)
	}
	if err != nil {
		return ix, nil, prefixPath(err, ix.Name)
	}
	return ix, v.(map[string]any), nil
}

// padShortArgs returns data zero-padded to 256 bytes when, with PadShortArgs, the arguments of ix
// ended early (err) in data shorter than that: the instruction is then decoded again from it.
func (p *IDL) padShortArgs(ix *InstructionDef, data []byte, err error) ([]byte, bool) {
	if err == nil || !p.PadShortArgs || len(data) <= len(ix.Discriminator) || len(data) >= 256 || !isShort(err) {
		return nil, false
	}
	padded := make([]byte, 256)
	copy(padded, data)
	return padded, true
}

func isShort(err error) bool {
	de, ok := err.(*DecodeError)
	return ok && de.Err == ErrShortBuffer
}

// EventFor returns the event whose discriminator prefixes data, after stripping an Anchor self-CPI
// prefix (EventIxTag) if present; payload is the data with that prefix removed.
func (p *IDL) EventFor(data []byte) (ev *EventDef, payload []byte, ok bool) {
	if len(data) >= 16 && [8]byte(data[:8]) == EventIxTag {
		if i := p.match.events.lookup(data[8:]); i >= 0 {
			return &p.Events[i], data[8:], true
		}
	}
	if i := p.match.events.lookup(data); i >= 0 {
		return &p.Events[i], data, true
	}
	return nil, nil, false
}

// DecodeEvent decodes an event: its discriminator followed by its payload, as logged in a
// `Program data:` line (see DecodeEventLog), or the same prefixed by EventIxTag, as the instruction
// data of an Anchor self-CPI (emit_cpi!). Events whose struct begins with the discriminator itself
// (DiscriminatorInPayload) are decoded from the discriminator on.
func (p *IDL) DecodeEvent(data []byte) (name string, value map[string]any, err error) {
	ev, payload, ok := p.EventFor(data)
	if !ok {
		return "", nil, ErrUnknownDiscriminator
	}
	off := len(ev.Discriminator)
	if ev.DiscriminatorInPayload {
		off = 0
	}
	v, _, err := decodeRoot(ev.layout, payload, off, p.Strict, p.keys)
	if err != nil {
		return ev.Name, nil, prefixPath(err, ev.Name)
	}
	return ev.Name, v.(map[string]any), nil
}

// ProgramDataPrefix starts the log line through which Anchor's emit! publishes an event.
const ProgramDataPrefix = "Program data: "

// DecodeEventLog decodes the event in a `Program data: <base64>` log line (the prefix is optional).
func (p *IDL) DecodeEventLog(line string) (name string, value map[string]any, err error) {
	b64 := strings.TrimSpace(strings.TrimPrefix(line, ProgramDataPrefix))
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return "", nil, &DecodeError{Type: "base64", Err: ErrInvalidValue}
	}
	return p.DecodeEvent(data)
}

// DecodeType decodes data as the type expression t, resolved against the IDL's type definitions.
// The value must use every byte: trailing bytes are an ErrTrailingBytes DecodeError.
func (p *IDL) DecodeType(t Type, data []byte) (any, error) {
	n, err := p.layoutOf(t)
	if err != nil {
		return nil, err
	}
	v, _, err := decodeRoot(n, data, 0, true, p.keys)
	return v, err
}

// layoutOf resolves a type expression on demand.
func (p *IDL) layoutOf(t Type) (*node, error) {
	r := &resolver{p: p, memo: make(map[string]*node)}
	n, err := r.resolve(t, nil, modeBorsh)
	if err != nil {
		return nil, &EncodeError{Type: t.String(), Err: err}
	}
	return n, nil
}
