package extract

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/proto"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/geyserpb"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

func instructions(t *testing.T, evs []event.Event) []*event.Instruction {
	t.Helper()
	out := make([]*event.Instruction, len(evs))
	for i, ev := range evs {
		require.Equal(t, event.KindInstruction, ev.Kind)
		require.Equal(t, uint32(i), ev.Index)
		out[i] = ev.Instruction
	}
	return out
}

func TestLookupTableResolutionOrder(t *testing.T) {
	payer, prog, static2 := key("payer"), key("program"), key("static2")
	w0, w1 := key("w0"), key("w1")
	r0, r1 := key("r0"), key("r1")
	spec := txSpec{
		sig:      sigOf("alt"),
		slot:     10,
		index:    4,
		static:   []solana.Pubkey{payer, static2, prog},
		writable: []solana.Pubkey{w0, w1},
		readonly: []solana.Pubkey{r0, r1},
		// Index space: 0 payer, 1 static2, 2 prog, 3 w0, 4 w1, 5 r0, 6 r1.
		tops: []*geyserpb.CompiledInstruction{ix(2, []byte{6, 5, 4, 3, 2, 1, 0, 3}, []byte{9})},
	}
	evs, err := New(Config{}).Update(spec.update(), 1, nil)
	require.NoError(t, err)
	ins := instructions(t, evs)
	require.Len(t, ins, 1)
	require.Equal(t, prog, ins[0].ProgramID)
	require.Equal(t, []solana.Pubkey{r1, r0, w1, w0, prog, static2, payer, w0}, ins[0].Accounts)
	require.Equal(t, uint64(4), ins[0].TxnIndex)
	require.Equal(t, uint64(10), ins[0].Slot)
	require.Equal(t, spec.sig, ins[0].Signature)
}

func TestInnerInstructionPathsAndOrder(t *testing.T) {
	a, b, c, p1, p2 := key("a"), key("b"), key("c"), key("p1"), key("p2")
	spec := txSpec{
		sig:    sigOf("inner"),
		static: []solana.Pubkey{a, b, c, p1, p2},
		tops: []*geyserpb.CompiledInstruction{
			ix(3, []byte{0, 1}, []byte{0}),
			ix(4, []byte{2}, []byte{1}),
			ix(3, nil, []byte{2}),
		},
		// Groups listed out of order; the group of instruction 2 is absent.
		inner: []*geyserpb.InnerInstructions{
			{Index: 1, Instructions: []*geyserpb.InnerInstruction{
				inner(3, []byte{1}, []byte{10}, 2),
				inner(4, []byte{0}, []byte{11}, 3),
				inner(3, nil, []byte{12}, 2),
			}},
			{Index: 0, Instructions: []*geyserpb.InnerInstruction{inner(4, []byte{2, 2}, []byte{20}, 2)}},
		},
	}
	evs, err := New(Config{}).Update(spec.update(), 3, nil)
	require.NoError(t, err)
	ins := instructions(t, evs)
	var got [][]int
	var data []byte
	var heights []uint32
	for _, in := range ins {
		got = append(got, in.Path)
		data = append(data, in.Data...)
		heights = append(heights, in.StackHeight)
	}
	require.Equal(t, [][]int{{0}, {0, 0}, {1}, {1, 0}, {1, 1}, {1, 2}, {2}}, got)
	require.Equal(t, []byte{0, 20, 1, 10, 11, 12, 2}, data)
	require.Equal(t, []uint32{1, 2, 1, 2, 3, 2, 1}, heights)
	require.Equal(t, []solana.Pubkey{c, c}, ins[1].Accounts)
	require.Equal(t, p2, ins[4].ProgramID)
	require.Equal(t, []solana.Pubkey{a}, ins[4].Accounts)
	for _, in := range ins {
		require.False(t, in.Failed)
		require.Equal(t, uint64(3), evs[0].Seq)
	}

	// Appending to an instruction's path or accounts must not overwrite its neighbour's.
	_ = append(ins[0].Path, 99)
	_ = append(ins[1].Accounts, a)
	require.Equal(t, []int{0, 0}, ins[1].Path)
	require.Equal(t, []solana.Pubkey{c}, ins[2].Accounts)
}

