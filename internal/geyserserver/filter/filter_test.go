package filter_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/mr-tron/base58"
	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/geyserserver/filter"
	"github.com/hyperstack-go/hyperstack/internal/solana"
	"github.com/hyperstack-go/hyperstack/internal/source/geysertest"
)

var (
	k1, k2, k3, k4 = geysertest.Key(1), geysertest.Key(2), geysertest.Key(3), geysertest.Key(4)
	prog           = geysertest.Key(1000)
	other          = geysertest.Key(2000)
)

func ks(keys ...solana.Pubkey) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = k.String()
	}
	return out
}

func compile(t *testing.T, req *geyserpb.SubscribeRequest) *filter.Filter {
	t.Helper()
	f, err := filter.Compile(req)
	require.NoError(t, err)
	return f
}

func accountsReq(filters map[string]*geyserpb.SubscribeRequestFilterAccounts) *geyserpb.SubscribeRequest {
	return &geyserpb.SubscribeRequest{Accounts: filters}
}

func memcmpBytes(off uint64, b []byte) *geyserpb.SubscribeRequestFilterAccountsFilter {
	return &geyserpb.SubscribeRequestFilterAccountsFilter{Filter: &geyserpb.SubscribeRequestFilterAccountsFilter_Memcmp{
		Memcmp: &geyserpb.SubscribeRequestFilterAccountsFilterMemcmp{Offset: off,
			Data: &geyserpb.SubscribeRequestFilterAccountsFilterMemcmp_Bytes{Bytes: b}}}}
}

func datasize(n uint64) *geyserpb.SubscribeRequestFilterAccountsFilter {
	return &geyserpb.SubscribeRequestFilterAccountsFilter{Filter: &geyserpb.SubscribeRequestFilterAccountsFilter_Datasize{Datasize: n}}
}

func lamports(cmp *geyserpb.SubscribeRequestFilterAccountsFilterLamports) *geyserpb.SubscribeRequestFilterAccountsFilter {
	return &geyserpb.SubscribeRequestFilterAccountsFilter{Filter: &geyserpb.SubscribeRequestFilterAccountsFilter_Lamports{Lamports: cmp}}
}

func tokenState() *geyserpb.SubscribeRequestFilterAccountsFilter {
	return &geyserpb.SubscribeRequestFilterAccountsFilter{Filter: &geyserpb.SubscribeRequestFilterAccountsFilter_TokenAccountState{TokenAccountState: true}}
}

