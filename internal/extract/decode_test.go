package extract

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/fixtures"
	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

func TestEventIxTag(t *testing.T) {
	sum := sha256.Sum256([]byte("anchor:event"))
	// Anchor's EVENT_IX_TAG is the u64 0x1d9acb512ea545e4 = sha256("anchor:event")[..8] read big-endian;
	// on the wire it is little-endian.
	require.Equal(t, uint64(0x1d9acb512ea545e4), binary.BigEndian.Uint64(sum[:8]))
	require.Equal(t, uint64(0x1d9acb512ea545e4), binary.LittleEndian.Uint64([]byte(EventIxTag)))
	require.Equal(t, string(idl.EventIxTag[:]), EventIxTag)
}

func splToken(t testing.TB) *idl.IDL {
	t.Helper()
	p, err := idl.Parse(fixtures.SPLTokenIDL)
	require.NoError(t, err)
	return p
}

func TestRealTransactionDecodesSPLToken(t *testing.T) {
	u := loadDP4(t)
	token := splToken(t)
	x := New(Config{IDLs: idl.NewRegistry(token)})
	evs, err := x.Update(u, 0, nil)
	require.NoError(t, err)
	require.Len(t, evs, 20)

	var types []string
	transfers := 0
	for _, ev := range evs {
		in := ev.Instruction
		if in.ProgramID != token.Address {
			require.Nil(t, in.Decoded, "%v: no IDL for %v", in.Path, in.ProgramID)
			continue
		}
		require.NotNil(t, in.Decoded, "SPL Token instruction %v (data %x) does not decode", in.Path, in.Data)
		d := in.Decoded
		require.Equal(t, event.DecodedInstruction, d.Kind)
		require.Equal(t, "spl_token", d.Program)
		types = append(types, d.Type)
		if d.Name == "transfer" {
			transfers++
			require.Equal(t, "spl_token::Transfer", d.Type)
			require.Len(t, in.Data, 9)
			require.Equal(t, binary.LittleEndian.Uint64(in.Data[1:9]), d.Fields["amount"], "amount of %v", in.Path)
			named := NamedAccounts(in)
			require.Equal(t, []NamedAccount{
				{"source", in.Accounts[0]}, {"destination", in.Accounts[1]}, {"authority", in.Accounts[2]},
			}, named)
			obj := AccountsObject(in)
			require.Equal(t, in.Accounts[1].String(), obj["destination"])
		}
	}
	require.Equal(t, []string{
		"spl_token::GetAccountDataSize", "spl_token::InitializeImmutableOwner", "spl_token::InitializeAccount3",
		"spl_token::Transfer", "spl_token::Transfer", "spl_token::Transfer", "spl_token::Transfer",
		"spl_token::Transfer", "spl_token::CloseAccount",
	}, types)
	require.Equal(t, 5, transfers)
	// Transfer amounts from the data: 1,035,733; 516,831,004 (twice); 44,833,319 (twice).
	require.Equal(t, uint64(1035733), evs[10].Instruction.Decoded.Fields["amount"])
}

// anchorIDL is a small Anchor (0.30+) IDL with an instruction, an account and an event.
func anchorIDL(t testing.TB, program solana.Pubkey) *idl.IDL {
	t.Helper()
	doc := `{
  "address": "` + program.String() + `",
  "metadata": {"name": "demo", "version": "0.1.0", "spec": "0.1.0"},
  "instructions": [{
    "name": "do_swap",
    "discriminator": [170, 0, 0, 0, 0, 0, 0, 1],
    "accounts": [{"name": "user", "signer": true}, {"name": "pool", "writable": true}],
    "args": [{"name": "amountIn", "type": "u64"}]
  }],
  "accounts": [{"name": "Pool", "discriminator": [9, 9, 9, 9, 9, 9, 9, 9]}],
  "events": [{"name": "SwapEvent", "discriminator": [1, 2, 3, 4, 5, 6, 7, 8]}],
  "types": [
    {"name": "Pool", "type": {"kind": "struct", "fields": [{"name": "swapCount", "type": "u64"}]}},
    {"name": "SwapEvent", "type": {"kind": "struct", "fields": [{"name": "amount", "type": "u64"}, {"name": "user", "type": "pubkey"}]}}
  ]
}`
	p, err := idl.Parse([]byte(doc))
	require.NoError(t, err)
	return p
}

