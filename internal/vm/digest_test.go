package vm

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// The output of long seeded runs is pinned by its digest, so that a change of the VM or of the
// decoders cannot change what clients receive without this test noticing. A change that is meant
// to change the output updates the digests (and says why in its commit).

const (
	oreDigest = "12eab1cb3b6338e20a29a6faa0405625ee7b22859679f12fd5d54aab32355d11"
	splDigest = "418abc8caf8ea3b70a3b6f014ef0ac2d47bd3a6fd104452f9c14c7a18647a83c"
)

// blockTimes answers block-time questions for two slots in three, and passes the rest on.
type blockTimes struct{ next Resolvers }

func (b blockTimes) Resolve(kind ResolverKind, key string) ([]byte, bool) {
	if kind == ResolveBlockTime {
		slot, err := strconv.ParseUint(key, 10, 64)
		if err != nil || slot%3 == 0 {
			return nil, false
		}
		return strconv.AppendUint(nil, 1_700_000_000+slot*2/5, 10), true
	}
	if b.next == nil {
		return nil, false
	}
	return b.next.Resolve(kind, key)
}

// digestRun processes events with a fresh Machine and returns the digest of every mutation, error
// and the final counters, and the lines themselves.
func digestRun(t *testing.T, p *Program, cfg *Config, events []event.Event) (string, []string) {
	t.Helper()
	m, err := NewMachine(p, cfg)
	require.NoError(t, err)
	h := sha256.New()
	var lines []string
	for i := range events {
		muts, err := m.Process(&events[i])
		if err != nil {
			lines = append(lines, fmt.Sprintf("%d error %v", i, err))
		}
		for _, mu := range muts {
			lines = append(lines, fmt.Sprintf("%d %s %s %q %d %d %s %s", i, mu.Export, mu.Key, mu.Append, mu.Slot, mu.Seq, mu.Handler, mu.Patch))
		}
	}
	lines = append(lines, fmt.Sprintf("%+v", m.Stats()))
	for _, l := range lines {
		h.Write([]byte(l))
		h.Write([]byte{'\n'})
	}
	return hex.EncodeToString(h.Sum(nil)), lines
}

// predecoded returns a copy of events carrying their Decoded payloads, as an extractor gives them.
func predecoded(t *testing.T, p *Program, events []event.Event) []event.Event {
	out := make([]event.Event, len(events))
	for i, ev := range events {
		out[i] = ev
		for _, info := range p.Programs {
			switch {
			case ev.Account != nil && ev.Account.Owner == info.ID:
				name, fields, err := info.IDL.DecodeAccount(ev.Account.Data)
				if err == nil {
					a := *ev.Account
					a.Decoded = &event.Decoded{Kind: event.DecodedAccount, Program: info.Name, Name: name, Fields: fields}
					out[i].Account = &a
				}
			case ev.Instruction != nil && ev.Instruction.ProgramID == info.ID:
				def, args, err := info.IDL.DecodeInstruction(ev.Instruction.Data)
				if err == nil {
					ix := *ev.Instruction
					ix.Decoded = &event.Decoded{Kind: event.DecodedInstruction, Program: info.Name, Name: def.Name, Fields: args}
					out[i].Instruction = &ix
				}
			}
		}
	}
	return out
}

