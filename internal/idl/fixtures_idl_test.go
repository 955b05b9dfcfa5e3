package idl

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"testing"

	"github.com/mr-tron/base58"
	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

func TestParseSharedIDLs(t *testing.T) {
	t.Parallel()
	cases := []struct {
		file                                string
		name, version, address              string
		format                              Format
		accounts, instructions, events, tys int
		discSize                            int
	}{
		{"hyperstack/ore.idl.json", "ore", "3.7.22", "oreV3EG1i9BEgiAJ8b177Z2S2rMarzak4NMv1kULvWv", FormatSteel, 7, 19, 4, 5, 1},
		{"hyperstack/entropy.idl.json", "entropy", "0.1.5", "3jSkUuYBoJzQPMEzTvkDFXCZUBksPamrVhrnHR9igu2X", FormatSteel, 1, 5, 0, 0, 1},
		{"idl/pump.idl.json", "pump", "0.1.0", "6EF8rrecthR5Dkzon8Nwu78hRvfCKubJ14M5uBEwF6P", FormatAnchor, 2, 6, 4, 6, 8},
		{"idl/meteora_dlmm.idl.json", "lb_clmm", "0.11.0", "LBUZKhRxPF3XUpBCjp4YzTKgLccjZhTSDM9YuVaPwxo", FormatAnchor, 12, 74, 25, 77, 8},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			t.Parallel()
			p, err := ParseFile(sharedFixture(t, c.file))
			require.NoError(t, err)
			require.Equal(t, c.name, p.Name)
			require.Equal(t, c.version, p.Version)
			require.Equal(t, c.address, p.Address.String())
			require.Equal(t, c.format, p.Format)
			require.Len(t, p.Accounts, c.accounts)
			require.Len(t, p.Instructions, c.instructions)
			require.Len(t, p.Events, c.events)
			require.Len(t, p.Types, c.tys)
			require.Equal(t, c.discSize, p.DiscriminantSize)
		})
	}
}

func TestParseOreDetails(t *testing.T) {
	t.Parallel()
	p, err := ParseFile(sharedFixture(t, "hyperstack/ore.idl.json"))
	require.NoError(t, err)
	var names []string
	for _, ix := range p.Instructions {
		names = append(names, ix.Name)
		require.Len(t, ix.Discriminator, 1, ix.Name)
	}
	require.Subset(t, names, []string{"automate", "checkpoint", "claimSol", "claimOre", "close", "deploy", "log", "reset"})
	deploy, ok := p.Instruction("deploy")
	require.True(t, ok)
	require.Equal(t, []byte{6}, deploy.Discriminator)
	require.Equal(t, "signer", deploy.Accounts[0].Name)
	require.True(t, deploy.Accounts[0].Signer)
	require.True(t, deploy.Accounts[0].Writable)

	round, ok := p.Account("Round")
	require.True(t, ok)
	require.Equal(t, []byte{109, 0, 0, 0, 0, 0, 0, 0}, round.Discriminator)
	require.Equal(t, 568-8, round.layout.size, "Round is 568 bytes with its discriminator")
	board, _ := p.Account("Board")
	require.Equal(t, 40-8, board.layout.size)

	// Steel events carry their discriminator as their first field.
	for _, ev := range p.Events {
		require.True(t, ev.DiscriminatorInPayload, ev.Name)
	}
}

func TestParseMeteoraLayouts(t *testing.T) {
	t.Parallel()
	p, err := ParseFile(sharedFixture(t, "idl/meteora_dlmm.idl.json"))
	require.NoError(t, err)
	bytemuck, withRepr, structs, enums := 0, 0, 0, 0
	for _, td := range p.Types {
		if td.Serialization == SerializationBytemuck {
			bytemuck++
		}
		if td.Repr != nil {
			withRepr++
		}
		switch td.Kind {
		case TypeDefStruct, TypeDefTupleStruct:
			structs++
		case TypeDefEnum:
			enums++
		}
	}
	require.Equal(t, 19, bytemuck)
	require.Equal(t, 24, withRepr)
	require.Equal(t, 69, structs)
	require.Equal(t, 8, enums)
	// Zero-copy account sizes (without the 8-byte discriminator) as allocated on chain.
	for name, size := range map[string]int{"LbPair": 896, "BinArray": 10128, "PositionV2": 8112, "Oracle": 24} {
		a, ok := p.Account(name)
		require.True(t, ok, name)
		require.Equal(t, size, a.layout.size, name)
	}
	// The discriminators given match Anchor's derivation.
	for _, a := range p.Accounts {
		require.Equal(t, AnchorDiscriminator("account", a.Name), a.Discriminator, a.Name)
	}
	for _, ix := range p.Instructions {
		require.Equal(t, AnchorDiscriminator("global", ix.Name), ix.Discriminator, ix.Name)
	}
	for _, ev := range p.Events {
		require.Equal(t, AnchorDiscriminator("event", ev.Name), ev.Discriminator, ev.Name)
	}
}