func TestInnerInstructionWithoutStackHeight(t *testing.T) {
	spec := txSpec{
		sig:    sigOf("noheight"),
		static: []solana.Pubkey{key("a"), key("p")},
		tops:   []*geyserpb.CompiledInstruction{ix(1, []byte{0}, nil)},
		inner: []*geyserpb.InnerInstructions{{Index: 0, Instructions: []*geyserpb.InnerInstruction{
			{ProgramIdIndex: 1, Accounts: []byte{0}},
		}}},
	}
	evs, err := New(Config{}).Update(spec.update(), 0, nil)
	require.NoError(t, err)
	require.Len(t, evs, 2)
	require.Equal(t, uint32(0), evs[1].Instruction.StackHeight)
	require.Equal(t, []int{0, 0}, evs[1].Instruction.Path)
}

func TestFailedTransaction(t *testing.T) {
	spec := txSpec{
		sig:    sigOf("failed"),
		static: []solana.Pubkey{key("a"), key("p")},
		tops:   []*geyserpb.CompiledInstruction{ix(1, []byte{0}, []byte{1}), ix(1, nil, nil)},
		inner: []*geyserpb.InnerInstructions{{Index: 0, Instructions: []*geyserpb.InnerInstruction{
			inner(1, nil, nil, 2),
		}}},
		logs:   []string{"Program p invoke [1]", "Program p failed: custom program error: 0x1"},
		failed: true,
	}
	evs, err := New(Config{}).Update(spec.update(), 0, nil)
	require.NoError(t, err)
	require.Len(t, evs, 3)
	for _, ev := range evs {
		require.True(t, ev.Instruction.Failed, "path %v", ev.Instruction.Path)
		require.Equal(t, spec.logs, ev.Instruction.Logs)
	}

	spec.failed = false
	evs, err = New(Config{}).Update(spec.update(), 0, nil)
	require.NoError(t, err)
	for _, ev := range evs {
		require.False(t, ev.Instruction.Failed)
	}
}

func TestSelfCPIAnchorEvent(t *testing.T) {
	payload := append([]byte(EventIxTag), 1, 2, 3, 4, 5, 6, 7, 8, 42, 0, 0, 0)
	spec := txSpec{
		sig:    sigOf("cpi"),
		static: []solana.Pubkey{key("authority"), key("anchorprog")},
		tops: []*geyserpb.CompiledInstruction{
			ix(1, []byte{0}, []byte{0xaa, 0, 0, 0, 0, 0, 0, 0}),
			// A top-level instruction with the tag is not an emitted event.
			ix(1, []byte{0}, payload),
		},
		inner: []*geyserpb.InnerInstructions{{Index: 0, Instructions: []*geyserpb.InnerInstruction{
			inner(1, []byte{0}, payload, 2),
			// The tag alone, without an event discriminator, is not an event.
			inner(1, []byte{0}, []byte(EventIxTag), 2),
			inner(1, []byte{0}, []byte{0xe4, 0x45, 0xa5, 0x2e, 0x51, 0xcb, 0x9a, 0x1e, 1, 2, 3, 4, 5, 6, 7, 8}, 2),
		}}},
	}
	evs, err := New(Config{}).Update(spec.update(), 0, nil)
	require.NoError(t, err)
	ins := instructions(t, evs)
	require.Len(t, ins, 5)
	var flagged []bool
	for _, in := range ins {
		flagged = append(flagged, in.CPIEvent)
	}
	require.Equal(t, []bool{false, true, false, false, false}, flagged)
	require.Equal(t, payload, ins[1].Data)
}