// oreRun is a seeded stream of ORE traffic: rounds whose squares fill up deploy by deploy, miners,
// automations, entropy vars revealed in the same transaction or not, checkpoints, resets and
// treasury updates, slot-hash sysvar updates, instructions that arrive before their accounts,
// failed transactions and duplicates.
func oreRun(t *testing.T, w *oreWorld, seed uint64, n int) []event.Event {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	enc := func(p *idl.IDL, name string, v map[string]any) []byte {
		data, err := p.EncodeAccount(name, v)
		require.NoError(t, err)
		return data
	}
	ixData := func(p *idl.IDL, name string, v map[string]any) []byte {
		data, err := p.EncodeInstruction(name, v)
		require.NoError(t, err)
		return data
	}
	randBytes := func(zero bool) []any {
		return u64s(32, func(int) uint64 {
			if zero {
				return 0
			}
			return r.Uint64N(256)
		})
	}
	const rounds, miners = 3, 48
	type round struct {
		addr              solana.Pubkey
		id                uint64
		deployed, count   []uint64
		total, expires    uint64
		hashed            bool
		varAddr, treasury solana.Pubkey
	}
	rs := make([]*round, rounds)
	for i := range rs {
		rs[i] = &round{addr: pk(fmt.Sprint("d-round-", i)), id: 9000 + uint64(i), deployed: make([]uint64, 25), count: make([]uint64, 25),
			expires: 5_000_000 + uint64(i)*150, varAddr: pk(fmt.Sprint("d-var-", i%2)), treasury: pk("d-treasury")}
	}
	var out []event.Event
	slot, wv := uint64(5_000_000), uint64(0)
	txn := uint64(0)
	add := func(ev event.Event) {
		ev.Slot = slot
		if ev.Account != nil {
			wv++
			ev.Account.Slot, ev.Account.WriteVersion = slot, wv
		} else {
			txn++
			ev.Instruction.Slot, ev.Instruction.TxnIndex = slot, txn
		}
		out = append(out, ev)
	}
	account := func(owner, addr solana.Pubkey, data []byte, s solana.Signature) event.Event {
		return event.Event{Kind: event.KindAccount, Account: &event.Account{Pubkey: addr, Owner: owner, Data: data, TxnSignature: s}}
	}
	ix := func(prog solana.Pubkey, name string, accounts map[int]solana.Pubkey, data []byte, s solana.Signature) event.Event {
		def, ok := w.ore.Instruction(name)
		if prog == w.entropyID {
			def, ok = w.entropy.Instruction(name)
		}
		require.True(t, ok, name)
		accs := make([]solana.Pubkey, len(def.Accounts))
		for i := range accs {
			accs[i] = pk(fmt.Sprint("d-acc-", name, i))
		}
		for i, a := range accounts {
			accs[i] = a
		}
		return event.Event{Kind: event.KindInstruction, Instruction: &event.Instruction{ProgramID: prog, Accounts: accs, Data: data, Path: []int{int(r.IntN(3))}, Signature: s}}
	}
	roundData := func(rd *round) []byte {
		return enc(w.ore, "Round", map[string]any{
			"id": rd.id, "deployed": u64s(25, func(i int) uint64 { return rd.deployed[i] }), "slot_hash": randBytes(!rd.hashed),
			"count": u64s(25, func(i int) uint64 { return rd.count[i] }), "expires_at": rd.expires, "motherlode": r.Uint64N(1 << 40),
			"rent_payer": pk("d-payer").String(), "top_miner": pk(fmt.Sprint("d-top-", r.IntN(4))).String(), "top_miner_reward": r.Uint64N(1 << 30),
			"total_deployed": rd.total, "total_miners": uint64(r.IntN(miners)), "total_vaulted": r.Uint64N(1 << 32), "total_winnings": r.Uint64N(1 << 33),
		})
	}
	for len(out) < n {
		if r.IntN(4) == 0 {
			slot += 1 + uint64(r.IntN(3))
		}
		rd := rs[r.IntN(rounds)]
		s := sig(fmt.Sprint("d-tx-", len(out)))
		switch k := r.IntN(100); {
		case k < 40: // a deploy: the instruction, then the round and the miner it changed
			mi := r.IntN(miners)
			minerAddr, auth := pk(fmt.Sprint("d-miner-", mi)), pk(fmt.Sprint("d-auth-", mi))
			amount := 1 + r.Uint64N(10_000_000)
			squares := r.Uint64N(1 << 25)
			deploy := ix(w.oreID, "deploy", map[int]solana.Pubkey{1: auth, 5: minerAddr, 6: rd.addr, 9: rd.varAddr},
				ixData(w.ore, "deploy", map[string]any{"amount": amount, "squares": squares}), s)
			deploy.Instruction.Failed = r.IntN(20) == 0
			add(deploy)
			if r.IntN(10) == 0 {
				add(deploy) // a duplicate
			}
			for sq := 0; sq < 25; sq++ {
				if squares&(1<<sq) != 0 && r.IntN(3) == 0 {
					rd.deployed[sq] += amount
					rd.count[sq]++
					rd.total += amount
				}
			}
			add(account(w.oreID, rd.addr, roundData(rd), s))
			add(account(w.oreID, minerAddr, enc(w.ore, "Miner", map[string]any{
				"authority": auth.String(), "deployed": u64s(25, func(i int) uint64 { return r.Uint64N(1 << uint(1+i)) }),
				"cumulative": u64s(25, func(i int) uint64 { return uint64(i) * amount }), "checkpoint_fee": r.Uint64N(100),
				"checkpoint_id": rd.id - uint64(r.IntN(2)), "last_claim_ore_at": int64(1_700_000_000 + r.IntN(1000)), "last_claim_sol_at": int64(-r.IntN(3)),
				"rewards_factor": map[string]any{"bits": u64s(16, func(int) uint64 { return r.Uint64N(256) })}, "rewards_sol": r.Uint64N(1 << 40), "rewards_ore": r.Uint64N(1 << 40), "refined_ore": r.Uint64N(1 << 20), "round_id": rd.id,
				"lifetime_rewards_sol": r.Uint64(), "lifetime_rewards_ore": r.Uint64N(1 << 50), "lifetime_deployed": r.Uint64N(1 << 50),
			}), s))
			if r.IntN(4) == 0 {
				add(account(w.oreID, pk(fmt.Sprint("d-auto-", mi)), enc(w.ore, "Automation", map[string]any{
					"amount": amount, "authority": auth.String(), "balance": r.Uint64N(1 << 40), "executor": pk(fmt.Sprint("d-exec-", r.IntN(3))).String(),
					"fee": r.Uint64N(10), "strategy": r.Uint64N(3), "mask": squares, "reload": r.Uint64N(2),
				}), s))
			}
		case k < 52: // the round alone (a new total or its hash)
			rd.hashed = rd.hashed || r.IntN(5) == 0
			add(account(w.oreID, rd.addr, roundData(rd), s))
		case k < 62: // an entropy var, revealed in the same transaction or later
			value := randBytes(r.IntN(2) == 0)
			add(account(w.entropyID, rd.varAddr, enc(w.entropy, "Var", map[string]any{
				"authority": pk("d-var-auth").String(), "id": uint64(r.IntN(3)), "provider": pk("d-provider").String(),
				"commit": randBytes(false), "seed": randBytes(false), "slot_hash": randBytes(r.IntN(2) == 0), "value": value,
				"samples": r.Uint64N(10), "is_auto": uint64(r.IntN(2)), "start_at": rd.expires - 150, "end_at": rd.expires,
			}), s))
			if r.IntN(2) == 0 {
				add(ix(w.entropyID, "reveal", map[int]solana.Pubkey{1: rd.varAddr}, ixData(w.entropy, "reveal", map[string]any{"seed": randBytes(false)}), s))
			}
		case k < 70: // a checkpoint
			add(ix(w.oreID, "checkpoint", map[int]solana.Pubkey{3: rd.addr}, ixData(w.ore, "checkpoint", nil), s))
		case k < 75: // a reset: the next round, the treasury
			next := rs[(int(rd.id-9000)+1)%rounds]
			add(ix(w.oreID, "reset", map[int]solana.Pubkey{5: rd.addr, 6: next.addr, 8: rd.treasury, 14: rd.varAddr}, ixData(w.ore, "reset", nil), s))
			add(account(w.oreID, rd.treasury, enc(w.ore, "Treasury", map[string]any{
				"balance": r.Uint64N(1 << 40), "buffer_a": uint64(0), "motherlode": r.Uint64N(1 << 40),
				"miner_rewards_factor": map[string]any{"bits": u64s(16, func(int) uint64 { return r.Uint64N(256) })},
				"stake_rewards_factor": map[string]any{"bits": u64s(16, func(int) uint64 { return 0 })}, "buffer_b": uint64(0),
				"total_refined": r.Uint64N(1 << 40), "total_staked": r.Uint64N(1 << 40), "total_unclaimed": r.Uint64N(1 << 40),
			}), s))
			rd.expires += 150
		case k < 78: // the SlotHashes sysvar, covering the rounds' expiry slots
			data := make([]byte, 8, 8+40*rounds)
			binary.LittleEndian.PutUint64(data, rounds)
			for _, x := range rs {
				data = binary.LittleEndian.AppendUint64(data, x.expires)
				h := sha256.Sum256([]byte(fmt.Sprint("d-hash-", x.expires)))
				data = append(data, h[:]...)
			}
			add(event.Event{Kind: event.KindAccount, Account: &event.Account{Pubkey: SlotHashesSysvar, Data: data}})
		case k < 82: // a deploy for a round not seen yet (queued until its account arrives)
			fresh := &round{addr: pk(fmt.Sprint("d-late-", len(out))), id: 10_000 + uint64(len(out)), deployed: make([]uint64, 25),
				count: make([]uint64, 25), expires: rd.expires, varAddr: rd.varAddr, treasury: rd.treasury}
			add(ix(w.oreID, "deploy", map[int]solana.Pubkey{6: fresh.addr, 9: fresh.varAddr},
				ixData(w.ore, "deploy", map[string]any{"amount": uint64(5), "squares": uint64(1)}), s))
			add(account(w.oreID, fresh.addr, roundData(fresh), s))
		default: // a miner update outside a deploy, without a signature
			mi := r.IntN(miners)
			add(account(w.oreID, pk(fmt.Sprint("d-miner-", mi)), enc(w.ore, "Miner", map[string]any{
				"authority": pk(fmt.Sprint("d-auth-", mi)).String(), "deployed": u64s(25, func(int) uint64 { return 0 }),
				"cumulative": u64s(25, func(int) uint64 { return r.Uint64N(1000) }), "checkpoint_fee": uint64(1),
				"checkpoint_id": rd.id, "last_claim_ore_at": int64(0), "last_claim_sol_at": int64(0),
				"rewards_factor": map[string]any{"bits": u64s(16, func(int) uint64 { return 0 })}, "rewards_sol": uint64(0), "rewards_ore": uint64(0), "refined_ore": uint64(0), "round_id": rd.id,
				"lifetime_rewards_sol": uint64(0), "lifetime_rewards_ore": uint64(0), "lifetime_deployed": uint64(0),
			}), solana.Signature{}))
		}
	}
	return out
}