func u64le(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

func TestDecodeWithAnchorIDL(t *testing.T) {
	prog, user, pool := key("demo-program"), key("user"), key("pool")
	p := anchorIDL(t, prog)
	x := New(Config{IDLs: idl.NewRegistry(p)})

	swapEvent := append(append([]byte{1, 2, 3, 4, 5, 6, 7, 8}, u64le(500)...), user[:]...)
	spec := txSpec{
		sig:    sigOf("anchor"),
		static: []solana.Pubkey{user, pool, prog},
		tops: []*geyserpb.CompiledInstruction{
			ix(2, []byte{0, 1, 0}, append([]byte{170, 0, 0, 0, 0, 0, 0, 1}, u64le(777)...)),
			ix(2, []byte{0}, []byte{0xde, 0xad}), // unknown discriminator
		},
		inner: []*geyserpb.InnerInstructions{{Index: 0, Instructions: []*geyserpb.InnerInstruction{
			inner(2, []byte{0}, append([]byte(EventIxTag), swapEvent...), 2),
		}}},
		logs: []string{
			"Program " + prog.String() + " invoke [1]",
			"Program data: " + base64.StdEncoding.EncodeToString(swapEvent),
			"Program data: " + base64.StdEncoding.EncodeToString([]byte{8, 8, 8, 8, 8, 8, 8, 8}),
			"Program " + prog.String() + " invoke [2]",
			"Program " + prog.String() + " success",
			"Program " + prog.String() + " success",
		},
	}
	evs, err := x.Update(spec.update(), 0, nil)
	require.NoError(t, err)
	require.Len(t, evs, 3)

	top := evs[0].Instruction
	require.Equal(t, &event.Decoded{
		Kind: event.DecodedInstruction, Program: "demo", Name: "do_swap", Type: "demo::DoSwap",
		Fields: map[string]any{"amount_in": uint64(777)}, AccountNames: []string{"user", "pool"},
	}, top.Decoded)
	require.Equal(t, []NamedAccount{{"user", user}, {"pool", pool}}, NamedAccounts(top), "the third account is dropped")
	require.Len(t, top.LogEvents, 2)
	wantEvent := &event.Decoded{Kind: event.DecodedEvent, Program: "demo", Name: "SwapEvent", Type: "demo::SwapEvent",
		Fields: map[string]any{"amount": uint64(500), "user": user.String()}}
	require.Equal(t, wantEvent, top.LogEvents[0].Decoded)
	require.Nil(t, top.LogEvents[1].Decoded, "unknown event discriminator")

	cpi := evs[1].Instruction
	require.True(t, cpi.CPIEvent)
	require.Equal(t, wantEvent, cpi.Decoded)
	require.Nil(t, NamedAccounts(cpi))

	require.Nil(t, evs[2].Instruction.Decoded)
	require.Nil(t, NamedAccounts(evs[2].Instruction))

	// Account updates are decoded by the owner's IDL.
	data := append([]byte{9, 9, 9, 9, 9, 9, 9, 9}, u64le(12)...)
	evs, err = x.Update(accountUpdate(pool, prog, data, 5, 1, nil), 0, nil)
	require.NoError(t, err)
	require.Equal(t, &event.Decoded{Kind: event.DecodedAccount, Program: "demo", Name: "Pool", Type: "demo::Pool",
		Fields: map[string]any{"swap_count": uint64(12)}}, evs[0].Account.Decoded)

	// Not decoded: another owner, or data that matches no account.
	evs, err = x.Update(accountUpdate(pool, user, data, 5, 1, nil), 0, nil)
	require.NoError(t, err)
	require.Nil(t, evs[0].Account.Decoded)
	evs, err = x.Update(accountUpdate(pool, prog, []byte{1, 2}, 5, 1, nil), 0, nil)
	require.NoError(t, err)
	require.Nil(t, evs[0].Account.Decoded)
}

func TestDecodeSPLTokenAccount(t *testing.T) {
	token := splToken(t)
	x := New(Config{IDLs: idl.NewRegistry(token)})
	mint, owner := key("mint"), key("owner")
	data := make([]byte, 165)
	copy(data[0:32], mint[:])
	copy(data[32:64], owner[:])
	binary.LittleEndian.PutUint64(data[64:72], 123456789)
	data[108] = 1 // state: initialized
	evs, err := x.Update(accountUpdate(key("ata"), token.Address, data, 1, 1, nil), 0, nil)
	require.NoError(t, err)
	d := evs[0].Account.Decoded
	require.NotNil(t, d)
	require.Equal(t, "spl_token::Account", d.Type)
	require.Equal(t, mint.String(), d.Fields["mint"])
	require.Equal(t, owner.String(), d.Fields["owner"])
	require.Equal(t, uint64(123456789), d.Fields["amount"])
}
