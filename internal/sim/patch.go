package sim

import (
	"bytes"
	"encoding/binary"
	"fmt"
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

// amountIx is the encoding of an instruction whose only argument that varies is a u64 amount (the
// Token program's transfer, mint_to and burn; transfer_checked per decimals): a template produced
// by the IDL encoder and the amount's offset in it.
type amountIx struct {
	tmpl []byte
	off  int
}

// newAmountIx prepares the patchable encoding of instruction name with args (amount varies).
func newAmountIx(c *tokenCodec, name string, args func(amount uint64) map[string]any) (*amountIx, error) {
	enc := func(v uint64) ([]byte, error) { return c.idl.EncodeInstruction(name, args(v)) }
	off, ok := u64Field(enc)
	if !ok {
		return nil, fmt.Errorf("%s: amount is not a plain u64 in the encoding", name)
	}
	tmpl, err := enc(0)
	if err != nil {
		return nil, err
	}
	return &amountIx{tmpl: tmpl, off: off}, nil
}

// data returns the instruction data for amount, carved from sl (instruction data leaves with the
// transaction update).
func (a *amountIx) data(sl *slabs, amount uint64) []byte {
	out := sl.bytes.take(len(a.tmpl))
	copy(out, a.tmpl)
	binary.LittleEndian.PutUint64(out[a.off:], amount)
	return out
}
