package sim

import (
	"bytes"
	"encoding/binary"
)

// u64Field locates the 8 bytes a u64 field occupies in an encoding: encode builds the encoding with
// the field set to the given value (everything else fixed). It returns the offset and true when the
// two encodings differ exactly in those 8 little-endian bytes, which is what makes patching a copy
// equivalent to encoding again.
func u64Field(encode func(v uint64) ([]byte, error)) (int, bool) {
	const probe = 0x0807060504030201
	a, err := encode(0)
	if err != nil {
		return 0, false
	}
	b, err := encode(probe)
	if err != nil || len(a) != len(b) {
		return 0, false
	}
	off := -1
	for i := range a {
		if a[i] != b[i] {
			off = i
			break
		}
	}
	if off < 0 || off+8 > len(b) || binary.LittleEndian.Uint64(b[off:]) != probe {
		return 0, false
	}
	for i := off + 8; i < len(a); i++ {
		if a[i] != b[i] {
			return 0, false
		}
	}
	return off, true
}

// patchU64 returns a copy of data with the u64 at off set to v.
func patchU64(data []byte, off int, v uint64) []byte {
	out := bytes.Clone(data)
	binary.LittleEndian.PutUint64(out[off:], v)
	return out
}

// amountIx is an instruction whose only argument that varies is a u64 amount (the Token program's
// transfer, mint_to and burn; transfer_checked per decimals): a template produced by the IDL encoder
// and the amount's offset in it, or (tmpl nil, when the IDL's layout does not allow patching) the
// arguments to encode it with every time.
type amountIx struct {
	name string
	args func(amount uint64) map[string]any
	tmpl []byte
	off  int
}

// newAmountIx prepares the encoding of instruction name with args (amount varies).
func newAmountIx(c *tokenCodec, name string, args func(amount uint64) map[string]any) *amountIx {
	a := &amountIx{name: name, args: args}
	enc := func(v uint64) ([]byte, error) { return c.idl.EncodeInstruction(name, args(v)) }
	if off, ok := u64Field(enc); ok {
		if tmpl, err := enc(0); err == nil {
			a.tmpl, a.off = tmpl, off
		}
	}
	return a
}

// data returns the instruction data for amount; patched data is carved from the Sim's slab
// (instruction data leaves with the transaction update).
func (a *amountIx) data(c *tokenCodec, amount uint64) []byte {
	if a.tmpl == nil {
		return c.ixData(a.name, a.args(amount))
	}
	out := c.s.slab.bytes.take(len(a.tmpl))
	copy(out, a.tmpl)
	binary.LittleEndian.PutUint64(out[a.off:], amount)
	return out
}
