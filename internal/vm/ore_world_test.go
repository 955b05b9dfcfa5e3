package vm

import (
	"crypto/sha256"
	"encoding/json"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hyperstack-go/hyperstack/internal/event"
	"github.com/hyperstack-go/hyperstack/internal/idl"
	"github.com/hyperstack-go/hyperstack/internal/solana"
)

// oreWorld drives a Machine running the ORE stack with events built by the IDL encoder.
type oreWorld struct {
	t         testing.TB
	p         *Program
	m         *Machine
	ore       *idl.IDL
	entropy   *idl.IDL
	oreID     solana.Pubkey
	entropyID solana.Pubkey
	seq       uint64
	wv        uint64
	muts      []event.Mutation
	errs      []error
}

const oreMint = "oreoU2P8bN6jkk3jbaiVxYnG1dCXcYxwhwyK9jSybcp"

func newOreWorld(t testing.TB, cfg *Config) *oreWorld {
	p := oreProgram(t)
	m, err := NewMachine(p, cfg)
	require.NoError(t, err)
	w := &oreWorld{t: t, p: p, m: m}
	for _, info := range p.Programs {
		switch info.Name {
		case "ore":
			w.ore, w.oreID = info.IDL, info.ID
		case "entropy":
			w.entropy, w.entropyID = info.IDL, info.ID
		}
	}
	require.NotNil(t, w.ore)
	require.NotNil(t, w.entropy)
	return w
}

// key derives a deterministic test address from a label.
func pk(label string) solana.Pubkey {
	return solana.Pubkey(sha256.Sum256([]byte("hyperstack-test:" + label)))
}

func sig(label string) solana.Signature {
	var s solana.Signature
	h := sha256.Sum256([]byte("sig:" + label))
	copy(s[:], h[:])
	copy(s[32:], h[:])
	return s
}

func u64s(n int, f func(i int) uint64) []any {
	out := make([]any, n)
	for i := range out {
		out[i] = f(i)
	}
	return out
}

func bytes32(b byte) []any { return u64s(32, func(int) uint64 { return uint64(b) }) }

func (w *oreWorld) process(ev *event.Event) []event.Mutation {
	w.seq++
	ev.Seq = w.seq
	muts, err := w.m.Process(ev)
	if err != nil {
		w.errs = append(w.errs, err)
	}
	w.muts = append(w.muts, muts...)
	return muts
}

func (w *oreWorld) account(p *idl.IDL, owner solana.Pubkey, name string, addr solana.Pubkey, slot uint64, txSig solana.Signature, v map[string]any) []event.Mutation {
	data, err := p.EncodeAccount(name, v)
	require.NoError(w.t, err)
	w.wv++
	return w.process(&event.Event{Kind: event.KindAccount, Slot: slot, Account: &event.Account{
		Pubkey: addr, Owner: owner, Data: data, Slot: slot, WriteVersion: w.wv, TxnSignature: txSig,
	}})
}

func (w *oreWorld) instruction(p *idl.IDL, prog solana.Pubkey, name string, accounts map[string]solana.Pubkey, args map[string]any, slot uint64, txSig solana.Signature, txnIndex uint64, path ...int) []event.Mutation {
	data, err := p.EncodeInstruction(name, args)
	require.NoError(w.t, err)
	def, ok := p.Instruction(name)
	require.True(w.t, ok)
	accs := make([]solana.Pubkey, len(def.Accounts))
	for i, a := range def.Accounts {
		if k, ok := accounts[a.Name]; ok {
			accs[i] = k
		} else {
			accs[i] = pk("filler:" + a.Name)
		}
	}
	if len(path) == 0 {
		path = []int{0}
	}
	return w.process(&event.Event{Kind: event.KindInstruction, Slot: slot, Instruction: &event.Instruction{
		Signature: txSig, Slot: slot, TxnIndex: txnIndex, Path: path, ProgramID: prog, Accounts: accs, Data: data,
	}})
}

type roundFields struct {
	id, expiresAt, motherlode, topMinerReward, totalDeployed, totalMiners, totalVaulted, totalWinnings uint64
	deployed, count                                                                                    []any
	slotHash                                                                                           byte
	topMiner, rentPayer                                                                                solana.Pubkey
}

func (w *oreWorld) round(addr solana.Pubkey, slot uint64, f roundFields) []event.Mutation {
	if f.deployed == nil {
		f.deployed = u64s(25, func(int) uint64 { return 0 })
	}
	if f.count == nil {
		f.count = u64s(25, func(int) uint64 { return 0 })
	}
	return w.account(w.ore, w.oreID, "Round", addr, slot, sig("round-tx"), map[string]any{
		"id": f.id, "deployed": f.deployed, "slot_hash": bytes32(f.slotHash), "count": f.count,
		"expires_at": f.expiresAt, "motherlode": f.motherlode, "rent_payer": f.rentPayer.String(),
		"top_miner": f.topMiner.String(), "top_miner_reward": f.topMinerReward,
		"total_deployed": f.totalDeployed, "total_miners": f.totalMiners, "total_vaulted": f.totalVaulted,
		"total_winnings": f.totalWinnings,
	})
}

func (w *oreWorld) deploy(roundAddr, varAddr solana.Pubkey, slot uint64, txSig solana.Signature, txnIndex uint64, path ...int) []event.Mutation {
	return w.instruction(w.ore, w.oreID, "deploy", map[string]solana.Pubkey{"round": roundAddr, "entropyVar": varAddr},
		map[string]any{"amount": uint64(1_000_000), "squares": uint64(0x1ffffff)}, slot, txSig, txnIndex, path...)
}

