package idl

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRoundTripRealIDLs encodes random values of every account, instruction and event of the real
// IDLs and decodes them back.
func TestRoundTripRealIDLs(t *testing.T) {
	t.Parallel()
	idls := map[string]func(t *testing.T) *IDL{
		"spl-token": func(t *testing.T) *IDL { return loadSPLToken(t) },
	}
	for _, f := range []string{"hyperstack/ore.idl.json", "hyperstack/entropy.idl.json", "idl/pump.idl.json", "idl/meteora_dlmm.idl.json"} {
		idls[f] = func(t *testing.T) *IDL {
			p, err := ParseFile(sharedFixture(t, f))
			require.NoError(t, err)
			return p
		}
	}
	runs := 20
	if testing.Short() {
		runs = 3
	}
	for name, load := range idls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			p := load(t)
			g := gen{r: rand.New(rand.NewPCG(11, 13))}
			for i := range p.Accounts {
				a := &p.Accounts[i]
				for r := 0; r < runs; r++ {
					v := g.value(a.layout, 0).(map[string]any)
					b, err := p.EncodeAccount(a.Name, v)
					require.NoError(t, err, a.Name)
					if a.layout.size >= 0 {
						require.Len(t, b, len(a.Discriminator)+a.layout.size, a.Name)
					}
					got, err := p.DecodeAccountAs(a.Name, b)
					require.NoError(t, err, a.Name)
					require.Equal(t, v, got, a.Name)
					// Identification by discriminator (or size) finds the same account.
					name, _, err := p.DecodeAccount(b)
					require.NoError(t, err, a.Name)
					require.Equal(t, a.Name, name)
				}
			}
			for i := range p.Instructions {
				ix := &p.Instructions[i]
				for r := 0; r < runs; r++ {
					v := g.value(ix.layout, 0).(map[string]any)
					b, err := p.EncodeInstruction(ix.Name, v)
					require.NoError(t, err, ix.Name)
					def, got, err := p.DecodeInstruction(b)
					require.NoError(t, err, ix.Name)
					require.Equal(t, ix.Name, def.Name)
					require.Equal(t, v, got, ix.Name)
				}
			}
			for i := range p.Events {
				ev := &p.Events[i]
				for r := 0; r < runs; r++ {
					v := g.value(ev.layout, 0).(map[string]any)
					if ev.DiscriminatorInPayload {
						v[ev.layout.fields[0].key] = uint64(ev.Discriminator[0]) // the struct starts with it
					}
					b, err := p.EncodeEvent(ev.Name, v)
					require.NoError(t, err, ev.Name)
					name, got, err := p.DecodeEvent(b)
					require.NoError(t, err, ev.Name)
					require.Equal(t, ev.Name, name)
					require.Equal(t, v, got, ev.Name)
				}
			}
		})
	}
}