func TestAccountsFilter(t *testing.T) {
	data := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	acc := geysertest.Account(5, k1, prog, 1000, data, 1)
	withSig := geysertest.Account(5, k1, prog, 1000, data, 1)
	withSig.GetAccount().GetAccount().TxnSignature = make([]byte, 64)

	cases := []struct {
		name string
		f    *geyserpb.SubscribeRequestFilterAccounts
		u    *geyserpb.SubscribeUpdate
		want bool
	}{
		{"empty matches all", &geyserpb.SubscribeRequestFilterAccounts{}, acc, true},
		{"account listed", &geyserpb.SubscribeRequestFilterAccounts{Account: ks(k2, k1)}, acc, true},
		{"account not listed", &geyserpb.SubscribeRequestFilterAccounts{Account: ks(k2, k3)}, acc, false},
		{"owner listed", &geyserpb.SubscribeRequestFilterAccounts{Owner: ks(other, prog)}, acc, true},
		{"owner not listed", &geyserpb.SubscribeRequestFilterAccounts{Owner: ks(other)}, acc, false},
		{"account AND owner", &geyserpb.SubscribeRequestFilterAccounts{Account: ks(k1), Owner: ks(other)}, acc, false},
		{"account AND owner both hold", &geyserpb.SubscribeRequestFilterAccounts{Account: ks(k1), Owner: ks(prog)}, acc, true},
		{"memcmp hit", &geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{memcmpBytes(2, []byte{3, 4})}}, acc, true},
		{"memcmp miss", &geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{memcmpBytes(2, []byte{4})}}, acc, false},
		{"memcmp at the end", &geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{memcmpBytes(7, []byte{8})}}, acc, true},
		{"memcmp past the end", &geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{memcmpBytes(7, []byte{8, 9})}}, acc, false},
		{"memcmp offset beyond data", &geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{memcmpBytes(100, []byte{})}}, acc, false},
		{"memcmp base58", &geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{{Filter: &geyserpb.SubscribeRequestFilterAccountsFilter_Memcmp{
			Memcmp: &geyserpb.SubscribeRequestFilterAccountsFilterMemcmp{Offset: 0, Data: &geyserpb.SubscribeRequestFilterAccountsFilterMemcmp_Base58{Base58: base58.Encode([]byte{1, 2, 3})}}}}}}, acc, true},
		{"memcmp base64", &geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{{Filter: &geyserpb.SubscribeRequestFilterAccountsFilter_Memcmp{
			Memcmp: &geyserpb.SubscribeRequestFilterAccountsFilterMemcmp{Offset: 5, Data: &geyserpb.SubscribeRequestFilterAccountsFilterMemcmp_Base64{Base64: base64.StdEncoding.EncodeToString([]byte{6, 7})}}}}}}, acc, true},
		{"datasize hit", &geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{datasize(8)}}, acc, true},
		{"datasize miss", &geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{datasize(9)}}, acc, false},
		{"filters ANDed", &geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{datasize(8), memcmpBytes(0, []byte{9})}}, acc, false},
		{"lamports eq", &geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{lamports(&geyserpb.SubscribeRequestFilterAccountsFilterLamports{Cmp: &geyserpb.SubscribeRequestFilterAccountsFilterLamports_Eq{Eq: 1000}})}}, acc, true},
		{"lamports ne", &geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{lamports(&geyserpb.SubscribeRequestFilterAccountsFilterLamports{Cmp: &geyserpb.SubscribeRequestFilterAccountsFilterLamports_Ne{Ne: 1000}})}}, acc, false},
		{"lamports lt", &geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{lamports(&geyserpb.SubscribeRequestFilterAccountsFilterLamports{Cmp: &geyserpb.SubscribeRequestFilterAccountsFilterLamports_Lt{Lt: 1001}})}}, acc, true},
		{"lamports gt", &geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{lamports(&geyserpb.SubscribeRequestFilterAccountsFilterLamports{Cmp: &geyserpb.SubscribeRequestFilterAccountsFilterLamports_Gt{Gt: 1000}})}}, acc, false},
		{"token state on a non-token account", &geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{tokenState()}}, acc, false},
		{"nonempty_txn_signature true, none", &geyserpb.SubscribeRequestFilterAccounts{NonemptyTxnSignature: new(true)}, acc, false},
		{"nonempty_txn_signature true, some", &geyserpb.SubscribeRequestFilterAccounts{NonemptyTxnSignature: new(true)}, withSig, true},
		{"nonempty_txn_signature false, none", &geyserpb.SubscribeRequestFilterAccounts{NonemptyTxnSignature: new(false)}, acc, true},
		{"nonempty_txn_signature false, some", &geyserpb.SubscribeRequestFilterAccounts{NonemptyTxnSignature: new(false)}, withSig, false},
		{"not an account update", &geyserpb.SubscribeRequestFilterAccounts{}, geysertest.Slot(5, 0), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := compile(t, accountsReq(map[string]*geyserpb.SubscribeRequestFilterAccounts{"a": tc.f}))
			if tc.want {
				require.Equal(t, []string{"a"}, f.Match(tc.u))
			} else {
				require.Nil(t, f.Match(tc.u))
			}
		})
	}
}

func tokenAccount(state byte, extra int) []byte {
	d := make([]byte, 165+extra)
	d[108] = state
	if extra > 0 {
		d[165] = 2 // Token-2022 AccountType::Account
	}
	return d
}

