package idl

import (
	"encoding/base64"
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/mr-tron/base58"
	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/solana"
)

func TestPubkeyBase58MatchesGeneralEncoder(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(7, 7))
	check := func(pk [32]byte) {
		require.Equal(t, base58.Encode(pk[:]), string(appendPubkeyBase58(nil, &pk)), "%x", pk)
	}
	check([32]byte{})
	var ones [32]byte
	for i := range ones {
		ones[i] = 0xff
	}
	check(ones)
	for i := 0; i < 5000; i++ {
		var pk [32]byte
		for j := range pk {
			pk[j] = byte(r.IntN(256))
		}
		// Leading zero bytes and small numbers exercise the '1' prefix and digit trimming.
		clear(pk[:r.IntN(33)])
		check(pk)
	}
}

func TestSnakeAndPascalCase(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"isAuto": "is_auto", "LbPair": "lb_pair", "end_at": "end_at", "MyIDL": "my_i_d_l",
		"initialize": "initialize", "_padding_0": "_padding_0", "entropyVar": "entropy_var",
	} {
		require.Equal(t, want, SnakeCase(in), in)
	}
	for in, want := range map[string]string{
		"claimSol": "ClaimSol", "transfer_checked": "TransferChecked", "deploy": "Deploy", "set_params": "SetParams",
	} {
		require.Equal(t, want, PascalCase(in), in)
	}
}

func TestLegacyAnchorIDL(t *testing.T) {
	t.Parallel()
	doc := `{
	  "version": "0.1.0", "name": "counter",
	  "instructions": [
	    {"name": "setCount", "accounts": [
	        {"name": "counter", "isMut": true, "isSigner": false},
	        {"name": "group", "accounts": [{"name": "authority", "isMut": false, "isSigner": true}]}],
	     "args": [{"name": "newCount", "type": "u64"}, {"name": "label", "type": {"option": "string"}}]}
	  ],
	  "accounts": [
	    {"name": "Counter", "type": {"kind": "struct", "fields": [
	        {"name": "authority", "type": "publicKey"},
	        {"name": "count", "type": "u64"},
	        {"name": "history", "type": {"vec": {"defined": "Entry"}}}]}}
	  ],
	  "types": [
	    {"name": "Entry", "type": {"kind": "struct", "fields": [{"name": "atSlot", "type": "u64"}, {"name": "kind", "type": {"defined": "Kind"}}]}},
	    {"name": "Kind", "type": {"kind": "enum", "variants": [{"name": "Inc"}, {"name": "Set", "fields": [{"name": "value", "type": "i32"}]}, {"name": "Tuple", "fields": ["u8", "bool"]}]}}
	  ],
	  "events": [{"name": "CountChanged", "fields": [{"name": "count", "type": "u64", "index": false}]}],
	  "metadata": {"address": "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"}
	}`
	p, err := Parse([]byte(doc))
	require.NoError(t, err)
	require.Equal(t, FormatAnchorLegacy, p.Format)
	require.Equal(t, "counter", p.Name)
	require.Equal(t, "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA", p.Address.String())
	ix := p.Instructions[0]
	// Anchor derives the instruction discriminator from the snake_case name.
	require.Equal(t, AnchorDiscriminator("global", "set_count"), ix.Discriminator)
	require.Equal(t, []AccountMeta{{Name: "counter", Writable: true}, {Name: "authority", Signer: true}}, ix.Accounts)
	require.Equal(t, AnchorDiscriminator("account", "Counter"), p.Accounts[0].Discriminator)
	require.Equal(t, AnchorDiscriminator("event", "CountChanged"), p.Events[0].Discriminator)

	owner := solana.MustPubkey("oreV3EG1i9BEgiAJ8b177Z2S2rMarzak4NMv1kULvWv")
	value := map[string]any{
		"authority": owner.String(),
		"count":     uint64(42),
		"history": []any{
			map[string]any{"at_slot": uint64(1000), "kind": "Inc"},
			map[string]any{"at_slot": uint64(1001), "kind": map[string]any{"Set": map[string]any{"value": int64(-5)}}},
			map[string]any{"at_slot": uint64(1002), "kind": map[string]any{"Tuple": []any{uint64(3), true}}},
		},
	}
	data, err := p.EncodeAccount("Counter", value)
	require.NoError(t, err)
	require.Equal(t, p.Accounts[0].Discriminator, data[:8])
	// 8 disc + 32 + 8 + 4 + (8+1) + (8+1+4) + (8+1+1+1)
	require.Len(t, data, 8+32+8+4+9+13+11)
	name, got, err := p.DecodeAccount(data)
	require.NoError(t, err)
	require.Equal(t, "Counter", name)
	require.Equal(t, value, got)

	// Spare room after the struct is allowed, unless Strict.
	_, _, err = p.DecodeAccount(append(data, 0, 0, 0))
	require.NoError(t, err)
	strict := *p
	strict.Strict = true
	_, _, err = strict.DecodeAccount(append(data, 0, 0, 0))
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	require.ErrorIs(t, err, ErrTrailingBytes)
	require.Equal(t, len(data), de.Offset)

	// A short buffer names the field and offset.
	_, _, err = p.DecodeAccount(data[:8+32+4])
	require.ErrorAs(t, err, &de)
	require.ErrorIs(t, err, ErrShortBuffer)
	require.Equal(t, "count", de.Path)
	require.Equal(t, 40, de.Offset)
	require.Equal(t, "u64", de.Type)

	_, err = p.DecodeAccountAs("Counter", data[:7])
	require.ErrorIs(t, err, ErrUnknownDiscriminator)

	ixData, err := p.EncodeInstruction("setCount", map[string]any{"new_count": 9, "label": "x"})
	require.NoError(t, err)
	def, args, err := p.DecodeInstruction(ixData)
	require.NoError(t, err)
	require.Equal(t, "setCount", def.Name)
	require.Equal(t, map[string]any{"new_count": uint64(9), "label": "x"}, args)

	_, _, err = p.DecodeInstruction(ixData[:len(ixData)-1])
	require.ErrorAs(t, err, &de)
	require.Equal(t, "setCount.label", de.Path)
	require.ErrorIs(t, err, ErrShortBuffer)

	_, _, err = p.DecodeInstruction([]byte{1, 2, 3, 4, 5, 6, 7, 8})
	require.ErrorIs(t, err, ErrUnknownDiscriminator)
}