func TestProgramDataLogAttribution(t *testing.T) {
	outer, token, anchor, pre := key("outer"), key("token"), key("anchor"), key("precompile")
	spec := txSpec{
		sig:    sigOf("logs"),
		static: []solana.Pubkey{key("payer"), outer, token, anchor, pre},
		tops: []*geyserpb.CompiledInstruction{
			ix(1, nil, []byte{0}),
			// A precompile logs no invoke line.
			ix(4, nil, []byte{1}),
			ix(3, nil, []byte{2}),
		},
		inner: []*geyserpb.InnerInstructions{{Index: 0, Instructions: []*geyserpb.InnerInstruction{
			inner(3, nil, []byte{10}, 2),
			inner(2, nil, []byte{11}, 3),
			inner(2, nil, []byte{12}, 2),
		}}},
		logs: []string{
			"Program " + outer.String() + " invoke [1]",
			"Program data: AQ==", // 1: outer
			"Program " + anchor.String() + " invoke [2]",
			"Program log: Instruction: Swap",
			"Program " + token.String() + " invoke [3]",
			"Program " + token.String() + " consumed 100 of 200 compute units",
			"Program " + token.String() + " success",
			"Program data: Ag== Aw==", // 2,3: anchor after its CPI returned
			"Program " + anchor.String() + " consumed 300 of 400 compute units",
			"Program " + anchor.String() + " success",
			"Program " + token.String() + " invoke [2]",
			"Program data: BA==", // 4: token [0,2]
			"Program return: " + token.String() + " AAAA",
			"Program " + token.String() + " success",
			"Program data: BQ==", // 5: outer again
			"Program " + outer.String() + " success",
			"Program data: Bg==", // outside any invocation: dropped
			"Program " + anchor.String() + " invoke [1]",
			"Program data: not-base64!", // malformed: dropped
			"Program data: Bw==",        // 7: top-level anchor [2]
			"Log truncated",
			"Program data: CA==", // after truncation: ignored
		},
	}
	evs, err := New(Config{}).Update(spec.update(), 0, nil)
	require.NoError(t, err)
	got := map[string][]byte{}
	for _, ev := range evs {
		in := ev.Instruction
		for _, le := range in.LogEvents {
			got[fmtPath(in.Path)] = append(got[fmtPath(in.Path)], le.Data...)
		}
	}
	require.Equal(t, map[string][]byte{
		"[0]":   {1, 5},
		"[0,0]": {2, 3},
		"[0,2]": {4},
		"[2]":   {7},
	}, got)
	require.Len(t, evs[0].Instruction.LogEvents, 2)
	require.Len(t, evs[1].Instruction.LogEvents, 1, "two chunks on one line make one event")
}

func fmtPath(p []int) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, v := range p {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(itoa(v))
	}
	b.WriteByte(']')
	return b.String()
}

func TestLogAttributionSkipsMismatchedInvocations(t *testing.T) {
	// The logs name a program that matches no instruction: its data is dropped, and later
	// invocations still find their instructions.
	p, q, ghost := key("p"), key("q"), key("ghost")
	spec := txSpec{
		sig:    sigOf("ghost"),
		static: []solana.Pubkey{key("payer"), p, q},
		tops:   []*geyserpb.CompiledInstruction{ix(1, nil, nil), ix(2, nil, nil)},
		logs: []string{
			"Program " + ghost.String() + " invoke [1]",
			"Program data: AQ==",
			"Program " + ghost.String() + " success",
			"Program " + q.String() + " invoke [1]",
			"Program data: Ag==",
			"Program " + q.String() + " success",
		},
	}
	evs, err := New(Config{}).Update(spec.update(), 0, nil)
	require.NoError(t, err)
	require.Empty(t, evs[0].Instruction.LogEvents)
	require.Len(t, evs[1].Instruction.LogEvents, 1)
	require.Equal(t, []byte{2}, evs[1].Instruction.LogEvents[0].Data)
}

func requireExtractError(t *testing.T, err error, sentinel error, sig solana.Signature, path []int, contains ...string) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, sentinel)
	var xe *Error
	require.True(t, errors.As(err, &xe))
	require.Equal(t, sig, xe.Signature)
	require.Equal(t, path, xe.Path)
	msg := err.Error()
	if !sig.IsZero() {
		require.Contains(t, msg, sig.String())
	}
	for _, c := range contains {
		require.Contains(t, msg, c)
	}
}

