package idl

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// DecodeAccountFields gives DecodeAccount's values without the top-level object, and the same
// errors, for every account of the real IDLs: whole, truncated and with trailing bytes.
func TestDecodeAccountFieldsMatchesDecodeAccount(t *testing.T) {
	t.Parallel()
	idls := map[string]*IDL{"spl-token": loadSPLToken(t)}
	for _, f := range []string{"hyperstack/ore.idl.json", "hyperstack/entropy.idl.json", "idl/pump.idl.json", "idl/meteora_dlmm.idl.json"} {
		p, err := ParseFile(sharedFixture(t, f))
		require.NoError(t, err)
		idls[f] = p
	}
	g := gen{r: rand.New(rand.NewPCG(17, 19))}
	var buf []any
	for name, p := range idls {
		for _, strict := range []bool{false, true} {
			p.Strict = strict
			for i := range p.Accounts {
				a := &p.Accounts[i]
				require.NotEmpty(t, a.FieldNames(), a.Name)
				for r := 0; r < 10; r++ {
					b, err := p.EncodeAccount(a.Name, g.value(a.layout, 0).(map[string]any))
					require.NoError(t, err, a.Name)
					for _, data := range [][]byte{b, b[:len(b)*r/10], append(append([]byte(nil), b...), 7)} {
						wantName, want, wantErr := p.DecodeAccount(data)
						def, fields, err := p.DecodeAccountFields(data, buf)
						buf = fields
						require.Equal(t, wantErr, err, "%s %s", name, a.Name)
						if wantErr != nil {
							require.Empty(t, fields)
							continue
						}
						require.Equal(t, wantName, def.Name)
						require.Len(t, fields, len(def.FieldNames()))
						got := map[string]any{}
						for j, n := range def.FieldNames() {
							got[n] = fields[j]
						}
						require.Equal(t, want, got, "%s %s", name, a.Name)
					}
				}
			}
		}
		p.Strict = false
	}
	_, _, err := (&IDL{}).DecodeAccountFields([]byte{1, 2, 3}, nil)
	require.ErrorIs(t, err, ErrUnknownDiscriminator)
}

// DecodeInstructionFields gives DecodeInstruction's arguments without the object, and the same
// errors, for every instruction of the real IDLs: whole, truncated (padded or not) and with
// trailing bytes, strict or not.
func TestDecodeInstructionFieldsMatchesDecodeInstruction(t *testing.T) {
	t.Parallel()
	idls := map[string]*IDL{"spl-token": loadSPLToken(t)}
	for _, f := range []string{"hyperstack/ore.idl.json", "hyperstack/entropy.idl.json", "idl/pump.idl.json", "idl/meteora_dlmm.idl.json"} {
		p, err := ParseFile(sharedFixture(t, f))
		require.NoError(t, err)
		idls[f] = p
	}
	g := gen{r: rand.New(rand.NewPCG(23, 29))}
	var buf []any
	for name, p := range idls {
		for _, mode := range []struct{ strict, pad bool }{{false, false}, {true, false}, {false, true}, {true, true}} {
			p.Strict, p.PadShortArgs = mode.strict, mode.pad
			for i := range p.Instructions {
				ix := &p.Instructions[i]
				require.NotNil(t, ix.ArgNames(), ix.Name)
				for r := 0; r < 6; r++ {
					b, err := p.EncodeInstruction(ix.Name, g.value(ix.layout, 0).(map[string]any))
					require.NoError(t, err, ix.Name)
					for _, data := range [][]byte{b, b[:len(ix.Discriminator)+(len(b)-len(ix.Discriminator))*r/6], append(append([]byte(nil), b...), 7)} {
						wantDef, want, wantErr := p.DecodeInstruction(data)
						def, fields, err := p.DecodeInstructionFields(data, buf)
						buf = fields
						require.Equal(t, wantErr, err, "%s %s", name, ix.Name)
						require.Equal(t, wantDef, def)
						if wantErr != nil {
							require.Empty(t, fields)
							continue
						}
						got := map[string]any{}
						for j, n := range def.ArgNames() {
							got[n] = fields[j]
						}
						require.Equal(t, want, got, "%s %s", name, ix.Name)
					}
				}
			}
		}
		p.Strict, p.PadShortArgs = false, false
	}
	_, _, err := (&IDL{}).DecodeInstructionFields([]byte{1, 2, 3}, nil)
	require.ErrorIs(t, err, ErrUnknownDiscriminator)
}