func TestTokenAccountState(t *testing.T) {
	require.True(t, filter.IsTokenAccount(tokenAccount(1, 0)))
	require.True(t, filter.IsTokenAccount(tokenAccount(2, 0)), "frozen")
	require.False(t, filter.IsTokenAccount(tokenAccount(0, 0)), "uninitialised")
	require.True(t, filter.IsTokenAccount(tokenAccount(1, 20)), "token-2022 with extensions")
	d := tokenAccount(1, 20)
	d[165] = 1
	require.False(t, filter.IsTokenAccount(d), "a mint")
	require.False(t, filter.IsTokenAccount(tokenAccount(1, 355-165)), "multisig size")
	require.False(t, filter.IsTokenAccount(make([]byte, 82)))

	f := compile(t, accountsReq(map[string]*geyserpb.SubscribeRequestFilterAccounts{
		"tok": {Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{tokenState()}},
	}))
	require.Equal(t, []string{"tok"}, f.Match(geysertest.Account(1, k1, prog, 1, tokenAccount(1, 0), 1)))
	require.Nil(t, f.Match(geysertest.Account(1, k1, prog, 1, tokenAccount(0, 0), 1)))
}

func TestMatchNamesAllMatchingFiltersSorted(t *testing.T) {
	f := compile(t, &geyserpb.SubscribeRequest{
		Accounts: map[string]*geyserpb.SubscribeRequestFilterAccounts{
			"zeta":  {Owner: ks(prog)},
			"alpha": {Account: ks(k1)},
			"miss":  {Account: ks(k2)},
			"all":   {},
		},
		Slots: map[string]*geyserpb.SubscribeRequestFilterSlots{"alpha": {}},
	})
	require.Equal(t, []string{"all", "alpha", "zeta"}, f.Match(geysertest.Account(1, k1, prog, 1, nil, 1)))
	require.Equal(t, []string{"alpha"}, f.Match(geysertest.Slot(1, geyserpb.SlotStatus_SLOT_PROCESSED)))
	require.Equal(t, 5, f.Len())
	require.Equal(t, filter.GroupSlots, f.GroupOf(4))
}