func TestParseStackSnapshots(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(sharedFixture(t, "hyperstack/OreStream.stack.json"))
	require.NoError(t, err)
	idls, err := ParseStack(data)
	require.NoError(t, err)
	require.Len(t, idls, 2)
	ore, entropy := idls[0], idls[1]
	require.Equal(t, FormatSnapshot, ore.Format)
	require.Equal(t, "ore", ore.Name)
	require.Equal(t, "3.7.22", ore.Version)
	require.Equal(t, "oreV3EG1i9BEgiAJ8b177Z2S2rMarzak4NMv1kULvWv", ore.Address.String())
	require.Len(t, ore.Accounts, 7)
	require.Len(t, ore.Instructions, 19)
	require.Len(t, ore.Types, 12)
	require.Len(t, ore.Events, 4)
	require.Equal(t, 1, ore.DiscriminantSize)
	require.Equal(t, "entropy", entropy.Name)
	require.Equal(t, "0.1.5", entropy.Version)
	require.Len(t, entropy.Accounts, 1)
	require.Len(t, entropy.Instructions, 5)
	require.Equal(t, 1, entropy.DiscriminantSize)

	// Parse on a whole stack.json reads the first snapshot.
	first, err := Parse(data)
	require.NoError(t, err)
	require.Equal(t, "ore", first.Name)

	// The snapshot and the Steel IDL describe the same layouts.
	steel, err := ParseFile(sharedFixture(t, "hyperstack/ore.idl.json"))
	require.NoError(t, err)
	for _, a := range steel.Accounts {
		b, ok := ore.Account(a.Name)
		require.True(t, ok, a.Name)
		require.Equal(t, a.Discriminator, b.Discriminator, a.Name)
		require.Equal(t, a.layout.size, b.layout.size, a.Name)
	}
	for _, ix := range steel.Instructions {
		b, ok := ore.Instruction(ix.Name)
		require.True(t, ok, ix.Name)
		require.Equal(t, ix.Discriminator, b.Discriminator, ix.Name)
	}
}

func loadSPLToken(t testing.TB) *IDL {
	t.Helper()
	p, err := ParseFile(repoFile(t, "fixtures/idl/spl-token.json"))
	require.NoError(t, err)
	return p
}

func TestSPLTokenIDL(t *testing.T) {
	t.Parallel()
	p := loadSPLToken(t)
	require.Equal(t, "spl_token", p.Name)
	require.Equal(t, "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", p.Address.String())
	require.Equal(t, 1, p.DiscriminantSize)
	for tag, ix := range p.Instructions {
		require.Equal(t, []byte{byte(tag)}, ix.Discriminator, ix.Name)
	}
	for name, size := range map[string]int{"Mint": 82, "Account": 165, "Multisig": 355} {
		a, ok := p.Account(name)
		require.True(t, ok)
		require.Empty(t, a.Discriminator)
		require.Equal(t, size, a.Size)
		require.Equal(t, size, a.layout.size, "%s layout", name)
	}
}