func TestOutOfRangeIndexes(t *testing.T) {
	base := func() txSpec {
		return txSpec{
			sig:      sigOf("oor"),
			static:   []solana.Pubkey{key("a"), key("p")},
			writable: []solana.Pubkey{key("w")},
			tops:     []*geyserpb.CompiledInstruction{ix(1, []byte{0, 2}, nil), ix(1, nil, nil)},
			inner: []*geyserpb.InnerInstructions{{Index: 1, Instructions: []*geyserpb.InnerInstruction{
				inner(1, []byte{0}, nil, 2), inner(1, []byte{1}, nil, 2),
			}}},
		}
	}
	dst := []event.Event{{Kind: event.KindAccount}}

	s := base()
	s.tops[0].Accounts = []byte{0, 3}
	got, err := New(Config{}).Update(s.update(), 0, dst)
	requireExtractError(t, err, ErrAccountIndex, s.sig, []int{0}, "instruction [0]", "account 1 has index 3 of 3 keys")
	require.Len(t, got, 1, "dst unchanged on error")

	s = base()
	s.inner[0].Instructions[1].Accounts = []byte{0, 200}
	_, err = New(Config{}).Update(s.update(), 0, nil)
	requireExtractError(t, err, ErrAccountIndex, s.sig, []int{1, 1}, "instruction [1, 1]", "index 200")

	s = base()
	s.inner[0].Instructions[0].ProgramIdIndex = 3
	_, err = New(Config{}).Update(s.update(), 0, nil)
	requireExtractError(t, err, ErrAccountIndex, s.sig, []int{1, 0}, "program index 3 of 3 keys")

	s = base()
	s.tops[1].ProgramIdIndex = 1 << 31
	_, err = New(Config{}).Update(s.update(), 0, nil)
	requireExtractError(t, err, ErrAccountIndex, s.sig, []int{1}, "program index 2147483648")

	s = base()
	s.inner[0].Index = 2
	_, err = New(Config{}).Update(s.update(), 0, nil)
	requireExtractError(t, err, ErrInnerIndex, s.sig, nil, "top-level instruction 2 of 2")

	s = base()
	s.inner = append(s.inner, &geyserpb.InnerInstructions{Index: 1})
	_, err = New(Config{}).Update(s.update(), 0, nil)
	requireExtractError(t, err, ErrInnerIndex, s.sig, []int{1}, "two inner-instruction groups")
}

func TestMalformedTransactions(t *testing.T) {
	good := txSpec{
		sig:      sigOf("malformed"),
		static:   []solana.Pubkey{key("a"), key("p")},
		writable: []solana.Pubkey{key("w")},
		readonly: []solana.Pubkey{key("r")},
		tops:     []*geyserpb.CompiledInstruction{ix(1, []byte{0, 2, 3}, nil)},
	}
	cases := []struct {
		name     string
		mutate   func(*geyserpb.SubscribeUpdateTransactionInfo)
		sentinel error
		sig      bool
		contains string
	}{
		{"missing meta", func(i *geyserpb.SubscribeUpdateTransactionInfo) { i.Meta = nil }, ErrMissingMeta, true, "missing transaction meta"},
		{"missing transaction", func(i *geyserpb.SubscribeUpdateTransactionInfo) { i.Transaction = nil }, ErrMissingTransaction, true, ""},
		{"missing message", func(i *geyserpb.SubscribeUpdateTransactionInfo) { i.Transaction.Message = nil }, ErrMissingTransaction, true, ""},
		{"short signature", func(i *geyserpb.SubscribeUpdateTransactionInfo) { i.Signature = i.Signature[:10] }, ErrBadLength, false, "signature is 10 bytes"},
		{"short static key", func(i *geyserpb.SubscribeUpdateTransactionInfo) {
			i.Transaction.Message.AccountKeys[1] = []byte{1, 2}
		}, ErrBadLength, true, "account key 1 is 2 bytes"},
		{"long loaded key", func(i *geyserpb.SubscribeUpdateTransactionInfo) {
			i.Meta.LoadedReadonlyAddresses[0] = make([]byte, 33)
		}, ErrBadLength, true, "loaded readonly address 0 is 33 bytes"},
		{"missing loaded address", func(i *geyserpb.SubscribeUpdateTransactionInfo) {
			i.Meta.LoadedWritableAddresses = nil
		}, ErrLookupMismatch, true, "1 writable and 1 readonly, meta loaded 0 writable and 1 readonly"},
		{"loaded without lookup", func(i *geyserpb.SubscribeUpdateTransactionInfo) {
			i.Transaction.Message.AddressTableLookups = nil
		}, ErrLookupMismatch, true, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := good.update()
			tc.mutate(u.GetTransaction().GetTransaction())
			_, err := New(Config{}).Update(u, 0, nil)
			sig := solana.Signature{}
			if tc.sig {
				sig = good.sig
			}
			requireExtractError(t, err, tc.sentinel, sig, nil, tc.contains)
		})
	}
	_, err := New(Config{}).Update(&geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Transaction{
		Transaction: &geyserpb.SubscribeUpdateTransaction{}}}, 0, nil)
	require.ErrorIs(t, err, ErrMissingTransaction)
}