func TestSlotsFilter(t *testing.T) {
	statuses := []geyserpb.SlotStatus{
		geyserpb.SlotStatus_SLOT_PROCESSED, geyserpb.SlotStatus_SLOT_CONFIRMED, geyserpb.SlotStatus_SLOT_FINALIZED,
		geyserpb.SlotStatus_SLOT_FIRST_SHRED_RECEIVED, geyserpb.SlotStatus_SLOT_COMPLETED,
		geyserpb.SlotStatus_SLOT_CREATED_BANK, geyserpb.SlotStatus_SLOT_DEAD,
	}
	cases := []struct {
		name       string
		commitment geyserpb.CommitmentLevel
		f          *geyserpb.SubscribeRequestFilterSlots
		want       []geyserpb.SlotStatus
	}{
		{"default: the three commitment statuses", geyserpb.CommitmentLevel_PROCESSED, &geyserpb.SubscribeRequestFilterSlots{}, statuses[:3]},
		{"interslot updates", geyserpb.CommitmentLevel_PROCESSED, &geyserpb.SubscribeRequestFilterSlots{InterslotUpdates: new(true)}, statuses},
		{"by commitment processed", geyserpb.CommitmentLevel_PROCESSED, &geyserpb.SubscribeRequestFilterSlots{FilterByCommitment: new(true)}, statuses[:1]},
		{"by commitment confirmed", geyserpb.CommitmentLevel_CONFIRMED, &geyserpb.SubscribeRequestFilterSlots{FilterByCommitment: new(true), InterslotUpdates: new(true)}, statuses[1:2]},
		{"by commitment finalized", geyserpb.CommitmentLevel_FINALIZED, &geyserpb.SubscribeRequestFilterSlots{FilterByCommitment: new(true)}, statuses[2:3]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.commitment
			f := compile(t, &geyserpb.SubscribeRequest{Commitment: &c, Slots: map[string]*geyserpb.SubscribeRequestFilterSlots{"s": tc.f}})
			var got []geyserpb.SlotStatus
			for _, st := range statuses {
				if f.Match(geysertest.Slot(9, st)) != nil {
					got = append(got, st)
				}
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestTransactionsFilter(t *testing.T) {
	sig := geysertest.Sig(7)
	ok := geysertest.Transaction(5, sig, false, nil, k1, k2, prog)
	failed := geysertest.Transaction(5, geysertest.Sig(8), false, []byte{1}, k1, prog)
	vote := geysertest.Transaction(5, geysertest.Sig(9), true, nil, k1)
	loaded := geysertest.Transaction(5, geysertest.Sig(10), false, nil, k1)
	loaded.GetTransaction().GetTransaction().Meta.LoadedReadonlyAddresses = [][]byte{k4[:]}
	all := []*geyserpb.SubscribeUpdate{ok, failed, vote, loaded}

	cases := []struct {
		name string
		f    *geyserpb.SubscribeRequestFilterTransactions
		want []*geyserpb.SubscribeUpdate
	}{
		{"empty: everything", &geyserpb.SubscribeRequestFilterTransactions{}, all},
		{"vote=false", &geyserpb.SubscribeRequestFilterTransactions{Vote: new(false)}, []*geyserpb.SubscribeUpdate{ok, failed, loaded}},
		{"vote=true", &geyserpb.SubscribeRequestFilterTransactions{Vote: new(true)}, []*geyserpb.SubscribeUpdate{vote}},
		{"failed=false", &geyserpb.SubscribeRequestFilterTransactions{Failed: new(false)}, []*geyserpb.SubscribeUpdate{ok, vote, loaded}},
		{"failed=true", &geyserpb.SubscribeRequestFilterTransactions{Failed: new(true)}, []*geyserpb.SubscribeUpdate{failed}},
		{"signature", &geyserpb.SubscribeRequestFilterTransactions{Signature: new(sig.String())}, []*geyserpb.SubscribeUpdate{ok}},
		{"include any of", &geyserpb.SubscribeRequestFilterTransactions{AccountInclude: ks(k2, k3)}, []*geyserpb.SubscribeUpdate{ok}},
		{"include sees loaded addresses", &geyserpb.SubscribeRequestFilterTransactions{AccountInclude: ks(k4)}, []*geyserpb.SubscribeUpdate{loaded}},
		{"exclude", &geyserpb.SubscribeRequestFilterTransactions{AccountExclude: ks(prog)}, []*geyserpb.SubscribeUpdate{vote, loaded}},
		{"required all of", &geyserpb.SubscribeRequestFilterTransactions{AccountRequired: ks(k1, prog)}, []*geyserpb.SubscribeUpdate{ok, failed}},
		{"required missing one", &geyserpb.SubscribeRequestFilterTransactions{AccountRequired: ks(k1, k3)}, nil},
		{"include AND vote=false AND failed=false", &geyserpb.SubscribeRequestFilterTransactions{AccountInclude: ks(prog), Vote: new(false), Failed: new(false)}, []*geyserpb.SubscribeUpdate{ok}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := compile(t, &geyserpb.SubscribeRequest{Transactions: map[string]*geyserpb.SubscribeRequestFilterTransactions{"t": tc.f}})
			var got []*geyserpb.SubscribeUpdate
			for _, u := range all {
				if names := f.Match(u); names != nil {
					require.Equal(t, []string{"t"}, names)
					got = append(got, u)
				}
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestTransactionTokenAccounts(t *testing.T) {
	tx := geysertest.Transaction(5, geysertest.Sig(1), false, nil, k1, prog)
	meta := tx.GetTransaction().GetTransaction().Meta
	meta.PreTokenBalances = []*geyserpb.TokenBalance{
		{AccountIndex: 2, Owner: k3.String(), UiTokenAmount: &geyserpb.UiTokenAmount{Amount: "10"}},
		{AccountIndex: 3, Owner: k4.String(), UiTokenAmount: &geyserpb.UiTokenAmount{Amount: "5"}},
	}
	meta.PostTokenBalances = []*geyserpb.TokenBalance{
		{AccountIndex: 2, Owner: k3.String(), UiTokenAmount: &geyserpb.UiTokenAmount{Amount: "7"}},
		{AccountIndex: 3, Owner: k4.String(), UiTokenAmount: &geyserpb.UiTokenAmount{Amount: "5"}},
	}
	match := func(flag *geyserpb.TokenAccountExpansionControlFlag, owner solana.Pubkey) bool {
		f := compile(t, &geyserpb.SubscribeRequest{Transactions: map[string]*geyserpb.SubscribeRequestFilterTransactions{
			"t": {AccountInclude: ks(owner), TokenAccounts: flag},
		}})
		return f.Match(tx) != nil
	}
	all, changed := geyserpb.TokenAccountExpansionControlFlag_ALL, geyserpb.TokenAccountExpansionControlFlag_BALANCE_CHANGED
	require.False(t, match(nil, k3), "owners are not accounts without token_accounts")
	require.True(t, match(&all, k3))
	require.True(t, match(&all, k4))
	require.True(t, match(&changed, k3))
	require.False(t, match(&changed, k4), "k4's balance did not change")
}

func TestTransactionsStatus(t *testing.T) {
	tx := geysertest.Transaction(5, geysertest.Sig(1), false, []byte{9}, k1, prog)
	tx.GetTransaction().GetTransaction().Index = 3
	f := compile(t, &geyserpb.SubscribeRequest{
		Transactions:       map[string]*geyserpb.SubscribeRequestFilterTransactions{"full": {AccountInclude: ks(k2)}},
		TransactionsStatus: map[string]*geyserpb.SubscribeRequestFilterTransactions{"st": {AccountInclude: ks(prog)}},
	})
	require.Nil(t, f.Match(tx))
	require.Equal(t, []string{"st"}, f.MatchStatus(tx))
	out := f.Apply(tx)
	require.Len(t, out, 1)
	st := out[0].GetTransactionStatus()
	require.NotNil(t, st)
	require.Equal(t, []string{"st"}, out[0].Filters)
	require.Equal(t, uint64(5), st.GetSlot())
	require.Equal(t, uint64(3), st.GetIndex())
	sig := geysertest.Sig(1)
	require.Equal(t, sig[:], st.GetSignature())
	require.Equal(t, []byte{9}, st.GetErr().GetErr())
}

func TestBlocksMetaEntryAndBlocks(t *testing.T) {
	f := compile(t, &geyserpb.SubscribeRequest{
		BlocksMeta: map[string]*geyserpb.SubscribeRequestFilterBlocksMeta{"m1": {}, "m2": {}},
		Entry:      map[string]*geyserpb.SubscribeRequestFilterEntry{"e": {}},
		Blocks: map[string]*geyserpb.SubscribeRequestFilterBlocks{
			"default": {},
			"mine":    {AccountInclude: ks(k3), IncludeAccounts: new(true), IncludeEntries: new(true)},
			"nothing": {AccountInclude: ks(other)},
		},
		AccountsDataSlice: []*geyserpb.SubscribeRequestAccountsDataSlice{{Offset: 1, Length: 2}},
	})
	require.Equal(t, []string{"m1", "m2"}, f.Match(geysertest.BlockMeta(3, "h", 1)))
	require.Equal(t, []string{"e"}, f.Match(geysertest.Entry(3, 0)))

	txA := geysertest.Transaction(3, geysertest.Sig(1), false, nil, k1).GetTransaction().GetTransaction()
	txB := geysertest.Transaction(3, geysertest.Sig(2), false, nil, k3).GetTransaction().GetTransaction()
	accA := geysertest.Account(3, k3, prog, 1, []byte{1, 2, 3, 4}, 1).GetAccount().GetAccount()
	accB := geysertest.Account(3, k4, prog, 1, []byte{5, 6}, 2).GetAccount().GetAccount()
	blk := &geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Block{Block: &geyserpb.SubscribeUpdateBlock{
		Slot: 3, Blockhash: "h", Transactions: []*geyserpb.SubscribeUpdateTransactionInfo{txA, txB},
		Accounts: []*geyserpb.SubscribeUpdateAccountInfo{accA, accB},
		Entries:  []*geyserpb.SubscribeUpdateEntry{{Slot: 3, Index: 0}},
	}}}
	require.Equal(t, []string{"default", "mine"}, f.Match(blk))
	out := f.Apply(blk)
	require.Len(t, out, 2)
	def, mine := out[0].GetBlock(), out[1].GetBlock()
	require.Equal(t, []string{"default"}, out[0].Filters)
	require.Len(t, def.Transactions, 2, "transactions included by default")
	require.Empty(t, def.Accounts, "accounts only on request")
	require.Empty(t, def.Entries, "entries only on request")
	require.Equal(t, []string{"mine"}, out[1].Filters)
	require.Equal(t, []*geyserpb.SubscribeUpdateTransactionInfo{txB}, mine.Transactions)
	require.Len(t, mine.Accounts, 1)
	require.Equal(t, []byte{2, 3}, mine.Accounts[0].Data, "accounts_data_slice applies to block accounts")
	require.Len(t, mine.Entries, 1)
	require.Equal(t, []byte{1, 2, 3, 4}, accA.Data, "input untouched")
}

func TestAccountsDataSlice(t *testing.T) {
	f := compile(t, &geyserpb.SubscribeRequest{
		Accounts: map[string]*geyserpb.SubscribeRequestFilterAccounts{"a": {}},
		AccountsDataSlice: []*geyserpb.SubscribeRequestAccountsDataSlice{
			{Offset: 6, Length: 10}, {Offset: 0, Length: 2}, {Offset: 3, Length: 1},
		},
	})
	require.Equal(t, []byte{0, 1, 3, 6, 7}, f.SliceData([]byte{0, 1, 2, 3, 4, 5, 6, 7}), "sorted; a range past the end is cut")
	require.Equal(t, []byte{0}, f.SliceData([]byte{0}))
	u := geysertest.Account(1, k1, prog, 1, []byte{0, 1, 2, 3, 4, 5, 6, 7}, 1)
	out := f.Apply(u)
	require.Len(t, out, 1)
	require.Equal(t, []byte{0, 1, 3, 6, 7}, out[0].GetAccount().GetAccount().GetData())
	require.Equal(t, []string{"a"}, out[0].Filters)
	require.Equal(t, []byte{0, 1, 2, 3, 4, 5, 6, 7}, u.GetAccount().GetAccount().GetData(), "input untouched")
	require.Nil(t, u.Filters)
}

func TestEmptyRequestMatchesNothing(t *testing.T) {
	for _, req := range []*geyserpb.SubscribeRequest{nil, {}} {
		f := compile(t, req)
		require.True(t, f.Empty())
		require.Equal(t, geyserpb.CommitmentLevel_PROCESSED, f.Commitment())
		require.Nil(t, f.Match(geysertest.Account(1, k1, prog, 1, nil, 1)))
		require.Nil(t, f.Match(geysertest.Slot(1, 0)))
		require.Nil(t, f.Apply(geysertest.BlockMeta(1, "h", 1)))
	}
}

func TestCompileErrors(t *testing.T) {
	bad := geyserpb.CommitmentLevel(7)
	acc := func(a *geyserpb.SubscribeRequestFilterAccounts) *geyserpb.SubscribeRequest {
		return accountsReq(map[string]*geyserpb.SubscribeRequestFilterAccounts{"x": a})
	}
	cases := []struct {
		name string
		req  *geyserpb.SubscribeRequest
		err  string
	}{
		{"commitment", &geyserpb.SubscribeRequest{Commitment: &bad}, "unknown commitment level 7"},
		{"bad account", acc(&geyserpb.SubscribeRequestFilterAccounts{Account: []string{"0OIl"}}), `accounts filter "x": account: "0OIl" is not a base58 public key`},
		{"short owner", acc(&geyserpb.SubscribeRequestFilterAccounts{Owner: []string{"abc"}}), `owner: "abc" is not a base58 public key`},
		{"memcmp without data", acc(&geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{{Filter: &geyserpb.SubscribeRequestFilterAccountsFilter_Memcmp{Memcmp: &geyserpb.SubscribeRequestFilterAccountsFilterMemcmp{}}}}}), "filters[0].memcmp: data is missing"},
		{"memcmp bad base64", acc(&geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{{Filter: &geyserpb.SubscribeRequestFilterAccountsFilter_Memcmp{Memcmp: &geyserpb.SubscribeRequestFilterAccountsFilterMemcmp{Data: &geyserpb.SubscribeRequestFilterAccountsFilterMemcmp_Base64{Base64: "!!"}}}}}}), "bad base64"},
		{"memcmp too long", acc(&geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{memcmpBytes(0, make([]byte, 129))}}), "129 bytes of data exceed the limit of 128"},
		{"datasize twice", acc(&geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{datasize(1), datasize(2)}}), "filters[1]: datasize used more than once"},
		{"token state false", acc(&geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{{Filter: &geyserpb.SubscribeRequestFilterAccountsFilter_TokenAccountState{}}}}), "token_account_state may only be true"},
		{"lamports empty", acc(&geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{lamports(&geyserpb.SubscribeRequestFilterAccountsFilterLamports{})}}), "comparison is missing"},
		{"empty filter", acc(&geyserpb.SubscribeRequestFilterAccounts{Filters: []*geyserpb.SubscribeRequestFilterAccountsFilter{{}}}), "filters[0]: filter is missing"},
		{"bad signature", &geyserpb.SubscribeRequest{Transactions: map[string]*geyserpb.SubscribeRequestFilterTransactions{"t": {Signature: new("xyz")}}}, `transactions filter "t": signature "xyz"`},
		{"bad required", &geyserpb.SubscribeRequest{TransactionsStatus: map[string]*geyserpb.SubscribeRequestFilterTransactions{"t": {AccountRequired: []string{"1"}}}}, `transactions_status filter "t": account_required`},
		{"bad block include", &geyserpb.SubscribeRequest{Blocks: map[string]*geyserpb.SubscribeRequestFilterBlocks{"b": {AccountInclude: []string{"1"}}}}, `blocks filter "b": account_include`},
		{"long name", &geyserpb.SubscribeRequest{Slots: map[string]*geyserpb.SubscribeRequestFilterSlots{strings.Repeat("n", 129): {}}}, "exceeds the limit of 128 bytes"},
		{"names total", &geyserpb.SubscribeRequest{BlocksMeta: manyNames(40, 120)}, "total limit of 4096 bytes"},
		{"overlapping slices", &geyserpb.SubscribeRequest{AccountsDataSlice: []*geyserpb.SubscribeRequestAccountsDataSlice{{Offset: 4, Length: 4}, {Offset: 0, Length: 5}}}, "slices [0,+5) and [4,+4) overlap"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := filter.Compile(tc.req)
			require.ErrorIs(t, err, filter.ErrInvalid)
			require.Contains(t, err.Error(), tc.err)
		})
	}
}

func manyNames(n, size int) map[string]*geyserpb.SubscribeRequestFilterBlocksMeta {
	m := map[string]*geyserpb.SubscribeRequestFilterBlocksMeta{}
	for i := 0; i < n; i++ {
		name := strings.Repeat(string(rune('a'+i%26)), size-3) + string(rune('a'+i/26)) + "xx"
		m[name] = &geyserpb.SubscribeRequestFilterBlocksMeta{}
	}
	return m
}
