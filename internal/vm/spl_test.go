package vm

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// The SPL Token demo stack (fixtures/stacks/spl-token.stack.json): Mint (supply, decimals,
// authorities, transfer count/volume through a token account → mint lookup, recent transfers) and
// TokenAccount (mint, owner, amount, state).

type splWorld struct {
	t    *testing.T
	m    *Machine
	idl  *idl.IDL
	id   solana.Pubkey
	wv   uint64
	muts []event.Mutation
}

func newSPLWorld(t *testing.T) *splWorld {
	p := loadProgram(t, repoFixture(t, "fixtures/stacks/spl-token.stack.json"))
	require.Empty(t, p.Warnings)
	m, err := NewMachine(p, nil)
	require.NoError(t, err)
	return &splWorld{t: t, m: m, idl: p.Programs[0].IDL, id: p.Programs[0].ID}
}

func (w *splWorld) process(ev *event.Event) []event.Mutation {
	muts, err := w.m.Process(ev)
	require.NoError(w.t, err)
	w.muts = append(w.muts, muts...)
	return muts
}

func (w *splWorld) mint(addr solana.Pubkey, slot, supply uint64, decimals uint8) []event.Mutation {
	data, err := w.idl.EncodeAccount("Mint", map[string]any{
		"mint_authority": pk("mint-authority").String(), "supply": supply, "decimals": uint64(decimals),
		"is_initialized": true, "freeze_authority": nil,
	})
	require.NoError(w.t, err)
	require.Len(w.t, data, 82)
	w.wv++
	return w.process(&event.Event{Kind: event.KindAccount, Slot: slot, Account: &event.Account{Pubkey: addr, Owner: w.id, Data: data, Slot: slot, WriteVersion: w.wv}})
}

func (w *splWorld) tokenAccount(addr, mint, owner solana.Pubkey, slot, amount uint64) []event.Mutation {
	data, err := w.idl.EncodeAccount("Account", map[string]any{
		"mint": mint.String(), "owner": owner.String(), "amount": amount, "delegate": nil, "state": "Initialized",
		"is_native": nil, "delegated_amount": uint64(0), "close_authority": nil,
	})
	require.NoError(w.t, err)
	require.Len(w.t, data, 165)
	w.wv++
	return w.process(&event.Event{Kind: event.KindAccount, Slot: slot, Account: &event.Account{Pubkey: addr, Owner: w.id, Data: data, Slot: slot, WriteVersion: w.wv}})
}

func (w *splWorld) transfer(src, dst solana.Pubkey, slot, amount uint64, txnIndex uint64) []event.Mutation {
	data, err := w.idl.EncodeInstruction("transfer", map[string]any{"amount": amount})
	require.NoError(w.t, err)
	return w.process(&event.Event{Kind: event.KindInstruction, Slot: slot, Instruction: &event.Instruction{
		Signature: sig(fmt.Sprint("transfer", slot, txnIndex)), Slot: slot, TxnIndex: txnIndex, Path: []int{0},
		ProgramID: w.id, Accounts: []solana.Pubkey{src, dst, pk("owner")}, Data: data,
	}})
}

func (w *splWorld) transferChecked(src, mint, dst solana.Pubkey, slot, amount uint64, decimals uint8) []event.Mutation {
	data, err := w.idl.EncodeInstruction("transfer_checked", map[string]any{"amount": amount, "decimals": uint64(decimals)})
	require.NoError(w.t, err)
	return w.process(&event.Event{Kind: event.KindInstruction, Slot: slot, Instruction: &event.Instruction{
		Signature: sig(fmt.Sprint("checked", slot)), Slot: slot, Path: []int{0},
		ProgramID: w.id, Accounts: []solana.Pubkey{src, mint, dst, pk("owner")}, Data: data,
	}})
}