func TestPadShortArgs(t *testing.T) {
	t.Parallel()
	p, err := Parse([]byte(`{"address":"TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA","metadata":{"name":"x","version":"1","spec":"0.1.0"},
	  "instructions":[{"name":"go","discriminator":[5],"accounts":[],"args":[{"name":"a","type":"u64"},{"name":"b","type":"u64"}]}]}`))
	require.NoError(t, err)
	data := []byte{5, 1, 0, 0, 0, 0, 0, 0, 0, 2}
	_, _, err = p.DecodeInstruction(data)
	require.ErrorIs(t, err, ErrShortBuffer)
	p.PadShortArgs = true
	_, args, err := p.DecodeInstruction(data)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"a": uint64(1), "b": uint64(2)}, args)
}

func TestAnchorEvents(t *testing.T) {
	t.Parallel()
	p, err := ParseFile(sharedFixture(t, "idl/pump.idl.json"))
	require.NoError(t, err)
	mint := solana.MustPubkey("So11111111111111111111111111111111111111112")
	user := solana.MustPubkey("oreV3EG1i9BEgiAJ8b177Z2S2rMarzak4NMv1kULvWv")
	ev, ok := p.Event("TradeEvent")
	require.True(t, ok)
	value := map[string]any{}
	for _, f := range ev.layout.fields {
		switch f.node.kind {
		case KindPubkey:
			value[f.key] = user.String()
		case KindBool:
			value[f.key] = true
		case KindI64:
			value[f.key] = int64(-1_700_000_000)
		default:
			value[f.key] = uint64(123_456_789_000)
		}
	}
	value["mint"] = mint.String()
	data, err := p.EncodeEvent("TradeEvent", value)
	require.NoError(t, err)
	require.Equal(t, AnchorDiscriminator("event", "TradeEvent"), data[:8])

	// As a `Program data:` log line.
	name, got, err := p.DecodeEventLog("Program data: " + base64.StdEncoding.EncodeToString(data))
	require.NoError(t, err)
	require.Equal(t, "TradeEvent", name)
	require.Equal(t, value, got)

	// As self-CPI instruction data.
	cpi := append(append([]byte{}, EventIxTag[:]...), data...)
	name, got, err = p.DecodeEvent(cpi)
	require.NoError(t, err)
	require.Equal(t, "TradeEvent", name)
	require.Equal(t, value, got)

	_, _, err = p.DecodeEvent(cpi[:20])
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	require.ErrorIs(t, err, ErrShortBuffer)

	_, _, err = p.DecodeEventLog("Program data: !!!")
	require.ErrorIs(t, err, ErrInvalidValue)
}