func TestSPLTokenAccounts(t *testing.T) {
	t.Parallel()
	p := loadSPLToken(t)
	mintKey := solana.MustPubkey("So11111111111111111111111111111111111111112")
	owner := solana.MustPubkey("oreV3EG1i9BEgiAJ8b177Z2S2rMarzak4NMv1kULvWv")
	closeAuth := solana.MustPubkey("3jSkUuYBoJzQPMEzTvkDFXCZUBksPamrVhrnHR9igu2X")

	// Account, laid out by hand as the token program packs it.
	acc := make([]byte, 0, 165)
	acc = append(acc, mintKey[:]...)
	acc = append(acc, owner[:]...)
	acc = binary.LittleEndian.AppendUint64(acc, 1_234_567_890_123)
	acc = append(acc, 0, 0, 0, 0)          // delegate: None
	acc = append(acc, make([]byte, 32)...) // (zeroed key)
	acc = append(acc, 2)                   // state: Frozen
	acc = append(acc, 1, 0, 0, 0)          // is_native: Some
	acc = binary.LittleEndian.AppendUint64(acc, 2_039_280)
	acc = binary.LittleEndian.AppendUint64(acc, 77) // delegated_amount
	acc = append(acc, 1, 0, 0, 0)
	acc = append(acc, closeAuth[:]...)
	require.Len(t, acc, 165)

	name, v, err := p.DecodeAccount(acc)
	require.NoError(t, err)
	require.Equal(t, "Account", name)
	require.Equal(t, map[string]any{
		"mint":             mintKey.String(),
		"owner":            owner.String(),
		"amount":           uint64(1_234_567_890_123),
		"delegate":         nil,
		"state":            "Frozen",
		"is_native":        uint64(2_039_280),
		"delegated_amount": uint64(77),
		"close_authority":  closeAuth.String(),
	}, v)

	// Mint.
	mint := make([]byte, 0, 82)
	mint = append(mint, 1, 0, 0, 0)
	mint = append(mint, owner[:]...)
	mint = binary.LittleEndian.AppendUint64(mint, 5_000_000_000)
	mint = append(mint, 9, 1)
	mint = append(mint, 0, 0, 0, 0)
	mint = append(mint, make([]byte, 32)...)
	name, v, err = p.DecodeAccount(mint)
	require.NoError(t, err)
	require.Equal(t, "Mint", name)
	require.Equal(t, map[string]any{
		"mint_authority":   owner.String(),
		"supply":           uint64(5_000_000_000),
		"decimals":         uint64(9),
		"is_initialized":   true,
		"freeze_authority": nil,
	}, v)

	// Multisig.
	ms := make([]byte, 355)
	ms[0], ms[1], ms[2] = 2, 3, 1
	copy(ms[3:], owner[:])
	name, v, err = p.DecodeAccount(ms)
	require.NoError(t, err)
	require.Equal(t, "Multisig", name)
	require.Equal(t, uint64(2), v["m"])
	signers := v["signers"].([]any)
	require.Len(t, signers, 11)
	require.Equal(t, owner.String(), signers[0])
	require.Equal(t, "11111111111111111111111111111111", signers[1])

	// Any other length is no SPL Token account.
	_, _, err = p.DecodeAccount(acc[:164])
	require.ErrorIs(t, err, ErrUnknownDiscriminator)

	// A corrupt COption tag is reported with its path and offset.
	bad := append([]byte(nil), acc...)
	bad[72] = 7
	_, _, err = p.DecodeAccount(bad)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	require.Equal(t, "delegate", de.Path)
	require.Equal(t, 72, de.Offset)
	require.ErrorIs(t, err, ErrInvalidValue)
}

// vixenInstruction is one entry of the Vixen instruction-fixture JSON.
type vixenInstruction struct {
	IxIndex  []int    `json:"ix_index"`
	Program  []byte   `json:"-"`
	Accounts [][]byte `json:"-"`
	Data     []byte   `json:"-"`
	RawProg  []int    `json:"program"`
	RawAccs  [][]int  `json:"accounts"`
	RawData  []int    `json:"data"`
}

func intsToBytes(in []int) []byte {
	out := make([]byte, len(in))
	for i, v := range in {
		out[i] = byte(v)
	}
	return out
}

func TestSPLTokenRealTransaction(t *testing.T) {
	t.Parallel()
	p := loadSPLToken(t)
	raw, err := os.ReadFile(sharedFixture(t, "yellowstone/dp4-flat-index-tx.json"))
	require.NoError(t, err)
	var doc struct {
		Instructions []vixenInstruction `json:"instructions"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	require.Len(t, doc.Instructions, 20)

	seen := map[string]int{}
	transfers := 0
	for _, ix := range doc.Instructions {
		prog := intsToBytes(ix.RawProg)
		if !p.Address.Equal(prog) {
			continue
		}
		data := intsToBytes(ix.RawData)
		def, args, err := p.DecodeInstruction(data)
		require.NoError(t, err, "instruction %v data %v", ix.IxIndex, data)
		require.Equal(t, data[0], def.Discriminator[0])
		seen[def.Name]++
		switch def.Name {
		case "transfer":
			transfers++
			require.Equal(t, binary.LittleEndian.Uint64(data[1:9]), args["amount"], "instruction %v", ix.IxIndex)
			require.Len(t, ix.RawAccs, len(def.Accounts))
		case "initialize_account3":
			require.Equal(t, base58.Encode(data[1:33]), args["owner"])
		}
	}
	require.Equal(t, 9, seen["transfer"]+seen["close_account"]+seen["initialize_account3"]+
		seen["initialize_immutable_owner"]+seen["get_account_data_size"], "SPL Token instructions: %v", seen)
	require.Equal(t, 5, transfers)
	require.Equal(t, map[string]int{"get_account_data_size": 1, "initialize_immutable_owner": 1,
		"initialize_account3": 1, "transfer": 5, "close_account": 1}, seen)
}