func TestAccountUpdate(t *testing.T) {
	pk, owner, sig := key("acct"), key("owner"), sigOf("writer")
	u := accountUpdate(pk, owner, []byte{1, 2, 3}, 77, 1234, &sig)
	u.GetAccount().IsStartup = true
	u.GetAccount().Account.Executable = true
	evs, err := New(Config{}).Update(u, 9, nil)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	ev := evs[0]
	require.Equal(t, event.KindAccount, ev.Kind)
	require.Equal(t, uint64(77), ev.Slot)
	require.Equal(t, uint64(9), ev.Seq)
	require.Equal(t, &event.Account{
		Pubkey: pk, Owner: owner, Lamports: 2039280, Executable: true, RentEpoch: 18446744073709551615,
		Data: []byte{1, 2, 3}, Slot: 77, WriteVersion: 1234, TxnSignature: sig, IsStartup: true,
	}, ev.Account)

	evs, err = New(Config{}).Update(accountUpdate(pk, owner, nil, 1, 1, nil), 0, nil)
	require.NoError(t, err)
	require.True(t, evs[0].Account.TxnSignature.IsZero())

	bad := accountUpdate(pk, owner, nil, 1, 1, nil)
	bad.GetAccount().Account.Owner = owner[:31]
	_, err = New(Config{}).Update(bad, 0, nil)
	require.ErrorIs(t, err, ErrBadLength)
	require.Contains(t, err.Error(), "account "+pk.String()+": bad length (owner is 31 bytes)")

	bad = accountUpdate(pk, owner, nil, 1, 1, nil)
	bad.GetAccount().Account.TxnSignature = []byte{1}
	_, err = New(Config{}).Update(bad, 0, nil)
	require.ErrorIs(t, err, ErrBadLength)

	bad = accountUpdate(pk, owner, nil, 1, 1, nil)
	bad.GetAccount().Account.Pubkey = nil
	_, err = New(Config{}).Update(bad, 0, nil)
	require.ErrorIs(t, err, ErrBadLength)

	_, err = New(Config{}).Update(&geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Account{
		Account: &geyserpb.SubscribeUpdateAccount{Slot: 1}}}, 0, nil)
	require.ErrorIs(t, err, ErrMissingAccount)
}

