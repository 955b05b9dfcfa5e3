package sim

import (
	"bytes"
	"testing"
)

// TestTokenPatchesMatchTheEncoder checks that the patched encodings (token account amount, mint
// supply, instruction amounts) are byte for byte what the IDL encoder produces.
func TestTokenPatchesMatchTheEncoder(t *testing.T) {
	t.Parallel()
	s, err := New(ScenarioSPLToken, 1, Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := s.scen.(*splToken).tc
	if c.amountOff < 0 || c.supplyOff < 0 || c.ixTransfer.tmpl == nil || c.ixMintTo.tmpl == nil || c.ixBurn.tmpl == nil {
		t.Fatalf("the SPL Token IDL's layouts were not recognised: %+v", c)
	}
	g := newGen(9, 9)
	owner, mk := g.newWallet(1), &account{key: g.newKey()}
	m := &mint{acct: mk, authority: owner, decimals: 9}
	a := c.newTokenAccount(owner, m)
	for i := range 200 {
		a.token.amount = g.r.Uint64() >> (i % 64)
		m.supply = g.r.Uint64() >> (i % 64)
		c.writeTokenAccount(a)
		c.writeMint(m)
		want, err := c.encodeTokenAccount(a)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a.data, want) {
			t.Fatalf("patched token account %x, encoder %x", a.data, want)
		}
		if want, _ := c.encodeMint(m); !bytes.Equal(m.acct.data, want) {
			t.Fatalf("patched mint %x, encoder %x", m.acct.data, want)
		}
		checked := c.transferChecked(uint32(i % 12))
		if checked.tmpl == nil {
			t.Fatalf("transfer_checked's layout was not recognised")
		}
		for _, ix := range []*amountIx{c.ixTransfer, c.ixMintTo, c.ixBurn, checked} {
			got := ix.data(c, a.token.amount)
			want := c.ixData(ix.name, ix.args(a.token.amount))
			if !bytes.Equal(got, want) {
				t.Fatalf("%s(%d): patched %x, encoder %x", ix.name, a.token.amount, got, want)
			}
		}
	}
	if c.err != nil {
		t.Fatal(c.err)
	}
}