func TestSPLTokenDemoStack(t *testing.T) {
	w := newSPLWorld(t)
	mint, a, b, c, owner := pk("usdc-mint"), pk("token-a"), pk("token-b"), pk("token-c"), pk("owner")
	mintKey := jsonOf(t, mint.String())

	muts := w.mint(mint, 100, 5_000_000_000, 6)
	require.Len(t, muts, 1)
	require.Equal(t, mintKey, string(muts[0].Key))
	require.Equal(t, fmt.Sprintf(`{"id":{"mint":%q},"state":{"decimals":6,"freeze_authority":null,"is_initialized":true,"mint_authority":%q,"supply":5000000000,"ui_supply":5000.0}}`,
		mint, pk("mint-authority")), string(muts[0].Patch))

	// Token accounts update TokenAccount and teach the Mint entity which mint they hold (a hidden
	// field and the lookup index: the Mint row itself does not change, so it emits nothing).
	muts = w.tokenAccount(a, mint, owner, 101, 700)
	require.Len(t, muts, 1)
	require.Equal(t, "TokenAccount", muts[0].Export)
	require.Equal(t, fmt.Sprintf(`{"id":{"address":%q},"token":{"amount":700,"delegate":null,"delegated_amount":0,"mint":%q,"owner":%q,"state":"Initialized"}}`,
		a, mint, owner), string(muts[0].Patch))
	w.tokenAccount(b, mint, pk("owner-b"), 101, 0)

	// A transfer from a known token account is attributed to its mint.
	muts = w.transfer(a, b, 102, 250, 0)
	require.Len(t, muts, 1)
	require.Equal(t, mintKey, string(muts[0].Key))
	require.Equal(t, []string{"transfers.recent_transfers"}, muts[0].Append)
	require.Equal(t, fmt.Sprintf(`{"transfers":{"recent_transfers":[{"accounts":{"authority":%q,"destination":%q,"source":%q},"data":{"amount":250}}],"transfer_count":1,"transfer_volume":250,"ui_volume":0.00025}}`,
		owner, b, a), string(muts[0].Patch))

	// A transfer from an account not seen yet waits for it.
	require.Empty(t, w.transfer(c, a, 103, 50, 0))
	muts = w.tokenAccount(c, mint, owner, 104, 10)
	require.Len(t, muts, 2)
	require.Equal(t, "spl_token::TransferIxState", muts[0].Handler, "the Mint handler runs first and replays the transfer")
	require.Equal(t, uint64(103), muts[0].Slot)
	require.Equal(t, "TokenAccount", muts[1].Export)

	// transfer_checked names the mint directly.
	w.transferChecked(b, mint, a, 105, 1_000_000, 6)
	w.tokenAccount(a, mint, owner, 105, 1_000_450)
	w.mint(mint, 106, 6_000_000_000, 6)

	want := fmt.Sprintf(`{
		"id": {"mint": %q},
		"state": {"decimals": 6, "freeze_authority": null, "is_initialized": true, "mint_authority": %q,
			"supply": 6000000000, "ui_supply": 6000.0},
		"transfers": {"transfer_count": 3, "transfer_volume": 1000300, "ui_volume": 1.0003,
			"recent_transfers": [
				{"accounts": {"authority": %q, "destination": %q, "source": %q}, "data": {"amount": 250}},
				{"accounts": {"authority": %q, "destination": %q, "source": %q}, "data": {"amount": 50}},
				{"accounts": {"authority": %q, "destination": %q, "mint": %q, "source": %q}, "data": {"amount": 1000000, "decimals": 6}}
			]}
	}`, mint, pk("mint-authority"), owner, b, a, owner, a, c, owner, a, mint, b)
	require.JSONEq(t, want, jsonOf(t, foldState(t, w.muts, "Mint", mintKey)))
	require.JSONEq(t, fmt.Sprintf(`{"id":{"address":%q},"token":{"amount":1000450,"delegate":null,"delegated_amount":0,"mint":%q,"owner":%q,"state":"Initialized"}}`, a, mint, owner),
		jsonOf(t, foldState(t, w.muts, "TokenAccount", jsonOf(t, a.String()))))
	s := w.m.Stats()
	require.Equal(t, uint64(0), s.HandlerErrors)
	require.Equal(t, 0, s.PendingNow)
}