func TestUpdatesWithoutEvents(t *testing.T) {
	x := New(Config{})
	dst := make([]event.Event, 0, 4)
	for _, u := range []*geyserpb.SubscribeUpdate{
		{},
		{UpdateOneof: &geyserpb.SubscribeUpdate_Slot{Slot: &geyserpb.SubscribeUpdateSlot{Slot: 5}}},
		{UpdateOneof: &geyserpb.SubscribeUpdate_Ping{Ping: &geyserpb.SubscribeUpdatePing{}}},
		{UpdateOneof: &geyserpb.SubscribeUpdate_Entry{Entry: &geyserpb.SubscribeUpdateEntry{Slot: 5}}},
		{UpdateOneof: &geyserpb.SubscribeUpdate_BlockMeta{BlockMeta: &geyserpb.SubscribeUpdateBlockMeta{Slot: 5}}},
	} {
		got, err := x.Update(u, 0, dst)
		require.NoError(t, err)
		require.Empty(t, got)
	}
}

func TestBlockUpdate(t *testing.T) {
	tx1 := txSpec{sig: sigOf("b1"), index: 0, static: []solana.Pubkey{key("a"), key("p")},
		tops: []*geyserpb.CompiledInstruction{ix(1, []byte{0}, nil), ix(1, nil, nil)}}
	tx2 := txSpec{sig: sigOf("b2"), index: 1, static: []solana.Pubkey{key("a"), key("p")},
		tops: []*geyserpb.CompiledInstruction{ix(1, nil, nil)}}
	acct := accountUpdate(key("x"), key("o"), nil, 50, 3, nil).GetAccount().GetAccount()
	u := &geyserpb.SubscribeUpdate{UpdateOneof: &geyserpb.SubscribeUpdate_Block{Block: &geyserpb.SubscribeUpdateBlock{
		Slot:         50,
		Transactions: []*geyserpb.SubscribeUpdateTransactionInfo{tx1.info(), tx2.info()},
		Accounts:     []*geyserpb.SubscribeUpdateAccountInfo{acct},
	}}}
	prefix := []event.Event{{Kind: event.KindAccount}}
	evs, err := New(Config{}).Update(u, 8, prefix)
	require.NoError(t, err)
	require.Len(t, evs, 5)
	evs = evs[1:]
	for i, ev := range evs {
		require.Equal(t, uint32(i), ev.Index)
		require.Equal(t, uint64(50), ev.Slot)
		require.Equal(t, uint64(8), ev.Seq)
	}
	require.Equal(t, tx1.sig, evs[1].Instruction.Signature)
	require.Equal(t, tx2.sig, evs[2].Instruction.Signature)
	require.Equal(t, uint64(1), evs[2].Instruction.TxnIndex)
	require.Equal(t, event.KindAccount, evs[3].Kind)
	require.Equal(t, key("x"), evs[3].Account.Pubkey)

	// A malformed transaction in the block fails the whole block.
	bad := tx2.info()
	bad.Meta = nil
	u.GetBlock().Transactions[1] = bad
	got, err := New(Config{}).Update(u, 8, prefix)
	require.ErrorIs(t, err, ErrMissingMeta)
	require.Len(t, got, 1)
}

func TestUpdateBytes(t *testing.T) {
	spec := txSpec{sig: sigOf("bytes"), static: []solana.Pubkey{key("a"), key("p")},
		tops: []*geyserpb.CompiledInstruction{ix(1, []byte{0}, []byte{5, 6})}}
	raw, err := proto.Marshal(spec.update())
	require.NoError(t, err)
	x := New(Config{})
	first, err := x.UpdateBytes(raw, 1, nil)
	require.NoError(t, err)
	require.Len(t, first, 1)

	// Reusing the Extractor's message must not disturb the events of the previous update.
	raw2, err := proto.Marshal(accountUpdate(key("z"), key("o"), []byte{7}, 2, 2, nil))
	require.NoError(t, err)
	second, err := x.UpdateBytes(raw2, 2, nil)
	require.NoError(t, err)
	require.Len(t, second, 1)
	require.Equal(t, []byte{5, 6}, first[0].Instruction.Data)
	require.Equal(t, []solana.Pubkey{key("a")}, first[0].Instruction.Accounts)
	require.Equal(t, []byte{7}, second[0].Account.Data)

	_, err = x.UpdateBytes([]byte{0xff, 0xff, 0xff}, 3, nil)
	require.ErrorIs(t, err, ErrUnmarshal)
}