func TestOreAccountsAndEvents(t *testing.T) {
	t.Parallel()
	p, err := ParseFile(sharedFixture(t, "hyperstack/ore.idl.json"))
	require.NoError(t, err)

	// A Round laid out by hand: discriminator 109, then the fields in order, all 8-aligned.
	round := make([]byte, 568)
	round[0] = 109
	binary.LittleEndian.PutUint64(round[8:], 4242)               // id
	binary.LittleEndian.PutUint64(round[16+8*3:], 1_000_000_000) // deployed[3]
	round[216] = 0xab                                            // slot_hash[0]
	binary.LittleEndian.PutUint64(round[248+8*24:], 17)          // count[24]
	binary.LittleEndian.PutUint64(round[448:], 300_000_123)      // expires_at
	name, v, err := p.DecodeAccount(round)
	require.NoError(t, err)
	require.Equal(t, "Round", name)
	require.Equal(t, uint64(4242), v["id"])
	require.Equal(t, uint64(1_000_000_000), v["deployed"].([]any)[3])
	require.Equal(t, uint64(0xab), v["slot_hash"].([]any)[0])
	require.Equal(t, uint64(17), v["count"].([]any)[24])
	require.Equal(t, uint64(300_000_123), v["expires_at"])
	require.Equal(t, "11111111111111111111111111111111", v["top_miner"])
	back, err := p.EncodeAccount("Round", v)
	require.NoError(t, err)
	require.Equal(t, round, back)

	// Steel events include their discriminator as the `disc` field.
	ev := map[string]any{"disc": uint64(3), "sol_amount": uint64(5), "recipient": v["rent_payer"], "ts": int64(1_770_000_000)}
	data, err := p.EncodeEvent("LiqEvent", ev)
	require.NoError(t, err)
	require.Equal(t, []byte{3, 0, 0, 0, 0, 0, 0, 0}, data[:8])
	require.Len(t, data, 8+8+32+8)
	name, got, err := p.DecodeEvent(data)
	require.NoError(t, err)
	require.Equal(t, "LiqEvent", name)
	require.Equal(t, ev, got)
	delete(ev, "disc")
	again, err := p.EncodeEvent("LiqEvent", ev)
	require.NoError(t, err)
	require.Equal(t, data, again)

	// Steel instructions: one-byte discriminant, then the arguments.
	ixData, err := p.EncodeInstruction("deploy", map[string]any{"amount": 10, "squares": 0x1ffffff})
	require.NoError(t, err)
	require.Equal(t, byte(6), ixData[0])
	def, args, err := p.DecodeInstruction(ixData)
	require.NoError(t, err)
	require.Equal(t, "deploy", def.Name)
	require.Equal(t, uint64(10), args["amount"])
}

func TestRegistry(t *testing.T) {
	t.Parallel()
	spl := loadSPLToken(t)
	r := NewRegistry(spl)
	got, ok := r.Lookup(solana.MustPubkey("TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"))
	require.True(t, ok)
	require.Same(t, spl, got)
	_, ok = r.Lookup(solana.Pubkey{})
	require.False(t, ok)
	other := &IDL{Name: "other", Address: solana.MustPubkey("oreV3EG1i9BEgiAJ8b177Z2S2rMarzak4NMv1kULvWv")}
	r.Add(other)
	got, ok = r.Lookup(other.Address)
	require.True(t, ok)
	require.Same(t, other, got)
	require.Len(t, r.All(), 2)
}

// Decoding shares the IDL (and its pubkey text cache) between goroutines.
func TestConcurrentDecode(t *testing.T) {
	t.Parallel()
	p := loadSPLToken(t)
	const workers, each = 4, 500
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func(seed uint64) {
			r := rand.New(rand.NewPCG(seed, seed))
			for i := 0; i < each; i++ {
				var mint, owner solana.Pubkey
				for j := range mint {
					// Few distinct first bytes: goroutines collide on cache slots.
					mint[j], owner[j] = byte(r.IntN(4)), byte(r.IntN(256))
				}
				acc := make([]byte, 165)
				copy(acc, mint[:])
				copy(acc[32:], owner[:])
				_, v, err := p.DecodeAccount(acc)
				if err == nil && (v["mint"] != mint.String() || v["owner"] != owner.String()) {
					err = errTest("wrong pubkey text")
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(uint64(w + 1))
	}
	for w := 0; w < workers; w++ {
		require.NoError(t, <-errs)
	}
}

type errTest string

func (e errTest) Error() string { return string(e) }