func TestOutputDigestOre(t *testing.T) {
	w := newOreWorld(t, oreConfig())
	n := 30_000
	if testing.Short() {
		n = 6_000
	}
	events := oreRun(t, w, 7, n)
	cfg := oreConfig()
	cfg.Resolvers = blockTimes{next: cfg.Resolvers}
	cfg.StateCapacity, cfg.LookupCapacity = 40, 60 // evictions too
	digest, lines := digestRun(t, w.p, cfg, events)
	require.Greater(t, len(lines), n/2)

	// Events pre-decoded by an extractor give the same output as decoding in the Machine.
	cfgDecoded := *cfg
	cfgDecoded.UseDecoded = true
	_, decodedLines := digestRun(t, w.p, &cfgDecoded, predecoded(t, w.p, events))
	require.Equal(t, lines, decodedLines)

	if !testing.Short() {
		require.Equal(t, oreDigest, digest, "the output of the seeded ORE run changed")
	}
}

func TestOutputDigestSPLToken(t *testing.T) {
	p := loadProgram(t, repoFixture(t, "fixtures/stacks/spl-token.stack.json"))
	tok := p.Programs[0]
	r := rand.New(rand.NewPCG(11, 12))
	n := 30_000
	if testing.Short() {
		n = 6_000
	}
	mints := []solana.Pubkey{pk("d-mint-0"), pk("d-mint-1"), pk("d-mint-2")}
	accounts := make([]solana.Pubkey, 80)
	for i := range accounts {
		accounts[i] = pk(fmt.Sprint("d-token-", i))
	}
	var events []event.Event
	slot, wv := uint64(100), uint64(0)
	for len(events) < n {
		if r.IntN(5) == 0 {
			slot++
		}
		switch k := r.IntN(10); {
		case k < 2:
			data, err := tok.IDL.EncodeAccount("Mint", map[string]any{
				"mint_authority": pk("d-auth").String(), "supply": r.Uint64(), "decimals": uint64(r.IntN(12)),
				"is_initialized": true, "freeze_authority": nil,
			})
			require.NoError(t, err)
			wv++
			events = append(events, event.Event{Kind: event.KindAccount, Slot: slot, Account: &event.Account{
				Pubkey: mints[r.IntN(len(mints))], Owner: tok.ID, Data: data, Slot: slot, WriteVersion: wv}})
		case k < 5:
			data, err := tok.IDL.EncodeAccount("Account", map[string]any{
				"mint": mints[r.IntN(len(mints))].String(), "owner": pk(fmt.Sprint("d-owner-", r.IntN(9))).String(), "amount": r.Uint64N(1 << 50),
				"delegate": nil, "state": "Initialized", "is_native": nil, "delegated_amount": uint64(0), "close_authority": nil,
			})
			require.NoError(t, err)
			wv++
			events = append(events, event.Event{Kind: event.KindAccount, Slot: slot, Account: &event.Account{
				Pubkey: accounts[r.IntN(len(accounts))], Owner: tok.ID, Data: data, Slot: slot, WriteVersion: wv}})
		default:
			src, dst := accounts[r.IntN(len(accounts))], accounts[r.IntN(len(accounts))]
			ixAccounts := []solana.Pubkey{src, dst, pk("d-owner")}
			data, err := tok.IDL.EncodeInstruction("transfer", map[string]any{"amount": r.Uint64N(1 << 40)})
			if k == 9 {
				ixAccounts = []solana.Pubkey{src, mints[r.IntN(len(mints))], dst, pk("d-owner")}
				data, err = tok.IDL.EncodeInstruction("transfer_checked", map[string]any{"amount": r.Uint64N(1 << 40), "decimals": uint64(6)})
			}
			require.NoError(t, err)
			events = append(events, event.Event{Kind: event.KindInstruction, Slot: slot, Instruction: &event.Instruction{
				Signature: sig(fmt.Sprint("d-spl-", len(events))), Slot: slot, TxnIndex: uint64(len(events) % 50), Path: []int{0},
				ProgramID: tok.ID, Accounts: ixAccounts, Data: data, Failed: r.IntN(30) == 0}})
		}
	}
	cfg := &Config{Resolvers: blockTimes{}, StateCapacity: 50, LookupCapacity: 50, MaxArrayLength: 5}
	digest, lines := digestRun(t, p, cfg, events)
	require.Greater(t, len(lines), n/3)
	cfgDecoded := *cfg
	cfgDecoded.UseDecoded = true
	_, decodedLines := digestRun(t, p, &cfgDecoded, predecoded(t, p, events))
	require.Equal(t, lines, decodedLines)
	if !testing.Short() {
		require.Equal(t, splDigest, digest, "the output of the seeded SPL Token run changed")
	}
}