func (w *oreWorld) checkpoint(roundAddr solana.Pubkey, slot uint64, txSig solana.Signature, txnIndex uint64) []event.Mutation {
	return w.instruction(w.ore, w.oreID, "checkpoint", map[string]solana.Pubkey{"round": roundAddr}, nil, slot, txSig, txnIndex)
}

func (w *oreWorld) reset(round, roundNext, treasury, varAddr solana.Pubkey, slot uint64, txSig solana.Signature) []event.Mutation {
	return w.instruction(w.ore, w.oreID, "reset", map[string]solana.Pubkey{
		"round": round, "roundNext": roundNext, "treasury": treasury, "entropyVar": varAddr,
	}, nil, slot, txSig, 0)
}

type varFields struct {
	id, samples, startAt, endAt uint64
	seed, slotHash              byte
	value                       []any // 32 bytes; nil means all zero
}

func (w *oreWorld) entropyVar(addr solana.Pubkey, slot uint64, txSig solana.Signature, f varFields) []event.Mutation {
	return w.account(w.entropy, w.entropyID, "Var", addr, slot, txSig, map[string]any{
		"authority": pk("var-authority").String(), "id": f.id, "provider": pk("provider").String(),
		"commit": bytes32(1), "seed": bytes32(f.seed), "slot_hash": bytes32(f.slotHash), "value": orZero32(f.value),
		"samples": f.samples, "is_auto": uint64(0), "start_at": f.startAt, "end_at": f.endAt,
	})
}

func (w *oreWorld) treasury(addr solana.Pubkey, slot uint64, balance, motherlode uint64) []event.Mutation {
	numeric := map[string]any{"bits": u64s(16, func(int) uint64 { return 0 })}
	return w.account(w.ore, w.oreID, "Treasury", addr, slot, sig("treasury-tx"), map[string]any{
		"balance": balance, "buffer_a": uint64(0), "motherlode": motherlode, "miner_rewards_factor": numeric,
		"stake_rewards_factor": numeric, "buffer_b": uint64(0), "total_refined": uint64(7), "total_staked": uint64(8),
		"total_unclaimed": uint64(9),
	})
}

// state folds the mutations of an entity key into one object (deep merge, appends extend).
func (w *oreWorld) state(entity string, keyJSON string) map[string]any {
	return foldState(w.t, w.muts, entity, keyJSON)
}

func foldState(t testing.TB, muts []event.Mutation, entity string, keyJSON string) map[string]any {
	out := map[string]any{}
	for _, m := range muts {
		if m.Export != entity || string(m.Key) != keyJSON {
			continue
		}
		var patch map[string]any
		require.NoError(t, json.Unmarshal(m.Patch, &patch))
		appends := map[string]bool{}
		for _, a := range m.Append {
			appends[a] = true
		}
		mergeInto(out, patch, "", appends)
	}
	return out
}

func mergeInto(dst, src map[string]any, prefix string, appends map[string]bool) {
	for k, v := range src {
		p := k
		if prefix != "" {
			p = prefix + "." + k
		}
		if sub, ok := v.(map[string]any); ok && !appends[p] {
			cur, ok := dst[k].(map[string]any)
			if !ok {
				cur = map[string]any{}
				dst[k] = cur
			}
			mergeInto(cur, sub, p, appends)
			continue
		}
		if appends[p] {
			cur, _ := dst[k].([]any)
			dst[k] = append(cur, v.([]any)...)
			continue
		}
		dst[k] = v
	}
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func orZero32(v []any) []any {
	if v == nil {
		return bytes32(0)
	}
	return v
}

func (w *oreWorld) reveal(varAddr solana.Pubkey, seed byte, slot uint64, txSig solana.Signature) []event.Mutation {
	return w.instruction(w.entropy, w.entropyID, "reveal", map[string]solana.Pubkey{"var": varAddr},
		map[string]any{"seed": bytes32(seed)}, slot, txSig, 0)
}

type minerFields struct {
	authority                                                          solana.Pubkey
	rewardsSol, rewardsOre, refinedOre, roundID, checkpointID, lifeSol uint64
}

func (w *oreWorld) miner(addr solana.Pubkey, slot uint64, f minerFields) []event.Mutation {
	numeric := map[string]any{"bits": u64s(16, func(int) uint64 { return 0 })}
	return w.account(w.ore, w.oreID, "Miner", addr, slot, sig("miner-tx"), map[string]any{
		"authority": f.authority.String(), "deployed": u64s(25, func(int) uint64 { return 0 }),
		"cumulative": u64s(25, func(int) uint64 { return 0 }), "checkpoint_fee": uint64(10),
		"checkpoint_id": f.checkpointID, "last_claim_ore_at": int64(-5), "last_claim_sol_at": int64(1700000000),
		"rewards_factor": numeric, "rewards_sol": f.rewardsSol, "rewards_ore": f.rewardsOre,
		"refined_ore": f.refinedOre, "round_id": f.roundID, "lifetime_rewards_sol": f.lifeSol,
		"lifetime_rewards_ore": uint64(0), "lifetime_deployed": uint64(123),
	})
}

func (w *oreWorld) automation(addr solana.Pubkey, slot uint64, authority, executor solana.Pubkey, amount uint64) []event.Mutation {
	return w.account(w.ore, w.oreID, "Automation", addr, slot, sig("automation-tx"), map[string]any{
		"amount": amount, "authority": authority.String(), "balance": uint64(77), "executor": executor.String(),
		"fee": uint64(1), "strategy": uint64(2), "mask": uint64(0x1ffffff), "reload": uint64(0),
	})
}

// row returns the stored state of an entity key (hidden fields included).
func (w *oreWorld) row(entity int, k any) map[string]any {
	st, ok := w.m.tables[entity].rows.Peek(makeKey(k))
	if !ok {
		return nil
	}
	return plainRow(st)
}
